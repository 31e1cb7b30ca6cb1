// validate(): the core's graph rules (core/src/graph_check.h: dtypes, shapes,
// size caps, value ranges that make the kernels' integer arithmetic safe)
// on the in-memory Model, plus the Model's own rule on unused fields.
#include "maqd_rt/model.hpp"

#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "maqd_rt/error.hpp"
#include "graph_check.h"
#include "op_arrays.h"

namespace maqd_rt {

namespace {

// graph_check.h's view of a hosted Op: arrays through op_arrays.h.
class ModelOp {
 public:
  explicit ModelOp(const Op& op) : op_(op), arrays_(op_arrays(op.kind)) {}
  uint8_t kind() const { return uint8_t(op_.kind); }
  int64_t output() const { return op_.output; }
  int64_t kernel() const { return op_.kernel; }
  int64_t levels() const { return op_.levels; }
  int64_t weight_bits() const { return op_.weight_bits; }
  uint64_t input_count() const { return op_.inputs.size(); }
  int64_t input(uint64_t j) const { return op_.inputs[j]; }
  void name(const uint8_t** bytes, uint64_t* length) const {
    *bytes = reinterpret_cast<const uint8_t*>(op_.name.data());
    *length = op_.name.size();
  }
  uint64_t count(size_t slot) const { return arrays_.arrays[slot].size(op_); }
  int64_t integer(size_t slot, uint64_t k) const {
    const OpArray& a = arrays_.arrays[slot];
    switch (a.type) {
      case ArrayType::kI32: return (op_.*a.i32)[k];
      case ArrayType::kI64: return (op_.*a.i64)[k];
      case ArrayType::kCodes: return (op_.*a.codes)[k];
      case ArrayType::kF32: break;
    }
    return 0;
  }
  float real(size_t slot, uint64_t k) const { return (op_.*arrays_.arrays[slot].f32)[k]; }

 private:
  const Op& op_;
  const OpArrays& arrays_;
};

class ModelGraph {
 public:
  using OpHandle = ModelOp;
  explicit ModelGraph(const Model& model) : model_(model) {}
  uint64_t tensor_count() const { return model_.tensors.size(); }
  uint64_t op_count() const { return model_.ops.size(); }
  TensorRecord tensor(uint64_t t) const {
    const TensorDesc& d = model_.tensors[t];
    return TensorRecord{d.dtype, d.height, d.width, d.channels};
  }
  ModelOp op(uint64_t i) const { return ModelOp(model_.ops[i]); }

 private:
  const Model& model_;
};

[[noreturn]] void fail(const std::string& message, Status status = Status::kBadFile) {
  throw Error(message, status);
}

std::string op_label(const Model& model, size_t index) {
  const Op& op = model.ops[index];
  return "model: op " + std::to_string(index) + " '" + printable(op.name) + "' (" + op_kind_name(op.kind) + ")";
}

// Fields a kind does not use must stay empty, so that the file (which only
// stores what a kind uses) round-trips the model exactly. The core's graph
// check has the rule for kernel and levels (the file holds both for every
// op); weight_bits and the arrays are checked here, as the file reader
// checks them in the bytes.
void check_unused_fields(const Model& model, size_t index) {
  const Op& op = model.ops[index];
  const OpKind kind = op.kind;
  auto expect_zero = [&](const char* field, int32_t value) {
    if (value != 0) {
      fail(op_label(model, index) + ": " + field + ": is " + std::to_string(value) + "; expected 0 (" +
           op_kind_name(kind) + " does not use it)");
    }
  };
  if (kind != OpKind::kConv) expect_zero("weight_bits", op.weight_bits);
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
        fail(op_label(model, index) + ": " + a.name + ": has " + std::to_string(size) +
             " values; expected none (" + op_kind_name(kind) + " does not use it)");
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
  throw Error("dtype_size: unknown dtype " + std::to_string(int(dtype)) +
              "; expected u8 (1), i16 (2), i32 (3) or f32 (4)");
}

std::string printable(const std::string& text) {
  char out[kPrintableCapacity];
  printable_into(reinterpret_cast<const uint8_t*>(text.data()), text.size(), out, sizeof out);
  return out;
}

std::string without_control_bytes(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  const auto escape = [&out](unsigned char byte) {
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    // C1 controls U+0080…U+009F are C2 80…C2 9F in UTF-8 (U+009B is a
    // terminal's CSI).
    if (byte == 0xC2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xE0) == 0x80) {
      escape(byte);
      escape(static_cast<unsigned char>(text[++i]));
    } else if (byte < 0x20 || byte == 0x7F) {
      escape(byte);
    } else {
      out += text[i];
    }
  }
  return out;
}

int32_t Model::num_classes() const {
  if (ops.empty()) throw Error("model: num_classes: the model has no ops");
  const int32_t out = ops.back().output;
  if (out < 0 || size_t(out) >= tensors.size()) {
    throw Error("model: num_classes: the last op's output " + std::to_string(out) +
                " is not a tensor index (0.." + std::to_string(tensors.size()) + ")");
  }
  return tensors[size_t(out)].channels;
}

std::vector<std::string> Model::class_names() const {
  const auto found = text.find("class_names");
  if (found == text.end()) return {};
  std::vector<std::string> names;
  size_t begin = 0;
  for (size_t end; (end = found->second.find('\n', begin)) != std::string::npos; begin = end + 1)
    names.push_back(found->second.substr(begin, end - begin));
  names.push_back(found->second.substr(begin));
  if (names.size() != size_t(num_classes())) return {};
  return names;
}

namespace {

// "7 (Sneaker)", or "7" where `names` has none for the label; for a
// terminal, so without control bytes.
std::string label_text(size_t label, const std::vector<std::string>& names) {
  return std::to_string(label) + (label < names.size() ? " (" + without_control_bytes(names[label]) + ")" : "");
}

}  // namespace

std::string Model::class_label(size_t label) const { return label_text(label, class_names()); }

std::string Model::prediction_text(const float* logits, size_t top) const {
  const std::vector<ClassProbability> best = top_classes(logits, size_t(num_classes()), std::max<size_t>(top, 1));
  const std::vector<std::string> names = class_names();  // parsed once for the K labels
  if (top == 0) return label_text(best[0].label, names);
  std::string text;
  for (const ClassProbability& c : best) {
    char probability[32];
    std::snprintf(probability, sizeof probability, " %.3f", c.probability);
    text += (text.empty() ? "" : ", ") + label_text(c.label, names) + probability;
  }
  return text;
}

std::vector<ClassProbability> top_classes(const float* logits, size_t classes, size_t k) {
  if (k > classes)
    fail("top_classes: " + std::to_string(k) + " classes asked of " + std::to_string(classes) + "; expected at most " +
             std::to_string(classes),
         Status::kBadArgument);
  // Highest first, ties to the lower label, NaN last: a strict weak order,
  // as partial_sort needs. By the logits themselves, since probabilities of
  // nearby logits can round to the same double.
  const auto before = [&](size_t a, size_t b) {
    const bool a_nan = std::isnan(logits[a]), b_nan = std::isnan(logits[b]);
    if (a_nan || b_nan) return a_nan == b_nan ? a < b : b_nan;
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::vector<size_t> order(classes);
  std::iota(order.begin(), order.end(), size_t(0));
  std::partial_sort(order.begin(), order.begin() + ptrdiff_t(k), order.end(), before);
  // Softmax with the highest logit subtracted, so nothing overflows. Where
  // the highest is infinite (a float sum can overflow), the logits equal
  // to it share the probability; a NaN logit's probability is NaN.
  double highest = -INFINITY;
  for (size_t c = 0; c < classes; ++c)
    if (!std::isnan(logits[c])) highest = std::max(highest, double(logits[c]));
  const auto weight = [&](float logit) {
    if (std::isinf(highest)) return double(logit) == highest ? 1.0 : 0.0;
    return std::exp(double(logit) - highest);
  };
  double sum = 0;
  for (size_t c = 0; c < classes; ++c)
    if (!std::isnan(logits[c])) sum += weight(logits[c]);
  std::vector<ClassProbability> best(k);
  for (size_t i = 0; i < k; ++i) {
    const float logit = logits[order[i]];
    best[i] = {order[i], std::isnan(logit) ? double(NAN) : weight(logit) / sum};
  }
  return best;
}

size_t predicted_class(const float* logits, size_t classes) noexcept {
  size_t best = 0;
  for (size_t c = 1; c < classes; ++c)
    if (logits[c] > logits[best] || (std::isnan(logits[best]) && !std::isnan(logits[c]))) best = c;
  return best;
}

std::vector<ValueRange> validate(const Model& model) {
  // Sized within the cap: the check refuses a larger count before it writes.
  std::vector<ValueRange> ranges(std::min<size_t>(model.tensors.size(), kMaxTensors));
  Diagnostic diagnostic;
  if (!check_graph_of(ModelGraph(model), ranges.data(), &diagnostic))
    fail(diagnostic.message, diagnostic.status);
  for (size_t i = 0; i < model.ops.size(); ++i) check_unused_fields(model, i);
  return ranges;
}

}  // namespace maqd_rt
