// A MaQD network built from the architecture notation (maqd/nn/arch.h):
//   xCk (hidden)  Conv(WS, Q_w) → Norm → Activation                 (VGG, CNN9)
//   xBy           pre-activation residual block, xB_y = xS_y + xF_y (Eq. 16–17):
//                   xS_y = NORM-ACT-xC3-NORM-ACT-xC3-NORM   ("branch")
//                   xF_y = NORM-ACT-xC1-NORM                ("shortcut")
//                 y = 2: a 2×2 AP on the block input before both branches,
//                 skipped when the input is already 1 pixel high or wide.
//   AP            avg_pool2d(2), floor (7×7 → 3×3)
//   GAP           mean over H, W
//   last xCk      the output layer: float Conv with bias, no WS, no Q_w, no
//                 norm or activation; out channels = num_classes whatever x is.
// Hidden channel counts are max(1, round(x·width)). forward() returns the
// logits [N, num_classes]; the arch must end at a 1×1 feature map (GAP).
//
// Shapes: input [N, in_channels, image_height, image_width] (float).
//
// Module names (checkpoints are saved by name): hidden convs "conv<i>",
// "norm<i>", "act<i>" (i counts hidden convs from 1); blocks "block<j>" with
// "block<j>.branch.{norm1,act1,conv1,norm2,act2,conv2,norm3}" and
// "block<j>.shortcut.{norm1,act1,conv1,norm2}"; the output layer "output".
// Pools have no parameters and are not modules (layers() names them "pool<i>",
// "gap<i>").
//
// Forward order (hidden_convs(), activations(), the activation hook): the
// layers in arch order; inside a block the branch before the shortcut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/types.h>

#include "maqd/nn/activation.h"
#include "maqd/nn/arch.h"
#include "maqd/nn/conv.h"
#include "maqd/nn/normalization.h"
#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/weight_quantizer.h"

namespace maqd {

struct NetworkOptions {
  std::string arch = "vgg";  // a preset name (arch_presets()) or a notation string
  double width = 1.0;        // channel multiplier of every hidden layer: finite, > 0
  int64_t in_channels = 3;   // of the data set's images
  int64_t num_classes = 10;  // of the data set: the output layer's channels
  int64_t image_height = 32, image_width = 32;
  NormKind norm = NormKind::kLayerBatch;
  bool weight_standardization = true;           // on every hidden conv
  std::optional<WeightQuantOptions> weight_quant;  // nullopt: float hidden convs
  std::optional<ActivationQuantOptions> act_quant;  // nullopt: ReLU
};

// Throws maqd::Error naming "network", the field, its value and what is allowed.
void validate(const NetworkOptions& options);

// max(1, round(x·width)): the channel count of a hidden layer written x.
int64_t scaled_channels(int64_t channels, double width);

// Called with each Activation's output (index in forward order from 0).
using ActivationHook = std::function<void(size_t activation_index, const torch::Tensor& output)>;
// Called with each Activation's output inside a block, in forward order.
using ActivationObserver = std::function<void(const torch::Tensor& output)>;

// What every hidden layer of a network shares.
struct HiddenLayerOptions {
  NormKind norm = NormKind::kLayerBatch;
  bool weight_standardization = true;
  std::optional<WeightQuantOptions> weight_quant;
  std::optional<ActivationQuantOptions> act_quant;
};

// One pre-activation path of a residual block: (NORM → ACT → conv) for each
// kernel size, then a final NORM. Modules "norm<i>", "act<i>", "conv<i>"
// (i from 1) and "norm<n+1>". All at one spatial size (stride 1).
struct PreActPathOptions {
  int64_t in_channels = 0, out_channels = 0;
  std::vector<int64_t> kernel_sizes;  // {3, 3}: branch xS; {1}: shortcut xF
  int64_t height = 0, width = 0;      // the feature map (LN's affine needs it)
  HiddenLayerOptions layer;
};

class PreActPathImpl : public torch::nn::Cloneable<PreActPathImpl> {
 public:
  explicit PreActPathImpl(PreActPathOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& input, const ActivationObserver& observe = {});

  const PreActPathOptions& options() const { return options_; }
  const std::vector<Norm>& norms() const { return norms_; }              // n + 1
  const std::vector<Activation>& activations() const { return acts_; }  // n
  const std::vector<Conv>& convs() const { return convs_; }             // n

 private:
  PreActPathOptions options_;
  std::vector<Norm> norms_;
  std::vector<Activation> acts_;
  std::vector<Conv> convs_;
};
TORCH_MODULE(PreActPath);

struct ResidualBlockOptions {
  int64_t in_channels = 0, out_channels = 0;
  int64_t stride = 1;                    // 1 or 2 (2×2 AP on the input)
  int64_t in_height = 0, in_width = 0;   // before the stride's AP
  HiddenLayerOptions layer;
};

// xB_y = xS_y + xF_y on the (pooled) block input.
class ResidualBlockImpl : public torch::nn::Cloneable<ResidualBlockImpl> {
 public:
  explicit ResidualBlockImpl(ResidualBlockOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& input, const ActivationObserver& observe = {});

  const ResidualBlockOptions& options() const { return options_; }
  // Whether the stride-2 AP is applied: stride 2 and an input at least 2×2.
  bool pools() const { return pools_; }
  int64_t out_height() const { return out_height_; }
  int64_t out_width() const { return out_width_; }
  const PreActPath& branch() const { return branch_; }      // xS: convs 3×3, 3×3
  const PreActPath& shortcut() const { return shortcut_; }  // xF: conv 1×1

 private:
  ResidualBlockOptions options_;
  bool pools_ = false;
  int64_t out_height_ = 0, out_width_ = 0;
  PreActPath branch_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(ResidualBlock);

// One layer of the network, for metrics, export and `maqd info`.
struct LayerInfo {
  std::string name;  // "conv3", "block2", "pool1", "gap1", "output"
  ArchLayerKind kind = ArchLayerKind::kConv;
  bool is_output = false;
  std::string token;         // the arch token it came from, e.g. "64C3"
  int64_t in_channels = 0, out_channels = 0;  // after the width multiplier
  int64_t kernel_size = 0;   // conv: k; block: 3 (branch; its shortcut is 1×1); AP: 2; GAP: 0
  int64_t stride = 1;        // block: y
  bool pools = false;        // AP: true; block: its stride-2 AP is applied
  int64_t in_height = 0, in_width = 0, out_height = 0, out_width = 0;
  Conv conv{nullptr};               // hidden conv and output layer
  Norm norm{nullptr};               // hidden conv
  Activation activation{nullptr};   // hidden conv
  ResidualBlock block{nullptr};     // block
};

struct NamedConv {
  std::string name;  // module path, e.g. "conv3", "block2.shortcut.conv1"
  Conv conv;
};
struct NamedActivation {
  std::string name;  // module path, e.g. "act3", "block2.branch.act1"
  Activation activation;
};

class NetworkImpl : public torch::nn::Cloneable<NetworkImpl> {
 public:
  explicit NetworkImpl(NetworkOptions options = {});
  void reset() override;
  // x [N, in_channels, image_height, image_width] → logits [N, num_classes].
  torch::Tensor forward(const torch::Tensor& x);

  const NetworkOptions& options() const { return options_; }
  const std::string& arch_notation() const { return notation_; }  // the preset resolved
  const std::vector<ArchLayer>& arch_layers() const { return arch_; }
  std::vector<LayerInfo> layers() const { return layers_; }

  // Every conv but the output layer, in forward order: the quantized ones
  // when options().weight_quant is set.
  std::vector<NamedConv> hidden_convs() const;
  // hidden_convs() when weight_quant is set, else empty.
  std::vector<NamedConv> quantized_convs() const;
  // Every Activation (Q_a or ReLU), in forward order: hook indices index it.
  std::vector<NamedActivation> activations() const;
  const Conv& output_conv() const { return output_; }
  // ConvImpl::set_compute_dtype on every conv (--precision bf16 in
  // training); the folded evaluation path computes in float32 regardless.
  void set_conv_compute_dtype(torch::ScalarType dtype);

  // When set, forward() calls hook(i, output) with the output of the i-th
  // Activation, in forward order, in training and evaluation alike. clone()
  // and reset() drop the hook.
  void set_activation_hook(ActivationHook hook) { hook_ = std::move(hook); }
  void clear_activation_hook() { hook_ = nullptr; }

  // Inference with each plain layer's conv → LBN/BN folded into one conv
  // (weights × scale_c, bias shift_c, computed once here from the current
  // weights and running statistics, as export folds them), so evaluation
  // makes one pass over each feature map instead of three. Used by forward()
  // in evaluation mode until unfold_normalization() or the next call;
  // residual blocks and LN layers are not folded. Numerically the folded
  // conv rounds differently in float32, so a code may differ where a value
  // lies within float32 rounding of a threshold.
  void fold_normalization();
  void unfold_normalization() { folded_.clear(); }

 private:
  NetworkOptions options_;
  std::string notation_;
  std::vector<ArchLayer> arch_;
  std::vector<LayerInfo> layers_;
  Conv output_{nullptr};
  ActivationHook hook_;
  struct FoldedConv {
    torch::Tensor weight, bias;
  };
  std::vector<FoldedConv> folded_;  // per layers_ entry; empty: not folded
};
TORCH_MODULE(Network);

}  // namespace maqd
