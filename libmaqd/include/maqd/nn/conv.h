// The convolution of a MaQD network: its weights go through weight
// standardization (optional) and the weight quantizer Q_w (optional) on every
// forward pass; without quantization it is a float conv, with or without WS.
#pragma once

#include <cstdint>
#include <optional>

#include <torch/nn/cloneable.h>
#include <torch/types.h>

#include "maqd/ops/weight_quantizer.h"

namespace maqd {

struct ConvOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t padding = -1;  // −1: kernel_size / 2
  bool weight_standardization = true;
  std::optional<WeightQuantOptions> quant;  // nullopt: float weights
  bool bias = false;
  // > 0 when every input value is m / input_code_denominator for an integer
  // m in [0, input_code_denominator] (a quantized activation, maybe
  // average-pooled): with quantized weights the forward pass then runs on
  // integer codes (ops/code_conv.h). 0: a float input.
  int64_t input_code_denominator = 0;
};

class ConvImpl : public torch::nn::Cloneable<ConvImpl> {
 public:
  explicit ConvImpl(ConvOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& input);

  // The weight the convolution uses: W, WS(W), Q_w(WS(W)) or Q_w(W).
  torch::Tensor effective_weight() const;
  // WS(W) when standardization is on, else W: the tensor Q_w sees.
  torch::Tensor standardized_weight() const;
  const ConvOptions& options() const { return options_; }

  // The dtype the convolution computes in, forward and backward: float32
  // (the default) or bfloat16 (--precision bf16). The weights, the input and
  // the output stay float32; only the convolution's own arithmetic is
  // rounded, the way autocast does it, so the master weights, the
  // normalizations and the quantizers see float32 throughout.
  void set_compute_dtype(torch::ScalarType dtype);
  torch::ScalarType compute_dtype() const { return compute_dtype_; }

  torch::Tensor weight, bias;
  // When defined, forward() convolves with this instead of effective_weight().
  // The float64 reference of export/compare.cpp sets it to the float32
  // effective weight, so that it evaluates the trained codes, not codes
  // re-derived from a float64 standardization that may round differently.
  torch::Tensor weight_override;

 private:
  ConvOptions options_;
  torch::ScalarType compute_dtype_ = torch::kFloat;
};
TORCH_MODULE(Conv);

}  // namespace maqd
