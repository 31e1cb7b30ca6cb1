// The direct conv on 64-bit Arm, shared by neon.cpp (every AArch64 CPU) and
// neondot.cpp (compiled for Armv8.2 with the dot product). Like the AVX2
// kernel (avx2.cpp), but one block at a time: a tile keeps NP output pixels
// × 8 output channels in registers (two int32x4 per pixel) and walks (dy,
// dx, unit) over the direct layout (internal.h). (Tiles of two blocks made
// GCC copy accumulators between registers in the SMLAL step loop.) Two inner loops (NeonMode):
// - kSmlal: units of 2 i16 inputs (u8 inputs widened while they are copied
//   into the padded scratch), weights [unit][input j][8 lanes] i16; per
//   pixel and unit one 4-byte load and four SMLAL/SMLAL2 by lane: 16
//   multiply-adds, exact for every input.
// - kSdot: inputs in [0, 127] as int8, units of 4, weights [unit][8 lanes]
//   [4 bytes] (AVX2's vpmaddubsw layout); per pixel and unit one 4-byte
//   broadcast and two SDOT: 32 multiply-adds.
// Anonymous namespace: each file compiles its own copy (internal.h).
#pragma once

#include <arm_neon.h>

#include "kernels/internal.h"
#include "kernels/vector_common.h"

namespace maqd_rt::kernels {
namespace {

enum class NeonMode { kSmlal, kSdot };

struct NeonTile : TileGeometry {
  uint32_t lanes;  // the block's lanes in the caller's channel range
};

// One 4-byte unit in every lane (LD1R; A64 loads need no alignment).
inline int32x4_t broadcast_unit(const uint8_t* x) {
  return vld1q_dup_s32(reinterpret_cast<const int32_t*>(x));
}

template <NeonMode kMode, int NP>
inline void neon_steps(const NeonTile& t, const uint8_t* x, const uint8_t* w, int32x4_t (&acc)[NP][2]) {
  for (int32_t step = 0; step < t.steps_per_dy; ++step, x += 4, w += 32) {
    if constexpr (kMode == NeonMode::kSmlal) {
      // Inputs j = 0 and 1 of the unit, 8 channels each.
      const int16x8_t first = vld1q_s16(reinterpret_cast<const int16_t*>(w));
      const int16x8_t second = vld1q_s16(reinterpret_cast<const int16_t*>(w) + 8);
      unroll<NP>([&](auto p) {
        const int16x8_t input = vreinterpretq_s16_s32(broadcast_unit(x + p * t.pixel_bytes));
        acc[p][0] = vmlal_laneq_s16(acc[p][0], vget_low_s16(first), input, 0);
        acc[p][1] = vmlal_high_laneq_s16(acc[p][1], first, input, 0);
        acc[p][0] = vmlal_laneq_s16(acc[p][0], vget_low_s16(second), input, 1);
        acc[p][1] = vmlal_high_laneq_s16(acc[p][1], second, input, 1);
      });
    } else {
#if defined(__ARM_FEATURE_DOTPROD)
      // Channels 0-3 and 4-7, 4 inputs each.
      const int8x16_t low = vld1q_s8(reinterpret_cast<const int8_t*>(w));
      const int8x16_t high = vld1q_s8(reinterpret_cast<const int8_t*>(w) + 16);
      unroll<NP>([&](auto p) {
        const int8x16_t input = vreinterpretq_s8_s32(broadcast_unit(x + p * t.pixel_bytes));
        acc[p][0] = vdotq_s32(acc[p][0], low, input);
        acc[p][1] = vdotq_s32(acc[p][1], high, input);
      });
#else
      static_assert(kMode != NeonMode::kSdot, "kSdot needs the dot product (neondot.cpp)");
#endif
    }
  }
}

template <NeonMode kMode, int NP>
void neon_tile(const NeonTile& t) {
  int32x4_t acc[NP][2];
  unroll<NP>([&](auto p) { acc[p][0] = acc[p][1] = vdupq_n_s32(0); });
  for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
    neon_steps<kMode>(t, t.in + dy * t.row_bytes, t.weights + size_t(dy) * t.steps_per_dy * 32, acc);
  }
  unroll<NP>([&](auto p) {
    int32_t* out = t.out + p * t.out_pixel;
    if (t.lanes == 0xFF) {
      vst1q_s32(out, acc[p][0]);
      vst1q_s32(out + 4, acc[p][1]);
      return;
    }
    int32_t sums[8];
    vst1q_s32(sums, acc[p][0]);
    vst1q_s32(sums + 4, acc[p][1]);
    for (int32_t l = 0; l < 8; ++l)
      if ((t.lanes >> l) & 1) out[l] = sums[l];
  });
}

// 2·NP accumulators, 2 weights and the NP broadcast inputs (GCC loads them
// all before the multiplies) within the 32 vector registers: with 12
// pixels it spilled accumulators to the stack in the step loop (objdump;
// tests/CMakeLists.txt checks the loops).
constexpr int32_t kNeonMaxPixels = 9;

template <NeonMode kMode, int NP>
void neon_tile_n(int32_t pixels, const NeonTile& t) {
  if constexpr (NP > 0) {
    if (pixels == NP) return neon_tile<kMode, NP>(t);
    return neon_tile_n<kMode, NP - 1>(pixels, t);
  }
}

// Copies the rows output rows [row_begin, row_end) read into the scratch
// (int16 units of 2 for kSmlal, bytes in units of 4 for kSdot) and runs
// the tiles over them.
template <NeonMode kMode, typename Input>
void neon_conv(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
               int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  const ConvShape& s = conv.shape;
  constexpr int32_t kPerUnit = kMode == NeonMode::kSmlal ? 2 : 4;
  const DirectLayout layout = direct_layout(s, kPerUnit);
  if constexpr (kMode == NeonMode::kSmlal) {
    copy_direct_rows(s, layout, in, row_begin, row_end, static_cast<int16_t*>(scratch));
  } else {
    copy_direct_rows(s, layout, in, row_begin, row_end, static_cast<uint8_t*>(scratch));
  }
  NeonTile t;
  t.set_direct(s, layout, 8);
  const uint8_t* input = static_cast<const uint8_t*>(scratch);
  const PixelTiles tiles = split_row(s.width, kNeonMaxPixels);
  for (int32_t h = row_begin; h < row_end; ++h) {
    t.set_row(s, h);
    for (int32_t block = oc_begin / 8; block < ceil_div(oc_end, 8); ++block) {
      t.lanes = lane_mask(block * 8, 8, oc_begin, oc_end);
      t.weights = conv.packed + block * t.block_bytes;
      for (int32_t i = 0; i < tiles.count; ++i) {
        const int32_t w0 = tiles.begin(i);
        t.set_pixels(s, input, out, h, w0, block * 8);
        neon_tile_n<kMode, kNeonMaxPixels>(tiles.begin(i + 1) - w0, t);
      }
    }
  }
}

}  // namespace
}  // namespace maqd_rt::kernels
