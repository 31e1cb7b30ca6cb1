// A normalization in training mode (LBN or BN) and the activation after it
// (Q_a with its surrogate gradient, or ReLU) as one autograd op, for CPU
// float tensors: two passes over memory forward and two backward, and only
// the normalization's input saved for backward (the composed ops make about
// a dozen passes and save three activation-sized tensors).
//
// Values and gradients are those of the composed modules (LayerBatchNorm or
// torch::nn::BatchNorm2d, then quantize_activation or ReLU) up to float
// rounding; tests/ops/norm_activation_test.cpp checks them against the
// composed ops in float64.
#pragma once

#include <functional>
#include <optional>
#include <utility>

#include <torch/types.h>

#include "maqd/ops/activation_quantizer.h"

namespace maqd {

// Sums a float64 tensor over the processes of a data-parallel run, in place
// (train/distributed.h); every process calls it with the same shape.
using CrossProcessSum = std::function<void(torch::Tensor&)>;

struct NormActivationOptions {
  bool per_channel = false;  // BN: a mean and variance per channel; LBN: one of each
  double eps = 1e-5;
  double momentum = 0.1;
  std::optional<ActivationQuantOptions> quant;  // nullopt: ReLU
  // Set: the statistics are those of every process's batch together, and
  // the backward pass sums its statistics' gradients over the processes
  // too, so N processes with B/N images each compute what one does with B
  // (the sums are exchanged, not the images: docs/method.md §4).
  CrossProcessSum sum_across_processes;
};

// The batch's mean and biased variance in float64, per channel ([C] each)
// or of the whole layer (LBN: one value, repeated C times); over every
// process's batch when `sum` is set. x: 4-D float CPU tensor.
std::pair<torch::Tensor, torch::Tensor> batch_mean_variance(const torch::Tensor& x, bool per_channel,
                                                            const CrossProcessSum& sum = {});

// True for the tensors the fused op takes: 4-D float32/float64 on the CPU.
bool norm_activation_supported(const torch::Tensor& x);

// act(γ_c·(x − μ)/√(σ² + eps) + β_c) with the batch's biased statistics;
// updates running_mean and running_var (unbiased) in place with `momentum`.
// x: [N, C, H, W]; weight (γ), bias (β): [C]; the running statistics are
// scalars (LBN) or [C] (BN).
torch::Tensor norm_activation(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, torch::Tensor running_mean,
                              torch::Tensor running_var, const NormActivationOptions& options);

}  // namespace maqd
