// The quantizers written as chains of ATen ops, with the same forward values
// and the same surrogate gradients as the fused kernels. They serve tensors
// the fused CPU kernels do not take (CUDA and other devices) and are the
// baseline of bench/bench_quantizers.cpp. They are not the tests' reference:
// tests compare against independent float64 closed forms.
#pragma once

#include <torch/types.h>

#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/round_clip.h"
#include "maqd/ops/weight_quantizer.h"

namespace maqd::composed {

torch::Tensor round_clip(const torch::Tensor& z, const RoundClipOptions& options);
torch::Tensor quantize_standardized_weight(const torch::Tensor& standardized,
                                           const WeightQuantOptions& options);
torch::Tensor quantize_activation(const torch::Tensor& input,
                                  const ActivationQuantOptions& options);

}  // namespace maqd::composed
