// NEON kernels for every AArch64 CPU (no flags needed: Advanced SIMD is
// part of the architecture): the direct conv (neon_conv.h) and
// requant_input, which both NEON ISAs run.
#include "kernels/internal.h"

#if MAQD_RT_NEON_KERNELS
#include <array>
#include <utility>

#include "kernels/neon_conv.h"

namespace maqd_rt::kernels::neon {

void conv_u8_smlal(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                   int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  neon_conv<NeonMode::kSmlal>(conv, static_cast<const uint8_t*>(in), out, row_begin, row_end,
                              oc_begin, oc_end, scratch);
}

void conv_i16_smlal(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                    int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  neon_conv<NeonMode::kSmlal>(conv, static_cast<const int16_t*>(in), out, row_begin, row_end,
                              oc_begin, oc_end, scratch);
}

namespace {

// One block of 8 channels (the last one may hold fewer, `lanes`) for every
// pixel, with kCount thresholds per channel held in registers: a loop over
// a run-time count reloaded them for every pixel (twice the instructions).
template <int kCount>
void requant_block(const int32_t (&by_level)[kRequantInputMaxLevels][8], const int32_t (&flips)[8],
                   const int32_t (&bases)[8], int32_t lanes, int32_t channels, const int32_t* in,
                   int64_t pixels, uint8_t* out) {
  int32x4_t low[kCount], high[kCount];
  unroll<kCount>([&](auto k) {
    low[k] = vld1q_s32(by_level[k]);
    high[k] = vld1q_s32(by_level[k] + 4);
  });
  const int32x4_t flip_low = vld1q_s32(flips), flip_high = vld1q_s32(flips + 4);
  const int32x4_t base_low = vld1q_s32(bases), base_high = vld1q_s32(bases + 4);
  for (int64_t p = 0; p < pixels; ++p) {
    const size_t index = size_t(p) * channels;
    int32_t padded[8] = {};
    const int32_t* x_in = in + index;
    if (lanes < 8) {
      for (int32_t l = 0; l < lanes; ++l) padded[l] = x_in[l];
      x_in = padded;
    }
    const int32x4_t x_low = veorq_s32(vld1q_s32(x_in), flip_low);
    const int32x4_t x_high = veorq_s32(vld1q_s32(x_in + 4), flip_high);
    int32x4_t level_low = base_low, level_high = base_high;
    unroll<kCount>([&](auto k) {  // level −= (threshold > x): the mask is −1
      level_low = vaddq_s32(level_low, vreinterpretq_s32_u32(vcgtq_s32(low[k], x_low)));
      level_high = vaddq_s32(level_high, vreinterpretq_s32_u32(vcgtq_s32(high[k], x_high)));
    });
    const uint8x8_t codes = vmovn_u16(vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(level_low)),
                                                   vmovn_u32(vreinterpretq_u32_s32(level_high))));
    if (lanes == 8) {
      vst1_u8(out + index, codes);
    } else {
      uint8_t bytes[8];
      vst1_u8(bytes, codes);
      for (int32_t l = 0; l < lanes; ++l) out[index + l] = bytes[l];
    }
  }
}

using RequantBlockFn = decltype(&requant_block<1>);
template <int... I>
constexpr std::array<RequantBlockFn, sizeof...(I)> requant_blocks(std::integer_sequence<int, I...>) {
  return {&requant_block<I + 1>...};
}
// requant_block<count> at index count − 1.
constexpr auto kRequantBlocks = requant_blocks(std::make_integer_sequence<int, kRequantInputMaxLevels - 1>{});

}  // namespace

// As avx2::requant_input: 8 channels at a time, their thresholds by level
// in registers' order, one compare and add per level; a last partial
// block through a zero-padded copy of its inputs.
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out) {
  int32_t by_level[kRequantInputMaxLevels][8];
  int32_t flips[8], bases[8];
  for (int32_t c0 = 0; c0 < channels; c0 += 8) {
    const int32_t lanes = imin(8, channels - c0);
    for (int32_t l = 0; l < 8; ++l) {
      const int32_t c = c0 + imin(l, lanes - 1);  // (padding lanes repeat the last channel)
      for (int32_t k = 0; k < count; ++k) by_level[k][l] = thresholds[size_t(c) * count + k];
      flips[l] = flip[c];
      bases[l] = base[c];
    }
    kRequantBlocks[count - 1](by_level, flips, bases, lanes, channels, in + c0, pixels, out + c0);
  }
}

}  // namespace maqd_rt::kernels::neon
#endif
