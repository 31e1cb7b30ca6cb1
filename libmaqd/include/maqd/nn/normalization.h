// The three normalizations behind one module, applied to conv outputs before
// the activation (NCHW input):
//   kLayerBatch (LBN, Eq. 5): one mean and one biased variance over N, C, H, W
//     of the batch; per-channel affine g_c, b_c; running mean and (unbiased)
//     variance with momentum 0.1, used in evaluation, so it folds like BN.
//   kBatch (BN, Eq. 2): torch::nn::BatchNorm2d.
//   kLayer (LN, Eq. 3): per sample over C, H, W, affine per (c, h, w).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/norm_activation.h"

namespace maqd {

enum class NormKind { kLayerBatch, kBatch, kLayer };

std::string to_string(NormKind kind);         // "lbn" | "bn" | "ln"
NormKind parse_norm_kind(const std::string&);  // inverse; throws maqd::Error

struct NormOptions {
  NormKind kind = NormKind::kLayerBatch;
  int64_t channels = 0;  // C > 0
  int64_t height = 0;    // H, W: needed by LN's per-coordinate affine only
  int64_t width = 0;
  double eps = 1e-5;
  double momentum = 0.1;  // running statistics (LBN, BN)
};

// Layer-Batch Normalization (Eq. 5).
class LayerBatchNormImpl : public torch::nn::Cloneable<LayerBatchNormImpl> {
 public:
  LayerBatchNormImpl(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& input);

  // Per-channel affine g_c (weight), b_c (bias); scalar running statistics.
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  int64_t channels;
  double eps, momentum;
};
TORCH_MODULE(LayerBatchNorm);

// One interface over LBN, BN and LN.
class NormImpl : public torch::nn::Cloneable<NormImpl> {
 public:
  explicit NormImpl(NormOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& input);
  // forward, then the activation (Q_a with `quant`, ReLU without), as one
  // fused op (ops/norm_activation.h) where it can be: LBN or BN in training
  // mode on a CPU float tensor; elsewhere the two ops one after the other.
  torch::Tensor forward_activated(const torch::Tensor& input,
                                  const std::optional<ActivationQuantOptions>& quant);
  const NormOptions& options() const { return options_; }

  // LBN only: on the next training batch through forward_activated, set
  // each channel's shift b_c so that its pre-activation starts centred,
  //   b_c = −g_c·(μ_c − μ)/σ   (μ_c the channel's mean, μ and σ the layer's),
  // as BN's per-channel statistics would centre it. A ternary filter's
  // codes do not sum to zero, so its channel's mean is offset by that sum
  // times the (non-negative) input's mean; with one statistic for the whole
  // layer those offsets can dominate the variance and leave channels in the
  // quantizer's flat regions (docs/method.md, "LBN's shift at the start").
  void center_shift_on_next_batch() { center_shift_pending_ = true; }

  // Data-parallel training (--sync-norm): LBN's and BN's batch statistics
  // in training mode become those of every process's batch together
  // (NormActivationOptions::sum_across_processes); LN has none to share.
  void sum_statistics_across_processes(CrossProcessSum sum) { sum_across_processes_ = std::move(sum); }

  // The affine map y = scale_c·x + shift_c that the module applies in
  // evaluation mode, per channel (LBN, BN). Throws for LN, whose statistics
  // depend on the sample. Used by export to fold the normalization.
  std::pair<torch::Tensor, torch::Tensor> eval_affine() const;

 private:
  NormOptions options_;
  bool center_shift_pending_ = false;
  CrossProcessSum sum_across_processes_;
  LayerBatchNorm lbn_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::LayerNorm ln_{nullptr};
};
TORCH_MODULE(Norm);

}  // namespace maqd
