#include "dsp_kernels.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP

#include <arm_acle.h>

#include <cstring>

#include "conv_windows.h"

namespace maqd_rt::kernels::dsp {
namespace {

uint32_t rotate8(uint32_t x) { return (x >> 8) | (x << 24); }  // SXTB16/UXTB16 take it as an operand

uint32_t load32(const void* p) {  // unaligned: a plain LDR on ARMv7E-M
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Σ weights[i] · pixel[i] over n channels, added to sum (modulo 2^32).
uint32_t dot_u8(const int8_t* weights, const uint8_t* pixel, int32_t n, uint32_t sum) {
  int32_t i = 0;
  int32_t acc = int32_t(sum);
  for (; i + 4 <= n; i += 4) {
    const uint32_t x = load32(pixel + i), w = load32(weights + i);
    // Bytes 0 and 2, then 1 and 3, widened to 16-bit halves: u8 by zero,
    // codes by sign extension.
    acc = __smlad(__uxtb16(x), __sxtb16(w), acc);
    acc = __smlad(__uxtb16(rotate8(x)), __sxtb16(rotate8(w)), acc);
  }
  sum = uint32_t(acc);
  for (; i < n; ++i) sum += uint32_t(int32_t(weights[i]) * int32_t(pixel[i]));
  return sum;
}

uint32_t dot_i16(const int8_t* weights, const int16_t* pixel, int32_t n, uint32_t sum) {
  int32_t i = 0;
  int32_t acc = int32_t(sum);
  for (; i + 4 <= n; i += 4) {
    const uint32_t x01 = load32(pixel + i), x23 = load32(pixel + i + 2), w = load32(weights + i);
    // Inputs in the codes' pairing: halves (x0, x2) and (x1, x3).
    const uint32_t x02 = (x01 & 0xFFFFu) | (x23 << 16), x13 = (x01 >> 16) | (x23 & 0xFFFF0000u);  // PKHBT, PKHTB
    acc = __smlad(x02, __sxtb16(w), acc);
    acc = __smlad(x13, __sxtb16(rotate8(w)), acc);
  }
  sum = uint32_t(acc);
  for (; i < n; ++i) sum += uint32_t(int32_t(weights[i]) * int32_t(pixel[i]));
  return sum;
}

}  // namespace

void conv_u8_rows(const ConvShape& shape, const int8_t* codes, const uint8_t* in, int32_t* out,
                  int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end) {
  conv_windows(shape, codes, in, out, row_begin, row_end, oc_begin, oc_end, dot_u8);
}

void conv_i16_rows(const ConvShape& shape, const int8_t* codes, const int16_t* in, int32_t* out,
                   int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end) {
  conv_windows(shape, codes, in, out, row_begin, row_end, oc_begin, oc_end, dot_i16);
}

}  // namespace maqd_rt::kernels::dsp

#endif
