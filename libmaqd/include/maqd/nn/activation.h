// The activation of a MaQD network: the quantizer Q_a with its surrogate
// gradient, or ReLU when the network is not quantized.
#pragma once

#include <optional>

#include <torch/nn/cloneable.h>
#include <torch/types.h>

#include "maqd/ops/activation_quantizer.h"

namespace maqd {

class ActivationImpl : public torch::nn::Cloneable<ActivationImpl> {
 public:
  explicit ActivationImpl(std::optional<ActivationQuantOptions> quant = std::nullopt);
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& input);
  const std::optional<ActivationQuantOptions>& quant() const { return quant_; }

 private:
  std::optional<ActivationQuantOptions> quant_;
};
TORCH_MODULE(Activation);

}  // namespace maqd
