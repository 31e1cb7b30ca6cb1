// Walks the network's layers keeping track of how the current feature map is
// held in integers (Feature), and emits the runtime ops that reproduce the
// float evaluation. Thresholds are found in double precision against the
// exact rounding rule of the activation quantizer (Eq. 6, half to even).
#include "maqd/export/export.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "maqd/data/dataset.h"
#include "maqd/error.h"
#include "maqd/ops/weight_quantizer.h"

namespace maqd {
namespace {

using maqd_rt::DType;
using maqd_rt::Op;
using maqd_rt::OpKind;

// Thresholds beyond any reachable accumulator: "always passed" / "never".
constexpr int64_t kAlways = -(int64_t(1) << 60);
constexpr int64_t kNever = int64_t(1) << 60;
// Fixed-point precision of residual multipliers: the larger |m| is 2^30.
// Each multiplier is off by at most half a unit, so Z = m1·acc1 + m2·acc2
// is within 2^-31·|acc| of the exact sum in units of the larger term: with
// 2^20 the trained PreActResNet (15, 8) flipped 4 codes in 100 000 at the
// first residual sum, far above float32's own rounding. |Z| stays below
// 2^30·2^31·2 = 2^62 (int64); thresholds are found in long double.
constexpr double kResidualOne = double(int64_t(1) << 30);

// How the current feature map is stored.
struct Feature {
  enum class Kind { kImage, kCodes, kResidual } kind = Kind::kImage;
  int32_t height = 0, width = 0, channels = 0;
  // kCodes: real value = code · scale; codes in [0, max_code].
  int32_t tensor = 0;
  DType dtype = DType::kU8;
  double scale = 1;
  int64_t max_code = 255;
  // kResidual: real value[c] = Σ_j u[j][c] · acc_j + v[c].
  std::vector<int32_t> accs;
  std::vector<std::vector<double>> u;
  std::vector<double> v;
};

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

// code(x) = clamp(nearbyint(x), 0, L): the activation quantizer on (M_a−1)·y.
int64_t code_of(double x, int64_t max_code) {
  const double r = std::nearbyint(x);
  return int64_t(std::min(std::max(r, 0.0), double(max_code)));
}

// Thresholds T_1..T_L (L = levels − 1) over integer Z for
// code(Z) = clamp(nearbyint(g·Z + h), 0, L), with g > 0: code(Z) ≥ k ⇔ Z ≥ T_k.
// Z reaches 2^61 with residual multipliers, beyond double's exact integers,
// so the search runs in long double (64-bit mantissa on x86-64).
void append_thresholds(double g, double h, int64_t max_code, std::vector<int64_t>& out) {
  const long double G = g, H = h;
  auto code = [&](int64_t z) {
    const long double r = std::nearbyint(G * static_cast<long double>(z) + H);
    return int64_t(std::min(std::max(r, 0.0L), static_cast<long double>(max_code)));
  };
  for (int64_t k = 1; k <= max_code; ++k) {
    const long double boundary = (static_cast<long double>(k) - 0.5L - H) / G;
    if (!(boundary < static_cast<long double>(kNever))) {
      out.push_back(kNever);
      continue;
    }
    if (boundary <= static_cast<long double>(kAlways)) {
      out.push_back(kAlways);
      continue;
    }
    int64_t z = int64_t(std::floor(boundary)) - 2;
    while (z > kAlways && code(z) >= k) --z;
    while (code(z) < k) ++z;
    out.push_back(z);
  }
}

class Exporter {
 public:
  Exporter(Network& network, const data::ChannelStats& stats) : net_(network), stats_(stats) {
    const NetworkOptions& o = net_->options();
    check(o.weight_quant.has_value() && o.act_quant.has_value(), "export",
          "the network has ",
          !o.weight_quant && !o.act_quant ? "float weights (no --mw) and ReLU activations (no --ma)"
          : !o.weight_quant               ? "float weights (no --mw)"
                                          : "ReLU activations (no --ma)",
          "; export needs a MaQD network quantizing both weights and activations");
    check(o.norm != NormKind::kLayer, "export",
          "field norm is ln: LN normalizes with per-sample statistics and does not fold into "
          "integer thresholds; expected lbn or bn");
    wq_ = *o.weight_quant;
    levels_ = o.act_quant->levels;
    denominator_ = double(weight_code_denominator(wq_));
    check(max_weight_code(wq_) <= kMaxWeightCode, "export", "weight codes reach ±", max_weight_code(wq_),
          " with M_w = ", wq_.levels, " and delta_w ", wq_.delta == WeightDelta::kFloor ? "floor" : "half",
          "; the runtime stores codes in 8 bits: expected |code| ≤ ", kMaxWeightCode);
    check(levels_ <= kMaxActivationLevels, "export", "M_a is ", levels_,
          "; the runtime stores activation codes in 8 bits: expected M_a ≤ ", kMaxActivationLevels);
    weight_bits_ = packed_weight_bits(wq_);
    check(int64_t(stats_.mean.size()) == o.in_channels, "export", "stats have ",
          stats_.mean.size(), " channels; expected ", o.in_channels);
  }

  maqd_rt::Model run() {
    torch::NoGradGuard no_grad;
    net_->eval();
    const NetworkOptions& o = net_->options();
    model_.tensors.push_back({DType::kU8, int32_t(o.image_height), int32_t(o.image_width),
                              int32_t(o.in_channels)});
    Feature x;
    x.kind = Feature::Kind::kImage;
    x.height = int32_t(o.image_height);
    x.width = int32_t(o.image_width);
    x.channels = int32_t(o.in_channels);

    const std::vector<LayerInfo> layers = net_->layers();
    bool done = false;
    for (size_t i = 0; i < layers.size(); ++i) {
      const LayerInfo& layer = layers[i];
      check(!done || layer.kind == ArchLayerKind::kGlobalAvgPool, "export", "layer ", layer.name,
            " follows the output layer; expected only GAP there");
      switch (layer.kind) {
        case ArchLayerKind::kConv:
          if (layer.is_output) {
            output_layer(layer, x);
            done = true;
          } else {
            x = hidden_conv(layer, x);
          }
          break;
        case ArchLayerKind::kAvgPool: x = pool(layer.name, x); break;
        case ArchLayerKind::kGlobalAvgPool:
          break;  // the output layer's kGapLinear averages (GAP and a 1×1 conv commute)
        case ArchLayerKind::kResidualBlock: x = block(layer, x); break;
      }
    }
    check(done, "export", "the network has no output layer");
    return std::move(model_);
  }

 private:
  int32_t add_tensor(DType dtype, int32_t h, int32_t w, int32_t c) {
    model_.tensors.push_back({dtype, h, w, c});
    return int32_t(model_.tensors.size() - 1);
  }

  // The normalized pixel exactly as the training loader computes it (float).
  double normalized_pixel(int channel, int value) const {
    return double(static_cast<float>((value / 255.0 - stats_.mean[channel]) / stats_.std[channel]));
  }

  // The normalized image in fixed point, split so that a conv can read it:
  // q = round(z·2^F) = 256·high + low with high int16 and low in 0…255 (u8).
  // Two convs (same weights) and Z = 256·acc_high + acc_low keep ~21
  // fraction bits, on a par with the float32 value the training loader
  // computes; a single int16 map (13 bits) flipped visibly more codes.
  std::pair<Feature, Feature> image_in_two_parts(const Feature& image) {
    double largest = 0;
    for (int c = 0; c < image.channels; ++c)
      for (int v = 0; v < 256; ++v) largest = std::max(largest, std::fabs(normalized_pixel(c, v)));
    int bits = 22;
    while (bits > 0 && largest * std::ldexp(1.0, bits) > 32767.0 * 256.0) --bits;
    Op high, low;
    high.kind = low.kind = OpKind::kInputLut;
    high.name = "input.high";
    low.name = "input.low";
    high.inputs = low.inputs = {image.tensor};
    for (int c = 0; c < image.channels; ++c)
      for (int v = 0; v < 256; ++v) {
        const auto q = int64_t(std::nearbyint(normalized_pixel(c, v) * std::ldexp(1.0, bits)));
        const int64_t h = q >= 0 ? q / 256 : -((-q + 255) / 256);  // floor(q / 256)
        high.lut.push_back(int32_t(h));
        low.lut.push_back(int32_t(q - 256 * h));
      }
    Feature hi = image, lo = image;
    hi.kind = lo.kind = Feature::Kind::kCodes;
    hi.dtype = DType::kI16;
    hi.scale = std::ldexp(1.0, 8 - bits);
    hi.max_code = 32767;
    lo.dtype = DType::kU8;
    lo.scale = std::ldexp(1.0, -bits);
    lo.max_code = 255;
    hi.tensor = high.output = add_tensor(DType::kI16, image.height, image.width, image.channels);
    model_.ops.push_back(std::move(high));
    lo.tensor = low.output = add_tensor(DType::kU8, image.height, image.width, image.channels);
    model_.ops.push_back(std::move(low));
    return {hi, lo};
  }

  // NORM → ACT applied to a feature map: activation codes (u8).
  Feature norm_act(const std::string& name, const Norm& norm, const Feature& x) {
    const auto [scale_t, shift_t] = norm->eval_affine();
    const std::vector<double> a = to_vector(scale_t), b = to_vector(shift_t);
    const double steps = double(levels_ - 1);
    Feature out;
    out.kind = Feature::Kind::kCodes;
    out.height = x.height;
    out.width = x.width;
    out.channels = x.channels;
    out.dtype = DType::kU8;
    out.scale = 1.0 / steps;
    out.max_code = levels_ - 1;
    Op op;
    op.name = name;
    if (x.kind == Feature::Kind::kResidual) {
      op.kind = OpKind::kRequant;
      op.inputs = x.accs;
      op.levels = int32_t(levels_);
      const size_t n = x.accs.size();
      op.multipliers.assign(n * x.channels, 0);
      for (int c = 0; c < x.channels; ++c) {
        std::vector<double> g(n);
        double largest = 0;
        for (size_t j = 0; j < n; ++j) {
          g[j] = steps * a[c] * x.u[j][c];
          largest = std::max(largest, std::fabs(g[j]));
        }
        const double h = steps * (a[c] * x.v[c] + b[c]);
        if (largest == 0) {  // a constant code
          append_thresholds(1.0, h, levels_ - 1, op.thresholds);
          continue;
        }
        // One input: Z = ±acc exactly. Two: fixed point relative to the larger.
        const double unit = n == 1 ? largest : largest / kResidualOne;
        for (size_t j = 0; j < n; ++j)
          op.multipliers[j * x.channels + c] = int64_t(std::nearbyint(g[j] / unit));
        append_thresholds(unit, h, levels_ - 1, op.thresholds);
      }
    } else {
      // Codes or the raw image: every input value maps through a table.
      check(x.dtype == DType::kU8, "export", "layer ", name,
            ": a normalization on a pooled activation sum (int16) does not fold into a table; "
            "expected activation codes or the image here");
      op.kind = OpKind::kInputLut;
      op.inputs = {x.kind == Feature::Kind::kImage ? 0 : x.tensor};
      for (int c = 0; c < x.channels; ++c)
        for (int v = 0; v < 256; ++v) {
          const double real = x.kind == Feature::Kind::kImage
                                  ? normalized_pixel(c, v)
                                  : (v <= x.max_code ? double(v) * x.scale : 0.0);
          op.lut.push_back(int32_t(code_of(steps * (a[c] * real + b[c]), levels_ - 1)));
        }
    }
    out.tensor = op.output = add_tensor(DType::kU8, x.height, x.width, x.channels);
    model_.ops.push_back(std::move(op));
    return out;
  }

  // A quantized conv on codes: the i32 accumulator; `real_per_unit` is the
  // real value of one accumulator unit.
  int32_t conv(const std::string& name, const Conv& conv, const Feature& x, double* real_per_unit) {
    check(x.kind == Feature::Kind::kCodes, "export", "layer ", name,
          ": its input is not quantized (a float residual sum reaches a conv without NORM-ACT)");
    const ConvOptions& co = conv->options();
    check(co.stride == 1 && co.padding == co.kernel_size / 2 && co.kernel_size % 2 == 1, "export",
          "layer ", name, ": kernel ", co.kernel_size, " stride ", co.stride, " padding ",
          co.padding, "; expected an odd kernel, stride 1, padding kernel/2");
    const torch::Tensor codes =
        weight_codes(conv->standardized_weight(), wq_).permute({0, 2, 3, 1}).contiguous().to(torch::kInt8);
    Op op;
    op.kind = OpKind::kConv;
    op.name = name;
    op.inputs = {x.tensor};
    op.kernel = int32_t(co.kernel_size);
    op.weight_bits = weight_bits_;
    op.weights.assign(codes.data_ptr<int8_t>(), codes.data_ptr<int8_t>() + codes.numel());
    op.output = add_tensor(DType::kI32, x.height, x.width, int32_t(co.out_channels));
    model_.ops.push_back(std::move(op));
    *real_per_unit = x.scale / denominator_;
    return int32_t(model_.tensors.size() - 1);
  }

  Feature codes_from_acc(const std::string& name, const Norm& norm, int32_t acc, double unit,
                         const Feature& shape) {
    Feature r;
    r.kind = Feature::Kind::kResidual;
    r.height = shape.height;
    r.width = shape.width;
    r.channels = shape.channels;
    r.accs = {acc};
    r.u = {std::vector<double>(shape.channels, unit)};
    r.v.assign(shape.channels, 0.0);
    return norm_act(name, norm, r);
  }

  Feature hidden_conv(const LayerInfo& layer, Feature x) {
    const std::string norm_name = "norm" + layer.name.substr(4);
    if (x.kind == Feature::Kind::kImage) {
      const auto [high, low] = image_in_two_parts(x);
      double unit_high = 0, unit_low = 0;
      Feature sum;
      sum.kind = Feature::Kind::kResidual;
      sum.height = x.height;
      sum.width = x.width;
      sum.channels = int32_t(layer.out_channels);
      sum.accs = {conv(layer.name, layer.conv, high, &unit_high),
                  conv(layer.name + ".low", layer.conv, low, &unit_low)};
      sum.u = {std::vector<double>(sum.channels, unit_high), std::vector<double>(sum.channels, unit_low)};
      sum.v.assign(sum.channels, 0.0);
      return norm_act(norm_name, layer.norm, sum);
    }
    double unit = 0;
    const int32_t acc = conv(layer.name, layer.conv, x, &unit);
    Feature shape = x;
    shape.channels = int32_t(layer.out_channels);
    return codes_from_acc(norm_name, layer.norm, acc, unit, shape);
  }

  Feature pool(const std::string& name, const Feature& x) {
    check(x.kind != Feature::Kind::kImage, "export", "layer ", name,
          ": average pooling of the raw image is not supported; expected it after a layer");
    const int32_t h = x.height / 2, w = x.width / 2;
    Feature out = x;
    out.height = h;
    out.width = w;
    auto sum = [&](int32_t tensor, DType in, DType result) {
      Op op;
      op.kind = OpKind::kPoolSum;
      op.name = name;
      op.inputs = {tensor};
      op.output = add_tensor(result, h, w, x.channels);
      (void)in;
      model_.ops.push_back(std::move(op));
      return int32_t(model_.tensors.size() - 1);
    };
    if (x.kind == Feature::Kind::kCodes) {
      check(x.dtype == DType::kU8, "export", "layer ", name,
            ": pooling an already pooled map is not supported (the sum leaves int16)");
      out.tensor = sum(x.tensor, DType::kU8, DType::kI16);
      out.dtype = DType::kI16;
      out.scale = x.scale / 4;
      out.max_code = 4 * x.max_code;
    } else {
      for (size_t j = 0; j < x.accs.size(); ++j) {
        out.accs[j] = sum(x.accs[j], DType::kI32, DType::kI32);
        for (double& u : out.u[j]) u /= 4;
      }
    }
    return out;
  }

  // One pre-activation path: (NORM → ACT → conv)…, then the final NORM as an
  // affine map of the last accumulator.
  void path(const std::string& prefix, const PreActPath& p, const Feature& input, Feature& sum) {
    Feature x = input;
    int32_t acc = -1;
    double unit = 0;
    for (size_t i = 0; i < p->convs().size(); ++i) {
      const std::string n = std::to_string(i + 1);
      if (i == 0) {
        x = norm_act(prefix + ".norm" + n, p->norms()[i], x);
      } else {
        Feature shape = x;
        shape.channels = int32_t(p->options().out_channels);
        x = codes_from_acc(prefix + ".norm" + n, p->norms()[i], acc, unit, shape);
      }
      acc = conv(prefix + ".conv" + n, p->convs()[i], x, &unit);
    }
    const auto [scale_t, shift_t] = p->norms().back()->eval_affine();
    const std::vector<double> a = to_vector(scale_t), b = to_vector(shift_t);
    sum.accs.push_back(acc);
    std::vector<double> u(a.size());
    for (size_t c = 0; c < a.size(); ++c) {
      u[c] = a[c] * unit;
      sum.v[c] += b[c];
    }
    sum.u.push_back(std::move(u));
  }

  Feature block(const LayerInfo& layer, Feature x) {
    if (layer.block->pools()) x = pool(layer.name + ".pool", x);
    Feature sum;
    sum.kind = Feature::Kind::kResidual;
    sum.height = x.height;
    sum.width = x.width;
    sum.channels = int32_t(layer.out_channels);
    sum.v.assign(sum.channels, 0.0);
    path(layer.name + ".branch", layer.block->branch(), x, sum);
    path(layer.name + ".shortcut", layer.block->shortcut(), x, sum);
    return sum;
  }

  void output_layer(const LayerInfo& layer, const Feature& x) {
    const ConvOptions& co = layer.conv->options();
    check(co.kernel_size == 1 || (x.height == 1 && x.width == 1), "export", "layer ", layer.name,
          ": a ", co.kernel_size, "×", co.kernel_size,
          " output conv before GAP does not commute with it; expected a 1×1 output conv");
    check(x.kind != Feature::Kind::kImage, "export", "the output layer reads the image directly");
    Op op;
    op.kind = OpKind::kGapLinear;
    op.name = layer.name;
    const double pixels = double(x.height) * double(x.width);
    if (x.kind == Feature::Kind::kCodes) {
      op.inputs = {x.tensor};
      op.scale.assign(x.channels, float(x.scale / pixels));
      op.offset.assign(x.channels, 0.0f);
    } else {
      op.inputs = x.accs;
      for (const auto& u : x.u)
        for (double value : u) op.scale.push_back(float(value / pixels));
      for (double value : x.v) op.offset.push_back(float(value));
    }
    // The 1×1 (or 1-pixel) conv's centre tap: [classes][channels].
    const int64_t k = co.kernel_size;
    const torch::Tensor w = layer.conv->weight.detach().select(3, k / 2).select(2, k / 2).contiguous();
    for (double value : to_vector(w)) op.weight.push_back(float(value));
    for (double value : to_vector(layer.conv->bias)) op.bias.push_back(float(value));
    op.output = add_tensor(DType::kF32, 1, 1, int32_t(co.out_channels));
    model_.ops.push_back(std::move(op));
  }

  Network& net_;
  const data::ChannelStats& stats_;
  WeightQuantOptions wq_;
  int64_t levels_ = 0;
  double denominator_ = 1;
  int32_t weight_bits_ = 8;
  maqd_rt::Model model_;
};

}  // namespace

int64_t max_weight_code(const WeightQuantOptions& q) {
  return q.delta == WeightDelta::kFloor ? (q.levels - 1) / 2 : q.levels;
}

int32_t packed_weight_bits(const WeightQuantOptions& q) {
  const int64_t code = max_weight_code(q);
  return code <= 1 ? 2 : code <= 7 ? 4 : 8;
}

maqd_rt::Model export_model(Network& network, const data::ChannelStats& stats,
                            const std::map<std::string, std::string>& metadata,
                            const std::vector<std::string>& class_names) {
  maqd_rt::Model model = Exporter(network, stats).run();
  const NetworkOptions& o = network->options();
  model.text = metadata;
  model.text["arch"] = notation_with_classes(network->arch_notation(), o.num_classes);
  model.text["norm"] = to_string(o.norm);
  model.text["delta_w"] = o.weight_quant->delta == WeightDelta::kFloor ? "floor" : "half";
  model.text["producer"] = std::string("maqd ") + MAQD_VERSION_STRING;
  model.integers["mw"] = o.weight_quant->levels;
  model.integers["ma"] = o.act_quant->levels;
  model.integers["num_classes"] = o.num_classes;
  model.integers["width_permille"] = int64_t(std::llround(o.width * 1000));
  // The classes' names, so that a program holding only the model
  // (maqd-rt, maqd run --image) can name what it sees: those given (the
  // checkpoint's, from its data set), else a known data set's.
  const auto dataset = model.text.find("dataset");
  const std::vector<std::string>& names =
      !class_names.empty() || dataset == model.text.end() ? class_names : data::class_names(dataset->second);
  if (int64_t(names.size()) == o.num_classes) {
    std::string lines;
    for (const std::string& name : names) lines += (lines.empty() ? "" : "\n") + name;
    model.text["class_names"] = lines;
  }
  maqd_rt::validate(model);
  return model;
}

}  // namespace maqd
