#include "maqd/ops/weight_quantizer.h"

#include <cmath>

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "maqd/error.h"
#include "maqd/ops/composed.h"
#include "maqd/ops/weight_standardization.h"
#include "ops/quant_kernels.h"

namespace maqd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Q(s·Ŵ, Δ_w, −1, 1) with Eq. 10's gradient 1_{|s·Ŵ| < 1} (no factor s).
class WeightQuantFunction : public torch::autograd::Function<WeightQuantFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& standardized,
                               double scale, double delta) {
    ctx->save_for_backward({standardized});
    ctx->saved_data["scale"] = scale;
    return kernels::round_clip_forward(standardized, scale, delta, -1.0, 1.0);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor standardized = ctx->get_saved_variables()[0];
    const double scale = ctx->saved_data["scale"].toDouble();
    return {kernels::clipped_ste_backward(grads[0], standardized, scale, -1.0, 1.0, 1.0),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void validate(const WeightQuantOptions& o) {
  check(o.levels >= 3 && o.levels % 2 == 1, "weight_quantizer", "parameter levels (M_w) is ",
        o.levels, "; allowed: an odd integer ≥ 3 (3, 5, 7, …, 15, …, 255)");
  check(std::isfinite(o.scale) && o.scale > 0, "weight_quantizer", "parameter scale (s) is ",
        o.scale, "; allowed: a finite number > 0");
}

double weight_delta(const WeightQuantOptions& o) {
  validate(o);
  return o.delta == WeightDelta::kFloor ? (o.levels - 1) / 2.0 : o.levels / 2.0;
}

int64_t weight_code_denominator(const WeightQuantOptions& o) {
  validate(o);
  return o.delta == WeightDelta::kFloor ? (o.levels - 1) / 2 : o.levels;
}

std::string to_string(WeightDelta delta) {
  return delta == WeightDelta::kFloor ? "floor" : "half";
}

WeightDelta parse_weight_delta(const std::string& text) {
  if (text == "floor") return WeightDelta::kFloor;
  if (text == "half") return WeightDelta::kHalf;
  throw Error("weight_quantizer: delta mode '" + text +
              "' is not known; allowed: floor ((M_w−1)/2), half (M_w/2)");
}

torch::Tensor quantize_standardized_weight(const torch::Tensor& standardized,
                                           const WeightQuantOptions& options) {
  RECORD_FUNCTION("maqd::weight_quantizer", std::vector<c10::IValue>());
  const double delta = weight_delta(options);
  if (!kernels::fused_supported(standardized))
    return composed::quantize_standardized_weight(standardized, options);
  return WeightQuantFunction::apply(standardized, options.scale, delta);
}

torch::Tensor quantize_weight(const torch::Tensor& weight, const WeightQuantOptions& options) {
  validate(options);
  return quantize_standardized_weight(standardize_weight(weight), options);
}

torch::Tensor weight_codes(const torch::Tensor& standardized, const WeightQuantOptions& options) {
  torch::NoGradGuard no_grad;
  const torch::Tensor values = quantize_standardized_weight(standardized, options);
  // values = k / denominator exactly up to float rounding; round recovers k.
  return torch::round(values.to(torch::kDouble) * double(weight_code_denominator(options)))
      .to(torch::kInt);
}

WeightQuantizerImpl::WeightQuantizerImpl(WeightQuantOptions options) : options_(options) {
  validate(options_);
}

}  // namespace maqd
