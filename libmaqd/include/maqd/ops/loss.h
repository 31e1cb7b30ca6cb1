// The training loss of Eq. 9:
//   L = (1 − γ)·CE(logits, y) + γ·MSE(target, onehot(y)),  γ = 0.05,
// MSE averaged over batch × classes. The MSE target is the logits (the input
// of softmax, default) or the softmax probabilities (option).
#pragma once

#include <torch/types.h>

namespace maqd {

enum class MseTarget { kLogits, kProbabilities };

struct LossOptions {
  double gamma = 0.05;  // in [0, 1]
  MseTarget mse_target = MseTarget::kLogits;
};

// Throws maqd::Error naming "maqd_loss" and gamma unless γ ∈ [0, 1].
void validate(const LossOptions& options);

// logits: [N, K] float; targets: [N] int64 in [0, K). Returns a scalar.
torch::Tensor maqd_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                        const LossOptions& options = {});

}  // namespace maqd
