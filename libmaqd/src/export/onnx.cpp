// The runtime's op graph as ONNX (opset 13) through Debian's libonnx
// protobuf classes. Runtime tensors are per-image NHWC; ONNX tensors are
// NCHW with a free batch dimension, so weights are transposed here.
#include "maqd/export/onnx.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include "maqd/error.h"
#include "maqd/files.h"

namespace maqd {
namespace {

using maqd_rt::DType;
using maqd_rt::Model;
using maqd_rt::Op;
using maqd_rt::OpKind;
using Type = onnx::TensorProto_DataType;

constexpr int kOpset = 13;
// float holds every integer below 2^24 exactly: conv sums below it are exact.
constexpr double kFloatExact = double(1 << 24);

// Builds one GraphProto: fresh value names, initializers and nodes.
class Graph {
 public:
  explicit Graph(onnx::GraphProto& graph) : graph_(graph) {}

  std::string fresh(const std::string& hint) { return hint + "_" + std::to_string(counter_++); }

  onnx::NodeProto& node(const std::string& type, const std::vector<std::string>& inputs,
                        const std::string& output, const std::string& name) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(type);
    n.set_name(name.empty() ? output : name + "/" + type + "_" + std::to_string(counter_++));
    for (const std::string& in : inputs) n.add_input(in);
    n.add_output(output);
    return n;
  }

  // One node with a fresh output name; returns that name.
  std::string apply(const std::string& type, const std::vector<std::string>& inputs,
                    const std::string& layer) {
    const std::string out = fresh(layer + "_" + type);
    node(type, inputs, out, layer);
    return out;
  }

  template <typename T>
  std::string constant(const std::string& hint, Type type, const std::vector<int64_t>& dims,
                       const std::vector<T>& values) {
    onnx::TensorProto& t = *graph_.add_initializer();
    const std::string name = fresh(hint);
    t.set_name(name);
    t.set_data_type(type);
    for (int64_t d : dims) t.add_dims(d);
    // raw_data is little-endian, as x86 and ARM hold it.
    t.set_raw_data(values.data(), values.size() * sizeof(T));
    return name;
  }
  std::string scalar_f32(const std::string& hint, float v) {
    return constant<float>(hint, onnx::TensorProto::FLOAT, {}, {v});
  }
  std::string axes(const std::vector<int64_t>& v) {
    return constant<int64_t>("axes", onnx::TensorProto::INT64, {int64_t(v.size())}, v);
  }

 private:
  onnx::GraphProto& graph_;
  int counter_ = 0;
};

void set_ints(onnx::NodeProto& n, const char* name, const std::vector<int64_t>& v) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
}
void set_int(onnx::NodeProto& n, const char* name, int64_t v) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
}

void set_tensor_type(onnx::ValueInfoProto& v, const std::string& name, Type type,
                     const std::vector<int64_t>& dims) {
  v.set_name(name);
  onnx::TypeProto_Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(type);
  for (int64_t d : dims) {
    onnx::TensorShapeProto_Dimension& dim = *t.mutable_shape()->add_dim();
    if (d < 0)
      dim.set_dim_param("N");
    else
      dim.set_dim_value(d);
  }
}

// A runtime tensor as the ONNX graph holds it: float (exact integers), or
// uint8 where `stored` · `unit` is the runtime's integer value.
struct Value {
  std::string name;
  bool u8 = false;
  double unit = 1;
};

class Exporter {
 public:
  Exporter(const Model& model, OnnxForm form, onnx::GraphProto& graph)
      : model_(model), form_(form), g_(graph), values_(model.tensors.size()),
        bound_(model.tensors.size(), 0.0) {}

  void run() {
    bound_[0] = 255;
    if (form_ == OnnxForm::kInt8) {
      values_[0] = {"image", true, 1};
    } else {
      values_[0] = {g_.fresh("image_f32"), false, 1};
      set_int(g_.node("Cast", {"image"}, values_[0].name, "input"), "to", onnx::TensorProto::FLOAT);
    }
    for (size_t i = 0; i < model_.ops.size(); ++i) {
      if (consumed_.count(i)) continue;
      const Op& op = model_.ops[i];
      switch (op.kind) {
        case OpKind::kInputLut: input_lut(op); break;
        case OpKind::kConv: conv(i); break;
        case OpKind::kPoolSum: pool_sum(op); break;
        case OpKind::kRequant: requant(op); break;
        case OpKind::kGapLinear: gap_linear(op); break;
      }
    }
  }

  // The largest conv sum any input can produce, against float's exact range.
  double largest_conv_sum() const { return largest_conv_sum_; }
  // int8 form: channels whose uniform step provably reproduces the
  // thresholds (exact_channels), of all channels of int8 convs.
  int64_t exact_channels() const { return exact_channels_; }
  int64_t int8_channels() const { return int8_channels_; }

 private:
  const maqd_rt::TensorDesc& tensor(int32_t t) const { return model_.tensors[size_t(t)]; }

  std::vector<int64_t> nchw_dims(int32_t t, int64_t extra = 0) const {
    const auto& d = tensor(t);
    std::vector<int64_t> dims{1, d.channels, 1, 1};
    if (extra) dims.push_back(extra);
    return dims;
  }

  // A float view of a value: DequantizeLinear of uint8 codes.
  std::string as_float(const Value& v, const std::string& layer) {
    if (!v.u8) return v.name;
    return g_.apply("DequantizeLinear",
                    {v.name, g_.scalar_f32("unit", float(v.unit)),
                     g_.constant<uint8_t>("zero", onnx::TensorProto::UINT8, {}, {0})},
                    layer);
  }

  // Per-channel table on u8 codes or the image: Gather over [C·256].
  void input_lut(const Op& op) {
    const int32_t channels = tensor(op.output).channels;
    const Value& in = values_[size_t(op.inputs[0])];
    double largest = 0;
    for (int32_t v : op.lut) largest = std::max(largest, std::fabs(double(v)));
    bound_[size_t(op.output)] = largest;
    if (form_ == OnnxForm::kFloatBaseline) {
      // A float network normalizes its input per channel and applies ReLU.
      std::vector<float> scale(static_cast<size_t>(channels), 1.0f / 64), shift(size_t(channels), -1.0f);
      const std::string x = as_float(in, op.name);
      const std::string y = g_.apply(
          "Add",
          {g_.apply("Mul", {x, g_.constant("scale", onnx::TensorProto::FLOAT, nchw_dims(op.output), scale)},
                    op.name),
           g_.constant("shift", onnx::TensorProto::FLOAT, nchw_dims(op.output), shift)},
          op.name);
      values_[size_t(op.output)] = {g_.apply("Relu", {y}, op.name), false, 1};
      return;
    }
    check(form_ == OnnxForm::kExact || (in.u8 && in.unit == 1), "onnx export", "op '", op.name,
          "': the int8 form has a table only on uint8 codes or the image");
    // index = value + 256·c, in int64 (Gather's index type).
    std::vector<int64_t> offsets(static_cast<size_t>(channels));
    for (int32_t c = 0; c < channels; ++c) offsets[size_t(c)] = int64_t(c) * 256;
    onnx::NodeProto& cast = g_.node("Cast", {in.name}, g_.fresh(op.name + "_index"), op.name);
    set_int(cast, "to", onnx::TensorProto::INT64);
    const std::string index =
        g_.apply("Add",
                 {cast.output(0), g_.constant("offsets", onnx::TensorProto::INT64,
                                              nchw_dims(op.output), offsets)},
                 op.name);
    const int64_t entries = int64_t(op.lut.size());
    std::string table;
    const bool u8_out = tensor(op.output).dtype == DType::kU8;
    if (form_ == OnnxForm::kInt8 && u8_out) {
      table = g_.constant("lut", onnx::TensorProto::UINT8, {entries},
                          std::vector<uint8_t>(op.lut.begin(), op.lut.end()));
    } else {
      table = g_.constant("lut", onnx::TensorProto::FLOAT, {entries},
                          std::vector<float>(op.lut.begin(), op.lut.end()));
    }
    values_[size_t(op.output)] = {g_.apply("Gather", {table, index}, op.name),
                                  form_ == OnnxForm::kInt8 && u8_out, 1};
  }

  // Weights [o][dy][dx][i] → [o][i][dy][dx], optionally scaled per channel.
  template <typename T>
  std::vector<T> oihw(const Op& op, int32_t in_channels, const std::vector<double>* sign = nullptr) const {
    const int32_t k = op.kernel;
    const int64_t out_channels = int64_t(op.weights.size()) / (int64_t(k) * k * in_channels);
    std::vector<T> w(op.weights.size());
    for (int64_t o = 0; o < out_channels; ++o)
      for (int32_t dy = 0; dy < k; ++dy)
        for (int32_t dx = 0; dx < k; ++dx)
          for (int32_t i = 0; i < in_channels; ++i) {
            const double code = op.weights[size_t(((o * k + dy) * k + dx) * in_channels + i)];
            w[size_t(((o * in_channels + i) * k + dy) * k + dx)] =
                T(sign ? code * (*sign)[size_t(o)] : code);
          }
    return w;
  }

  void conv_attributes(onnx::NodeProto& n, int32_t k) {
    set_ints(n, "kernel_shape", {k, k});
    set_ints(n, "pads", {k / 2, k / 2, k / 2, k / 2});
    set_ints(n, "strides", {1, 1});
  }

  // The largest |sum| each output channel of a conv can reach (Σ|w| times
  // the input's bound); their maximum becomes the output's bound.
  std::vector<double> track_conv_bound(const Op& op) {
    const int32_t out_channels = tensor(op.output).channels;
    const size_t per_out = op.weights.size() / size_t(out_channels);
    std::vector<double> reach(static_cast<size_t>(out_channels));
    for (int32_t o = 0; o < out_channels; ++o) {
      double sum = 0;
      for (size_t j = 0; j < per_out; ++j) sum += std::fabs(double(op.weights[size_t(o) * per_out + j]));
      reach[size_t(o)] = sum * bound_[size_t(op.inputs[0])];
    }
    const double largest = *std::max_element(reach.begin(), reach.end());
    bound_[size_t(op.output)] = largest;
    largest_conv_sum_ = std::max(largest_conv_sum_, largest);
    return reach;
  }

  void conv(size_t index) {
    const Op& op = model_.ops[index];
    const int32_t in_channels = tensor(op.inputs[0]).channels;
    const int32_t out_channels = tensor(op.output).channels;
    const int64_t k = op.kernel;
    const std::vector<double> reach = track_conv_bound(op);
    const std::vector<int64_t> wdims{out_channels, in_channels, k, k};
    const Value& in = values_[size_t(op.inputs[0])];
    if (form_ == OnnxForm::kInt8 && int8_chain(index)) {
      int8_conv_requant(index, reach);
      return;
    }
    std::vector<std::string> inputs{as_float(in, op.name),
                                    g_.constant("weight", onnx::TensorProto::FLOAT, wdims,
                                                oihw<float>(op, in_channels))};
    if (form_ == OnnxForm::kFloatBaseline)
      inputs.push_back(g_.constant("bias", onnx::TensorProto::FLOAT, {out_channels},
                                   std::vector<float>(size_t(out_channels), 0.0f)));
    const std::string out = g_.fresh(op.name + "_Conv");
    conv_attributes(g_.node("Conv", inputs, out, op.name), op.kernel);
    values_[size_t(op.output)] = {out, false, 1};
  }

  // The op after `index` that reads its output, if it is the only reader.
  std::optional<size_t> sole_reader(size_t index) const {
    std::optional<size_t> found;
    for (size_t j = index + 1; j < model_.ops.size(); ++j)
      for (int32_t in : model_.ops[j].inputs)
        if (in == model_.ops[index].output) {
          if (found && *found != j) return std::nullopt;
          found = j;
        }
    return found;
  }

  // Conv + its requant (with a 2×2 pool between them or not) as ONNX's int8
  // pattern: DequantizeLinear(codes) and DequantizeLinear(int8 weights,
  // per-channel scale g_c·unit) into Conv with an int32 bias, then
  // QuantizeLinear to the next layer's uint8 codes and Clip to their range.
  // code = clip(round(g_c·(Z + b_c)), 0, L) replaces the thresholds' step
  // function; g_c and b_c are fitted to the thresholds, then searched for an
  // exact pair (an integer b_c near the fit whose slope interval is open). A
  // pool sums unclipped conv outputs, so they pass through uint8 first
  // (QuantizeLinear over [−L, 2L], the int8 conv's output): inexact.
  // The conv's sole reader is a one-input requant, directly or through a
  // pool: the pattern the int8 form turns into int8 ops. Residual sums and
  // the image's split first layer (two convs into one requant) stay exact.
  std::optional<std::pair<size_t, std::optional<size_t>>> int8_chain(size_t index) const {
    std::optional<size_t> reader = sole_reader(index);
    std::optional<size_t> pool;
    if (reader && model_.ops[*reader].kind == OpKind::kPoolSum) {
      pool = reader;
      reader = sole_reader(*pool);
    }
    if (!reader || model_.ops[*reader].kind != OpKind::kRequant ||
        model_.ops[*reader].inputs.size() != 1)
      return std::nullopt;
    return std::make_pair(*reader, pool);
  }

  // Whether clip(round(g·(Z + b)), 0, L), computed in float as
  // onnxruntime's requantization does (g = 1/s), gives #{k : Z ≥ t_k} for
  // every Z in [−reach, reach]. Both sides are monotone in Z, so checking
  // the window of finite thresholds and the two ends covers every Z.
  static bool reproduces(const int64_t* t, int32_t steps, double s, double b, int64_t reach) {
    const float g = float(1.0 / s);
    int64_t low = reach, high = -reach;
    for (int32_t j = 0; j < steps; ++j)
      if (t[j] > -reach && t[j] <= reach) {
        low = std::min(low, t[j] - 1);
        high = std::max(high, t[j]);
      }
    low = std::max(low, -reach);
    high = std::min(high, reach);
    auto agrees = [&](int64_t z) {
      int32_t want = 0;
      for (int32_t j = 0; j < steps; ++j) want += z >= t[j];
      const float y = float(double(z) + b) * g;
      return int32_t(std::min(std::max(std::nearbyint(y), 0.0f), float(steps))) == want;
    };
    if (!agrees(-reach) || !agrees(reach)) return false;
    for (int64_t z = low; z <= high; ++z)
      if (!agrees(z)) return false;
    return true;
  }

  // conv_reach: conv_bound's per-channel reach of this conv.
  void int8_conv_requant(size_t index, const std::vector<double>& conv_reach) {
    const Op& op = model_.ops[index];
    const auto [reader, pool] = *int8_chain(index);
    const Op& rq = model_.ops[reader];
    consumed_.insert(reader);
    if (pool) consumed_.insert(*pool);
    const double pooled = pool ? 4.0 : 1.0;
    const int32_t in_channels = tensor(op.inputs[0]).channels;
    const int32_t channels = tensor(op.output).channels;
    const int64_t k = op.kernel;
    const int32_t steps = rq.levels - 1;
    const Value& in = values_[size_t(op.inputs[0])];
    std::vector<double> sign(static_cast<size_t>(channels), 1.0);
    std::vector<float> scale(static_cast<size_t>(channels));
    std::vector<int32_t> bias(static_cast<size_t>(channels));
    for (int32_t c = 0; c < channels; ++c) {
      const int64_t m = rq.multipliers[size_t(c)];
      const int64_t* t = &rq.thresholds[size_t(c) * size_t(steps)];
      // |Z| ≤ reach for every input: a threshold at or below −reach is always
      // passed, one above reach never.
      const double reach_real = pooled * conv_reach[size_t(c)];
      const int64_t reach = reach_real < 4e18 ? int64_t(reach_real) : int64_t(4e18);
      std::vector<double> finite_k, finite_t;
      int always = 0;
      for (int32_t j = 0; j < steps; ++j) {
        if (t[j] <= -reach) ++always;
        else if (t[j] <= reach) {
          finite_k.push_back(j + 1);
          finite_t.push_back(double(t[j]));
        }
      }
      if (m == 0 || finite_t.empty()) {
        // A constant code: zero weights, the code as bias.
        sign[size_t(c)] = 0;
        scale[size_t(c)] = 1;
        bias[size_t(c)] = always;
        continue;
      }
      sign[size_t(c)] = m > 0 ? 1.0 : -1.0;
      // Boundaries B_j = t_j − ½ (Z integer), fitted by B = (k − ½)·s − b.
      double s = 1;
      if (finite_t.size() >= 2) {
        double mk = 0, mb = 0;
        for (size_t j = 0; j < finite_t.size(); ++j) {
          mk += finite_k[j];
          mb += finite_t[j] - 0.5;
        }
        mk /= double(finite_t.size());
        mb /= double(finite_t.size());
        double cov = 0, var = 0;
        for (size_t j = 0; j < finite_t.size(); ++j) {
          cov += (finite_k[j] - mk) * (finite_t[j] - 0.5 - mb);
          var += (finite_k[j] - mk) * (finite_k[j] - mk);
        }
        s = std::max(cov / var, 1e-6);
      }
      double b = 0;
      for (size_t j = 0; j < finite_t.size(); ++j) b += (finite_k[j] - 0.5) * s - (finite_t[j] - 0.5);
      b /= double(finite_t.size());
      // Exact where possible: an integer b near the fit and a slope s that
      // put every boundary (k − ½)·s − b strictly inside (t_k − 1, t_k]; an
      // "always" threshold needs its boundary at or below −reach, a "never"
      // one above reach.
      bool exact = false;
      if (!pool && in.unit == 1 && reach_real < double(1 << 22)) {
        for (int32_t d = 0; d <= 256 && !exact; ++d) {
          for (double candidate : {std::nearbyint(b) + d, std::nearbyint(b) - d}) {
            double low = 0, high = std::numeric_limits<double>::infinity();
            for (int32_t j = 0; j < steps; ++j) {
              const double half = j + 0.5;
              if (t[j] <= -reach) {
                high = std::min(high, (double(-reach) + candidate) / half);
              } else if (t[j] > reach) {
                low = std::max(low, (double(reach) + candidate) / half);
              } else {
                low = std::max(low, (double(t[j]) - 1 + candidate) / half);
                high = std::min(high, (double(t[j]) + candidate) / half);
              }
            }
            if (!(low < high)) continue;
            const double slope = std::isfinite(high) ? (low + high) / 2 : 2 * low + 1;
            if (reproduces(t, steps, slope, candidate, reach)) {
              s = slope;
              b = candidate;
              exact = true;
              break;
            }
          }
        }
      }
      exact_channels_ += exact ? 1 : 0;
      int8_channels_ += 1;
      // The runtime's integer input is unit·stored: DequantizeLinear applies
      // unit to the input, so the bias (in units of input·weight) divides by it.
      scale[size_t(c)] = float(1.0 / s);
      bias[size_t(c)] = int32_t(std::nearbyint(std::clamp(b / (pooled * in.unit), -2e9, 2e9)));
    }
    const std::string layer = op.name;
    const std::string zero_i8 = g_.constant<int8_t>("zero", onnx::TensorProto::INT8, {channels},
                                                    std::vector<int8_t>(size_t(channels), 0));
    onnx::NodeProto& dqw = g_.node(
        "DequantizeLinear",
        {g_.constant("weight", onnx::TensorProto::INT8, {channels, in_channels, k, k},
                     oihw<int8_t>(op, in_channels, &sign)),
         g_.constant("weight_scale", onnx::TensorProto::FLOAT, {channels}, scale), zero_i8},
        g_.fresh(layer + "_weight"), layer);
    set_int(dqw, "axis", 0);
    // The bias's scale is the input's (unit) times the weight's, per channel.
    std::vector<float> bias_scale(scale);
    for (float& v : bias_scale) v = float(v * in.unit);
    const std::string zero_i32 = g_.constant<int32_t>("zero", onnx::TensorProto::INT32, {channels},
                                                      std::vector<int32_t>(size_t(channels), 0));
    onnx::NodeProto& dqb = g_.node(
        "DequantizeLinear",
        {g_.constant("bias", onnx::TensorProto::INT32, {channels}, bias),
         g_.constant("bias_scale", onnx::TensorProto::FLOAT, {channels}, bias_scale), zero_i32},
        g_.fresh(layer + "_bias"), layer);
    set_int(dqb, "axis", 0);
    // uint8 input: codes, or integer sums up to 255 held as float (exact
    // through QuantizeLinear of scale 1); anything else stays a float conv.
    const std::string zero_in = g_.constant<uint8_t>("zero", onnx::TensorProto::UINT8, {}, {0});
    std::string x = in.name;
    const bool codes_in_float = !in.u8 && bound_[size_t(op.inputs[0])] <= 255 &&
                                tensor(op.inputs[0]).dtype == DType::kU8;
    if (codes_in_float)
      x = g_.apply("QuantizeLinear", {x, g_.scalar_f32("unit", 1.0f), zero_in}, layer);
    if (in.u8 || codes_in_float)
      x = g_.apply("DequantizeLinear", {x, g_.scalar_f32("unit", float(in.unit)), zero_in}, layer);
    const std::string acc = g_.fresh(layer + "_Conv");
    conv_attributes(g_.node("Conv", {x, dqw.output(0), dqb.output(0)}, acc, layer), op.kernel);
    const std::string zero_u8 = g_.constant<uint8_t>("zero", onnx::TensorProto::UINT8, {}, {0});
    std::string q;
    if (pool) {
      // y = g·(acc + b/4) ∈ [−L, 2L] as uint8, its 2×2 mean, then the code
      // round(4·mean) = round(g·(Σacc + b)) by a QuantizeLinear of scale ¼.
      const float span_scale = float(3.0 * steps / 255.0);
      const std::string y_zero =
          g_.constant<uint8_t>("zero", onnx::TensorProto::UINT8, {}, {uint8_t(85)});
      const std::string y_scale = g_.scalar_f32("scale", span_scale);
      const std::string y = g_.apply("QuantizeLinear", {acc, y_scale, y_zero}, layer);
      const std::string yf = g_.apply("DequantizeLinear", {y, y_scale, y_zero}, layer);
      const std::string name = model_.ops[*pool].name;
      onnx::NodeProto& avg = g_.node("AveragePool", {yf}, g_.fresh(name + "_AveragePool"), name);
      set_ints(avg, "kernel_shape", {2, 2});
      set_ints(avg, "strides", {2, 2});
      q = g_.apply("QuantizeLinear", {avg.output(0), g_.scalar_f32("quarter", 0.25f), zero_u8}, name);
    } else {
      q = g_.apply("QuantizeLinear", {acc, g_.scalar_f32("unit", 1.0f), zero_u8}, layer);
    }
    const std::string codes = g_.apply(
        "Clip",
        {q, zero_u8,
         g_.constant<uint8_t>("max_code", onnx::TensorProto::UINT8, {}, {uint8_t(steps)})},
        layer);
    values_[size_t(rq.output)] = {codes, true, 1};
    bound_[size_t(rq.output)] = steps;
  }

  // 2×2 sums: AveragePool (floor sizes) times 4.
  void pool_sum(const Op& op) {
    const Value& in = values_[size_t(op.inputs[0])];
    const double bound = 4 * bound_[size_t(op.inputs[0])];
    bound_[size_t(op.output)] = bound;
    onnx::NodeProto& pool =
        g_.node("AveragePool", {as_float(in, op.name)}, g_.fresh(op.name + "_AveragePool"), op.name);
    set_ints(pool, "kernel_shape", {2, 2});
    set_ints(pool, "strides", {2, 2});
    const std::string mean = pool.output(0);
    if (form_ == OnnxForm::kFloatBaseline) {
      values_[size_t(op.output)] = {mean, false, 1};
    } else if (form_ == OnnxForm::kInt8) {
      // Sums up to 255 fit uint8 exactly (scale ¼ on the mean); larger ones
      // keep the mean rounded to an integer, a quarter of the sum.
      const bool exact = bound <= 255;
      const float scale = exact ? 0.25f : 1.0f;
      values_[size_t(op.output)] = {
          g_.apply("QuantizeLinear",
                   {mean, g_.scalar_f32("scale", scale),
                    g_.constant<uint8_t>("zero", onnx::TensorProto::UINT8, {}, {0})},
                   op.name),
          true, in.unit * (exact ? 1.0 : 4.0)};
    } else {
      values_[size_t(op.output)] = {g_.apply("Mul", {mean, g_.scalar_f32("four", 4.0f)}, op.name),
                                    false, 1};
    }
  }

  // code = #{k : Σ_j m_j·in_j ≥ t_k}, in int64: exact for every Z.
  void requant(const Op& op) {
    const int32_t channels = tensor(op.output).channels;
    const int32_t steps = op.levels - 1;
    bound_[size_t(op.output)] = steps;
    if (form_ == OnnxForm::kFloatBaseline) {
      std::string sum = as_float(values_[size_t(op.inputs[0])], op.name);
      for (size_t j = 1; j < op.inputs.size(); ++j)
        sum = g_.apply("Add", {sum, as_float(values_[size_t(op.inputs[j])], op.name)}, op.name);
      values_[size_t(op.output)] = {g_.apply("Relu", {sum}, op.name), false, 1};
      return;
    }
    std::string z;
    for (size_t j = 0; j < op.inputs.size(); ++j) {
      const Value& in = values_[size_t(op.inputs[j])];
      onnx::NodeProto& cast = g_.node("Cast", {as_float(in, op.name)}, g_.fresh(op.name + "_Z"), op.name);
      set_int(cast, "to", onnx::TensorProto::INT64);
      std::vector<int64_t> m(op.multipliers.begin() + ptrdiff_t(j) * channels,
                             op.multipliers.begin() + ptrdiff_t(j + 1) * channels);
      const std::string term = g_.apply(
          "Mul",
          {cast.output(0), g_.constant("multiplier", onnx::TensorProto::INT64, nchw_dims(op.output), m)},
          op.name);
      z = z.empty() ? term : g_.apply("Add", {z, term}, op.name);
    }
    const std::string z5 = g_.apply("Unsqueeze", {z, g_.axes({4})}, op.name);
    const std::string passed = g_.apply(
        "GreaterOrEqual",
        {z5, g_.constant("thresholds", onnx::TensorProto::INT64, nchw_dims(op.output, steps),
                         op.thresholds)},
        op.name);
    onnx::NodeProto& cast = g_.node("Cast", {passed}, g_.fresh(op.name + "_passed"), op.name);
    set_int(cast, "to", onnx::TensorProto::FLOAT);
    onnx::NodeProto& count =
        g_.node("ReduceSum", {cast.output(0), g_.axes({4})}, g_.fresh(op.name + "_codes"), op.name);
    set_int(count, "keepdims", 0);
    values_[size_t(op.output)] = {count.output(0), false, 1};
  }

  // f = Σ_j scale_j · (Σ_hw in_j) + offset; logits = f·Wᵀ + bias.
  void gap_linear(const Op& op) {
    const int32_t channels = tensor(op.inputs[0]).channels;
    const int32_t classes = tensor(op.output).channels;
    std::string feature;
    for (size_t j = 0; j < op.inputs.size(); ++j) {
      const Value& in = values_[size_t(op.inputs[j])];
      onnx::NodeProto& sum =
          g_.node("ReduceSum", {as_float(in, op.name), g_.axes({2, 3})}, g_.fresh(op.name + "_sum"), op.name);
      set_int(sum, "keepdims", 0);
      std::vector<float> s(op.scale.begin() + ptrdiff_t(j) * channels,
                           op.scale.begin() + ptrdiff_t(j + 1) * channels);
      if (form_ == OnnxForm::kFloatBaseline) std::fill(s.begin(), s.end(), 1.0f);
      const std::string term = g_.apply(
          "Mul", {sum.output(0), g_.constant("scale", onnx::TensorProto::FLOAT, {channels}, s)}, op.name);
      feature = feature.empty() ? term : g_.apply("Add", {feature, term}, op.name);
    }
    feature = g_.apply(
        "Add", {feature, g_.constant("offset", onnx::TensorProto::FLOAT, {channels}, op.offset)}, op.name);
    onnx::NodeProto& gemm = g_.node(
        "Gemm",
        {feature, g_.constant("weight", onnx::TensorProto::FLOAT, {classes, channels}, op.weight),
         g_.constant("bias", onnx::TensorProto::FLOAT, {classes}, op.bias)},
        "logits", op.name);
    set_int(gemm, "transB", 1);
  }

  const Model& model_;
  OnnxForm form_;
  Graph g_;
  std::vector<Value> values_;
  std::vector<double> bound_;  // the largest |value| of each runtime tensor
  std::set<size_t> consumed_;  // requants the int8 form folded into their conv
  double largest_conv_sum_ = 0;
  int64_t exact_channels_ = 0, int8_channels_ = 0;  // int8 form: thresholds reproduced
};

}  // namespace

const char* to_string(OnnxForm form) {
  switch (form) {
    case OnnxForm::kExact: return "onnx";
    case OnnxForm::kInt8: return "onnx-int8";
    case OnnxForm::kFloatBaseline: return "onnx-float-baseline";
  }
  return "unknown";
}

std::string export_onnx(const Model& model, OnnxForm form) {
  maqd_rt::validate(model);
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("maqd");
  proto.set_producer_version(MAQD_VERSION_STRING);
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(std::string("maqd ") + to_string(form));
  const maqd_rt::TensorDesc& in = model.input();
  set_tensor_type(*graph.add_input(), "image", onnx::TensorProto::UINT8,
                  {-1, in.channels, in.height, in.width});
  set_tensor_type(*graph.add_output(), "logits", onnx::TensorProto::FLOAT,
                  {-1, model.num_classes()});
  Exporter exporter(model, form, graph);
  exporter.run();
  std::string doc = std::string("maqd ") + to_string(form) + " export of a runtime model";
  if (form == OnnxForm::kExact)
    doc += exporter.largest_conv_sum() < kFloatExact
               ? "; every conv sum is below 2^24, so float computes it exactly"
               : "; some conv sum may reach 2^24, where float rounds";
  if (form == OnnxForm::kInt8)
    doc += "; int8 convs: " + std::to_string(exporter.exact_channels()) + " of " +
           std::to_string(exporter.int8_channels()) +
           " channels reproduce the runtime's thresholds exactly (the others, and pooled "
           "outputs, are approximated)";
  proto.set_doc_string(doc);
  for (const auto& [key, value] : model.text) {
    onnx::StringStringEntryProto& entry = *proto.add_metadata_props();
    entry.set_key(key);
    entry.set_value(value);
  }
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw Error(std::string("onnx export: the ONNX checker refused the graph: ") + e.what());
  }
  std::string bytes;
  check(proto.SerializeToString(&bytes), "onnx export", "protobuf serialization failed");
  return bytes;
}

void save_onnx(const Model& model, OnnxForm form, const std::string& path) {
  write_file_atomically(path, export_onnx(model, form));
}

}  // namespace maqd
