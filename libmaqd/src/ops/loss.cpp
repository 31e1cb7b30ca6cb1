#include "maqd/ops/loss.h"

#include <cmath>

#include <torch/nn/functional/loss.h>

#include "maqd/error.h"

namespace maqd {

void validate(const LossOptions& options) {
  check(std::isfinite(options.gamma) && options.gamma >= 0 && options.gamma <= 1, "maqd_loss",
        "parameter gamma (γ) is ", options.gamma, "; allowed: a number in [0, 1]");
}

torch::Tensor maqd_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                        const LossOptions& options) {
  validate(options);
  check(logits.dim() == 2, "maqd_loss", "logits have shape ", logits.sizes(),
        "; expected [N, classes]");
  check(targets.dim() == 1 && targets.size(0) == logits.size(0), "maqd_loss",
        "targets have shape ", targets.sizes(), "; expected [", logits.size(0), "]");
  check(!torch::isFloatingType(targets.scalar_type()) && targets.scalar_type() != torch::kBool,
        "maqd_loss", "targets have type ", targets.scalar_type(), "; expected integer class labels");
  if (targets.numel() > 0) {
    const auto [low, high] = torch::aminmax(targets);
    const int64_t lo = low.item<int64_t>(), hi = high.item<int64_t>();
    check(lo >= 0 && hi < logits.size(1), "maqd_loss", "targets range over ", lo, "..", hi,
          "; expected class labels in 0..", logits.size(1) - 1);
  }
  namespace F = torch::nn::functional;
  const torch::Tensor labels = targets.to(torch::kLong);
  const torch::Tensor ce = F::cross_entropy(logits, labels);
  const torch::Tensor onehot = torch::one_hot(labels, logits.size(1)).to(logits.scalar_type());
  const torch::Tensor predicted =
      options.mse_target == MseTarget::kLogits ? logits : torch::softmax(logits, 1);
  const torch::Tensor mse = F::mse_loss(predicted, onehot);
  return (1.0 - options.gamma) * ce + options.gamma * mse;
}

}  // namespace maqd
