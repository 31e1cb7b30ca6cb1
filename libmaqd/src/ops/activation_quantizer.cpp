#include "maqd/ops/activation_quantizer.h"

#include <cmath>

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "maqd/error.h"
#include "maqd/ops/composed.h"
#include "ops/quant_kernels.h"

namespace maqd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class ActivationQuantFunction : public torch::autograd::Function<ActivationQuantFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, int64_t levels,
                               int64_t surrogate, double alpha) {
    ctx->save_for_backward({input});
    ctx->saved_data["levels"] = levels;
    ctx->saved_data["surrogate"] = surrogate;
    ctx->saved_data["alpha"] = alpha;
    return kernels::round_clip_forward(input, 1.0, double(levels - 1), 0.0, 1.0);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor input = ctx->get_saved_variables()[0];
    const int64_t levels = ctx->saved_data["levels"].toInt();
    const auto surrogate = static_cast<Surrogate>(ctx->saved_data["surrogate"].toInt());
    const double alpha = ctx->saved_data["alpha"].toDouble();
    torch::Tensor grad;
    if (surrogate == Surrogate::kSte) {
      grad = kernels::clipped_ste_backward(grads[0], input, 1.0, 0.0, 1.0, 1.0);
    } else {
      grad = kernels::sigmoid_surrogate_backward(grads[0], input, levels, alpha,
                                                 surrogate_step_factor(surrogate, levels));
    }
    return {grad, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

double sigmoid(double z, double alpha) { return 1.0 / (1.0 + std::exp(-z / alpha)); }

}  // namespace

void validate(const ActivationQuantOptions& o) {
  check(o.levels >= 2, "activation_quantizer", "parameter levels (M_a) is ", o.levels,
        "; allowed: an integer ≥ 2");
  check(std::isfinite(o.alpha) && o.alpha > 0, "activation_quantizer", "parameter alpha (α) is ",
        o.alpha, "; allowed: a finite number > 0");
  check(o.surrogate == Surrogate::kSigmoid || o.surrogate == Surrogate::kLiteral ||
            o.surrogate == Surrogate::kSte,
        "activation_quantizer", "parameter surrogate is ", int(o.surrogate),
        "; allowed: sigmoid, literal, ste");
}

std::string to_string(Surrogate surrogate) {
  switch (surrogate) {
    case Surrogate::kSigmoid: return "sigmoid";
    case Surrogate::kLiteral: return "literal";
    case Surrogate::kSte: return "ste";
  }
  return "?";
}

Surrogate parse_surrogate(const std::string& text) {
  if (text == "sigmoid") return Surrogate::kSigmoid;
  if (text == "literal") return Surrogate::kLiteral;
  if (text == "ste") return Surrogate::kSte;
  throw Error("activation_quantizer: surrogate '" + text +
              "' is not known; allowed: sigmoid, literal, ste");
}

torch::Tensor quantize_activation(const torch::Tensor& input,
                                  const ActivationQuantOptions& options) {
  RECORD_FUNCTION("maqd::activation_quantizer", std::vector<c10::IValue>());
  validate(options);
  if (!kernels::fused_supported(input)) return composed::quantize_activation(input, options);
  return ActivationQuantFunction::apply(input, options.levels,
                                        static_cast<int64_t>(options.surrogate), options.alpha);
}

double surrogate_step_factor(Surrogate surrogate, int64_t levels) {
  return surrogate == Surrogate::kSigmoid ? 1.0 / double(levels - 1) : 1.0;
}

double activation_surrogate_derivative(double input, const ActivationQuantOptions& options) {
  validate(options);
  const double steps = double(options.levels - 1);
  if (options.surrogate == Surrogate::kSte) return (input > 0.0 && input < 1.0) ? 1.0 : 0.0;
  double sum = 0.0;
  for (int64_t m = 1; m < options.levels; ++m) {
    const double sig = sigmoid(input - (double(m) - 0.5) / steps, options.alpha);
    sum += sig * (1.0 - sig) / options.alpha;
  }
  return options.surrogate == Surrogate::kSigmoid ? sum / steps : sum;
}

}  // namespace maqd
