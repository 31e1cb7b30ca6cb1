// The weight quantizer Q_w of Eq. 7 with the surrogate gradient of Eq. 10:
//   Q_w(Ŵ) = Q(s·Ŵ, Δ_w, −1, 1),  s = 1/3,  Ŵ = standardize_weight(W),
//   ∂Q_w/∂Ŵ = 1 where |s·Ŵ| < 1, else 0   (as printed: no factor s),
// then autograd carries the gradient through the standardization to W.
// Δ_w = (M_w − 1)/2 gives exactly M_w levels {−1, …, 0, …, 1} (default);
// Δ_w = M_w/2 is the paper's stated experimental setting (option).
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/cloneable.h>
#include <torch/types.h>

namespace maqd {

enum class WeightDelta {
  kFloor,  // Δ_w = (M_w − 1)/2
  kHalf,   // Δ_w = M_w/2
};

struct WeightQuantOptions {
  int64_t levels = 3;                  // M_w: odd, ≥ 3
  WeightDelta delta = WeightDelta::kFloor;
  double scale = 1.0 / 3.0;            // s
};

// Throws maqd::Error naming "weight_quantizer" and the parameter.
void validate(const WeightQuantOptions& options);
double weight_delta(const WeightQuantOptions& options);  // Δ_w
std::string to_string(WeightDelta delta);                 // "floor" | "half"
WeightDelta parse_weight_delta(const std::string& text);  // inverse; throws

// Q(s·Ŵ, Δ_w, −1, 1) of an already standardized weight, with Eq. 10's gradient.
torch::Tensor quantize_standardized_weight(const torch::Tensor& standardized,
                                           const WeightQuantOptions& options);

// standardize_weight followed by quantize_standardized_weight.
torch::Tensor quantize_weight(const torch::Tensor& weight, const WeightQuantOptions& options);

// Q_w as exact integer codes k (int32, no gradient): Q_w = k / D with
// D = weight_code_denominator(). Floor mode: k = ROUND(Δ_w·s·Ŵ) clamped to
// ±(M_w−1)/2 and D = Δ_w. Half mode: Δ_w = M_w/2 is not an integer, so the
// values live on the grid 1/M_w: k ∈ {−M_w, …, M_w} and D = M_w (for M_w = 3:
// {−3, −2, 0, 2, 3}/3). Used by metrics (R_w) and export.
int64_t weight_code_denominator(const WeightQuantOptions& options);
torch::Tensor weight_codes(const torch::Tensor& standardized, const WeightQuantOptions& options);

class WeightQuantizerImpl : public torch::nn::Cloneable<WeightQuantizerImpl> {
 public:
  explicit WeightQuantizerImpl(WeightQuantOptions options);
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& weight) { return quantize_weight(weight, options_); }
  const WeightQuantOptions& options() const { return options_; }

 private:
  WeightQuantOptions options_;
};
TORCH_MODULE(WeightQuantizer);

}  // namespace maqd
