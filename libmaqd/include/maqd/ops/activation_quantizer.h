// The activation quantizer Q_a of Eq. 8 and its surrogate gradients:
//   Q_a(â) = Q(â, M_a − 1, 0, 1): codes m ∈ {0 … M_a−1}, value m/(M_a−1).
// Backward (docs/method.md, "Activation surrogate"):
//   kSigmoid: (1/(M_a−1)) · Σ_{m=1}^{M_a−1} σ'_α(â − b_m)   (default)
//   kLiteral: Σ_{m=1}^{M_a−1} σ'_α(â − b_m)                 (Eq. 11 as printed)
//   kSte:     1 where 0 < â < 1, else 0                     (the paper's ablation)
// with b_m = (m − 1/2)/(M_a − 1), σ'_α(z) = σ_α(z)(1 − σ_α(z))/α, α = 0.25.
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/cloneable.h>
#include <torch/types.h>

namespace maqd {

enum class Surrogate { kSigmoid, kLiteral, kSte };

struct ActivationQuantOptions {
  int64_t levels = 2;  // M_a ≥ 2
  Surrogate surrogate = Surrogate::kSigmoid;
  double alpha = 0.25;  // α of the scaled sigmoid: finite, > 0
};

// Throws maqd::Error naming "activation_quantizer" and the parameter.
void validate(const ActivationQuantOptions& options);
std::string to_string(Surrogate surrogate);                // "sigmoid" | "literal" | "ste"
Surrogate parse_surrogate(const std::string& text);        // inverse; throws

torch::Tensor quantize_activation(const torch::Tensor& input,
                                  const ActivationQuantOptions& options);

// The factor in front of the sigmoid sum: the step height 1/(M_a − 1) for
// kSigmoid (the surrogate then integrates to 1 over the staircase's range),
// 1 for kLiteral (Eq. 11 as printed). Every kernel of the surrogate uses it.
double surrogate_step_factor(Surrogate surrogate, int64_t levels);

// The surrogate derivative dQ_a/dâ at each element, without autograd (float64
// closed form used by documentation plots and the self-check).
double activation_surrogate_derivative(double input, const ActivationQuantOptions& options);

}  // namespace maqd
