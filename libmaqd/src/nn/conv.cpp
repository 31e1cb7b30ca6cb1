#include "maqd/nn/conv.h"

#include <cmath>

#include <torch/nn/init.h>

#include "maqd/error.h"
#include "maqd/ops/code_conv.h"
#include "maqd/ops/weight_standardization.h"

namespace maqd {

ConvImpl::ConvImpl(ConvOptions options) : options_(options) {
  check(options_.in_channels > 0 && options_.out_channels > 0, "conv",
        "parameters in_channels, out_channels are ", options_.in_channels, ", ",
        options_.out_channels, "; allowed: integers > 0");
  check(options_.kernel_size > 0 && options_.stride > 0, "conv",
        "parameters kernel_size, stride are ", options_.kernel_size, ", ", options_.stride,
        "; allowed: integers > 0");
  if (options_.padding < 0) options_.padding = options_.kernel_size / 2;
  if (options_.quant) validate(*options_.quant);
  check(options_.input_code_denominator >= 0, "conv", "parameter input_code_denominator is ",
        options_.input_code_denominator, "; allowed: 0 (float input) or an integer > 0");
  reset();
}

void ConvImpl::reset() {
  weight = register_parameter(
      "weight", torch::empty({options_.out_channels, options_.in_channels, options_.kernel_size,
                              options_.kernel_size}));
  // The initialization of torch::nn::Conv2d, so float baselines match LibTorch's.
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (options_.bias) {
    const double fan_in = double(options_.in_channels * options_.kernel_size * options_.kernel_size);
    const double bound = 1.0 / std::sqrt(fan_in);
    bias = register_parameter("bias", torch::empty({options_.out_channels}));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

torch::Tensor ConvImpl::standardized_weight() const {
  return options_.weight_standardization ? standardize_weight(weight) : weight;
}

torch::Tensor ConvImpl::effective_weight() const {
  const torch::Tensor w = standardized_weight();
  return options_.quant ? quantize_standardized_weight(w, *options_.quant) : w;
}

void ConvImpl::set_compute_dtype(torch::ScalarType dtype) {
  check(dtype == torch::kFloat || dtype == torch::kBFloat16, "conv", "compute dtype is ", dtype,
        "; expected float32 or bfloat16");
  compute_dtype_ = dtype;
}

torch::Tensor ConvImpl::forward(const torch::Tensor& input) {
  check(input.dim() == 4 && input.size(1) == options_.in_channels, "conv", "input has shape ",
        input.sizes(), "; expected [N, ", options_.in_channels, ", H, W]");
  const torch::Tensor w = weight_override.defined() ? weight_override : effective_weight();
  if (options_.quant && !options_.bias && !weight_override.defined() &&
      options_.input_code_denominator > 0) {
    const int64_t weight_denominator = weight_code_denominator(*options_.quant);
    if (code_conv_available(input, w, options_.input_code_denominator, weight_denominator))
      return code_conv2d(input, w, options_.input_code_denominator, weight_denominator,
                         options_.stride, options_.padding, compute_dtype_);
  }
  if (compute_dtype_ == torch::kFloat)  // any input dtype: float64 in tests
    return torch::conv2d(input, w, bias, options_.stride, options_.padding);
  // Autograd casts the gradients back, so the master weight's gradient is float32.
  const torch::Tensor b = bias.defined() ? bias.to(compute_dtype_) : bias;
  return torch::conv2d(input.to(compute_dtype_), w.to(compute_dtype_), b, options_.stride,
                       options_.padding)
      .to(input.scalar_type());
}

}  // namespace maqd
