// Builds a network from its parsed notation, tracking channels and the
// feature map's size layer by layer (LN's per-coordinate affine needs it, and
// a stride-2 block skips its AP at 1 pixel).
#include "maqd/nn/network.h"

#include <cmath>
#include <utility>

#include "maqd/error.h"
#include "maqd/ops/avg_pool.h"

namespace maqd {
namespace {

// The denominator d of a quantized activation's values m / d (0: float).
int64_t activation_grid(const HiddenLayerOptions& layer) {
  return layer.act_quant ? layer.act_quant->levels - 1 : 0;
}

ConvOptions hidden_conv(int64_t in, int64_t out, int64_t kernel, const HiddenLayerOptions& layer,
                        int64_t input_grid) {
  ConvOptions conv;
  conv.input_code_denominator = input_grid;
  conv.in_channels = in;
  conv.out_channels = out;
  conv.kernel_size = kernel;
  conv.stride = 1;
  conv.padding = kernel / 2;
  conv.weight_standardization = layer.weight_standardization;
  conv.quant = layer.weight_quant;
  conv.bias = false;
  return conv;
}

NormOptions norm_options(NormKind kind, int64_t channels, int64_t height, int64_t width) {
  NormOptions norm;
  norm.kind = kind;
  norm.channels = channels;
  norm.height = height;
  norm.width = width;
  return norm;
}

std::string size_text(int64_t height, int64_t width) {
  return std::to_string(height) + "×" + std::to_string(width);
}

}  // namespace

void validate(const NetworkOptions& o) {
  check(std::isfinite(o.width) && o.width > 0, "network", "field width is ", o.width,
        "; allowed: a finite number > 0");
  check(o.in_channels > 0, "network", "field in_channels is ", o.in_channels,
        "; allowed: an integer > 0");
  check(o.num_classes > 0, "network", "field num_classes is ", o.num_classes,
        "; allowed: an integer > 0");
  check(o.image_height > 0 && o.image_width > 0, "network", "fields image_height, image_width are ",
        o.image_height, ", ", o.image_width, "; allowed: integers > 0");
  if (o.weight_quant) validate(*o.weight_quant);
  if (o.act_quant) validate(*o.act_quant);
}

int64_t scaled_channels(int64_t channels, double width) {
  const double scaled = std::round(double(channels) * width);
  return scaled < 1 ? 1 : int64_t(scaled);
}

// ---------------------------------------------------------------------------
// PreActPath

PreActPathImpl::PreActPathImpl(PreActPathOptions options) : options_(std::move(options)) {
  check(!options_.kernel_sizes.empty(), "pre_act_path", "field kernel_sizes is empty; allowed: ≥ 1 conv");
  reset();
}

void PreActPathImpl::reset() {
  norms_.clear();
  acts_.clear();
  convs_.clear();
  const PreActPathOptions& o = options_;
  int64_t channels = o.in_channels;
  for (size_t i = 0; i < o.kernel_sizes.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    norms_.push_back(register_module("norm" + n, Norm(norm_options(o.layer.norm, channels, o.height, o.width))));
    acts_.push_back(register_module("act" + n, Activation(o.layer.act_quant)));
    convs_.push_back(register_module(
        "conv" + n, Conv(hidden_conv(channels, o.out_channels, o.kernel_sizes[i], o.layer,
                                     activation_grid(o.layer)))));
    channels = o.out_channels;
  }
  norms_.push_back(register_module("norm" + std::to_string(o.kernel_sizes.size() + 1),
                                   Norm(norm_options(o.layer.norm, channels, o.height, o.width))));
}

torch::Tensor PreActPathImpl::forward(const torch::Tensor& input, const ActivationObserver& observe) {
  torch::Tensor x = input;
  for (size_t i = 0; i < convs_.size(); ++i) {
    x = norms_[i]->forward_activated(x, acts_[i]->quant());
    if (observe) observe(x);
    x = convs_[i]->forward(x);
  }
  return norms_.back()->forward(x);
}

// ---------------------------------------------------------------------------
// ResidualBlock

ResidualBlockImpl::ResidualBlockImpl(ResidualBlockOptions options) : options_(std::move(options)) {
  check(options_.stride == 1 || options_.stride == 2, "residual_block", "field stride is ",
        options_.stride, "; allowed: 1 or 2");
  check(options_.in_height > 0 && options_.in_width > 0, "residual_block",
        "fields in_height, in_width are ", options_.in_height, ", ", options_.in_width,
        "; allowed: integers > 0");
  reset();
}

void ResidualBlockImpl::reset() {
  const ResidualBlockOptions& o = options_;
  // At 1 pixel high or wide a 2×2 AP would leave nothing: the stride is skipped.
  pools_ = o.stride == 2 && o.in_height >= 2 && o.in_width >= 2;
  out_height_ = pools_ ? o.in_height / 2 : o.in_height;
  out_width_ = pools_ ? o.in_width / 2 : o.in_width;
  PreActPathOptions path;
  path.in_channels = o.in_channels;
  path.out_channels = o.out_channels;
  path.height = out_height_;
  path.width = out_width_;
  path.layer = o.layer;
  path.kernel_sizes = {3, 3};
  branch_ = register_module("branch", PreActPath(path));
  path.kernel_sizes = {1};
  shortcut_ = register_module("shortcut", PreActPath(path));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& input, const ActivationObserver& observe) {
  const torch::Tensor x = pools_ ? avg_pool_2x2(input) : input;
  torch::Tensor s = branch_->forward(x, observe);
  return s + shortcut_->forward(x, observe);
}

// ---------------------------------------------------------------------------
// Network

NetworkImpl::NetworkImpl(NetworkOptions options) : options_(std::move(options)) {
  validate(options_);
  notation_ = resolve_arch(options_.arch);
  arch_ = parse_arch(notation_);
  reset();
}

// The accessors walk the layers on every call instead of caching the modules
// inside blocks: Cloneable::clone() replaces a block's submodules by new
// objects, and only the network's direct children keep their identity.
std::vector<NamedConv> NetworkImpl::hidden_convs() const {
  std::vector<NamedConv> convs;
  for (const LayerInfo& layer : layers_) {
    if (layer.kind == ArchLayerKind::kConv && !layer.is_output) convs.push_back({layer.name, layer.conv});
    if (layer.kind != ArchLayerKind::kResidualBlock) continue;
    for (const auto& [path, prefix] : {std::pair{layer.block->branch(), ".branch.conv"},
                                       std::pair{layer.block->shortcut(), ".shortcut.conv"}})
      for (size_t i = 0; i < path->convs().size(); ++i)
        convs.push_back({layer.name + prefix + std::to_string(i + 1), path->convs()[i]});
  }
  return convs;
}

void NetworkImpl::set_conv_compute_dtype(torch::ScalarType dtype) {
  for (NamedConv c : hidden_convs()) c.conv->set_compute_dtype(dtype);
  output_->set_compute_dtype(dtype);
}

std::vector<NamedConv> NetworkImpl::quantized_convs() const {
  return options_.weight_quant ? hidden_convs() : std::vector<NamedConv>{};
}

std::vector<NamedActivation> NetworkImpl::activations() const {
  std::vector<NamedActivation> acts;
  for (const LayerInfo& layer : layers_) {
    if (layer.kind == ArchLayerKind::kConv && !layer.is_output)
      acts.push_back({"act" + layer.name.substr(4), layer.activation});
    if (layer.kind != ArchLayerKind::kResidualBlock) continue;
    for (const auto& [path, prefix] : {std::pair{layer.block->branch(), ".branch.act"},
                                       std::pair{layer.block->shortcut(), ".shortcut.act"}})
      for (size_t i = 0; i < path->activations().size(); ++i)
        acts.push_back({layer.name + prefix + std::to_string(i + 1), path->activations()[i]});
  }
  return acts;
}

void NetworkImpl::reset() {
  layers_.clear();
  output_ = nullptr;
  hook_ = nullptr;  // a clone does not report to its original's observer

  const NetworkOptions& o = options_;
  HiddenLayerOptions hidden;
  hidden.norm = o.norm;
  hidden.weight_standardization = o.weight_standardization;
  hidden.weight_quant = o.weight_quant;
  hidden.act_quant = o.act_quant;

  // Where a layer fails to fit, the message names the arch, the token and its position.
  auto fail = [&](const ArchLayer& layer, const std::string& what) {
    throw Error("network: arch \"" + notation_ + "\": at position " + std::to_string(layer.position) +
                ", token '" + layer.token + "': " + what);
  };

  int64_t channels = o.in_channels, height = o.image_height, width = o.image_width;
  // The grid of the values entering the next layer: the image is float, an
  // activation's values are m / (M_a − 1), a 2×2 average of them m / 4(M_a − 1).
  int64_t grid = 0;
  int n_conv = 0, n_block = 0, n_pool = 0, n_gap = 0;
  for (const ArchLayer& a : arch_) {
    LayerInfo info;
    info.kind = a.kind;
    info.is_output = a.is_output;
    info.token = a.token;
    info.in_channels = channels;
    info.in_height = height;
    info.in_width = width;
    info.stride = a.stride;
    switch (a.kind) {
      case ArchLayerKind::kConv:
        info.kernel_size = a.kernel_size;
        if (a.is_output) {
          ConvOptions conv;
          conv.in_channels = channels;
          conv.out_channels = o.num_classes;
          conv.kernel_size = a.kernel_size;
          conv.padding = a.kernel_size / 2;
          conv.weight_standardization = false;
          conv.quant = std::nullopt;
          conv.bias = true;
          info.name = "output";
          output_ = register_module("output", Conv(conv));
          info.conv = output_;
          channels = o.num_classes;
        } else {
          const std::string n = std::to_string(++n_conv);
          const int64_t out = scaled_channels(a.channels, o.width);
          info.name = "conv" + n;
          info.conv = register_module("conv" + n,
                                      Conv(hidden_conv(channels, out, a.kernel_size, hidden, grid)));
          info.norm = register_module("norm" + n, Norm(norm_options(o.norm, out, height, width)));
          info.activation = register_module("act" + n, Activation(o.act_quant));
          channels = out;
          grid = activation_grid(hidden);
        }
        break;
      case ArchLayerKind::kAvgPool:
        if (height < 2 || width < 2)
          fail(a, "a 2×2 average pooling needs a feature map of at least 2×2, but it is " +
                      size_text(height, width) + " here");
        info.name = "pool" + std::to_string(++n_pool);
        info.kernel_size = 2;
        info.pools = true;
        grid *= 4;
        height /= 2;
        width /= 2;
        break;
      case ArchLayerKind::kGlobalAvgPool:
        info.name = "gap" + std::to_string(++n_gap);
        height = width = 1;
        grid = 0;
        break;
      case ArchLayerKind::kResidualBlock: {
        const std::string name = "block" + std::to_string(++n_block);
        ResidualBlockOptions block;
        block.in_channels = channels;
        block.out_channels = scaled_channels(a.channels, o.width);
        block.stride = a.stride;
        block.in_height = height;
        block.in_width = width;
        block.layer = hidden;
        info.name = name;
        info.kernel_size = 3;
        info.block = register_module(name, ResidualBlock(block));
        info.pools = info.block->pools();
        channels = block.out_channels;
        grid = 0;  // a sum of two normalized paths
        height = info.block->out_height();
        width = info.block->out_width();
        break;
      }
    }
    info.out_channels = channels;
    info.out_height = height;
    info.out_width = width;
    layers_.push_back(std::move(info));
  }
  if (height != 1 || width != 1) {
    const ArchLayer& last = arch_.back();
    fail(last, "the network must end at a 1×1 feature map to give logits [N, classes], but it ends at " +
                   size_text(height, width) + " for " + size_text(o.image_height, o.image_width) +
                   " images; end the arch with GAP");
  }
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& input) {
  const NetworkOptions& o = options_;
  check(input.dim() == 4 && input.size(1) == o.in_channels && input.size(2) == o.image_height &&
            input.size(3) == o.image_width,
        "network", "input has shape ", input.sizes(), "; expected [N, ", o.in_channels, ", ",
        o.image_height, ", ", o.image_width, "]");
  size_t next_activation = 0;
  ActivationObserver observe;
  if (hook_) observe = [&](const torch::Tensor& output) { hook_(next_activation++, output); };

  const bool folded = !folded_.empty() && !is_training();
  torch::Tensor x = input;
  for (size_t i = 0; i < layers_.size(); ++i) {
    LayerInfo& layer = layers_[i];
    switch (layer.kind) {
      case ArchLayerKind::kConv:
        if (folded && folded_[i].weight.defined()) {
          const ConvOptions& conv = layer.conv->options();
          x = layer.activation->forward(
              torch::conv2d(x, folded_[i].weight, folded_[i].bias, conv.stride, conv.padding));
          if (observe) observe(x);
          break;
        }
        x = layer.conv->forward(x);
        if (!layer.is_output) {
          x = layer.norm->forward_activated(x, layer.activation->quant());
          if (observe) observe(x);
        }
        break;
      case ArchLayerKind::kAvgPool: x = avg_pool_2x2(x); break;
      case ArchLayerKind::kGlobalAvgPool: x = x.mean({2, 3}, /*keepdim=*/true); break;
      case ArchLayerKind::kResidualBlock: x = layer.block->forward(x, observe); break;
    }
  }
  return x.flatten(1);
}

void NetworkImpl::fold_normalization() {
  torch::NoGradGuard no_grad;
  folded_.assign(layers_.size(), FoldedConv{});
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerInfo& layer = layers_[i];
    if (layer.kind != ArchLayerKind::kConv || layer.is_output ||
        layer.norm->options().kind == NormKind::kLayer)
      continue;
    const auto [scale, shift] = layer.norm->eval_affine();
    const torch::Tensor weight = layer.conv->effective_weight();
    folded_[i].weight = weight * scale.view({-1, 1, 1, 1}).to(weight.scalar_type());
    folded_[i].bias = layer.conv->bias.defined() ? shift + scale * layer.conv->bias : shift;
    folded_[i].bias = folded_[i].bias.to(weight.scalar_type()).contiguous();
  }
}

}  // namespace maqd
