// NEON kernels for every AArch64 CPU (no flags needed: Advanced SIMD is
// part of the architecture): the direct conv (neon_conv.h), requant and
// requant_input, which both NEON ISAs run.
#include "kernels/internal.h"

#if MAQD_RT_NEON_KERNELS
#include <array>
#include <cstring>
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
    int32x4_t x_low, x_high;
    if (lanes == 8) {
      x_low = vld1q_s32(in + index);
      x_high = vld1q_s32(in + index + 4);
    } else {
      int32_t padded[8] = {};
      for (int32_t l = 0; l < lanes; ++l) padded[l] = in[index + l];
      x_low = vld1q_s32(padded);
      x_high = vld1q_s32(padded + 4);
    }
    x_low = veorq_s32(x_low, flip_low);
    x_high = veorq_s32(x_high, flip_high);
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

namespace {

// requant's 4-channel block: the channels' int32 multipliers and their
// thresholds by level (count ≥ 1 of them).
struct RequantBlock {
  int32x4_t m0, m1;  // (m1 zero with one input)
  const int64_t (*by_level)[4];
  int32_t count;

  // The codes of one pixel's inputs (x1 zero with one input), in the low
  // 4 bytes.
  uint8x8_t codes(int32x4_t x0, int32x4_t x1) const {
    const int64x2_t z_low = vmlal_s32(vmull_s32(vget_low_s32(m0), vget_low_s32(x0)),
                                      vget_low_s32(m1), vget_low_s32(x1));
    const int64x2_t z_high = vmlal_high_s32(vmull_high_s32(m0, x0), m1, x1);
    // level = count − #{k : t_k > Z}; each compare adds −1 (count last).
    int64x2_t level_low = vdupq_n_s64(0), level_high = level_low;
    int32_t k = 0;
    do {
      level_low = vaddq_s64(level_low, vreinterpretq_s64_u64(vcgtq_s64(vld1q_s64(by_level[k]), z_low)));
      level_high =
          vaddq_s64(level_high, vreinterpretq_s64_u64(vcgtq_s64(vld1q_s64(by_level[k] + 2), z_high)));
    } while (++k < count);
    const int32x4_t level32 = vaddq_s32(vcombine_s32(vmovn_s64(level_low), vmovn_s64(level_high)),
                                        vdupq_n_s32(count));
    return vmovn_u16(vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(level32)), vdup_n_u16(0)));
  }
};

// A last block of lanes < 4 channels, through zero-padded copies of its
// inputs.
void requant_partial_block(const RequantBlock& block, const int32_t* const* inputs,
                           int32_t num_inputs, int32_t lanes, int64_t pixels, int32_t channels,
                           int32_t c0, uint8_t* out) {
  for (int64_t p = 0; p < pixels; ++p) {
    const size_t index = size_t(p) * channels + c0;
    int32_t padded[2][4] = {};
    for (int32_t j = 0; j < num_inputs; ++j)
      for (int32_t l = 0; l < lanes; ++l) padded[j][l] = inputs[j][index + l];
    uint8_t bytes[8];
    vst1_u8(bytes, block.codes(vld1q_s32(padded[0]), vld1q_s32(padded[1])));
    for (int32_t l = 0; l < lanes; ++l) out[index + l] = bytes[l];
  }
}

}  // namespace

// As avx2::requant (requant_multiplies_int32 cases only; SMULL and SMLAL
// form Z exactly, wrapping as the scalar definition does). 4 channels per
// step, as two int64 pairs; a last partial block's padding lanes repeat its
// last channel.
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out) {
  const int32_t count = levels - 1;
  int64_t by_level[kRequantLinearMaxLevels][4];
  int32_t factors[2][4] = {};
  for (int32_t c0 = 0; c0 < channels; c0 += 4) {
    const int32_t lanes = imin(4, channels - c0);
    for (int32_t l = 0; l < 4; ++l) {
      const int32_t c = c0 + imin(l, lanes - 1);
      for (int32_t j = 0; j < num_inputs; ++j) factors[j][l] = int32_t(multipliers[size_t(j) * channels + c]);
      for (int32_t k = 0; k < count; ++k) by_level[k][l] = thresholds[size_t(c) * count + k];
    }
    const RequantBlock block{vld1q_s32(factors[0]), vld1q_s32(factors[1]), by_level, count};
    if (lanes < 4) {
      requant_partial_block(block, inputs, num_inputs, lanes, pixels, channels, c0, out);
      continue;
    }
    for (int64_t p = 0; p < pixels; ++p) {
      const size_t index = size_t(p) * channels + c0;
      const int32x4_t x0 = vld1q_s32(inputs[0] + index);
      const int32x4_t x1 = num_inputs > 1 ? vld1q_s32(inputs[1] + index) : vdupq_n_s32(0);
      const uint32_t word = vget_lane_u32(vreinterpret_u32_u8(block.codes(x0, x1)), 0);
      std::memcpy(out + index, &word, sizeof(word));
    }
  }
}

}  // namespace maqd_rt::kernels::neon
#endif
