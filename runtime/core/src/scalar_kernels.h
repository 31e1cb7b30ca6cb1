// The scalar integer kernels: the definition of every op's arithmetic. The
// core runs them (one image, one thread, weights read in place); the hosted
// runtime runs them for Isa::kScalar and tests its AVX2 and AVX-512 kernels
// against them bit for bit. Integer sums wrap modulo 2^32 (2^64 for
// requant's Z), as the vector instructions do, in unsigned arithmetic
// because signed overflow is undefined in C++; the graph's value ranges
// (check_graph) prove that a valid model never wraps.
//
// Layouts: one image's feature map is [height][width][channels], channels
// fastest. Plain functions, defined in one translation unit compiled
// without ISA flags (see runtime/src/kernels/internal.h on why).
#pragma once

#include <cstddef>
#include <cstdint>

#include "maqd_rt/core/types.h"

namespace maqd_rt::kernels {

struct ConvShape {
  int32_t height = 0, width = 0;  // of input and output (stride 1, padding kernel/2)
  int32_t in_channels = 0, out_channels = 0;
  int32_t kernel = 0;             // odd: 1, 3, 5, ...
};

// Up to this many levels, requant counts thresholds linearly (the literal
// definition); above, it binary-searches the channel's row, which gives the
// same count because check_graph requires each row nondecreasing.
constexpr int32_t kRequantLinearMaxLevels = 16;

// out[i] = lut[(i % channels)·256 + in[i]] for i in [0, elements).
void input_lut_u8(const uint8_t* in, const int32_t* lut, int64_t elements, int32_t channels,
                  uint8_t* out);
void input_lut_i16(const uint8_t* in, const int32_t* lut, int64_t elements, int32_t channels,
                   int16_t* out);

// One input of gap_linear.
struct GapInput {
  DType dtype = DType::kU8;
  const void* data = nullptr;  // [pixels][channels]
};

namespace scalar {

// out[h][w][o] = Σ codes[o − oc_begin][dy][dx][i] · in[h+dy−p][w+dx−p][i]
// (zero outside the map) for rows [row_begin, row_end) and output channels
// [oc_begin, oc_end); `codes` holds those channels' codes only.
void conv_u8_rows(const ConvShape& shape, const int8_t* codes, const uint8_t* in, int32_t* out,
                  int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end);
void conv_i16_rows(const ConvShape& shape, const int8_t* codes, const int16_t* in, int32_t* out,
                   int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end);

// 2×2 stride-2 sums, floor output size (in_height/2 × in_width/2).
void pool_sum_u8(const uint8_t* in, int16_t* out, int32_t in_height, int32_t in_width,
                 int32_t channels);
void pool_sum_i16(const int16_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels);
void pool_sum_i32(const int32_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels);

// Z = Σ_j multipliers[j·channels + c] · inputs[j][p·channels + c] in int64,
// out[p·channels + c] = #{k : Z ≥ thresholds[c·(levels−1) + k]}, for pixels
// [0, pixels). 1 ≤ num_inputs ≤ 2. Only channels [first_channel, channels)
// of each pixel (a vector kernel's last partial block).
void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out, int32_t first_channel = 0);

}  // namespace scalar

// The float output layer, the only float arithmetic: f[c] = offset[c] +
// Σ_j scale[j·channels + c] · (Σ_pixels in_j[., c]), then logits[k] =
// bias[k] + Σ_c weight[k·channels + c] · f[c], in this order of operations
// and in float32 without contraction into fused multiply-adds (the core's
// sources are compiled with -ffp-contract=off), so every target computes
// the same bits. `feature` holds `channels` floats of scratch.
void gap_linear(const GapInput* inputs, int32_t input_count, int64_t pixels, int32_t channels,
                const float* scale, const float* offset, const float* weight, const float* bias,
                int32_t classes, float* feature, float* logits);

}  // namespace maqd_rt::kernels
