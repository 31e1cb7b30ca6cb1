// Fused CPU kernels of the quantizers: each forward and each backward is one
// pass over memory, threaded with at::parallel_for and compiled for several
// x86 ISAs (ops/kernel_variants.h; MAQD_ISA pins one). The composed ATen
// version of the same maths is in composed.cpp; the benchmark compares them.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace maqd::kernels {

// True when `t` is a float32/float64 CPU tensor the fused kernels take.
bool fused_supported(const torch::Tensor& t);

// y = clamp(ROUND(delta · (pre_scale · x)) / delta, lo, hi).
torch::Tensor round_clip_forward(const torch::Tensor& x, double pre_scale, double delta,
                                 double lo, double hi);

// dx = dy · grad_scale where lo < pre_scale · x < hi, else 0.
torch::Tensor clipped_ste_backward(const torch::Tensor& dy, const torch::Tensor& x,
                                   double pre_scale, double lo, double hi, double grad_scale);

// dx = dy · step · Σ_{m=1}^{levels−1} σ'_α(x − b_m),  b_m = (m − 1/2)/(levels − 1).
torch::Tensor sigmoid_surrogate_backward(const torch::Tensor& dy, const torch::Tensor& x,
                                         int64_t levels, double alpha, double step);

}  // namespace maqd::kernels
