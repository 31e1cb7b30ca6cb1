// AVX2 kernels.
//
// Conv: one ymm accumulates 8 output channels of one output pixel; a tile
// keeps NP pixels × NB blocks in registers and walks (dy, dx, unit) like the
// AVX-512 kernel (avx512.cpp). Three inner loops (Mode):
// - kI16Sums (u8 inputs whose every partial sum provably fits int16, e.g.
//   binary or 2-bit activations with ternary codes): units of 4 u8
//   channels, vpmaddubsw (which would saturate otherwise) accumulated with
//   vpaddw in i16 lanes and widened by one vpmaddwd at the end;
// - kPeriodic (one vpmaddubsw cannot saturate, but a whole sum may leave
//   int16, e.g. 3-bit activations with 8-bit codes): the same, widened into
//   int32 accumulators every steps_per_widen steps;
// - kWidened (anything else): units of 2 i16 channels multiplied by
//   vpmaddwd, u8 inputs widened while they are copied into the padded
//   scratch, exact for every input.
// The first two take twice the multiply-adds per instruction of the third;
// i16 inputs ≤ 255 (pool sums of codes) are narrowed to u8 to use them.
#include "kernels/internal.h"

#if MAQD_RT_X86_KERNELS
#if !(defined(__AVX2__) && defined(__FMA__))
#error "avx2.cpp needs -mavx2 -mfma (runtime/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstring>

#include "kernels/vector_common.h"

namespace maqd_rt::kernels::avx2 {
namespace {

// The lanes of 8 int32 output channels a tile may write. AMD's vpmaskmovd
// store is microcoded (about 10x a plain store on a Zen 3), so a full
// mask stores plainly.
struct StoreMask {
  __m256i mask;
  bool full;
};

StoreMask store_mask(uint32_t lanes) {
  alignas(32) int32_t mask[8];
  for (int32_t l = 0; l < 8; ++l) mask[l] = (lanes >> l) & 1 ? -1 : 0;
  return {_mm256_load_si256(reinterpret_cast<const __m256i*>(mask)), lanes == 0xFF};
}

// kFull: the caller knows every lane is in range; else m decides.
template <bool kFull = false>
inline void store_lanes(int32_t* out, const StoreMask& m, __m256i v) {
  if (kFull || m.full) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
  } else {
    _mm256_maskstore_epi32(out, m.mask, v);
  }
}

struct Tile : TileGeometry {
  int32_t steps_per_widen;  // kPeriodic
  StoreMask masks[2];
};

enum class Mode {
  kWidened,   // units of 2 i16 channels, vpmaddwd into int32
  kI16Sums,   // units of 4 u8 channels, vpmaddubsw + vpaddw, widened once at the end
  kPeriodic,  // the same, widened into int32 every steps_per_widen steps
};

// acc16 += the products of steps [begin, end) of row dy (kWidened: acc32).
template <Mode kMode, int NP, int NB>
inline void tile_steps(const Tile& t, const uint8_t* x, const uint8_t* w, int32_t count,
                       __m256i (&acc)[NP][NB]) {
  for (int32_t step = 0; step < count; ++step, x += 4, w += 32) {
    __m256i weight[NB];
    unroll<NB>([&](auto b) {
      weight[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + b * t.block_bytes));
    });
    unroll<NP>([&](auto p) {
      int32_t unit;
      std::memcpy(&unit, x + p * t.pixel_bytes, 4);
      const __m256i input = _mm256_set1_epi32(unit);
      unroll<NB>([&](auto b) {
        if constexpr (kMode == Mode::kWidened) {
          acc[p][b] = _mm256_add_epi32(acc[p][b], _mm256_madd_epi16(input, weight[b]));
        } else {
          acc[p][b] = _mm256_add_epi16(acc[p][b], _mm256_maddubs_epi16(input, weight[b]));
        }
      });
    });
  }
}

// kFull: every block's 8 channels are in range, so the sums are stored
// plainly (a template flag, not a branch per store: the branches split the
// widening and stores into blocks that read as loops to
// tools/check-kernel-loops.py, and cost a test per store).
template <Mode kMode, int NP, int NB, bool kFull>
void direct_tile(const Tile& t) {
  __m256i acc[NP][NB];
  unroll<NP>([&](auto p) { unroll<NB>([&](auto b) { acc[p][b] = _mm256_setzero_si256(); }); });
  const __m256i ones = _mm256_set1_epi16(1);
  const size_t weights_per_dy = size_t(t.steps_per_dy) * 32;
  if constexpr (kMode == Mode::kPeriodic) {
    // i16 lanes 2o and 2o + 1 hold channel o's two partial sums; vpmaddwd
    // with ones adds them into int32 lane o. (Zeroing the int16 sums after
    // each widening, not a fresh array per chunk: measured faster.)
    __m256i acc32[NP][NB];
    unroll<NP>([&](auto p) { unroll<NB>([&](auto b) { acc32[p][b] = _mm256_setzero_si256(); }); });
    for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
      for (int32_t step = 0; step < t.steps_per_dy; step += t.steps_per_widen) {
        const int32_t count = imin(t.steps_per_widen, t.steps_per_dy - step);
        tile_steps<kMode>(t, t.in + dy * t.row_bytes + step * 4,
                          t.weights + dy * weights_per_dy + size_t(step) * 32, count, acc);
        unroll<NP>([&](auto p) {
          unroll<NB>([&](auto b) {
            acc32[p][b] = _mm256_add_epi32(acc32[p][b], _mm256_madd_epi16(acc[p][b], ones));
            acc[p][b] = _mm256_setzero_si256();
          });
        });
      }
    }
    unroll<NP>([&](auto p) {
      unroll<NB>([&](auto b) {
        store_lanes<kFull>(t.out + p * t.out_pixel + b * 8, t.masks[b], acc32[p][b]);
      });
    });
  } else {
    for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
      tile_steps<kMode>(t, t.in + dy * t.row_bytes, t.weights + dy * weights_per_dy,
                        t.steps_per_dy, acc);
    }
    unroll<NP>([&](auto p) {
      unroll<NB>([&](auto b) {
        const __m256i sums = kMode == Mode::kI16Sums ? _mm256_madd_epi16(acc[p][b], ones) : acc[p][b];
        store_lanes<kFull>(t.out + p * t.out_pixel + b * 8, t.masks[b], sums);
      });
    });
  }
}

// Accumulators (twice as many for kPeriodic) + NB weights + broadcast +
// product within 16 ymm.
constexpr int32_t max_pixels(Mode mode, int blocks) {
  // kPeriodic also holds the chunk's int16 sums.
  return mode == Mode::kPeriodic ? (blocks == 1 ? 6 : 3) : (blocks == 1 ? 12 : 6);
}

template <Mode kMode, int NB, int NP>
void direct_tile_n(int32_t pixels, const Tile& t) {
  if constexpr (NP > 0) {
    if (pixels == NP) {
      bool full = true;
      for (int32_t b = 0; b < NB; ++b) full = full && t.masks[b].full;
      return full ? direct_tile<kMode, NP, NB, true>(t) : direct_tile<kMode, NP, NB, false>(t);
    }
    return direct_tile_n<kMode, NB, NP - 1>(pixels, t);
  }
}

template <Mode kMode>
void conv_direct(const ConvView& conv, const void* padded, const uint8_t* weights,
                 const DirectLayout& layout, int32_t* out, int32_t row_begin, int32_t row_end,
                 int32_t oc_begin, int32_t oc_end) {
  const ConvShape& s = conv.shape;
  Tile t;
  t.set_direct(s, layout, 8);
  t.steps_per_widen = imax(1, conv.steps_per_widen);
  const uint8_t* input = static_cast<const uint8_t*>(padded);
  const int32_t block_end = ceil_div(oc_end, 8);
  for (int32_t h = row_begin; h < row_end; ++h) {
    t.set_row(s, h);
    for (int32_t block = oc_begin / 8; block < block_end;) {
      const int32_t blocks = imin(2, block_end - block);
      for (int32_t b = 0; b < blocks; ++b) {
        t.masks[b] = store_mask(lane_mask((block + b) * 8, 8, oc_begin, oc_end));
      }
      t.weights = weights + block * t.block_bytes;
      const PixelTiles tiles = split_row(s.width, max_pixels(kMode, blocks));
      for (int32_t i = 0; i < tiles.count; ++i) {
        const int32_t w0 = tiles.begin(i), pixels = tiles.begin(i + 1) - w0;
        t.set_pixels(s, input, out, h, w0, block * 8);
        if (blocks == 1) {
          direct_tile_n<kMode, 1, max_pixels(kMode, 1)>(pixels, t);
        } else {
          direct_tile_n<kMode, 2, max_pixels(kMode, 2)>(pixels, t);
        }
      }
      block += blocks;
    }
  }
}

// ---- Ternary codes × inputs ≤ 12: table lookup (kVariantTernaryLut) ----
//
// For a 4-channel group with inputs x0..x3, T[m] = Σ_{j in m} x_j for the
// 16 masks m; the group's contribution to output channel o is T[plus_o] −
// T[minus_o], with plus_o and minus_o the masks of its +1 and −1 codes.
// A ymm holds the table twice (one per 128-bit half) and, interleaved, the
// plus and minus masks of 16 channels (byte 2c plus_c, byte 2c + 1
// minus_c): one vpshufb and a vpaddb add 16 × 4 multiply-adds into
// unsigned byte sums of T[plus] and T[minus] side by side, and one
// vpmaddubsw by (+1, −1) turns a register of them into 16 int16
// differences. So the byte sums last 255 / (4 · input_max) steps (the
// pool sums ≤ 12 of 2-bit codes: 5, where signed sums of the differences
// lasted 2) and widening costs one instruction per 16 channels.

// Tables for input rows [row_begin − p, row_end + p), padded like
// copy_padded_rows (the pad pixels' tables are zero). Two groups at a time:
// their 8 inputs broadcast to both halves of a ymm, and table entry m of
// each half is the sum of four vpshufb picks (input j where bit j of m is
// set, zero elsewhere). Each table is used only kernel² · ⌈out/32⌉ times,
// so building it one input at a time cost as much as the lookups (the
// 16- and 32-channel 28×28 layers ran at 15 % of the lookup's limit).
template <typename Input>
uint64_t group_pair_inputs(const Input* channels, int32_t count) {
  if (count >= 8) {
    if constexpr (sizeof(Input) == 1) {
      uint64_t bytes;
      std::memcpy(&bytes, channels, 8);
      return bytes;
    } else {
      const __m128i wide = _mm_loadu_si128(reinterpret_cast<const __m128i*>(channels));
      return uint64_t(_mm_cvtsi128_si64(_mm_packus_epi16(wide, wide)));
    }
  }
  uint64_t bytes = 0;
  for (int32_t j = 0; j < count; ++j) bytes |= uint64_t(uint8_t(channels[j])) << (8 * j);
  return bytes;
}

template <typename Input>
void build_tables(const ConvShape& s, const Input* in, int32_t row_begin, int32_t row_end,
                  uint8_t* tables) {
  const int32_t pad = s.kernel / 2, groups = lut_groups(s);
  const size_t pixel_bytes = size_t(groups) * 16;
  const size_t row_bytes = (size_t(s.width) + 2 * size_t(pad)) * pixel_bytes;
  const int32_t first = imax(0, row_begin - pad), last = imin(s.height, row_end + pad);
  // pick[j]: byte m of the low half is input j (of the pair's first group)
  // where bit j of m is set, else 0x80 (zero); the high half the same for
  // the second group (inputs 4..7).
  __m256i pick[4];
  for (int32_t j = 0; j < 4; ++j) {
    alignas(32) uint8_t control[32];
    for (int32_t m = 0; m < 16; ++m) {
      control[m] = (m >> j) & 1 ? uint8_t(j) : 0x80;
      control[16 + m] = (m >> j) & 1 ? uint8_t(4 + j) : 0x80;
    }
    pick[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(control));
  }
  for (int32_t r = first; r < last; ++r) {
    uint8_t* row = tables + size_t(r + pad) * row_bytes;
    std::memset(row, 0, size_t(pad) * pixel_bytes);
    std::memset(row + size_t(pad + s.width) * pixel_bytes, 0, size_t(pad) * pixel_bytes);
    const Input* source = in + size_t(r) * s.width * s.in_channels;
    uint8_t* target = row + size_t(pad) * pixel_bytes;
    for (int32_t x = 0; x < s.width; ++x, source += s.in_channels) {
      for (int32_t g = 0; g < groups; g += 2, target += 32) {
        const __m256i inputs = _mm256_set1_epi64x(
            int64_t(group_pair_inputs(source + g * 4, s.in_channels - g * 4)));
        const __m256i table = _mm256_add_epi8(
            _mm256_add_epi8(_mm256_shuffle_epi8(inputs, pick[0]), _mm256_shuffle_epi8(inputs, pick[1])),
            _mm256_add_epi8(_mm256_shuffle_epi8(inputs, pick[2]), _mm256_shuffle_epi8(inputs, pick[3])));
        if (g + 1 < groups) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(target), table);
        } else {  // an odd count's last group: its table alone
          _mm_storeu_si128(reinterpret_cast<__m128i*>(target), _mm256_castsi256_si128(table));
          target -= 16;
        }
      }
    }
  }
}

// in: the table of (row h + dy, column w0 + dx, group 0) at dy = dx = 0,
// groups · 16 bytes per pixel, k · groups steps per dy; weights: the
// block's interleaved masks.
struct LutTile : TileGeometry {
  int32_t steps_per_widen;
  StoreMask masks[4];  // the block's 32 channels as four int32 stores
};

// 8 byte-sum accumulators (two per pixel: channels 0-15 and 16-31), the two
// mask vectors, the table, (+1, −1) and a temporary; the int16 sums live in
// memory (one load, add and store per 16 channels at each widening).
constexpr int32_t kLutMaxPixels = 4;

template <int NP>
void lut_tile(const LutTile& t) {
  __m256i acc8[NP][2];
  alignas(32) int16_t sums[NP][2][16] = {};
  unroll<NP>([&](auto p) { acc8[p][0] = acc8[p][1] = _mm256_setzero_si256(); });
  const __m256i plus_minus = _mm256_set1_epi16(int16_t(0xFF01));  // bytes +1, −1
  const size_t weights_per_dy = size_t(t.steps_per_dy) * 64;
  for (int32_t dy = t.dy_begin; dy < t.dy_end; ++dy) {
    const uint8_t* x = t.in + dy * t.row_bytes;
    const uint8_t* w = t.weights + dy * weights_per_dy;
    for (int32_t step = 0; step < t.steps_per_dy;) {
      const int32_t chunk_end = imin(t.steps_per_dy, step + t.steps_per_widen);
      for (; step < chunk_end; ++step, x += 16, w += 64) {
        const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
        const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
        unroll<NP>([&](auto p) {
          const __m256i table =
              _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + p * t.pixel_bytes)));
          acc8[p][0] = _mm256_add_epi8(acc8[p][0], _mm256_shuffle_epi8(table, low));
          acc8[p][1] = _mm256_add_epi8(acc8[p][1], _mm256_shuffle_epi8(table, high));
        });
      }
      unroll<NP>([&](auto p) {
        unroll<2>([&](auto h) {
          __m256i* target = reinterpret_cast<__m256i*>(sums[p][h]);
          _mm256_store_si256(target, _mm256_add_epi16(_mm256_load_si256(target),
                                                      _mm256_maddubs_epi16(acc8[p][h], plus_minus)));
          acc8[p][h] = _mm256_setzero_si256();
        });
      });
    }
  }
  unroll<NP>([&](auto p) {
    int32_t* out = t.out + p * t.out_pixel;
    unroll<2>([&](auto h) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(sums[p][h]));
      store_lanes(out + 16 * h, t.masks[2 * h], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)));
      store_lanes(out + 16 * h + 8, t.masks[2 * h + 1], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)));
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
  const ConvShape& s = conv.shape;
  const int32_t pad = s.kernel / 2, groups = lut_groups(s);
  uint8_t* tables = static_cast<uint8_t*>(scratch);
  build_tables(s, in, row_begin, row_end, tables);
  LutTile t;
  t.set_conv(s, groups * 16, s.width + 2 * pad, s.kernel * groups, 64);
  t.steps_per_widen = imax(1, conv.steps_per_widen);
  for (int32_t h = row_begin; h < row_end; ++h) {
    t.set_row(s, h);
    for (int32_t block = oc_begin / 32; block < ceil_div(oc_end, 32); ++block) {
      for (int32_t q = 0; q < 4; ++q) t.masks[q] = store_mask(lane_mask(block * 32 + q * 8, 8, oc_begin, oc_end));
      t.weights = conv.packed + block * t.block_bytes;
      const PixelTiles tiles = split_row(s.width, kLutMaxPixels);
      for (int32_t i = 0; i < tiles.count; ++i) {
        const int32_t w0 = tiles.begin(i), pixels = tiles.begin(i + 1) - w0;
        t.set_pixels(s, tables, out, h, w0, block * 32);
        lut_tile_n<kLutMaxPixels>(pixels, t);
      }
    }
  }
}


// ---- Binary inputs × ternary codes: weight tables (kVariantBinaryTables) ----
//
// With inputs in {0, 1} the table kernel's roles swap: each output
// channel's 4-channel group of codes becomes, at load time, a 16-entry
// table of its subset sums (entry n: Σ_j code_j · bit j of n, in [−4, 4];
// pack_binary_tables), and a group's four input bits are the index. One
// vpshufb looks up 32 positions of one channel (its table in both 128-bit
// halves): 128 multiply-adds, where the table kernel above does 64.
// The 32 lanes are consecutive output pixels, and each dx has its own
// nibble map shifted by dx − p columns with zeros at the row ends
// (internal.h), so each window offset (dy, dx) is one constant shift and a
// step's indices one unaligned load, and every lane's sum is stored.
// (Lanes over the padded map instead, rows of width + 2p, computed 2p
// unused sums per row and made the store skip them lane by lane.)

// bit j: channel j's input (0 or 1), for j < count (≤ 16 are read).
template <typename Input>
uint32_t channel_bits(const Input* x, int32_t count) {
  if (count >= 16) {
    __m128i bytes;
    if constexpr (sizeof(Input) == 1) {
      bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
    } else {
      bytes = _mm_packs_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)),
                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 8)));
    }
    return uint32_t(_mm_movemask_epi8(_mm_slli_epi16(bytes, 7)));
  }
  uint32_t bits = 0;
  for (int32_t j = 0; j < count; ++j) bits |= uint32_t(x[j] & 1) << j;
  return bits;
}

// bit j: channel j's input, for j < min(count, 32).
template <typename Input>
uint32_t channel_bits32(const Input* x, int32_t count) {
  if (count >= 32) {
    __m256i bytes;
    if constexpr (sizeof(Input) == 1) {
      bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    } else {  // (packs works per 128-bit half: put the quarters back in order)
      bytes = _mm256_permute4x64_epi64(_mm256_packs_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)),
                                                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16))),
                                       0xD8);
    }
    return uint32_t(_mm256_movemask_epi8(_mm256_slli_epi16(bytes, 7)));
  }
  return channel_bits(x, count) | (count > 16 ? channel_bits(x + 16, count - 16) << 16 : 0);
}

// The nibble maps of output rows [row_begin, row_end) (internal.h): map
// dx, group g's line at nibbles + (dx · groups + g) · line. Position r ·
// width + c of every map is input pixel (row_begin − p) · width + r ·
// width + c, so the positions are a run of consecutive input pixels, read
// 16 at a time; each 16 nibbles go to every map at once, map dx shifted
// by dx − p, and the columns that left a shifted map are zeroed after.
template <typename Input>
void build_nibbles(const ConvShape& s, const Input* in, int32_t row_begin, int32_t row_end,
                   uint8_t* nibbles, size_t line) {
  const int32_t pad = s.kernel / 2, width = s.width, groups = lut_groups(s);
  const int32_t rows = row_end - row_begin + s.kernel - 1;
  const int64_t positions = int64_t(rows) * width;
  const int64_t first_pixel = int64_t(row_begin - pad) * width, pixels = int64_t(s.height) * width;
  const __m256i low_nibble = _mm256_set1_epi16(15);
  alignas(32) uint16_t bits[2][16];
  for (int64_t p0 = 0; p0 < positions; p0 += 16) {
    const int64_t q0 = first_pixel + p0;
    const bool inside = q0 >= 0 && q0 + 16 <= pixels;
    for (int32_t c32 = 0; c32 < s.in_channels; c32 += 32) {
      const int32_t count = s.in_channels - c32;
      for (int32_t i = 0; i < 16; ++i) {
        const int64_t q = q0 + i;
        const uint32_t b =
            inside || (q >= 0 && q < pixels) ? channel_bits32(in + size_t(q) * s.in_channels + c32, count) : 0;
        bits[0][i] = uint16_t(b);
        bits[1][i] = uint16_t(b >> 16);
      }
      for (int32_t half = 0; half < 2 && c32 + 16 * half < s.in_channels; ++half) {
        const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(bits[half]));
        unroll<4>([&](auto j) {
          const int32_t g = c32 / 4 + half * 4 + j;
          if (g >= groups) return;
          const __m256i n = _mm256_and_si256(_mm256_srli_epi16(v, 4 * j), low_nibble);
          const __m128i packed = _mm_packus_epi16(_mm256_castsi256_si128(n), _mm256_extracti128_si256(n, 1));
          // (Map dx's first store may start before its line: in the line
          // before's tail, which no stored lane reads; internal.h.)
          for (int32_t dx = 0; dx < s.kernel; ++dx)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(nibbles + (size_t(dx) * groups + g) * line + p0 - (dx - pad)),
                             packed);
        });
      }
    }
  }
  for (int32_t dx = 0; dx < s.kernel; ++dx) {
    const int32_t shift = dx - pad;  // map dx at j is map p at j + shift
    if (shift == 0) continue;
    // Columns whose input column c + shift lies outside [0, width).
    const int32_t edge_begin = shift > 0 ? imax(0, width - shift) : 0;
    const int32_t edge_end = shift > 0 ? width : imin(width, -shift);
    for (int32_t g = 0; g < groups; ++g) {
      uint8_t* map = nibbles + (size_t(dx) * groups + g) * line;
      // (Columns outside: GCC turns a row's run of zero bytes into a
      // memset call, 1 byte each for a 3x3 kernel.)
      for (int32_t c = edge_begin; c < edge_end; ++c)
        for (int32_t r = 0; r < rows; ++r) map[size_t(r) * width + c] = 0;
    }
  }
}

struct NibbleTile {
  const uint8_t* nibbles;  // the first lane's position in map 0's group 0 line
  size_t line;
  size_t map_stride;       // groups · line, from map dx to map dx + 1
  int32_t row_stride;      // width
  int32_t kernel, groups;
  int32_t steps_per_widen;
  const uint8_t* weights;  // the block's tables at dy = dx = 0, group 0
};

// int8 accumulators [block of 32 lanes][channel] (NB · 4): a channel's
// table is broadcast to both 128-bit halves and looks up 32 consecutive
// positions, so a step loads NB index vectors and 4 tables of 16 bytes
// for 8 · NB lookups. (Two channels per ymm, one per half, took 10 loads
// per 8 lookups and twice the weight bytes per lookup; this layout ran no
// faster on a Zen 3 within its noise, but it reads each table of a 7x7
// map once per image, which made those maps pay.) Every steps_per_widen
// steps the int8 sums are added into int16 ones in memory:
// sums[block of 16 lanes][channel][lane].
constexpr int32_t kNibbleMaxBlocks = 2;

template <int NB>
void nibble_tile(const NibbleTile& t, int16_t (*sums)[4][16]) {
  __m256i acc[NB][4];
  unroll<NB>([&](auto b) { unroll<4>([&](auto c) { acc[b][c] = _mm256_setzero_si256(); }); });
  unroll<NB * 8>([&](auto i) {  // (memset's rep stos took 7 % of this function's time)
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums[i / 4][i % 4]), _mm256_setzero_si256());
  });
  const auto widen = [&] {
    unroll<NB>([&](auto b) {
      unroll<4>([&](auto c) {
        __m256i* first = reinterpret_cast<__m256i*>(sums[2 * b][c]);
        __m256i* second = reinterpret_cast<__m256i*>(sums[2 * b + 1][c]);
        _mm256_store_si256(first, _mm256_add_epi16(_mm256_load_si256(first),
                                                   _mm256_cvtepi8_epi16(_mm256_castsi256_si128(acc[b][c]))));
        _mm256_store_si256(second, _mm256_add_epi16(_mm256_load_si256(second),
                                                    _mm256_cvtepi8_epi16(_mm256_extracti128_si256(acc[b][c], 1))));
        acc[b][c] = _mm256_setzero_si256();
      });
    });
  };
  const uint8_t* w = t.weights;
  int32_t left = t.steps_per_widen;
  for (int32_t dy = 0; dy < t.kernel; ++dy) {
    for (int32_t dx = 0; dx < t.kernel; ++dx) {
      const uint8_t* x = t.nibbles + dx * t.map_stride + dy * t.row_stride;
      // Widening outside the innermost loop keeps the accumulators in
      // their registers (with it inside, GCC copied them every step).
      for (int32_t g = 0; g < t.groups;) {
        const int32_t chunk_end = imin(t.groups, g + left);
        left -= chunk_end - g;
        for (; g < chunk_end; ++g, x += t.line, w += 64) {
          __m256i index[NB];
          unroll<NB>([&](auto b) { index[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * b)); });
          unroll<4>([&](auto c) {
            const __m256i table =
                _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16 * c)));
            unroll<NB>([&](auto b) { acc[b][c] = _mm256_add_epi8(acc[b][c], _mm256_shuffle_epi8(table, index[b])); });
          });
        }
        if (left == 0) {
          widen();
          left = t.steps_per_widen;
        }
      }
    }
  }
  widen();
}

// Writes `count` (≤ 16) lanes of sums as int32 [pixel][channel] rows of
// the block's 4 channels, lane l at out + l · out_channels.
void store_nibble_block(const int16_t (&sums)[4][16], int32_t count, int32_t out_channels, int32_t* out,
                        __m128i channel_mask, bool all_channels) {
  __m256i r[4];
  for (int32_t c = 0; c < 4; ++c) r[c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(sums[c]));
  // 4 channels × 16 lanes of int16 → pairs of lanes with their 4 channels:
  // quad[i] holds lanes 2i, 2i + 1 in its low half and 2i + 8, 2i + 9 in
  // its high half.
  const __m256i low01 = _mm256_unpacklo_epi16(r[0], r[1]), high01 = _mm256_unpackhi_epi16(r[0], r[1]);
  const __m256i low23 = _mm256_unpacklo_epi16(r[2], r[3]), high23 = _mm256_unpackhi_epi16(r[2], r[3]);
  const __m256i quad[4] = {_mm256_unpacklo_epi32(low01, low23), _mm256_unpackhi_epi32(low01, low23),
                           _mm256_unpacklo_epi32(high01, high23), _mm256_unpackhi_epi32(high01, high23)};
  alignas(32) int32_t values[16][4];
  for (int32_t i = 0; i < 4; ++i) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(values[2 * i]),
                       _mm256_cvtepi16_epi32(_mm256_castsi256_si128(quad[i])));
    _mm256_store_si256(reinterpret_cast<__m256i*>(values[8 + 2 * i]),
                       _mm256_cvtepi16_epi32(_mm256_extracti128_si256(quad[i], 1)));
  }
  for (int32_t lane = 0; lane < count; ++lane) {
    const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(values[lane]));
    int32_t* target = out + size_t(lane) * out_channels;
    if (all_channels) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(target), v);
    } else {
      _mm_maskstore_epi32(target, channel_mask, v);
    }
  }
}

// A 4-channel block's requant_input thresholds as int16 compares on the
// tile's int16 sums: level = base − Σ_k [t_k > x XOR flip]. The sums fit
// int16, so a threshold above 32767 holds for every x (taken from base
// and made one no x passes) and one below −32768 for none (−32768).
struct BlockThresholds {
  int32_t count;
  __m256i flip[4], base[4];
  __m256i thresholds[kRequantInputMaxLevels - 1][4];
};

void block_thresholds(const RequantView& r, int32_t block, int32_t channels, BlockThresholds* t) {
  t->count = r.count;
  for (int32_t j = 0; j < 4; ++j) {
    // (A block's channels past the map's last are never stored.)
    const int32_t c = imin(block * 4 + j, channels - 1);
    int32_t base = r.base[c];
    for (int32_t k = 0; k < r.count; ++k) {
      const int32_t threshold = r.thresholds[size_t(c) * r.count + k];
      base -= threshold > 32767;
      t->thresholds[k][j] = _mm256_set1_epi16(int16_t(threshold > 32767 ? -32768 : imax(threshold, -32768)));
    }
    t->flip[j] = _mm256_set1_epi16(int16_t(r.flip[c]));
    t->base[j] = _mm256_set1_epi16(int16_t(base));
  }
}

// store_nibble_block's requant epilogue: the codes of the block's 4
// channels at `count` (≤ 16) lanes, 4 bytes per pixel.
void store_nibble_codes(const int16_t (&sums)[4][16], int32_t count, int32_t out_channels, uint8_t* out,
                        const BlockThresholds& t, uint32_t lanes) {
  __m256i level[4];
  unroll<4>([&](auto c) {
    const __m256i x = _mm256_xor_si256(_mm256_load_si256(reinterpret_cast<const __m256i*>(sums[c])), t.flip[c]);
    // (Binary activations, one threshold, without the loop: with it GCC
    // kept the levels in memory.)
    level[c] = _mm256_add_epi16(t.base[c], _mm256_cmpgt_epi16(t.thresholds[0][c], x));
    for (int32_t k = 1; k < t.count; ++k)
      level[c] = _mm256_add_epi16(level[c], _mm256_cmpgt_epi16(t.thresholds[k][c], x));
  });
  // Per 128-bit half (lanes 0-7, then 8-15): channel 0's 8 bytes, then
  // channel 1's; interleaved into (c0, c1) pairs per lane, then with the
  // (c2, c3) pairs into 4 bytes per lane.
  const __m256i pairs = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                         0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  const __m256i c01 = _mm256_shuffle_epi8(_mm256_packus_epi16(level[0], level[1]), pairs);
  const __m256i c23 = _mm256_shuffle_epi8(_mm256_packus_epi16(level[2], level[3]), pairs);
  const __m256i low = _mm256_unpacklo_epi16(c01, c23);   // lanes 0-3 | 8-11
  const __m256i high = _mm256_unpackhi_epi16(c01, c23);  // lanes 4-7 | 12-15
  // Each lane's 4 bytes are stored straight from its register (reading
  // them back from a stack copy stalled on store forwarding: a third of
  // this function's time on a Zen 3).
  const __m128i quarters[4] = {_mm256_castsi256_si128(low), _mm256_castsi256_si128(high),
                               _mm256_extracti128_si256(low, 1), _mm256_extracti128_si256(high, 1)};
  unroll<4>([&](auto q) {
    unroll<4>([&](auto j) {
      const int32_t lane = 4 * q + j;
      if (lane >= count) return;
      uint8_t* target = out + size_t(lane) * out_channels;
      const int32_t code = _mm_extract_epi32(quarters[q], j);  // (one vpextrd to memory)
      if (lanes == 0xF) {
        std::memcpy(target, &code, 4);
      } else {
        for (int32_t c = 0; c < 4; ++c)
          if (lanes >> c & 1) target[c] = uint8_t(uint32_t(code) >> (8 * c));
      }
    });
  });
}

// The sums of output rows [row_begin, row_end) and channels [oc_begin,
// oc_end) into out (int32), or with a requant, its codes into `codes`.
template <typename Input>
void conv_nibbles(const ConvView& conv, const Input* in, int32_t* out, const RequantView* requant,
                  uint8_t* codes, int32_t row_begin, int32_t row_end, int32_t oc_begin,
                  int32_t oc_end, void* scratch) {
  const ConvShape& s = conv.shape;
  const int32_t groups = lut_groups(s);
  const int32_t rows = row_end - row_begin;
  const size_t line = binary_nibble_line(s, rows);
  uint8_t* nibbles = static_cast<uint8_t*>(scratch);
  build_nibbles(s, in, row_begin, row_end, nibbles, line);
  NibbleTile t;
  t.line = line;
  t.map_stride = size_t(groups) * line;
  t.row_stride = s.width;
  t.kernel = s.kernel;
  t.groups = groups;
  t.steps_per_widen = imax(1, conv.steps_per_widen);
  const int32_t positions = int32_t(binary_table_positions(s, rows));
  const int32_t lane_blocks = ceil_div(positions, 32);
  const size_t block_bytes = size_t(s.kernel) * s.kernel * groups * 64;
  alignas(32) int16_t sums[2 * kNibbleMaxBlocks][4][16];
  BlockThresholds thresholds;
  for (int32_t block = oc_begin / 4; block < ceil_div(oc_end, 4); ++block) {
    const uint32_t lanes = lane_mask(block * 4, 4, oc_begin, oc_end);
    const __m128i channel_mask = _mm_setr_epi32(lanes & 1 ? -1 : 0, lanes & 2 ? -1 : 0,
                                                lanes & 4 ? -1 : 0, lanes & 8 ? -1 : 0);
    const size_t first_pixel = size_t(row_begin) * s.width;
    int32_t* block_out = requant ? nullptr : out + first_pixel * s.out_channels + block * 4;
    uint8_t* block_codes = requant ? codes + first_pixel * s.out_channels + block * 4 : nullptr;
    if (requant) block_thresholds(*requant, block, s.out_channels, &thresholds);
    t.weights = conv.packed + block * block_bytes;
    for (int32_t b = 0; b < lane_blocks; b += kNibbleMaxBlocks) {
      t.nibbles = nibbles + size_t(b) * 32;
      const int32_t count = imin(kNibbleMaxBlocks, lane_blocks - b);
      if (count == 2) {
        nibble_tile<2>(t, sums);
      } else {
        nibble_tile<1>(t, sums);
      }
      for (int32_t i = 0; i < 2 * count; ++i) {
        const int32_t first = b * 32 + i * 16, stored = imin(16, positions - first);
        if (stored <= 0) break;
        if (requant) {
          store_nibble_codes(sums[i], stored, s.out_channels, block_codes + size_t(first) * s.out_channels,
                             thresholds, lanes);
        } else {
          store_nibble_block(sums[i], stored, s.out_channels, block_out + size_t(first) * s.out_channels,
                             channel_mask, lanes == 0xF);
        }
      }
    }
  }
}

// The table's entry points (kernels.cpp). The vpmaddubsw ones copy u8
// inputs, or i16 inputs ≤ 255 narrowed, into the padded u8 scratch.
template <Mode kMode, typename Input>
void conv_u8_units(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
                   int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  const DirectLayout layout = direct_layout(conv.shape, 4);
  copy_direct_rows(conv.shape, layout, in, row_begin, row_end, static_cast<uint8_t*>(scratch));
  conv_direct<kMode>(conv, scratch, conv.packed, layout, out, row_begin, row_end, oc_begin, oc_end);
}

template <typename Input>
void conv_widened(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
                  int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  const DirectLayout layout = direct_layout(conv.shape, 2);
  copy_direct_rows(conv.shape, layout, in, row_begin, row_end, static_cast<int16_t*>(scratch));
  conv_direct<Mode::kWidened>(conv, scratch, conv.packed, layout, out, row_begin, row_end,
                              oc_begin, oc_end);
}

template <typename Input>
void conv_binary_tables(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
                        int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  conv_nibbles(conv, in, out, nullptr, nullptr, row_begin, row_end, oc_begin, oc_end, scratch);
}

template <typename Input>
void conv_requant_binary_tables(const ConvView& conv, const Input* in, const RequantView& requant,
                                uint8_t* out, int32_t row_begin, int32_t row_end, int32_t oc_begin,
                                int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  conv_nibbles(conv, in, nullptr, &requant, out, row_begin, row_end, oc_begin, oc_end, scratch);
}

template <typename Input>
void conv_tables(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
                 int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (row_begin >= row_end || oc_begin >= oc_end) return;
  conv_lut(conv, in, out, row_begin, row_end, oc_begin, oc_end, scratch);
}

}  // namespace

void build_lut_tables(const ConvShape& s, const uint8_t* in, int32_t row_begin, int32_t row_end,
                      uint8_t* tables) {
  build_tables(s, in, row_begin, row_end, tables);
}
void build_lut_tables(const ConvShape& s, const int16_t* in, int32_t row_begin, int32_t row_end,
                      uint8_t* tables) {
  build_tables(s, in, row_begin, row_end, tables);
}

#define MAQD_RT_AVX2_ENTRY(name, body, Input)                                                   \
  void name(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,            \
            int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {               \
    body(conv, static_cast<const Input*>(in), out, row_begin, row_end, oc_begin, oc_end, scratch); \
  }
void conv_requant_u8_binary_tables(const ConvView& conv, const void* in, const RequantView& requant,
                                   uint8_t* out, int32_t row_begin, int32_t row_end, int32_t oc_begin,
                                   int32_t oc_end, void* scratch) {
  conv_requant_binary_tables(conv, static_cast<const uint8_t*>(in), requant, out, row_begin, row_end,
                             oc_begin, oc_end, scratch);
}
void conv_requant_i16_binary_tables(const ConvView& conv, const void* in, const RequantView& requant,
                                    uint8_t* out, int32_t row_begin, int32_t row_end, int32_t oc_begin,
                                    int32_t oc_end, void* scratch) {
  conv_requant_binary_tables(conv, static_cast<const int16_t*>(in), requant, out, row_begin, row_end,
                             oc_begin, oc_end, scratch);
}
MAQD_RT_AVX2_ENTRY(conv_u8_binary_tables, conv_binary_tables<uint8_t>, uint8_t)
MAQD_RT_AVX2_ENTRY(conv_i16_binary_tables, conv_binary_tables<int16_t>, int16_t)
MAQD_RT_AVX2_ENTRY(conv_u8_tables, conv_tables<uint8_t>, uint8_t)
MAQD_RT_AVX2_ENTRY(conv_i16_tables, conv_tables<int16_t>, int16_t)
MAQD_RT_AVX2_ENTRY(conv_u8_sums, (conv_u8_units<Mode::kI16Sums, uint8_t>), uint8_t)
MAQD_RT_AVX2_ENTRY(conv_i16_sums, (conv_u8_units<Mode::kI16Sums, int16_t>), int16_t)
MAQD_RT_AVX2_ENTRY(conv_u8_periodic, (conv_u8_units<Mode::kPeriodic, uint8_t>), uint8_t)
MAQD_RT_AVX2_ENTRY(conv_i16_periodic, (conv_u8_units<Mode::kPeriodic, int16_t>), int16_t)
MAQD_RT_AVX2_ENTRY(conv_u8_widened, conv_widened<uint8_t>, uint8_t)
MAQD_RT_AVX2_ENTRY(conv_i16_widened, conv_widened<int16_t>, int16_t)
#undef MAQD_RT_AVX2_ENTRY

// Requant, 4 channels per ymm (int64 lanes). AVX2 has no 64×64-bit
// multiply, only vpmuldq (signed low 32 × low 32 → 64): the dispatcher
// sends only requant_multiplies_int32 cases here.
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out) {
  const int32_t count = levels - 1;
  alignas(32) int64_t by_level[kRequantLinearMaxLevels][4];
  const __m256i low_bytes = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const int32_t vector_channels = channels / 4 * 4;
  for (int32_t c0 = 0; c0 < vector_channels; c0 += 4) {
    const __m256i m0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers + c0));
    const __m256i m1 =
        num_inputs > 1
            ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers + channels + c0))
            : _mm256_setzero_si256();
    for (int32_t k = 0; k < count; ++k)
      for (int32_t l = 0; l < 4; ++l) by_level[k][l] = thresholds[size_t(c0 + l) * count + k];
    for (int64_t p = 0; p < pixels; ++p) {
      const size_t index = size_t(p) * channels + c0;
      __m256i z = _mm256_mul_epi32(
          m0, _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(inputs[0] + index))));
      if (num_inputs > 1) {
        z = _mm256_add_epi64(
            z, _mm256_mul_epi32(m1, _mm256_cvtepi32_epi64(_mm_loadu_si128(
                                        reinterpret_cast<const __m128i*>(inputs[1] + index)))));
      }
      // #{k : z ≥ t_k} = count − #{k : t_k > z}; each compare adds −1.
      __m256i above = _mm256_setzero_si256();
      for (int32_t k = 0; k < count; ++k) {
        const __m256i threshold = _mm256_load_si256(reinterpret_cast<const __m256i*>(by_level[k]));
        above = _mm256_add_epi64(above, _mm256_cmpgt_epi64(threshold, z));
      }
      // Byte 0 of each int64 lane into 4 bytes, stored from the register
      // (through a stack copy, byte loads of it stalled on store forwarding).
      const __m256i level = _mm256_shuffle_epi8(_mm256_add_epi64(above, _mm256_set1_epi64x(count)), low_bytes);
      _mm_storeu_si32(out + index, _mm_unpacklo_epi16(_mm256_castsi256_si128(level),
                                                      _mm256_extracti128_si256(level, 1)));
    }
  }
  // The last channels % 4, scalar.
  if (vector_channels < channels)
    scalar::requant(inputs, num_inputs, multipliers, thresholds, levels, pixels, channels, out,
                    vector_channels);
}

// 8 channels per ymm: level = base − Σ_k [t'_k > x XOR flip], each compare
// adding −1 where it holds.
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out) {
  alignas(32) int32_t by_level[kRequantInputMaxLevels][8];
  // Byte 0 of each int32 lane, gathered into the low 4 bytes of each half.
  const __m256i first_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                               0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const int32_t vector_channels = channels / 8 * 8;
  for (int32_t c0 = 0; c0 < vector_channels; c0 += 8) {
    for (int32_t k = 0; k < count; ++k)
      for (int32_t l = 0; l < 8; ++l) by_level[k][l] = thresholds[size_t(c0 + l) * count + k];
    const __m256i flips = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(flip + c0));
    const __m256i bases = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + c0));
    for (int64_t p = 0; p < pixels; ++p) {
      const size_t index = size_t(p) * channels + c0;
      const __m256i x = _mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + index)), flips);
      __m256i level = bases;
      for (int32_t k = 0; k < count; ++k) {
        const __m256i t = _mm256_load_si256(reinterpret_cast<const __m256i*>(by_level[k]));
        level = _mm256_add_epi32(level, _mm256_cmpgt_epi32(t, x));
      }
      const __m256i bytes = _mm256_shuffle_epi8(level, first_bytes);
      const __m128i eight = _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes),
                                               _mm256_extracti128_si256(bytes, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + index), eight);
    }
  }
  // The last channels % 8, scalar.
  if (vector_channels < channels)
    scalar::requant_input(thresholds, flip, base, count, channels, in, pixels, out, vector_channels);
}

}  // namespace maqd_rt::kernels::avx2

#endif  // MAQD_RT_X86_KERNELS
