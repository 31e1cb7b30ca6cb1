// AVX-512 kernels (F, BW, VL, DQ, VNNI; VPOPCNTDQ for the bit-serial conv).
//
// Direct conv: one zmm accumulates 16 output channels of one output pixel.
// A tile keeps NP pixels × NB blocks of 16 channels in registers and walks
// (dy, dx, unit), where a unit is 4 input bytes: 4 u8 channels (vpdpbusd,
// u8 × s8) or 2 i16 channels (vpdpwssd, s16 × s16). Each step broadcasts a
// pixel's unit and multiplies it into NB weight vectors. The input is first
// copied into a zero-padded scratch (x86_common.h), so no tile branches on
// borders; rows beyond the map are skipped by clipping dy.
//
// Bit-serial conv (binary inputs, ternary codes): per dy the window row's
// k·in_channels input bits are gathered once per output row into 32-bit
// words; a tile broadcasts a word and adds popcount(x & plus) −
// popcount(x & minus) for 16 channels per zmm: 32 multiply-adds per lane
// in six cheap instructions, against 4 per vpdpbusd. On the VGG-1/4 layers
// it ran 2.5-4x faster than the vpdpbusd path (AMD EPYC, AVX-512 VNNI).
#include "kernels/internal.h"

#if MAQD_RT_X86_KERNELS
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
      defined(__AVX512VNNI__) && defined(__AVX512DQ__) && defined(__AVX512VPOPCNTDQ__))
#error "avx512.cpp needs -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512dq -mavx512vpopcntdq (runtime/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstring>

#include "kernels/vector_common.h"

namespace maqd_rt::kernels::avx512 {
namespace {

struct Tile : TileGeometry {
  __mmask16 masks[4];
};

template <bool kU8, int NP, int NB>
void direct_tile(const Tile& t) {
  __m512i acc[NP][NB];
  unroll<NP>([&](auto p) { unroll<NB>([&](auto b) { acc[p][b] = _mm512_setzero_si512(); }); });
  const size_t weights_per_dy = size_t(t.steps_per_dy) * 64;
  for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
    const uint8_t* x = t.in + dy * t.row_bytes;
    const uint8_t* w = t.weights + dy * weights_per_dy;
    for (int32_t step = 0; step < t.steps_per_dy; ++step, x += 4, w += 64) {
      __m512i weight[NB];
      unroll<NB>([&](auto b) { weight[b] = _mm512_loadu_si512(w + b * t.block_bytes); });
      unroll<NP>([&](auto p) {
        int32_t unit;
        std::memcpy(&unit, x + p * t.pixel_bytes, 4);
        const __m512i input = _mm512_set1_epi32(unit);
        unroll<NB>([&](auto b) {
          if constexpr (kU8) {
            acc[p][b] = _mm512_dpbusd_epi32(acc[p][b], input, weight[b]);
          } else {
            acc[p][b] = _mm512_dpwssd_epi32(acc[p][b], input, weight[b]);
          }
        });
      });
    }
  }
  unroll<NP>([&](auto p) {
    unroll<NB>([&](auto b) {
      _mm512_mask_storeu_epi32(t.out + p * t.out_pixel + b * 16, t.masks[b], acc[p][b]);
    });
  });
}

// Most pixels per tile for NB blocks. 32 zmm registers would hold ~28
// accumulators, but GCC 12 spills above ~16 (checked with objdump), and at
// 16 the tile already runs at vpdpbusd's throughput.
constexpr int32_t kDirectMaxPixels[5] = {0, 15, 7, 5, 4};

template <bool kU8, int NB, int NP>
void direct_tile_n(int32_t pixels, const Tile& t) {
  if constexpr (NP > 0) {
    if (pixels == NP) return direct_tile<kU8, NP, NB>(t);
    return direct_tile_n<kU8, NB, NP - 1>(pixels, t);
  }
}

template <bool kU8>
void run_direct_tile(int32_t blocks, int32_t pixels, const Tile& t) {
  switch (blocks) {
    case 1: return direct_tile_n<kU8, 1, kDirectMaxPixels[1]>(pixels, t);
    case 2: return direct_tile_n<kU8, 2, kDirectMaxPixels[2]>(pixels, t);
    case 3: return direct_tile_n<kU8, 3, kDirectMaxPixels[3]>(pixels, t);
    default: return direct_tile_n<kU8, 4, kDirectMaxPixels[4]>(pixels, t);
  }
}

template <bool kU8>
void conv_direct(const ConvView& conv, const uint8_t* padded, const uint8_t* weights,
                 const DirectLayout& layout, int32_t* out, int32_t row_begin, int32_t row_end,
                 int32_t oc_begin, int32_t oc_end) {
  const ConvShape& s = conv.shape;
  Tile t;
  t.set_direct(s, layout, 16);
  const int32_t block_end = ceil_div(oc_end, 16);
  for (int32_t h = row_begin; h < row_end; ++h) {
    t.set_row(s, h);
    for (int32_t block = oc_begin / 16; block < block_end;) {
      const int32_t blocks = imin(4, block_end - block);
      for (int32_t b = 0; b < blocks; ++b) {
        t.masks[b] = __mmask16(lane_mask((block + b) * 16, 16, oc_begin, oc_end));
      }
      t.weights = weights + block * t.block_bytes;
      const PixelTiles tiles = split_row(s.width, kDirectMaxPixels[blocks]);
      for (int32_t i = 0; i < tiles.count; ++i) {
        const int32_t w0 = tiles.begin(i), pixels = tiles.begin(i + 1) - w0;
        t.set_pixels(s, padded, out, h, w0, block * 16);
        run_direct_tile<kU8>(blocks, pixels, t);
      }
      block += blocks;
    }
  }
}

// ---- Bit-serial conv ----

struct BinaryTile {
  const uint32_t* windows;  // window words at (dy = 0, w0)
  int32_t words;            // words per (dy, pixel)
  size_t window_dy;         // words between dy rows of the window buffer
  int32_t dy_begin, dy_end;
  const uint32_t* weights;  // first block at dy = 0: [dy][word][plus, minus][16]
  size_t block_words;       // between blocks
  int32_t* out;
  int32_t out_pixel;
  __mmask16 masks[4];
};

template <int NP, int NB>
void binary_tile(const BinaryTile& t) {
  __m512i acc[NP][NB];
  unroll<NP>([&](auto p) { unroll<NB>([&](auto b) { acc[p][b] = _mm512_setzero_si512(); }); });
  for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
    const uint32_t* x = t.windows + dy * t.window_dy;
    const uint32_t* w = t.weights + size_t(dy) * t.words * 32;
    for (int32_t word = 0; word < t.words; ++word, ++x, w += 32) {
      __m512i plus[NB], minus[NB];
      unroll<NB>([&](auto b) {
        plus[b] = _mm512_loadu_si512(w + b * t.block_words);
        minus[b] = _mm512_loadu_si512(w + b * t.block_words + 16);
      });
      unroll<NP>([&](auto p) {
        const __m512i input = _mm512_set1_epi32(int32_t(x[p * t.words]));
        unroll<NB>([&](auto b) {
          acc[p][b] = _mm512_add_epi32(acc[p][b], _mm512_popcnt_epi32(_mm512_and_si512(input, plus[b])));
          acc[p][b] = _mm512_sub_epi32(acc[p][b], _mm512_popcnt_epi32(_mm512_and_si512(input, minus[b])));
        });
      });
    }
  }
  unroll<NP>([&](auto p) {
    unroll<NB>([&](auto b) {
      _mm512_mask_storeu_epi32(t.out + p * t.out_pixel + b * 16, t.masks[b], acc[p][b]);
    });
  });
}

// NP·NB accumulators + 2·NB weight planes + input and two temporaries.
// One block of 24 pixels spills up to 13 accumulators per step
// (tools/check-kernel-loops.py) and still ran 1.15-1.25x faster than 12
// pixels without spills (bench_runtime_kernels); the others do not spill.
constexpr int32_t kBinaryMaxPixels[5] = {0, 24, 10, 6, 4};

template <int NB, int NP>
void binary_tile_n(int32_t pixels, const BinaryTile& t) {
  if constexpr (NP > 0) {
    if (pixels == NP) return binary_tile<NP, NB>(t);
    return binary_tile_n<NB, NP - 1>(pixels, t);
  }
}

void run_binary_tile(int32_t blocks, int32_t pixels, const BinaryTile& t) {
  switch (blocks) {
    case 1: return binary_tile_n<1, kBinaryMaxPixels[1]>(pixels, t);
    case 2: return binary_tile_n<2, kBinaryMaxPixels[2]>(pixels, t);
    case 3: return binary_tile_n<3, kBinaryMaxPixels[3]>(pixels, t);
    default: return binary_tile_n<4, kBinaryMaxPixels[4]>(pixels, t);
  }
}

// Bit-packs input rows into `rows` (padded like copy_padded_rows, one bit
// per channel): bit (x + p)·in_channels + i of padded row y + p is
// in[y][x][i] != 0. A row of the input is contiguous, so its bits are one
// vptestmb per 64 bytes, shifted into place by the left padding.
void pack_binary_rows(const ConvShape& s, const uint8_t* in, int32_t row_begin, int32_t row_end,
                      uint64_t* rows) {
  const int32_t pad = s.kernel / 2;
  const int32_t row_words = binary_row_words64(s);
  const int32_t first = imax(0, row_begin - pad), last = imin(s.height, row_end + pad);
  const int64_t row_bits = int64_t(s.width) * s.in_channels;
  const int64_t offset = int64_t(pad) * s.in_channels;
  const int32_t shift = int32_t(offset % 64);
  for (int32_t r = first; r < last; ++r) {
    uint64_t* target = rows + size_t(r + pad) * row_words;
    std::memset(target, 0, size_t(row_words) * 8);
    target += offset / 64;
    const uint8_t* source = in + size_t(r) * row_bits;
    for (int64_t bit = 0; bit < row_bits; bit += 64, ++target) {
      const int64_t left = row_bits - bit;
      const __mmask64 valid = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
      const __m512i bytes = _mm512_maskz_loadu_epi8(valid, source + bit);
      const uint64_t bits = _mm512_test_epi8_mask(bytes, bytes);
      target[0] |= bits << shift;
      if (shift != 0) target[1] |= bits >> (64 - shift);
    }
  }
}

void conv_binary(const ConvView& conv, const uint8_t* in, int32_t* out, int32_t row_begin,
                 int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  const ConvShape& s = conv.shape;
  const int32_t pad = s.kernel / 2;
  const int32_t row_words = binary_row_words64(s);
  uint64_t* rows = static_cast<uint64_t*>(scratch);
  uint32_t* windows = reinterpret_cast<uint32_t*>(rows + (size_t(s.height) + 2 * size_t(pad)) * row_words);
  pack_binary_rows(s, in, row_begin, row_end, rows);

  BinaryTile t;
  t.words = binary_words_per_dy(s);
  t.window_dy = size_t(s.width) * t.words;
  t.block_words = size_t(s.kernel) * t.words * 32;
  t.out_pixel = s.out_channels;
  const uint32_t* weights = reinterpret_cast<const uint32_t*>(conv.packed);
  const int32_t block_end = ceil_div(oc_end, 16);
  // Window word j of (padded row y, w): bits [w·in + 32j, +32) of row y,
  // gathered once per input row (output rows h and h + 1 share k − 1 of
  // their k window rows).
  const int32_t first = imax(0, row_begin - pad), last = imin(s.height, row_end + pad);
  for (int32_t r = first; r < last; ++r) {
    const uint8_t* row = reinterpret_cast<const uint8_t*>(rows + size_t(r + pad) * row_words);
    uint32_t* target = windows + size_t(r + pad) * t.window_dy;
    for (int32_t w = 0; w < s.width; ++w) {
      for (int32_t j = 0; j < t.words; ++j) {
        const int64_t bit = int64_t(w) * s.in_channels + 32 * j;
        uint64_t chunk;
        std::memcpy(&chunk, row + bit / 8, 8);
        *target++ = uint32_t(chunk >> (bit % 8));
      }
    }
  }
  for (int32_t h = row_begin; h < row_end; ++h) {
    t.dy_begin = imax(0, pad - h);
    t.dy_end = imin(s.kernel, s.height + pad - h);
    const uint32_t* window_rows = windows + size_t(h) * t.window_dy;  // padded row h + dy at dy
    for (int32_t block = oc_begin / 16; block < block_end;) {
      const int32_t blocks = imin(4, block_end - block);
      for (int32_t b = 0; b < blocks; ++b) {
        t.masks[b] = __mmask16(lane_mask((block + b) * 16, 16, oc_begin, oc_end));
      }
      t.weights = weights + block * t.block_words;
      const PixelTiles tiles = split_row(s.width, kBinaryMaxPixels[blocks]);
      for (int32_t i = 0; i < tiles.count; ++i) {
        const int32_t w0 = tiles.begin(i), pixels = tiles.begin(i + 1) - w0;
        t.windows = window_rows + size_t(w0) * t.words;
        t.out = out + (size_t(h) * s.width + w0) * s.out_channels + block * 16;
        run_binary_tile(blocks, pixels, t);
      }
      block += blocks;
    }
  }
}

// ---- Ternary codes × inputs ≤ 12: table lookup (kVariantTernaryLut) ----
//
// AVX2's tables and mask layout (avx2.cpp, built by its code), looked up 64
// output channels at a time: a zmm holds the table four times and 32
// channels' interleaved plus and minus masks, so one vpshufb and a vpaddb
// add 32 × 4 multiply-adds into unsigned byte sums of T[plus] and T[minus]
// side by side, and one vpmaddubsw by (+1, −1) per 32 channels turns them
// into int16 differences every steps_per_widen steps.

// As avx2's LutTile (in: the tables; weights: the block's masks).
struct LutTile : TileGeometry {
  int32_t steps_per_widen;
  __mmask16 masks[4];  // the block's 64 channels as four int32 store masks
};

// 2·NP byte-sum and 2·NP int16 accumulators, the two mask vectors, the
// table, (+1, −1) and a temporary within 32 zmm.
constexpr int32_t kLutMaxPixels = 6;

template <int NP>
void lut_tile(const LutTile& t) {
  __m512i acc8[NP][2], acc16[NP][2];
  unroll<NP>([&](auto p) {
    acc8[p][0] = acc8[p][1] = _mm512_setzero_si512();
    acc16[p][0] = acc16[p][1] = _mm512_setzero_si512();
  });
  const __m512i plus_minus = _mm512_set1_epi16(int16_t(0xFF01));  // bytes +1, −1
  const size_t weights_per_dy = size_t(t.steps_per_dy) * 128;
  for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
    const uint8_t* x = t.in + dy * t.row_bytes;
    const uint8_t* w = t.weights + dy * weights_per_dy;
    for (int32_t step = 0; step < t.steps_per_dy;) {
      const int32_t chunk_end = imin(t.steps_per_dy, step + t.steps_per_widen);
      for (; step < chunk_end; ++step, x += 16, w += 128) {
        const __m512i low = _mm512_loadu_si512(w);
        const __m512i high = _mm512_loadu_si512(w + 64);
        unroll<NP>([&](auto p) {
          const __m512i table =
              _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + p * t.pixel_bytes)));
          acc8[p][0] = _mm512_add_epi8(acc8[p][0], _mm512_shuffle_epi8(table, low));
          acc8[p][1] = _mm512_add_epi8(acc8[p][1], _mm512_shuffle_epi8(table, high));
        });
      }
      unroll<NP>([&](auto p) {
        unroll<2>([&](auto h) {
          acc16[p][h] = _mm512_add_epi16(acc16[p][h], _mm512_maddubs_epi16(acc8[p][h], plus_minus));
          acc8[p][h] = _mm512_setzero_si512();
        });
      });
    }
  }
  unroll<NP>([&](auto p) {
    int32_t* out = t.out + p * t.out_pixel;
    unroll<2>([&](auto h) {
      _mm512_mask_storeu_epi32(out + 32 * h, t.masks[2 * h],
                               _mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc16[p][h])));
      _mm512_mask_storeu_epi32(out + 32 * h + 16, t.masks[2 * h + 1],
                               _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc16[p][h], 1)));
    });
  });
}

template <int NP>
void lut_tile_n(int32_t pixels, const LutTile& t) {
  if constexpr (NP > 0) {
    if (pixels == NP) return lut_tile<NP>(t);
    return lut_tile_n<NP - 1>(pixels, t);
  }
}

template <typename Input>
void conv_lut(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
              int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  const ConvShape& s = conv.shape;
  const int32_t pad = s.kernel / 2, groups = lut_groups(s);
  uint8_t* tables = static_cast<uint8_t*>(scratch);
  avx2::build_lut_tables(s, in, row_begin, row_end, tables);
  LutTile t;
  t.set_conv(s, groups * 16, s.width + 2 * pad, s.kernel * groups, 128);
  t.steps_per_widen = imax(1, conv.steps_per_widen);
  for (int32_t h = row_begin; h < row_end; ++h) {
    t.set_row(s, h);
    for (int32_t block = oc_begin / 64; block < ceil_div(oc_end, 64); ++block) {
      for (int32_t q = 0; q < 4; ++q) t.masks[q] = __mmask16(lane_mask(block * 64 + q * 16, 16, oc_begin, oc_end));
      t.weights = conv.packed + block * t.block_bytes;
      const PixelTiles tiles = split_row(s.width, kLutMaxPixels);
      for (int32_t i = 0; i < tiles.count; ++i) {
        const int32_t w0 = tiles.begin(i), pixels = tiles.begin(i + 1) - w0;
        t.set_pixels(s, tables, out, h, w0, block * 64);
        lut_tile_n<kLutMaxPixels>(pixels, t);
      }
    }
  }
}

}  // namespace

// The table's entry points (kernels.cpp).
void conv_u8_tables(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                    int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  conv_lut(conv, static_cast<const uint8_t*>(in), out, row_begin, row_end, oc_begin, oc_end, scratch);
}
void conv_i16_tables(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                     int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  conv_lut(conv, static_cast<const int16_t*>(in), out, row_begin, row_end, oc_begin, oc_end, scratch);
}

void conv_u8_binary(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                    int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  conv_binary(conv, static_cast<const uint8_t*>(in), out, row_begin, row_end, oc_begin, oc_end, scratch);
}

// u8 inputs, or i16 inputs ≤ 255 (pool sums of codes) narrowed: 4 channels
// per vpdpbusd.
template <typename Input>
void conv_as_u8(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  const DirectLayout layout = direct_layout(conv.shape, 4);
  uint8_t* padded = static_cast<uint8_t*>(scratch);
  copy_direct_rows(conv.shape, layout, static_cast<const Input*>(in), row_begin, row_end, padded);
  conv_direct<true>(conv, padded, conv.packed, layout, out, row_begin, row_end, oc_begin, oc_end);
}
void conv_u8_dpbusd(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                    int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  conv_as_u8<uint8_t>(conv, in, out, row_begin, row_end, oc_begin, oc_end, scratch);
}
void conv_i16_dpbusd(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                     int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  conv_as_u8<int16_t>(conv, in, out, row_begin, row_end, oc_begin, oc_end, scratch);
}

void conv_i16_dpwssd(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                     int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  const DirectLayout layout = direct_layout(conv.shape, 2);
  int16_t* padded = static_cast<int16_t*>(scratch);
  copy_direct_rows(conv.shape, layout, static_cast<const int16_t*>(in), row_begin, row_end, padded);
  conv_direct<false>(conv, reinterpret_cast<const uint8_t*>(padded),
                     conv.packed + avx512_i16_offset(conv.shape, conv.variant), layout, out,
                     row_begin, row_end, oc_begin, oc_end);
}

// ---- Requant: 8 channels per zmm (int64 lanes) ----
//
// Up to kRequantLinearMaxLevels levels: the literal linear count over the
// channels' thresholds, transposed level-major so that each compare is one
// load. More levels (sorted rows): the same linear count over every
// stride-th threshold (≤ 15 pivots) finds the bucket, and a binary search of
// log2(stride) gathers finishes inside it; 4 gathers for 256 levels instead
// of 8 for a plain binary search.

void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out) {
  const int32_t count = levels - 1;
  int32_t stride = 1;
  while (count / stride > kRequantLinearMaxLevels - 1) stride *= 2;
  const int32_t pivots = count / stride;
  alignas(64) int64_t pivot_rows[kRequantLinearMaxLevels][8];
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i count_vector = _mm512_set1_epi64(count);
  const __m512i stride_vector = _mm512_set1_epi64(stride);
  for (int32_t c0 = 0; c0 < channels; c0 += 8) {
    const int32_t lanes = imin(8, channels - c0);
    const __mmask8 mask = __mmask8((1u << lanes) - 1);
    const __m512i m0 = _mm512_maskz_loadu_epi64(mask, multipliers + c0);
    const __m512i m1 = num_inputs > 1 ? _mm512_maskz_loadu_epi64(mask, multipliers + channels + c0)
                                      : _mm512_setzero_si512();
    for (int32_t j = 0; j < pivots; ++j)
      for (int32_t l = 0; l < 8; ++l)
        pivot_rows[j][l] =
            l < lanes ? thresholds[size_t(c0 + l) * count + size_t(stride) * (j + 1) - 1] : 0;
    // Row starts of the 8 channels, for the gathers.
    const __m512i row_start =
        _mm512_mullo_epi64(_mm512_add_epi64(lane, _mm512_set1_epi64(c0)), count_vector);
    for (int64_t p = 0; p < pixels; ++p) {
      const size_t index = size_t(p) * channels + c0;
      __m512i z = _mm512_mullo_epi64(
          m0, _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mask, inputs[0] + index)));
      if (num_inputs > 1) {
        z = _mm512_add_epi64(
            z, _mm512_mullo_epi64(
                   m1, _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mask, inputs[1] + index))));
      }
      __m512i level = _mm512_setzero_si512();
      for (int32_t j = 0; j < pivots; ++j) {
        const __mmask8 reached = _mm512_cmpge_epi64_mask(z, _mm512_load_si512(pivot_rows[j]));
        level = _mm512_mask_add_epi64(level, reached, level, stride_vector);
      }
      for (int32_t step = stride / 2; step > 0; step /= 2) {
        const __m512i candidate = _mm512_add_epi64(level, _mm512_set1_epi64(step));
        const __mmask8 inside = _mm512_mask_cmple_epi64_mask(mask, candidate, count_vector);
        const __m512i index_vector =
            _mm512_add_epi64(row_start, _mm512_sub_epi64(candidate, _mm512_set1_epi64(1)));
        const __m512i threshold = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), inside,
                                                              index_vector, thresholds, 8);
        const __mmask8 take = _mm512_mask_cmple_epi64_mask(inside, threshold, z);
        level = _mm512_mask_mov_epi64(level, take, candidate);
      }
      _mm512_mask_cvtepi64_storeu_epi8(out + index, mask, level);
    }
  }
}

// 16 channels per zmm, the last ones masked: level = base − #{k : t'_k >
// x XOR flip}.
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out) {
  alignas(64) int32_t by_level[kRequantInputMaxLevels][16];
  const __m512i one = _mm512_set1_epi32(1);
  for (int32_t c0 = 0; c0 < channels; c0 += 16) {
    const int32_t lanes = imin(16, channels - c0);
    const __mmask16 mask = __mmask16((1u << lanes) - 1);
    for (int32_t k = 0; k < count; ++k)
      for (int32_t l = 0; l < 16; ++l) by_level[k][l] = l < lanes ? thresholds[size_t(c0 + l) * count + k] : 0;
    const __m512i flips = _mm512_maskz_loadu_epi32(mask, flip + c0);
    const __m512i bases = _mm512_maskz_loadu_epi32(mask, base + c0);
    for (int64_t p = 0; p < pixels; ++p) {
      const size_t index = size_t(p) * channels + c0;
      const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi32(mask, in + index), flips);
      __m512i level = bases;
      for (int32_t k = 0; k < count; ++k) {
        const __mmask16 below = _mm512_cmpgt_epi32_mask(_mm512_load_si512(by_level[k]), x);
        level = _mm512_mask_sub_epi32(level, below, level, one);
      }
      _mm512_mask_cvtepi32_storeu_epi8(out + index, mask, level);
    }
  }
}

}  // namespace maqd_rt::kernels::avx512

#endif  // MAQD_RT_X86_KERNELS
