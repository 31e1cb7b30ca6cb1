// validate(): every rule of the op graph in model.hpp, plus the size caps and
// value-range checks that make the kernels' integer arithmetic safe.
#include "maqd_rt/model.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "maqd_rt/error.hpp"
#include "op_arrays.h"

namespace maqd_rt {

namespace {

// validate()'s failures: the model breaks a rule of the format.
struct ModelError : Error {
  explicit ModelError(const std::string& message, Status status = Status::kBadFile)
      : Error(message, status) {}
};

// Caps that keep every later size computation (bytes, indices, sums over a
// map) inside int64 and every per-image element index inside int32.
constexpr int64_t kMaxTensorElements = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxArrayElements = (int64_t(1) << 31) - 1;
constexpr size_t kMaxTensors = size_t(1) << 20;
constexpr size_t kMaxOps = size_t(1) << 20;
constexpr int32_t kMaxKernel = 255;
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

bool is_known(DType dtype) { return dtype >= DType::kU8 && dtype <= DType::kF32; }
bool is_known(OpKind kind) { return kind >= OpKind::kInputLut && kind <= OpKind::kGapLinear; }

// The largest |value| a tensor of this integer dtype can hold.
int64_t dtype_max(DType dtype) {
  switch (dtype) {
    case DType::kU8: return 255;
    case DType::kI16: return 32767;
    case DType::kI32: return kI32Max;
    default: return 0;
  }
}

// a·b, or -1 when it exceeds `cap` (a, b ≥ 0).
int64_t capped_product(int64_t a, int64_t b, int64_t cap) {
  if (a < 0 || b < 0) return -1;
  if (a != 0 && b > cap / a) return -1;
  return a * b;
}

// a·b + c with a, b, c ≥ 0, or -1 when it exceeds int64.
int64_t checked_mul_add(int64_t a, int64_t b, int64_t c) {
  const int64_t product = capped_product(a, b, kI64Max);
  if (product < 0 || product > kI64Max - c) return -1;
  return product + c;
}

std::string shape_string(const TensorDesc& t) {
  std::ostringstream s;
  s << dtype_name(t.dtype) << " " << t.height << "x" << t.width << "x" << t.channels;
  return s.str();
}

class OpChecker {
 public:
  OpChecker(const Model& model, size_t index) : model_(model), op_(model.ops[index]) {
    std::ostringstream s;
    s << "op " << index << " '" << printable(op_.name) << "' (" << op_kind_name(op_.kind) << ")";
    label_ = s.str();
  }

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw ModelError("model: " + label_ + ": " + field + ": " + problem);
  }

  const TensorDesc& input(size_t j) const { return model_.tensors[size_t(op_.inputs[j])]; }
  const TensorDesc& output() const { return model_.tensors[size_t(op_.output)]; }

  void expect_input_count(size_t low, size_t high) const {
    const size_t n = op_.inputs.size();
    if (n < low || n > high) {
      fail("inputs", "has " + std::to_string(n) + " tensors; expected " +
                         (low == high ? std::to_string(low)
                                      : std::to_string(low) + " or " + std::to_string(high)));
    }
  }

  void expect_dtype(const std::string& field, DType found,
                    std::initializer_list<DType> allowed) const {
    std::string names;
    for (DType d : allowed) {
      if (d == found) return;
      names += (names.empty() ? "" : " or ") + std::string(dtype_name(d));
    }
    fail(field, std::string("dtype is ") + dtype_name(found) + "; expected " + names);
  }

  void expect_same_hwc(const std::string& field, const TensorDesc& found,
                       const TensorDesc& reference, const std::string& reference_name) const {
    if (found.height != reference.height || found.width != reference.width ||
        found.channels != reference.channels) {
      fail(field, "shape is " + shape_string(found) + "; expected the height, width and channels of " +
                      reference_name + " (" + shape_string(reference) + ")");
    }
  }

  template <typename Vector>
  void expect_size(const std::string& field, const Vector& values, int64_t expected,
                   const std::string& formula) const {
    if (expected < 0 || expected > kMaxArrayElements) {
      fail(field, "expected size " + formula + " exceeds the cap of " +
                      std::to_string(kMaxArrayElements) + " elements");
    }
    if (int64_t(values.size()) != expected) {
      fail(field, "has " + std::to_string(values.size()) + " values; expected " + formula + " = " +
                      std::to_string(expected));
    }
  }

  void expect_zero(const std::string& field, int32_t value) const {
    if (value != 0) {
      fail(field, "is " + std::to_string(value) + "; expected 0 (" + op_kind_name(op_.kind) +
                      " does not use it)");
    }
  }

  void expect_finite(const std::string& field, const std::vector<float>& values) const {
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        std::ostringstream s;
        s << "[" << i << "] is " << values[i] << "; expected a finite number";
        fail(field, s.str());
      }
    }
  }

  const Op& op() const { return op_; }

 private:
  const Model& model_;
  const Op& op_;
  std::string label_;
};

void check_tensor(const TensorDesc& t, size_t index) {
  const std::string label = "model: tensor " + std::to_string(index) + ": ";
  if (!is_known(t.dtype)) {
    throw ModelError(label + "dtype: is " + std::to_string(int(t.dtype)) +
                "; expected u8 (1), i16 (2), i32 (3) or f32 (4)");
  }
  if (t.height <= 0 || t.width <= 0 || t.channels <= 0) {
    throw ModelError(label + "shape: is " + shape_string(t) + "; expected positive height, width, channels");
  }
  const int64_t pixels = capped_product(t.height, t.width, kMaxTensorElements);
  if (pixels < 0 || capped_product(pixels, t.channels, kMaxTensorElements) < 0) {
    throw ModelError(label + "shape: " + shape_string(t) + " has more than " +
                         std::to_string(kMaxTensorElements) + " elements per image",
                     Status::kLimitExceeded);
  }
}

// Each kind's check returns the range of values its output can hold, which
// the next ops use to prove that their accumulators cannot overflow (and
// the engine to choose its kernels).
using Ranges = std::vector<ValueRange>;

ValueRange check_input_lut(const OpChecker& c, const Ranges&) {
  const Op& op = c.op();
  c.expect_input_count(1, 1);
  c.expect_dtype("input tensor", c.input(0).dtype, {DType::kU8});
  c.expect_dtype("output tensor", c.output().dtype, {DType::kU8, DType::kI16});
  c.expect_same_hwc("output tensor", c.output(), c.input(0), "the input");
  const int64_t channels = c.output().channels;
  c.expect_size("lut", op.lut, capped_product(channels, 256, kMaxArrayElements),
                "channels·256 = " + std::to_string(channels) + "·256");
  const int64_t low = c.output().dtype == DType::kU8 ? 0 : -32768;
  const int64_t high = c.output().dtype == DType::kU8 ? 255 : 32767;
  ValueRange range{high, low};  // emptied, then widened by each entry
  for (size_t i = 0; i < op.lut.size(); ++i) {
    if (op.lut[i] < low || op.lut[i] > high) {
      c.fail("lut", "[" + std::to_string(i) + "] is " + std::to_string(op.lut[i]) +
                        "; expected " + std::to_string(low) + ".." + std::to_string(high) +
                        " (the output dtype " + dtype_name(c.output().dtype) + ")");
    }
    range.low = std::min<int64_t>(range.low, op.lut[i]);
    range.high = std::max<int64_t>(range.high, op.lut[i]);
  }
  return range;
}

ValueRange check_conv(const OpChecker& c, const Ranges& ranges) {
  const Op& op = c.op();
  c.expect_input_count(1, 1);
  c.expect_dtype("input tensor", c.input(0).dtype, {DType::kU8, DType::kI16});
  c.expect_dtype("output tensor", c.output().dtype, {DType::kI32});
  if (c.output().height != c.input(0).height || c.output().width != c.input(0).width) {
    c.fail("output tensor", "shape is " + shape_string(c.output()) +
                                "; expected the input's height and width (" +
                                shape_string(c.input(0)) + ")");
  }
  if (op.kernel < 1 || op.kernel % 2 == 0 || op.kernel > kMaxKernel) {
    c.fail("kernel", "is " + std::to_string(op.kernel) + "; expected an odd number in 1.." +
                         std::to_string(kMaxKernel));
  }
  int32_t max_code = 0;
  switch (op.weight_bits) {
    case 2: max_code = 1; break;
    case 4: max_code = 7; break;
    case 8: max_code = 127; break;
    default:
      c.fail("weight_bits", "is " + std::to_string(op.weight_bits) + "; expected 2, 4 or 8");
  }
  const int64_t out = c.output().channels, in = c.input(0).channels, k = op.kernel;
  const int64_t per_output = capped_product(k * k, in, kMaxArrayElements);
  c.expect_size("weights", op.weights, per_output < 0 ? -1 : capped_product(out, per_output, kMaxArrayElements),
                "out·k·k·in = " + std::to_string(out) + "·" + std::to_string(k) + "·" +
                    std::to_string(k) + "·" + std::to_string(in));
  // Codes are symmetric: the most negative two's complement value is
  // reserved (for 2 bits the packing keeps 0b10 unused).
  int64_t worst_output = 0;
  for (int64_t o = 0; o < out; ++o) {
    int64_t abs_sum = 0;
    for (int64_t i = 0; i < per_output; ++i) {
      const int32_t code = op.weights[size_t(o * per_output + i)];
      if (code < -max_code || code > max_code) {
        c.fail("weights", "[" + std::to_string(o * per_output + i) + "] is " + std::to_string(code) +
                              "; expected " + std::to_string(-max_code) + ".." +
                              std::to_string(max_code) + " for weight_bits " +
                              std::to_string(op.weight_bits));
      }
      abs_sum += std::abs(code);
    }
    const int64_t input_bound = ranges[size_t(op.inputs[0])].magnitude();
    const int64_t channel_bound = capped_product(abs_sum, input_bound, kI64Max);
    if (channel_bound < 0 || channel_bound > kI32Max) {
      c.fail("weights", "output channel " + std::to_string(o) + " can reach |" +
                            (channel_bound < 0 ? std::string("> 2^63") : std::to_string(channel_bound)) +
                            "| (Σ|code| = " + std::to_string(abs_sum) + " × input bound " +
                            std::to_string(input_bound) +
                            "); expected at most 2^31−1 so the i32 accumulator cannot overflow");
    }
    worst_output = std::max(worst_output, channel_bound);
  }
  return {-worst_output, worst_output};
}

ValueRange check_pool_sum(const OpChecker& c, const Ranges& ranges) {
  c.expect_input_count(1, 1);
  const TensorDesc& in = c.input(0);
  c.expect_dtype("input tensor", in.dtype, {DType::kU8, DType::kI16, DType::kI32});
  const DType expected_out = in.dtype == DType::kU8 ? DType::kI16 : DType::kI32;
  c.expect_dtype("output tensor", c.output().dtype, {expected_out});
  if (in.height < 2 || in.width < 2) {
    c.fail("input tensor", "shape is " + shape_string(in) + "; expected at least 2x2");
  }
  const TensorDesc& out = c.output();
  if (out.height != in.height / 2 || out.width != in.width / 2 || out.channels != in.channels) {
    c.fail("output tensor", "shape is " + shape_string(out) + "; expected " +
                                std::to_string(in.height / 2) + "x" + std::to_string(in.width / 2) +
                                "x" + std::to_string(in.channels) + " (the input halved, floor)");
  }
  const ValueRange& input = ranges[size_t(c.op().inputs[0])];
  const ValueRange sums{4 * input.low, 4 * input.high};
  const int64_t bound = sums.magnitude();
  if (bound > dtype_max(expected_out)) {
    c.fail("output tensor", "sums can reach |" + std::to_string(bound) + "|; expected at most " +
                                std::to_string(dtype_max(expected_out)) + " (" +
                                dtype_name(expected_out) + ")");
  }
  return sums;
}

ValueRange check_requant(const OpChecker& c, const Ranges& ranges) {
  const Op& op = c.op();
  c.expect_input_count(1, 2);
  for (size_t j = 0; j < op.inputs.size(); ++j) {
    const std::string field = "input tensor " + std::to_string(j);
    c.expect_dtype(field, c.input(j).dtype, {DType::kI32});
    if (j > 0) c.expect_same_hwc(field, c.input(j), c.input(0), "input tensor 0");
  }
  c.expect_dtype("output tensor", c.output().dtype, {DType::kU8});
  c.expect_same_hwc("output tensor", c.output(), c.input(0), "the input");
  if (op.levels < 2 || op.levels > 256) {
    c.fail("levels", "is " + std::to_string(op.levels) + "; expected 2..256");
  }
  const int64_t channels = c.output().channels, inputs = int64_t(op.inputs.size());
  c.expect_size("multipliers", op.multipliers, capped_product(inputs, channels, kMaxArrayElements),
                "inputs·channels = " + std::to_string(inputs) + "·" + std::to_string(channels));
  const int64_t row = op.levels - 1;
  c.expect_size("thresholds", op.thresholds, capped_product(channels, row, kMaxArrayElements),
                "channels·(levels−1) = " + std::to_string(channels) + "·" + std::to_string(row));
  for (int64_t ch = 0; ch < channels; ++ch) {
    for (int64_t k = 1; k < row; ++k) {
      const size_t at = size_t(ch * row + k);
      if (op.thresholds[at] < op.thresholds[at - 1]) {
        c.fail("thresholds", "channel " + std::to_string(ch) + " decreases at [" +
                                 std::to_string(at) + "] (" + std::to_string(op.thresholds[at - 1]) +
                                 " then " + std::to_string(op.thresholds[at]) +
                                 "); expected each channel's row nondecreasing");
      }
    }
    // Z = Σ_j m_j·x_j is computed in int64: bound it.
    int64_t z_bound = 0;
    for (int64_t j = 0; j < inputs; ++j) {
      const int64_t m = op.multipliers[size_t(j * channels + ch)];
      const int64_t abs_m = m == std::numeric_limits<int64_t>::min() ? -1 : std::abs(m);
      z_bound = abs_m < 0 || z_bound < 0
                    ? -1
                    : checked_mul_add(abs_m, ranges[size_t(op.inputs[size_t(j)])].magnitude(), z_bound);
    }
    if (z_bound < 0) {
      c.fail("multipliers", "channel " + std::to_string(ch) +
                                " can make Σ multiplier·input overflow int64; expected smaller multipliers");
    }
  }
  return {0, op.levels - 1};
}

ValueRange check_gap_linear(const OpChecker& c, const Ranges&) {
  const Op& op = c.op();
  c.expect_input_count(1, 2);
  for (size_t j = 0; j < op.inputs.size(); ++j) {
    const std::string field = "input tensor " + std::to_string(j);
    c.expect_dtype(field, c.input(j).dtype, {DType::kU8, DType::kI16, DType::kI32});
    if (j > 0) c.expect_same_hwc(field, c.input(j), c.input(0), "input tensor 0");
  }
  const TensorDesc& out = c.output();
  c.expect_dtype("output tensor", out.dtype, {DType::kF32});
  if (out.height != 1 || out.width != 1) {
    c.fail("output tensor", "shape is " + shape_string(out) + "; expected f32 1x1xclasses");
  }
  const int64_t channels = c.input(0).channels, classes = out.channels;
  const int64_t inputs = int64_t(op.inputs.size());
  c.expect_size("scale", op.scale, capped_product(inputs, channels, kMaxArrayElements),
                "inputs·channels = " + std::to_string(inputs) + "·" + std::to_string(channels));
  c.expect_size("offset", op.offset, channels, "channels");
  c.expect_size("weight", op.weight, capped_product(classes, channels, kMaxArrayElements),
                "classes·channels = " + std::to_string(classes) + "·" + std::to_string(channels));
  c.expect_size("bias", op.bias, classes, "classes");
  c.expect_finite("scale", op.scale);
  c.expect_finite("offset", op.offset);
  c.expect_finite("weight", op.weight);
  c.expect_finite("bias", op.bias);
  return {0, 0};
}

// Fields a kind does not use must stay empty, so that the file (which only
// stores what a kind uses) round-trips the model exactly.
void check_unused_fields(const OpChecker& c) {
  const Op& op = c.op();
  const OpKind kind = op.kind;
  if (kind != OpKind::kConv) {
    c.expect_zero("kernel", op.kernel);
    c.expect_zero("weight_bits", op.weight_bits);
  }
  if (kind != OpKind::kRequant) c.expect_zero("levels", op.levels);
  // Every array of every other kind must be empty (op_arrays.h lists them).
  const OpArrays& own = op_arrays(kind);
  for (OpKind other : kOpKinds) {
    const OpArrays& arrays = op_arrays(other);
    for (size_t j = 0; j < arrays.count; ++j) {
      const OpArray& a = arrays.arrays[j];
      bool used = false;
      for (size_t k = 0; k < own.count; ++k) used = used || std::strcmp(own.arrays[k].name, a.name) == 0;
      const size_t size = a.size(op);
      if (!used && size != 0) {
        c.fail(a.name, "has " + std::to_string(size) + " values; expected none (" + op_kind_name(kind) +
                           " does not use it)");
      }
    }
  }
}

}  // namespace

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kU8: return 1;
    case DType::kI16: return 2;
    case DType::kI32: return 4;
    case DType::kF32: return 4;
  }
  throw ModelError("dtype_size: unknown dtype " + std::to_string(int(dtype)) +
              "; expected u8 (1), i16 (2), i32 (3) or f32 (4)");
}

std::string printable(const std::string& text) {
  char out[kPrintableCapacity];
  printable_into(reinterpret_cast<const uint8_t*>(text.data()), text.size(), out, sizeof out);
  return out;
}

int32_t Model::num_classes() const {
  if (ops.empty()) throw ModelError("model: num_classes: the model has no ops");
  const int32_t out = ops.back().output;
  if (out < 0 || size_t(out) >= tensors.size()) {
    throw ModelError("model: num_classes: the last op's output " + std::to_string(out) +
                " is not a tensor index (0.." + std::to_string(tensors.size()) + ")");
  }
  return tensors[size_t(out)].channels;
}

std::vector<ValueRange> validate(const Model& model) {
  if (model.tensors.empty() || model.tensors.size() > kMaxTensors) {
    throw ModelError("model: tensors: has " + std::to_string(model.tensors.size()) +
                         "; expected 1.." + std::to_string(kMaxTensors) + " (tensor 0 is the input)",
                     model.tensors.empty() ? Status::kBadFile : Status::kLimitExceeded);
  }
  if (model.ops.empty() || model.ops.size() > kMaxOps) {
    throw ModelError("model: ops: has " + std::to_string(model.ops.size()) + "; expected 1.." +
                         std::to_string(kMaxOps) + " (the last is gap_linear)",
                     model.ops.empty() ? Status::kBadFile : Status::kLimitExceeded);
  }
  for (size_t t = 0; t < model.tensors.size(); ++t) check_tensor(model.tensors[t], t);
  if (model.tensors[0].dtype != DType::kU8) {
    throw ModelError(std::string("model: tensor 0 (the input): dtype is ") +
                dtype_name(model.tensors[0].dtype) + "; expected u8");
  }

  const int64_t tensor_count = int64_t(model.tensors.size());
  std::vector<bool> written(model.tensors.size(), false);
  written[0] = true;
  // ranges[t]: the values tensor t can hold ({0, 0} for float tensors).
  Ranges ranges(model.tensors.size());
  ranges[0] = {0, 255};

  for (size_t i = 0; i < model.ops.size(); ++i) {
    const OpChecker c(model, i);
    const Op& op = model.ops[i];
    if (!is_known(op.kind)) {
      c.fail("kind", "is " + std::to_string(int(op.kind)) + "; expected 1..5 (input_lut, conv, "
                     "pool_sum, requant, gap_linear)");
    }
    const bool last = i + 1 == model.ops.size();
    if (last != (op.kind == OpKind::kGapLinear)) {
      c.fail("kind", last ? "the last op must be gap_linear (it writes the logits)"
                          : "gap_linear must be the last op and only there");
    }
    for (size_t j = 0; j < op.inputs.size(); ++j) {
      const int32_t t = op.inputs[j];
      const std::string field = "inputs[" + std::to_string(j) + "]";
      if (t < 0 || t >= tensor_count) {
        c.fail(field, "is " + std::to_string(t) + "; expected a tensor index 0.." +
                          std::to_string(tensor_count - 1));
      }
      if (!written[size_t(t)]) {
        c.fail(field, "reads tensor " + std::to_string(t) +
                          " before any op writes it; expected tensor 0 or an earlier op's output");
      }
    }
    if (op.output < 1 || op.output >= tensor_count) {
      c.fail("output", "is " + std::to_string(op.output) + "; expected a tensor index 1.." +
                           std::to_string(tensor_count - 1) + " (tensor 0 is the input)");
    }
    if (written[size_t(op.output)]) {
      c.fail("output", "tensor " + std::to_string(op.output) +
                           " is already written by an earlier op; expected each tensor written once");
    }
    check_unused_fields(c);
    ValueRange range;
    switch (op.kind) {
      case OpKind::kInputLut: range = check_input_lut(c, ranges); break;
      case OpKind::kConv: range = check_conv(c, ranges); break;
      case OpKind::kPoolSum: range = check_pool_sum(c, ranges); break;
      case OpKind::kRequant: range = check_requant(c, ranges); break;
      case OpKind::kGapLinear: range = check_gap_linear(c, ranges); break;
    }
    written[size_t(op.output)] = true;
    ranges[size_t(op.output)] = range;
  }
  for (size_t t = 1; t < written.size(); ++t) {
    if (!written[t]) {
      throw ModelError("model: tensor " + std::to_string(t) +
                  ": no op writes it; expected every tensor but 0 written exactly once");
    }
  }
  return ranges;
}

}  // namespace maqd_rt
