// Shared between the kernel translation units: the per-ISA entry points and
// the packed weight layouts.
//
// The AVX2 and AVX-512 files are compiled with ISA flags. Any inline function
// or template they instantiate from a header may be merged by the linker
// with the copy from a plain file and then run on a CPU without the ISA. So
// the ISA files see only plain structs (ConvView, no std::vector) and the
// helpers here are `static` (one private copy per translation unit).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define MAQD_RT_X86_KERNELS 1
#else
#define MAQD_RT_X86_KERNELS 0
#endif
#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define MAQD_RT_NEON_KERNELS 1
#else
#define MAQD_RT_NEON_KERNELS 0
#endif

namespace maqd_rt::kernels {

// What the CPU supports, independent of MAQD_ISA (cached on first call).
struct CpuFeatures {
  bool avx2 = false;       // AVX2 + FMA
  bool avx512 = false;     // F, BW, VL, DQ, VNNI
  bool vpopcntdq = false;  // AVX512_VPOPCNTDQ, on top of avx512
  bool neon = false;       // AArch64 Advanced SIMD
  bool neon_dot = false;   // Armv8.2 SDOT/UDOT (Linux: HWCAP_ASIMDDP)
};
const CpuFeatures& cpu_features();
// The ISA a kernel given `isa` may run: the best this CPU has at isa's
// level or below (isa itself where the CPU has it), so that a wrong
// argument never becomes an illegal instruction.
Isa usable_isa(Isa isa);

// A PreparedConv with raw pointers, for the ISA files.
struct ConvView {
  ConvShape shape;
  int32_t input_max = 0;
  int32_t variant = 0;
  int32_t steps_per_widen = 0;
  const int8_t* codes = nullptr;  // scalar kernels only: null for the vector ISAs
  const uint8_t* packed = nullptr;
  const int32_t* channel_info = nullptr;
};

// An InputThresholds with raw pointers (count = levels − 1), for the
// kernels' requant epilogues (ConvRequantFn).
struct RequantView {
  int32_t count = 0;
  const int32_t* thresholds = nullptr;  // [channel][count]
  const int32_t* flip = nullptr;
  const int32_t* base = nullptr;
};

// PreparedConv::variant values.
enum ConvVariant : int32_t {
  kVariantDirect = 0,  // multiply-add over (dy, dx, input-channel groups)
  kVariantBinaryTernary = 1,  // inputs in {0,1}, codes in {-1,0,1}: AND + popcount
  // AVX2, u8 inputs: input_max · Σ|codes| of every output channel ≤ 32767,
  // so no partial sum leaves int16: vpmaddubsw + vpaddw, widened once.
  kVariantI16Sums = 2,
  // AVX2, u8 inputs where one vpmaddubsw cannot saturate (2 · input_max ·
  // max|code| ≤ 32767) but whole sums may leave int16: vpmaddubsw + vpaddw
  // for steps_per_widen steps, then widened into int32 accumulators.
  kVariantI16Periodic = 3,
  // Inputs ≤ 12 with ternary codes: table lookup (kernels/avx2.cpp; the
  // AVX-512 kernel uses the same tables). Every input pixel's 4-channel
  // groups become 16-entry tables of their subset sums, and a step looks up
  // 32 (AVX2) or 64 (AVX-512) channels' plus and minus masks, side by
  // side, with two vpshufb: 128 or 256 multiply-adds in four instructions.
  kVariantTernaryLut = 4,
  // AVX2, inputs in {0, 1} with ternary codes: the table lookup turned
  // round (kernels/avx2.cpp): each output channel's 4-channel groups of
  // codes become 16-entry tables of their subset sums, indexed by the
  // input bits, 32 positions per lookup: 128 multiply-adds per vpshufb.
  kVariantBinaryTables = 5,
};

// Whether the x86 kernels may copy i16 inputs into u8 units and run the u8
// path (every input in [0, 255]).
static inline bool narrows_i16(int32_t input_max) { return input_max >= 0 && input_max <= 255; }

static inline int32_t ceil_div(int32_t a, int32_t b) { return int32_t((int64_t(a) + b - 1) / b); }

// kVariantTernaryLut layouts: weights [block of `lanes` oc (32 on AVX2, 64
// on AVX-512)][dy][dx][group][lane][plus mask, minus mask]; the padded
// input as one 16-byte table per (pixel, group).
static inline int32_t lut_groups(const ConvShape& s) { return ceil_div(s.in_channels, 4); }
static inline size_t lut_weight_bytes(const ConvShape& s, int32_t lanes) {
  return size_t(ceil_div(s.out_channels, lanes)) * size_t(s.kernel) * size_t(s.kernel) *
         size_t(lut_groups(s)) * 2 * size_t(lanes);
}
static inline size_t lut_table_bytes(const ConvShape& s) {
  const int32_t pad = s.kernel / 2;
  return (size_t(s.height) + 2 * size_t(pad)) * (size_t(s.width) + 2 * size_t(pad)) * size_t(lut_groups(s)) * 16;
}

// kVariantBinaryTables layouts: weights [block of 4 oc][dy][dx][group]
// [lane][16 entries] int8, entry n = Σ_j code_j · bit j of n. The input
// as nibbles (a group's 4 bits), one map per dx: map dx holds at position
// r · width + c the input at padded row r (input row row_begin + r − p)
// and column c + dx − p, zero outside the input, so that the output
// pixels of `rows` rows are consecutive lanes and window offset (dy, dx)
// is one shift (dy · width) in map dx. A line per (dx, group), long
// enough for the last 32-lane block's reads at the largest dy and for the
// 16-byte stores of the last positions, shifted by up to p; what lies
// past the positions is never stored.
static inline size_t binary_table_weight_bytes(const ConvShape& s) {
  return size_t(ceil_div(s.out_channels, 4)) * size_t(s.kernel) * size_t(s.kernel) *
         size_t(lut_groups(s)) * 64;
}
// AVX2 takes the weight tables for binary inputs on maps of more than one
// 32-lane block of positions: on one block (a 3x3 map) each table, 8x the
// masks' bytes, serves a single lookup per image.
constexpr int64_t kBinaryTablesMinPositions = 33;
// The lane positions (output pixels) of `rows` output rows.
static inline int64_t binary_table_positions(const ConvShape& s, int32_t rows) {
  return int64_t(rows) * s.width;
}
static inline size_t binary_nibble_line(const ConvShape& s, int32_t rows) {
  const int64_t lanes = (binary_table_positions(s, rows) + 31) / 32 * 32;
  const int64_t reach = lanes + int64_t(s.kernel - 1) * s.width;
  const int64_t stored = int64_t(rows + s.kernel - 1) * s.width + 16 + s.kernel / 2;
  return size_t(((reach > stored ? reach : stored) + 31) / 32 * 32);
}
static inline size_t binary_nibble_bytes(const ConvShape& s, int32_t rows) {
  return size_t(s.kernel) * size_t(lut_groups(s)) * binary_nibble_line(s, rows);
}

// The direct x86 layouts group the inputs into 4-byte units: 4 u8
// channels (VNNI dpbusd, AVX2 maddubs; per_unit 4) or 2 i16 channels
// (dpwssd, madd; per_unit 2). Weights are stored [block][dy][dx][unit][lane]
// [4 bytes], padded with zero codes, and the input is copied into a
// zero-padded scratch of (height + 2p) rows of (width + 2p) pixels of
// `units` units each.
//
// Where the k·in_channels inputs of a window row fill fewer units than k
// pixels of units each (a one-channel first layer: one u8 unit for its 3
// taps instead of three units of one channel and three zeros), each stored
// pixel holds its k horizontal neighbours instead ("dx-packed"): input
// (dx, channel) at index dx·in_channels + channel, rows of width pixels,
// zeros beyond the map; weights [block][dy][unit][lane][4 bytes]. A tile
// then walks `units` steps per dy instead of k·units.
struct DirectLayout {
  bool dx_packed;
  int32_t units;         // 4-byte units per stored pixel
  int32_t steps_per_dy;  // units a tile multiplies per window row
  int32_t row_pixels;    // stored pixels per row
};
static inline DirectLayout direct_layout(const ConvShape& s, int32_t per_unit) {
  const int32_t plain = ceil_div(s.in_channels, per_unit);
  const int64_t packed = (int64_t(s.kernel) * s.in_channels + per_unit - 1) / per_unit;
  if (packed < int64_t(s.kernel) * plain) return {true, int32_t(packed), int32_t(packed), s.width};
  return {false, plain, s.kernel * plain, s.width + 2 * (s.kernel / 2)};
}
static inline size_t direct_weight_bytes(const ConvShape& s, int32_t lanes, int32_t per_unit) {
  return size_t(ceil_div(s.out_channels, lanes)) * size_t(s.kernel) *
         size_t(direct_layout(s, per_unit).steps_per_dy) * size_t(lanes) * 4;
}
static inline size_t direct_input_bytes(const ConvShape& s, int32_t per_unit) {
  const DirectLayout layout = direct_layout(s, per_unit);
  return (size_t(s.height) + 2 * size_t(s.kernel / 2)) * size_t(layout.row_pixels) * size_t(layout.units) * 4;
}

// Bit-serial layout (AVX-512 kBinaryTernary): for each dy, the k·in_channels
// input bits of the window row (dx, channel), padded to 32-bit words.
static inline int32_t binary_words_per_dy(const ConvShape& s) {
  return ceil_div(s.kernel * s.in_channels, 32);
}
// Weight planes: [block of 16 oc][dy][word][plus|minus][16 lanes] u32.
static inline size_t binary_weight_bytes(const ConvShape& s) {
  return size_t(ceil_div(s.out_channels, 16)) * size_t(s.kernel) * size_t(binary_words_per_dy(s)) * 2 * 16 * 4;
}
// Bit-packed padded input: (height + 2p) rows of (width + 2p)·in_channels
// bits, each row padded to 64-bit words plus one spare word for the
// unaligned window loads.
static inline int32_t binary_row_words64(const ConvShape& s) {
  const int32_t pad = s.kernel / 2;
  // (validate caps width·in_channels and kernel·in_channels at 2^31 each,
  // so the sum fits int64 and the word count int32.)
  return int32_t(((int64_t(s.width) + 2 * pad) * s.in_channels + 63) / 64) + 1;
}

// Whether requant's every multiplier fits int32 (so a vector kernel's
// int32 × int32 → int64 multiplies form Z exactly) and 2 ≤ levels ≤
// kRequantLinearMaxLevels (the linear count): the cases the AVX2 and NEON
// requant kernels take; the others run the scalar kernel.
bool requant_multiplies_int32(const int64_t* multipliers, int32_t num_inputs, int32_t levels,
                              int32_t channels);

// The scalar pool, requant and conv definitions are the core's
// (scalar_kernels.h); these adapt them to the kernel table.
namespace scalar {
ConvKernelFn conv_u8, conv_i16;  // (no scratch)
// The counting loop of requant_input (kernels.h); thresholds [channel][count].
// Only channels [first_channel, channels) of each pixel (a vector kernel's
// last partial block).
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out, int32_t first_channel = 0);
}  // namespace scalar

#if MAQD_RT_X86_KERNELS
namespace avx2 {
// packed: u8 grouped weights, 8 lanes (avx2_uses_u8_weights), the table
// masks (kVariantTernaryLut), the weight tables (kVariantBinaryTables), else i16 grouped weights, 8 lanes.
ConvRequantFn conv_requant_u8_binary_tables, conv_requant_i16_binary_tables;
ConvKernelFn conv_u8_binary_tables, conv_i16_binary_tables, conv_u8_tables, conv_i16_tables, conv_u8_sums, conv_i16_sums, conv_u8_periodic,
    conv_i16_periodic, conv_u8_widened, conv_i16_widened;
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out);
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out);
// The tables of input rows [row_begin − p, row_end + p) (lut_table_bytes),
// also built for the AVX-512 table kernel (every AVX-512 CPU has AVX2).
void build_lut_tables(const ConvShape& s, const uint8_t* in, int32_t row_begin, int32_t row_end,
                      uint8_t* tables);
void build_lut_tables(const ConvShape& s, const int16_t* in, int32_t row_begin, int32_t row_end,
                      uint8_t* tables);
}  // namespace avx2

namespace avx512 {
// packed: [u8 grouped weights, 16 lanes, or the binary planes][i16 grouped
// weights, 16 lanes, where avx512_needs_i16_weights] (avx512_i16_offset).
// packed: the table masks, 64 lanes, where kVariantTernaryLut.
ConvKernelFn conv_u8_binary, conv_u8_dpbusd, conv_i16_dpbusd, conv_i16_dpwssd, conv_u8_tables,
    conv_i16_tables;
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out);
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out);
}  // namespace avx512
#endif

#if MAQD_RT_NEON_KERNELS
// The direct layout with 8 output channels per block, like AVX2's: neon's
// i16 weights with the lanes innermost ([block][dy][dx][unit][j][lane],
// so that one load gives input j's weights for 8 channels), neondot's
// int8 weights as AVX2's vpmaddubsw layout ([unit][lane][4 bytes], what
// SDOT multiplies).
namespace neon {
ConvKernelFn conv_u8_smlal, conv_i16_smlal;
// Both NEON ISAs' requant and requant_input (kernels.h).
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out);
void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out);
}  // namespace neon
namespace neondot {
ConvKernelFn conv_u8_sdot, conv_i16_sdot;
}  // namespace neondot
#endif

// AVX2 packs u8 weights for the vpmaddubsw variants, i16 weights for
// kVariantDirect (the others narrow i16 inputs to u8).
static inline bool avx2_uses_u8_weights(int32_t variant) {
  // (kVariantTernaryLut has its own layout.)
  return variant == kVariantI16Sums || variant == kVariantI16Periodic;
}


// AVX-512 packs i16 weights only where an i16 input is not narrowed to u8.
static inline bool avx512_needs_i16_weights(int32_t input_max, int32_t variant) {
  return !narrows_i16(input_max) || variant == kVariantBinaryTernary;
}
static inline size_t avx512_i16_offset(const ConvShape& s, int32_t variant) {
  const size_t first = variant == kVariantBinaryTernary ? binary_weight_bytes(s)
                                                        : direct_weight_bytes(s, 16, 4);
  return (first + 63) / 64 * 64;
}

}  // namespace maqd_rt::kernels
