#include "maqd/ops/composed.h"

#include "maqd/ops/weight_quantizer.h"

namespace maqd::composed {
namespace {

// Forward value `value`, gradient `surrogate_grad · upstream`: the value is
// detached and the gradient flows through x·g with g held constant.
torch::Tensor with_surrogate(const torch::Tensor& value, const torch::Tensor& x,
                             const torch::Tensor& surrogate_grad) {
  return value.detach() + (x - x.detach()) * surrogate_grad.detach();
}

torch::Tensor scaled_round_clip(const torch::Tensor& z, double delta, double lo, double hi) {
  return torch::clamp(torch::round(z * delta) / delta, lo, hi);
}

torch::Tensor inside(const torch::Tensor& z, double lo, double hi) {
  return torch::logical_and(z > lo, z < hi).to(z.scalar_type());
}

}  // namespace

torch::Tensor round_clip(const torch::Tensor& z, const RoundClipOptions& o) {
  validate(o);
  return with_surrogate(scaled_round_clip(z, o.delta, o.lo, o.hi), z, inside(z, o.lo, o.hi));
}

torch::Tensor quantize_standardized_weight(const torch::Tensor& w, const WeightQuantOptions& o) {
  const double delta = weight_delta(o);
  const torch::Tensor z = w * o.scale;
  return with_surrogate(scaled_round_clip(z, delta, -1.0, 1.0), w, inside(z, -1.0, 1.0));
}

torch::Tensor quantize_activation(const torch::Tensor& a, const ActivationQuantOptions& o) {
  validate(o);
  const torch::Tensor value = scaled_round_clip(a, double(o.levels - 1), 0.0, 1.0);
  if (o.surrogate == Surrogate::kSte) return with_surrogate(value, a, inside(a, 0.0, 1.0));
  torch::Tensor slope_sum = torch::zeros_like(a);
  for (int64_t m = 1; m < o.levels; ++m) {
    const torch::Tensor sig = torch::sigmoid((a - (double(m) - 0.5) / double(o.levels - 1)) / o.alpha);
    slope_sum = slope_sum + sig * (1 - sig) / o.alpha;
  }
  if (o.surrogate == Surrogate::kSigmoid) slope_sum = slope_sum / double(o.levels - 1);
  return with_surrogate(value, a, slope_sum);
}

}  // namespace maqd::composed
