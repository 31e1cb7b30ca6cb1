// The Arm DSP conv kernels (runtime/core/src/dsp_kernels.h) against the
// scalar ones, run as a firmware under QEMU (a Cortex-M4 has the DSP
// extension): random shapes and values, edge sizes included (1 and 2-5
// input channels around the groups of four, 1×1 maps, kernels 1, 3 and 5,
// the extreme codes and inputs). Prints "PASS N cases" or the first
// difference, and exits 0 or 1.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "dsp_kernels.h"
#include "scalar_kernels.h"

namespace {

uint32_t state = 0x9E3779B9u;
uint32_t next() {  // xorshift32
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}
int32_t pick(int32_t low, int32_t high) { return low + int32_t(next() % uint32_t(high - low + 1)); }

constexpr int32_t kMaxElements = 6 * 6 * 40;
constexpr int32_t kMaxCodes = 24 * 5 * 5 * 40;
uint8_t input_u8[kMaxElements + 4];
int16_t input_i16[kMaxElements + 4];
int8_t codes[kMaxCodes + 4];
int32_t want[6 * 6 * 24], got[6 * 6 * 24];

bool same(const char* what, int case_index, const maqd_rt::kernels::ConvShape& s) {
  const int32_t n = s.height * s.width * s.out_channels;
  for (int32_t i = 0; i < n; ++i) {
    if (want[i] != got[i]) {
      std::printf("FAIL %s case %d (%dx%d, %d -> %d channels, kernel %d): [%ld] is %ld; expected %ld\n", what,
                  case_index, int(s.height), int(s.width), int(s.in_channels), int(s.out_channels), int(s.kernel),
                  long(i), long(got[i]), long(want[i]));
      return false;
    }
  }
  return true;
}

}  // namespace

int main() {
  using namespace maqd_rt::kernels;
  if (!dsp::kHaveDspKernels) {
    std::printf("FAIL: built without __ARM_FEATURE_DSP; expected a Cortex-M4 build\n");
    return 1;
  }
  const int32_t channel_choices[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 40};
  int cases = 0;
  for (int c = 0; c < 300; ++c) {
    ConvShape s;
    s.height = pick(1, 6);
    s.width = pick(1, 6);
    s.in_channels = channel_choices[pick(0, 10)];
    s.out_channels = pick(1, 24);
    s.kernel = 2 * pick(0, 2) + 1;
    const int32_t elements = s.height * s.width * s.in_channels;
    const int32_t count = s.out_channels * s.kernel * s.kernel * s.in_channels;
    const bool extremes = c % 5 == 0;  // every input and code at its bound
    for (int32_t i = 0; i < elements; ++i) {
      input_u8[i] = extremes ? 255 : uint8_t(pick(0, 255));
      input_i16[i] = extremes ? (i % 2 ? -32768 : 32767) : int16_t(pick(-32768, 32767));
    }
    for (int32_t i = 0; i < count; ++i) codes[i] = extremes ? (i % 3 ? -127 : 127) : int8_t(pick(-127, 127));
    // All output channels, then a range in the middle (codes of that range only).
    const int32_t oc_begin = c % 2 ? 0 : pick(0, s.out_channels - 1);
    const int32_t oc_end = c % 2 ? s.out_channels : pick(oc_begin + 1, s.out_channels);
    std::memset(want, 0, sizeof want);
    std::memset(got, 0, sizeof got);
    scalar::conv_u8_rows(s, codes, input_u8, want, 0, s.height, oc_begin, oc_end);
    dsp::conv_u8_rows(s, codes, input_u8, got, 0, s.height, oc_begin, oc_end);
    if (!same("u8", c, s)) return 1;
    scalar::conv_i16_rows(s, codes, input_i16, want, 0, s.height, oc_begin, oc_end);
    dsp::conv_i16_rows(s, codes, input_i16, got, 0, s.height, oc_begin, oc_end);
    if (!same("i16", c, s)) return 1;
    ++cases;
  }
  std::printf("PASS %d cases, u8 and i16 inputs: the DSP kernels equal the scalar ones\n", cases);
  return 0;
}
