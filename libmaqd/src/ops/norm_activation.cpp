#include "maqd/ops/norm_activation.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "maqd/error.h"
#include "ops/norm_activation_kernels.h"

namespace maqd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The batch statistics, per channel (equal across channels for LBN), in
// float64: mean, 1/√(σ² + eps) and the unbiased variance for the running
// estimate.
struct BatchStatistics {
  torch::Tensor mean, inv_std, unbiased_var;
  double count = 0;  // elements per statistic
};

BatchStatistics batch_statistics(const torch::Tensor& x, bool per_channel, double eps,
                                 const CrossProcessSum& sum_across_processes) {
  torch::Tensor plane_sum, plane_squares, shift;
  kernels::plane_moments(x, plane_sum, plane_squares, shift);
  const int64_t channels = x.size(1);
  // Σ (x − shift_c) and Σ (x − shift_c)² per channel.
  torch::Tensor s1 = plane_sum.view({-1, channels}).sum(0).to(torch::kDouble);
  torch::Tensor s2 = plane_squares.view({-1, channels}).sum(0).to(torch::kDouble);
  torch::Tensor k = shift.to(torch::kDouble);
  double per_channel_count = double(x.size(0) * x.size(2) * x.size(3));
  if (sum_across_processes) {
    // Each process has its own shifts: the sums are exchanged about zero
    // (Σx, Σx²), in float64, with the element count.
    torch::Tensor totals = torch::cat({s1 + k * per_channel_count,
                                       s2 + 2.0 * k * s1 + per_channel_count * k * k,
                                       torch::full({1}, per_channel_count, torch::kDouble)});
    sum_across_processes(totals);
    s1 = totals.slice(0, 0, channels);
    s2 = totals.slice(0, channels, 2 * channels);
    per_channel_count = totals[2 * channels].item<double>();
    k = torch::zeros_like(k);
  }
  BatchStatistics stats;
  torch::Tensor var;
  if (per_channel) {
    stats.count = per_channel_count;
    const torch::Tensor d = s1 / stats.count;  // mean − shift
    stats.mean = k + d;
    var = s2 / stats.count - d * d;
  } else {
    stats.count = per_channel_count * double(channels);
    const torch::Tensor mean = (s1 + k * per_channel_count).sum() / stats.count;
    // Σ (x − μ)² = Σ_c [S2_c + 2 (k_c − μ) S1_c + n_c (k_c − μ)²]
    const torch::Tensor offset = k - mean;
    var = (s2 + 2.0 * offset * s1 + per_channel_count * offset * offset).sum() / stats.count;
    stats.mean = mean.expand({channels}).contiguous();
    var = var.expand({channels}).contiguous();
  }
  var = var.clamp_min(0.0);
  stats.inv_std = torch::rsqrt(var + eps);
  stats.unbiased_var = stats.count > 1 ? var * (stats.count / (stats.count - 1)) : var;
  return stats;
}

kernels::ActivationSpec activation_spec(const std::optional<ActivationQuantOptions>& quant) {
  kernels::ActivationSpec spec;
  if (!quant) return spec;
  spec.levels = quant->levels;
  spec.ste = quant->surrogate == Surrogate::kSte;
  spec.inv_alpha = 1.0 / quant->alpha;
  spec.step = surrogate_step_factor(quant->surrogate, quant->levels);
  return spec;
}

// The cross-process sum, carried into the backward pass (saved_data holds
// IValues; a capsule holds any intrusive_ptr).
struct ProcessSum : torch::CustomClassHolder {
  explicit ProcessSum(CrossProcessSum f) : sum(std::move(f)) {}
  CrossProcessSum sum;
};

class NormActivationFunction : public torch::autograd::Function<NormActivationFunction> {
 public:
  // mean, inv_std: float64 [C]; the activation is described by the rest.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& mean, const torch::Tensor& inv_std,
                               double count, bool per_channel, int64_t levels, bool ste,
                               double inv_alpha, double step,
                               const c10::intrusive_ptr<ProcessSum>& sum_across_processes) {
    const kernels::ActivationSpec spec{levels, ste, inv_alpha, step};
    ctx->saved_data["count"] = count;
    if (sum_across_processes)
      ctx->saved_data["sum_across_processes"] = c10::IValue::make_capsule(sum_across_processes);
    const torch::Tensor scale = weight.to(torch::kDouble) * inv_std;
    const torch::Tensor shift = bias.to(torch::kDouble) - mean * scale;
    ctx->save_for_backward({x, weight, mean, inv_std, scale, shift});
    ctx->saved_data["per_channel"] = per_channel;
    ctx->saved_data["levels"] = levels;
    ctx->saved_data["ste"] = ste;
    ctx->saved_data["inv_alpha"] = inv_alpha;
    ctx->saved_data["step"] = step;
    return kernels::affine_activation_forward(x, scale, shift, spec);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &mean = saved[2], &inv_std = saved[3],
                        &scale = saved[4], &shift = saved[5];
    const kernels::ActivationSpec spec{ctx->saved_data["levels"].toInt(),
                                       ctx->saved_data["ste"].toBool(),
                                       ctx->saved_data["inv_alpha"].toDouble(),
                                       ctx->saved_data["step"].toDouble()};
    const bool per_channel = ctx->saved_data["per_channel"].toBool();
    const int64_t channels = x.size(1);

    torch::Tensor dq, plane_s1, plane_s2;
    kernels::activation_backward_first_pass(grads[0], x, scale, shift, mean, spec, dq, plane_s1,
                                            plane_s2);
    // S1_c = Σ dq, S2_c = Σ dq·(x − μ_c); with h = γ·dq and x̂ = (x − μ)·r:
    //   dβ_c = S1_c, dγ_c = r_c·S2_c,
    //   dx = r·(h − mean(h) − x̂·mean(h·x̂)), means over each statistic's elements,
    //      = scale_c·dq + k1_c·x + k0_c.
    const torch::Tensor s1 = plane_s1.view({-1, channels}).sum(0);
    const torch::Tensor s2 = plane_s2.view({-1, channels}).sum(0);
    const torch::Tensor gamma = weight.to(torch::kDouble);
    // Elements per statistic, over every process's batch.
    const double count = ctx->saved_data["count"].toDouble();
    // dγ and dβ stay this process's share (the gradient reducer averages
    // them with the other parameters'); dx needs the sums over all.
    torch::Tensor all_s1 = s1, all_s2 = s2;
    if (ctx->saved_data.count("sum_across_processes")) {
      torch::Tensor sums = torch::cat({s1, s2}).to(torch::kDouble);
      static_cast<ProcessSum*>(ctx->saved_data["sum_across_processes"].toCapsule().get())->sum(sums);
      all_s1 = sums.slice(0, 0, channels);
      all_s2 = sums.slice(0, channels, 2 * channels);
    }
    torch::Tensor mean_h = gamma * all_s1 / count;
    torch::Tensor mean_hx = gamma * all_s2 * inv_std / count;
    if (!per_channel) {
      mean_h = mean_h.sum().expand({channels});
      mean_hx = mean_hx.sum().expand({channels});
    }
    const torch::Tensor k1 = -inv_std * inv_std * mean_hx;
    const torch::Tensor k0 = -inv_std * mean_h - k1 * mean;
    kernels::affine_backward_second_pass(dq, x, scale, k1, k0);
    return {dq,
            (inv_std * s2).to(weight.scalar_type()),
            s1.to(weight.scalar_type()),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool norm_activation_supported(const torch::Tensor& x) {
  return x.dim() == 4 && x.device().is_cpu() && x.layout() == torch::kStrided &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
}

torch::Tensor norm_activation(const torch::Tensor& input, const torch::Tensor& weight,
                              const torch::Tensor& bias, torch::Tensor running_mean,
                              torch::Tensor running_var, const NormActivationOptions& options) {
  RECORD_FUNCTION("maqd::norm_activation", std::vector<c10::IValue>());
  check(norm_activation_supported(input), "norm_activation", "input is ", input.sizes(), " ",
        input.scalar_type(), " on ", input.device(),
        "; expected a 4-D float32/float64 CPU tensor [N, C, H, W]");
  check(input.size(1) == weight.numel() && weight.numel() == bias.numel(), "norm_activation",
        "input has ", input.size(1), " channels, weight ", weight.numel(), " and bias ",
        bias.numel(), " entries; expected the same number");
  check(input.numel() > 0, "norm_activation", "input ", input.sizes(), " is empty; expected ≥ 1 element");
  if (options.quant) validate(*options.quant);
  const torch::Tensor x = input.contiguous();
  BatchStatistics stats;
  {
    torch::NoGradGuard no_grad;
    stats = batch_statistics(x, options.per_channel, options.eps, options.sum_across_processes);
    const double m = options.momentum;
    const torch::Tensor mean = options.per_channel ? stats.mean : stats.mean[0];
    const torch::Tensor var = options.per_channel ? stats.unbiased_var : stats.unbiased_var[0];
    running_mean.mul_(1 - m).add_(mean.to(running_mean.scalar_type()) * m);
    running_var.mul_(1 - m).add_(var.to(running_var.scalar_type()) * m);
  }
  const kernels::ActivationSpec spec = activation_spec(options.quant);
  c10::intrusive_ptr<ProcessSum> process_sum;
  if (options.sum_across_processes)
    process_sum = c10::make_intrusive<ProcessSum>(options.sum_across_processes);
  return NormActivationFunction::apply(x, weight, bias, stats.mean, stats.inv_std, stats.count,
                                       options.per_channel, spec.levels, spec.ste, spec.inv_alpha,
                                       spec.step, process_sum);
}

std::pair<torch::Tensor, torch::Tensor> batch_mean_variance(const torch::Tensor& x, bool per_channel,
                                                            const CrossProcessSum& sum) {
  check(norm_activation_supported(x) && x.numel() > 0, "batch_mean_variance", "input is ",
        x.sizes(), " ", x.scalar_type(), " on ", x.device(),
        "; expected a non-empty 4-D float32/float64 CPU tensor [N, C, H, W]");
  torch::NoGradGuard no_grad;
  const BatchStatistics stats = batch_statistics(x.contiguous(), per_channel, 0.0, sum);
  const torch::Tensor var = stats.count > 1 ? stats.unbiased_var * ((stats.count - 1) / stats.count)
                                            : stats.unbiased_var;
  return {stats.mean, var};
}

}  // namespace maqd
