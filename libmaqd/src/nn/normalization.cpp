#include "maqd/nn/normalization.h"

#include <cmath>

#include "maqd/error.h"
#include "maqd/ops/norm_activation.h"

namespace maqd {
namespace {

void check_input(const torch::Tensor& x, int64_t channels, const char* op) {
  check(x.dim() == 4 && x.size(1) == channels, op, "input has shape ", x.sizes(),
        "; expected [N, ", channels, ", H, W]");
}

torch::Tensor per_channel(const torch::Tensor& v) { return v.view({1, -1, 1, 1}); }

}  // namespace

std::string to_string(NormKind kind) {
  switch (kind) {
    case NormKind::kLayerBatch: return "lbn";
    case NormKind::kBatch: return "bn";
    case NormKind::kLayer: return "ln";
  }
  return "?";
}

NormKind parse_norm_kind(const std::string& text) {
  if (text == "lbn") return NormKind::kLayerBatch;
  if (text == "bn") return NormKind::kBatch;
  if (text == "ln") return NormKind::kLayer;
  throw Error("normalization: kind '" + text + "' is not known; allowed: lbn, bn, ln");
}

LayerBatchNormImpl::LayerBatchNormImpl(int64_t channels_, double eps_, double momentum_)
    : channels(channels_), eps(eps_), momentum(momentum_) {
  check(channels > 0, "layer_batch_norm", "parameter channels is ", channels,
        "; allowed: an integer > 0");
  check(std::isfinite(eps) && eps > 0, "layer_batch_norm", "parameter eps is ", eps,
        "; allowed: a finite number > 0");
  check(std::isfinite(momentum) && momentum >= 0 && momentum <= 1, "layer_batch_norm",
        "parameter momentum is ", momentum, "; allowed: a number in [0, 1]");
  reset();
}

void LayerBatchNormImpl::reset() {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({}));
  running_var = register_buffer("running_var", torch::ones({}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

torch::Tensor LayerBatchNormImpl::forward(const torch::Tensor& x) {
  check_input(x, channels, "layer_batch_norm");
  torch::Tensor mean, var;
  if (is_training()) {
    // One mean and one biased variance over N, C, H, W (Eq. 5).
    std::tie(var, mean) = torch::var_mean(x, /*unbiased=*/false);
    torch::NoGradGuard no_grad;
    const double n = double(x.numel());
    const torch::Tensor unbiased = n > 1 ? var * (n / (n - 1)) : var;
    running_mean.mul_(1 - momentum).add_(mean.detach().to(running_mean.dtype()) * momentum);
    running_var.mul_(1 - momentum).add_(unbiased.detach().to(running_var.dtype()) * momentum);
    num_batches_tracked.add_(1);
  } else {
    mean = running_mean;
    var = running_var;
  }
  // y = g_c·(x − μ)/σ + b_c folded into one scale and shift per channel.
  const torch::Tensor scale = weight * torch::rsqrt(var + eps);
  const torch::Tensor shift = bias - mean * scale;
  return torch::addcmul(per_channel(shift), x, per_channel(scale));
}

NormImpl::NormImpl(NormOptions options) : options_(options) {
  check(options_.channels > 0, "normalization", "parameter channels is ", options_.channels,
        "; allowed: an integer > 0");
  if (options_.kind == NormKind::kLayer)
    check(options_.height > 0 && options_.width > 0, "normalization",
          "LN needs the feature map's height and width for its per-coordinate affine; got ",
          options_.height, "×", options_.width, "; allowed: both > 0");
  reset();
}

void NormImpl::reset() {
  switch (options_.kind) {
    case NormKind::kLayerBatch:
      lbn_ = register_module("lbn", LayerBatchNorm(options_.channels, options_.eps, options_.momentum));
      break;
    case NormKind::kBatch:
      bn_ = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(options_.channels)
                                                             .eps(options_.eps)
                                                             .momentum(options_.momentum)));
      break;
    case NormKind::kLayer:
      ln_ = register_module(
          "ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions(
                                         {options_.channels, options_.height, options_.width})
                                         .eps(options_.eps)
                                         .elementwise_affine(true)));
      break;
  }
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  switch (options_.kind) {
    case NormKind::kLayerBatch: return lbn_->forward(x);
    case NormKind::kBatch:
      check_input(x, options_.channels, "batch_norm");
      return bn_->forward(x);
    case NormKind::kLayer:
      check(x.dim() == 4 && x.size(1) == options_.channels && x.size(2) == options_.height &&
                x.size(3) == options_.width,
            "layer_norm", "input has shape ", x.sizes(), "; expected [N, ", options_.channels,
            ", ", options_.height, ", ", options_.width, "]");
      return ln_->forward(x);
  }
  return x;
}

torch::Tensor NormImpl::forward_activated(const torch::Tensor& x,
                                         const std::optional<ActivationQuantOptions>& quant) {
  if (center_shift_pending_ && options_.kind == NormKind::kLayerBatch && is_training()) {
    check_input(x, options_.channels, "layer_batch_norm");
    torch::NoGradGuard no_grad;
    torch::Tensor mean, var, channel_mean;
    if (sum_across_processes_) {
      // Every process sets the same shifts, from all processes' first batch.
      std::tie(mean, var) = batch_mean_variance(x, /*per_channel=*/false, sum_across_processes_);
      channel_mean = batch_mean_variance(x, /*per_channel=*/true, sum_across_processes_).first;
      mean = mean[0];
      var = var[0];
    } else {
      std::tie(var, mean) = torch::var_mean(x, /*unbiased=*/false);
      channel_mean = x.mean({0, 2, 3});
    }
    const torch::Tensor shift = -lbn_->weight * (channel_mean - mean) * torch::rsqrt(var + lbn_->eps);
    lbn_->bias.copy_(shift.to(lbn_->bias.scalar_type()));
    center_shift_pending_ = false;
  }
  const bool fusable = is_training() && options_.kind != NormKind::kLayer &&
                       norm_activation_supported(x) && x.size(1) == options_.channels;
  check(fusable || !sum_across_processes_ || !is_training() || options_.kind == NormKind::kLayer,
        "normalization", "statistics summed across processes need the fused CPU op; the input is ",
        x.sizes(), " ", x.scalar_type(), " on ", x.device(),
        "; expected a 4-D float CPU tensor (or --sync-norm off)");
  if (!fusable) {
    const torch::Tensor y = forward(x);
    return quant ? quantize_activation(y, *quant) : torch::relu(y);
  }
  NormActivationOptions fused;
  fused.eps = options_.eps;
  fused.momentum = options_.momentum;
  fused.quant = quant;
  fused.sum_across_processes = sum_across_processes_;
  if (options_.kind == NormKind::kLayerBatch) {
    const torch::Tensor y = norm_activation(x, lbn_->weight, lbn_->bias, lbn_->running_mean,
                                            lbn_->running_var, fused);
    lbn_->num_batches_tracked.add_(1);
    return y;
  }
  fused.per_channel = true;
  const torch::Tensor y =
      norm_activation(x, bn_->weight, bn_->bias, bn_->running_mean, bn_->running_var, fused);
  bn_->num_batches_tracked.add_(1);
  return y;
}

std::pair<torch::Tensor, torch::Tensor> NormImpl::eval_affine() const {
  torch::NoGradGuard no_grad;
  torch::Tensor scale, shift;
  switch (options_.kind) {
    case NormKind::kLayerBatch:
      scale = lbn_->weight * torch::rsqrt(lbn_->running_var + lbn_->eps);
      shift = lbn_->bias - lbn_->running_mean * scale;
      break;
    case NormKind::kBatch:
      scale = bn_->weight * torch::rsqrt(bn_->running_var + options_.eps);
      shift = bn_->bias - bn_->running_mean * scale;
      break;
    case NormKind::kLayer:
      throw Error("normalization: LN has per-sample statistics and does not fold into a "
                  "per-channel affine map; export needs lbn or bn");
  }
  return {scale, shift};
}

}  // namespace maqd
