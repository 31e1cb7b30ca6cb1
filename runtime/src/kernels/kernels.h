// The runtime's integer kernels. Every kernel has a scalar reference; the
// AVX2, AVX-512 and NEON variants must equal it bit for bit (tests/runtime;
// the NEON ones under QEMU in the AArch64 cross build). The ISA is chosen
// once (detect_isa) and passed in; no kernel checks the CPU.
//
// Layouts: one image's feature map is [height][width][channels], channels
// fastest. Work is split by the caller (the engine) into output-channel and
// row ranges, so kernels are single-threaded and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scalar_kernels.h"  // ConvShape, the scalar definitions

namespace maqd_rt::kernels {

// Two families above the scalar kernels: x86-64 (AVX2, then AVX-512) and
// 64-bit Arm (NEON, which every AArch64 CPU has, then NEON with the
// Armv8.2 dot product instructions). isa_level orders each family.
enum class Isa : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3, kNeonDot = 4 };
const char* isa_name(Isa isa);  // "scalar", "avx2", "avx512", "neon", "neondot"
int isa_level(Isa isa);         // 0 scalar, 1 avx2 or neon, 2 avx512 or neondot

// What this CPU runs (AVX-512 means F, BW, VL and VNNI; VPOPCNTDQ is an
// extra the AVX-512 kernels may use when the CPU has it), capped by the
// environment variable MAQD_ISA=scalar|avx2|avx512|neon|neondot: the best
// ISA this CPU runs whose level is at most the named one's, so a name of
// the other family caps at its level (avx2 on an Arm CPU means neon). An
// unknown MAQD_ISA value throws maqd_rt::Error naming the variable and the
// allowed values.
Isa detect_isa();
// Every ISA this CPU can run, scalar first, by level (for tests).
std::vector<Isa> available_isas();

struct ConvView;  // internal.h
// Every conv kernel has this signature: out[h][w][o] for rows [row_begin,
// row_end) and channels [oc_begin, oc_end) of one image; `in` (u8 or i16,
// as the kernel's table entry says) is the whole input image.
using ConvKernelFn = void(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                          int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch);
struct RequantView;  // internal.h
// A conv kernel that also runs the requant_input after it (conv_requant):
// out is the codes [h][w][o] of the same rows and channels.
using ConvRequantFn = void(const ConvView& conv, const void* in, const RequantView& requant,
                           uint8_t* out, int32_t row_begin, int32_t row_end, int32_t oc_begin,
                           int32_t oc_end, void* scratch);

// One entry per conv kernel of every ISA: the kernel table. prepare_conv
// picks an entry per input type once per layer; conv_u8 and conv_i16 call
// it; the bit-exact tests check that each entry this CPU runs is reached
// and equals the scalar reference; bench_runtime_kernels times each against
// its instruction's limit.
struct ConvKernel {
  const char* name;         // "ISA, input, method", e.g. "avx512 u8 vpdpbusd"
  Isa isa;
  bool i16_input;           // reached through conv_i16
  const char* instruction;  // what its inner loop multiplies with, e.g. "vpdpbusd"
  ConvKernelFn* run;
  // The same kernel writing requant_input's codes instead of the sums
  // (conv_requant), where it has such an epilogue; else null.
  ConvRequantFn* run_requant = nullptr;
};
const std::vector<ConvKernel>& conv_kernel_table();

// A conv's weights, prepared once at load time in whatever layout the
// chosen ISA's kernel wants (packed bit planes, VNNI-interleaved, with
// per-channel sums, ...). Opaque to the engine.
struct PreparedConv {
  ConvShape shape;
  Isa isa = Isa::kScalar;
  int32_t input_max = 0;             // the largest input value the producer can write
  // The original codes [out][k][k][in], for the scalar kernels only: the
  // vector kernels read `packed` alone, so their convs do not hold a second
  // byte-per-weight copy of the model's weights.
  std::vector<int8_t> codes;
  std::vector<uint8_t> packed;       // ISA-specific layout (may be empty)
  std::vector<int32_t> channel_info; // ISA-specific per-output-channel data
  int32_t variant = 0;               // ISA-specific choice of inner loop
  int32_t steps_per_widen = 0;       // int16 (periodic) or int8 (table) steps between widenings
  const ConvKernel* u8_kernel = nullptr;   // what conv_u8 runs
  const ConvKernel* i16_kernel = nullptr;  // what conv_i16 runs
};

// codes: [out][kernel][kernel][in], values in [-127, 127]. Every input lies
// in [0, input_max] (e.g. M_a − 1 for codes, 4·(M_a − 1) after a pool sum;
// 32767 for i16 inputs that may be negative), so a kernel may choose a
// narrower or bit-serial path: i16 inputs ≤ 255 run the u8 kernels, binary
// inputs with ternary weights AND + popcount.
PreparedConv prepare_conv(const ConvShape& shape, const int8_t* codes, int32_t input_max, Isa isa);

// The prepared weight bytes the kernel for u8 or i16 inputs reads per
// image (AVX-512 keeps an i16 copy beside the u8 layout that only one of
// them reads).
size_t weight_bytes_read(const PreparedConv& conv, bool i16_input);

// Scratch bytes conv_u8 / conv_i16 need per calling thread.
size_t conv_scratch_bytes(const PreparedConv& conv);

// conv.u8_kernel / conv.i16_kernel (ConvKernelFn).
void conv_u8(const PreparedConv& conv, const uint8_t* in, int32_t* out, int32_t row_begin,
             int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch);
void conv_i16(const PreparedConv& conv, const int16_t* in, int32_t* out, int32_t row_begin,
              int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch);

// 2×2 stride-2 sums, floor output size (in_height/2 × in_width/2).
void pool_sum_u8(const uint8_t* in, int16_t* out, int32_t in_height, int32_t in_width,
                 int32_t channels, Isa isa);
void pool_sum_i16(const int16_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels, Isa isa);
void pool_sum_i32(const int32_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels, Isa isa);

// Z = Σ_j multipliers[j·channels + c] · inputs[j][p·channels + c] in int64,
// out[p·channels + c] = #{k : Z ≥ thresholds[c·(levels−1) + k]}, for pixels
// [0, pixels). 1 ≤ num_inputs ≤ 2.
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out, Isa isa);

// requant with one input, as compares of the input itself: for a channel
// with multiplier m, m·x ≥ t ⇔ x ≥ ⌈t/m⌉ (m > 0) or x ≤ ⌊t/m⌋ (m < 0), so
// the int64 products and compares become int32 compares, with twice the
// lanes and no multiply. Exact where every multiplier fits int32 (then
// m·x never wraps) and levels ≤ kRequantInputMaxLevels.
struct InputThresholds {
  int32_t levels = 0, channels = 0;
  std::vector<int32_t> thresholds;  // [channel][levels − 1]: t' with level += (x XOR flip) ≥ t'
  std::vector<int32_t> flip;        // per channel: −1 where m < 0 (x ≤ v ⇔ ~x ≥ ~v), else 0
  std::vector<int32_t> base;        // per channel: levels − 1 − the thresholds no x reaches
};
constexpr int32_t kRequantInputMaxLevels = 16;
// False where the conditions above do not hold (then use requant).
bool prepare_input_thresholds(const int64_t* multipliers, const int64_t* thresholds, int32_t levels,
                              int32_t channels, InputThresholds* prepared);
// Exactly requant(&in, 1, multipliers, thresholds, ...) of the multipliers
// and thresholds `prepared` was made from, for pixels [0, pixels).
void requant_input(const InputThresholds& prepared, const int32_t* in, int64_t pixels, uint8_t* out,
                   Isa isa);

// Whether conv_requant can run this conv, with u8 or i16 inputs, and the
// requant_input `requant` of its output in one pass: its kernel then
// turns each tile's sums into codes while they are in registers, so the
// int32 sums are never stored and read back.
bool fuses_requant(const PreparedConv& conv, bool i16_input, const InputThresholds& requant);
// requant_input(prepared, conv(in)) for output rows [row_begin, row_end)
// and channels [oc_begin, oc_end): out[h][w][o] codes of the whole map, the
// rest left as it was. Only where fuses_requant (else throws).
void conv_requant(const PreparedConv& conv, const void* in, bool i16_input,
                  const InputThresholds& requant, uint8_t* out, int32_t row_begin,
                  int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch);

// input_lut_u8, input_lut_i16 and gap_linear: scalar_kernels.h (the core's).

}  // namespace maqd_rt::kernels
