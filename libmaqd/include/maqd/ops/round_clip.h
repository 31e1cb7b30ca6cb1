// The scaled round-clip function of Eq. 6:
//   Q(z, Δ, a, b) = clamp(ROUND(Δ·z) / Δ, a, b),
// ROUND = round half to even, the same rounding as export and the runtime.
// Backward is the clipped straight-through estimator: dQ/dz = 1 for a < z < b,
// 0 elsewhere. The weight and activation quantizers are built on the same
// fused kernel but carry their own surrogate gradients.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/types.h>

namespace maqd {

struct RoundClipOptions {
  double delta = 1.0;  // Δ: finite and > 0
  double lo = 0.0;     // a: finite
  double hi = 1.0;     // b: finite and > a
};

// Validates the options; throws maqd::Error naming "round_clip" and the parameter.
void validate(const RoundClipOptions& options);

// Q(z, Δ, a, b), differentiable (clipped STE) on CPU and CUDA tensors.
torch::Tensor round_clip(const torch::Tensor& z, const RoundClipOptions& options);

class RoundClipImpl : public torch::nn::Cloneable<RoundClipImpl> {
 public:
  explicit RoundClipImpl(RoundClipOptions options);
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& z) { return round_clip(z, options_); }
  const RoundClipOptions& options() const { return options_; }

 private:
  RoundClipOptions options_;
};
TORCH_MODULE(RoundClip);

}  // namespace maqd
