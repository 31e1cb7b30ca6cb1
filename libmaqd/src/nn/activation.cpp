#include "maqd/nn/activation.h"

namespace maqd {

ActivationImpl::ActivationImpl(std::optional<ActivationQuantOptions> quant) : quant_(quant) {
  if (quant_) validate(*quant_);
}

torch::Tensor ActivationImpl::forward(const torch::Tensor& input) {
  return quant_ ? quantize_activation(input, *quant_) : torch::relu(input);
}

}  // namespace maqd
