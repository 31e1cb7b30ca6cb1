#include "maqd/ops/round_clip.h"

#include <cmath>

#include <torch/autograd.h>

#include "maqd/error.h"
#include "maqd/ops/composed.h"
#include "ops/quant_kernels.h"

namespace maqd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class RoundClipFunction : public torch::autograd::Function<RoundClipFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& z, double delta,
                               double lo, double hi) {
    ctx->save_for_backward({z});
    ctx->saved_data["lo"] = lo;
    ctx->saved_data["hi"] = hi;
    return kernels::round_clip_forward(z, 1.0, delta, lo, hi);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor z = ctx->get_saved_variables()[0];
    const double lo = ctx->saved_data["lo"].toDouble();
    const double hi = ctx->saved_data["hi"].toDouble();
    return {kernels::clipped_ste_backward(grads[0], z, 1.0, lo, hi, 1.0), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void validate(const RoundClipOptions& o) {
  check(std::isfinite(o.delta) && o.delta > 0, "round_clip", "parameter delta (Δ) is ", o.delta,
        "; allowed: a finite number > 0");
  check(std::isfinite(o.lo), "round_clip", "parameter lo (a) is ", o.lo,
        "; allowed: a finite number");
  check(std::isfinite(o.hi) && o.hi > o.lo, "round_clip", "parameter hi (b) is ", o.hi,
        "; allowed: a finite number > lo (", o.lo, ")");
}

torch::Tensor round_clip(const torch::Tensor& z, const RoundClipOptions& options) {
  validate(options);
  if (!kernels::fused_supported(z)) return composed::round_clip(z, options);
  return RoundClipFunction::apply(z, options.delta, options.lo, options.hi);
}

RoundClipImpl::RoundClipImpl(RoundClipOptions options) : options_(options) { validate(options_); }

}  // namespace maqd
