// Weight standardization (Eq. 4 as read by docs/method.md): per output
// channel (dim 0) over its fan-in (all other dims),
//   Ŵ = (W − μ) / sqrt(σ² + ε),   σ² the biased variance, ε = 1e-5,
// so Ŵ has unit variance. Differentiable through ATen's autograd.
#pragma once

#include <torch/types.h>

namespace maqd {

inline constexpr double kWeightStandardizationEps = 1e-5;

torch::Tensor standardize_weight(const torch::Tensor& weight,
                                 double eps = kWeightStandardizationEps);

}  // namespace maqd
