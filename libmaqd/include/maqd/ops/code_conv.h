// The forward convolution of a MaQD layer on integer codes.
//
// A hidden conv's input is a quantized activation, m / (M_a − 1), possibly
// averaged over 2×2 windows (AP), so every value is m / d for an integer
// 0 ≤ m ≤ d; its quantized weight is k / D with |k| ≤ D (D =
// weight_code_denominator). The forward pass then equals
// (1 / (d·D)) · conv(m, k), a u8 × s8 convolution with int32 sums that
// oneDNN runs 2–4× faster than the float one. The backward pass is the float
// convolution's (LibTorch's), with the same float input and weight, so the
// gradients are those of torch::conv2d (computed in bfloat16 when asked:
// --precision bf16).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace maqd {

// Whether code_conv2d can run this problem: built with oneDNN, float32 CPU
// tensors, codes that fit u8 × s8 without the int16 pair saturation of
// non-VNNI CPUs (2·d·D ≤ 32767), and not disabled by MAQD_CODE_CONV=0.
bool code_conv_available(const torch::Tensor& input, const torch::Tensor& weight,
                         int64_t input_denominator, int64_t weight_denominator);

// conv2d(input, weight, no bias, stride, padding), forward on codes as above;
// the backward convolutions run in backward_dtype (float32 or bfloat16) and
// return float32 gradients. Throws maqd::Error naming "code_conv" when an
// input value is not m / d with 0 ≤ m ≤ d, or a weight is not k / D with
// |k| ≤ D.
torch::Tensor code_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                          int64_t input_denominator, int64_t weight_denominator, int64_t stride,
                          int64_t padding, torch::ScalarType backward_dtype = torch::kFloat);

// Whether oneDNN runs bfloat16 convolutions with the CPU's own bf16
// instructions (AVX-512 BF16 or AMX), after any MAQD_ISA cap. Without them
// it emulates bf16 or falls back to a slow reference kernel, so
// --precision bf16 is refused. False in builds without oneDNN. Also returns
// oneDNN's name for the ISA it runs, for the message.
bool native_bf16_convolutions(std::string* isa_name = nullptr);

// oneDNN's name for each kernel code_conv2d has chosen so far in this process
// (e.g. "jit_uni_int8:avx2", "brgconv:avx512_core_vnni"), once each. Where
// oneDNN offers only its slow reference kernel the conv runs in float, listed
// as "<name> (not used: float conv instead)".
std::vector<std::string> code_conv_kernels_used();

}  // namespace maqd
