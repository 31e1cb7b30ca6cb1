// The graph rules of check_graph (maqd_rt/core/graph.h) as one template over
// where the graph lives: the core instantiates it on a ModelView (bytes),
// the hosted runtime on its Model (vectors), so both say the same thing in
// the same words. Freestanding: no heap, no exceptions, no strings.
//
// A Graph provides
//   a type OpHandle, what op() returns;
//   uint64_t tensor_count(), op_count();
//   TensorRecord tensor(uint64_t t);       (dtype may be any byte value)
//   OpHandle op(uint64_t i);
// and an OpHandle
//   uint8_t kind();  int64_t output(), kernel(), levels(), weight_bits();
//   uint64_t input_count();  int64_t input(uint64_t j);
//   void name(const uint8_t** bytes, uint64_t* length);
//   uint64_t count(size_t slot);                    (op_slots(kind) order)
//   int64_t integer(size_t slot, uint64_t k);       (i32, i64 and code arrays)
//   float real(size_t slot, uint64_t k);            (f32 arrays)
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "maqd_rt/core/graph.h"
#include "maqd_rt/core/types.h"
#include "message_writer.h"

namespace maqd_rt {
namespace graph_check {

inline constexpr int64_t kI32Max = 2147483647;
inline constexpr int64_t kI64Max = 9223372036854775807;
// A range no tensor has: marks tensors no op has written yet.
inline constexpr ValueRange kUnwritten{kI64Max, -kI64Max};

inline bool is_unwritten(const ValueRange& r) { return r.low == kUnwritten.low && r.high == kUnwritten.high; }
inline bool is_known(DType dtype) { return dtype >= DType::kU8 && dtype <= DType::kF32; }

// The largest |value| a tensor of this integer dtype can hold.
inline int64_t dtype_max(DType dtype) {
  switch (dtype) {
    case DType::kU8: return 255;
    case DType::kI16: return 32767;
    case DType::kI32: return kI32Max;
    default: return 0;
  }
}

// a·b, or -1 when it exceeds `cap` (a, b ≥ 0).
inline int64_t capped_product(int64_t a, int64_t b, int64_t cap) {
  if (a < 0 || b < 0) return -1;
  if (a != 0 && b > cap / a) return -1;
  return a * b;
}

// a·b + c with a, b, c ≥ 0, or -1 when it exceeds int64.
inline int64_t checked_mul_add(int64_t a, int64_t b, int64_t c) {
  const int64_t product = capped_product(a, b, kI64Max);
  if (product < 0 || product > kI64Max - c) return -1;
  return product + c;
}

inline MessageWriter& add_shape(MessageWriter& w, const TensorRecord& t) {
  return w.add(dtype_name(t.dtype)).add(' ').add(t.height).add('x').add(t.width).add('x').add(t.channels);
}

template <typename Graph>
class Checker {
 public:
  using Op = typename Graph::OpHandle;

  Checker(const Graph& graph, ValueRange* ranges, Diagnostic* d) : g_(graph), ranges_(ranges), d_(d) {}

  bool run() {
    const uint64_t tensors = g_.tensor_count(), ops = g_.op_count();
    if (tensors == 0 || tensors > kMaxTensors) {
      model(tensors == 0 ? Status::kBadFile : Status::kLimitExceeded)
          .add("tensors: has ").add(tensors).add("; expected 1..").add(kMaxTensors)
          .add(" (tensor 0 is the input)");
      return false;
    }
    if (ops == 0 || ops > kMaxOps) {
      model(ops == 0 ? Status::kBadFile : Status::kLimitExceeded)
          .add("ops: has ").add(ops).add("; expected 1..").add(kMaxOps).add(" (the last is gap_linear)");
      return false;
    }
    for (uint64_t t = 0; t < tensors; ++t) {
      if (!check_tensor(g_.tensor(t), t)) return false;
      ranges_[t] = kUnwritten;
    }
    if (g_.tensor(0).dtype != DType::kU8) {
      model().add("tensor 0 (the input): dtype is ").add(dtype_name(g_.tensor(0).dtype)).add("; expected u8");
      return false;
    }
    ranges_[0] = {0, 255};
    for (uint64_t i = 0; i < ops; ++i) {
      index_ = i;
      if (!check_op(g_.op(i), i + 1 == ops)) return false;
    }
    for (uint64_t t = 1; t < tensors; ++t) {
      if (is_unwritten(ranges_[t])) {
        model().add("tensor ").add(t).add(": no op writes it; expected every tensor but 0 written exactly once");
        return false;
      }
    }
    return true;
  }

 private:
  MessageWriter model(Status status = Status::kBadFile) {
    if (d_) d_->status = status;
    MessageWriter w(d_);
    w.add("model: ");
    return w;
  }

  // "model: op 3 'name' (conv): field: " then the caller's parts.
  MessageWriter fail(const char* field) { return fail_indexed(field, kNoIndex); }

  bool check_tensor(const TensorRecord& t, uint64_t index) {
    if (!is_known(t.dtype)) {
      model().add("tensor ").add(index).add(": dtype: is ").add(int(t.dtype))
          .add("; expected u8 (1), i16 (2), i32 (3) or f32 (4)");
      return false;
    }
    if (t.height <= 0 || t.width <= 0 || t.channels <= 0) {
      MessageWriter w = model();
      w.add("tensor ").add(index).add(": shape: is ");
      add_shape(w, t).add("; expected positive height, width, channels");
      return false;
    }
    const int64_t pixels = capped_product(t.height, t.width, kMaxTensorElements);
    if (pixels < 0 || capped_product(pixels, t.channels, kMaxTensorElements) < 0) {
      MessageWriter w = model(Status::kLimitExceeded);
      w.add("tensor ").add(index).add(": shape: ");
      add_shape(w, t).add(" has more than ").add(kMaxTensorElements).add(" elements per image");
      return false;
    }
    return true;
  }

  TensorRecord input(uint64_t j) const { return g_.tensor(uint64_t(op_->input(j))); }
  TensorRecord output() const { return g_.tensor(uint64_t(op_->output())); }
  const ValueRange& input_range(uint64_t j) const { return ranges_[op_->input(j)]; }

  bool expect_input_count(uint64_t low, uint64_t high) {
    const uint64_t n = op_->input_count();
    if (n >= low && n <= high) return true;
    MessageWriter w = fail("inputs");
    w.add("has ").add(n).add(" tensors; expected ").add(low);
    if (high != low) w.add(" or ").add(high);
    return false;
  }

  static constexpr uint64_t kNoIndex = ~uint64_t(0);

  // fail() for a field with an index: "input tensor 1" (kSpaced) or
  // "inputs[1]" (kBracketed).
  enum class IndexStyle { kSpaced, kBracketed };
  MessageWriter fail_indexed(const char* field, uint64_t j, IndexStyle style = IndexStyle::kSpaced) {
    MessageWriter w = model();
    const uint8_t* name = nullptr;
    uint64_t length = 0;
    op_->name(&name, &length);
    w.add("op ").add(index_).add(" '").quoted(name, length).add("' (").add(op_kind_name(OpKind(op_->kind())))
        .add("): ").add(field);
    if (j != kNoIndex) {
      if (style == IndexStyle::kSpaced) w.add(' ').add(j);
      else w.add('[').add(j).add(']');
    }
    w.add(": ");
    return w;
  }

  bool expect_dtype(const char* field, uint64_t j, DType found, DType a, DType b = DType(0),
                    DType c = DType(0)) {
    if (found == a || (b != DType(0) && found == b) || (c != DType(0) && found == c)) return true;
    MessageWriter w = fail_indexed(field, j);
    w.add("dtype is ").add(dtype_name(found)).add("; expected ").add(dtype_name(a));
    if (b != DType(0)) w.add(" or ").add(dtype_name(b));
    if (c != DType(0)) w.add(" or ").add(dtype_name(c));
    return false;
  }

  bool expect_same_hwc(const char* field, uint64_t j, const TensorRecord& found,
                       const TensorRecord& reference, const char* reference_name) {
    if (found.height == reference.height && found.width == reference.width &&
        found.channels == reference.channels)
      return true;
    MessageWriter w = fail_indexed(field, j);
    w.add("shape is ");
    add_shape(w, found).add("; expected the height, width and channels of ").add(reference_name).add(" (");
    add_shape(w, reference).add(")");
    return false;
  }

  // The array in `slot` must hold `expected` values (−1: beyond the cap),
  // `formula` of the factors a, b, c, d (those ≥ 0).
  bool expect_size(size_t slot, int64_t expected, const char* formula, int64_t a, int64_t b,
                   int64_t c = -1, int64_t d = -1) {
    const char* field = op_slots(OpKind(op_->kind())).slots[slot].name;
    const auto add_formula = [&](MessageWriter& w) -> MessageWriter& {
      w.add(formula).add(" = ").add(a);
      for (int64_t factor : {b, c, d})
        if (factor >= 0) w.add("\xC2\xB7").add(factor);
      return w;
    };
    if (expected < 0 || expected > kMaxArrayElements) {
      MessageWriter w = fail(field);
      w.add("expected size ");
      add_formula(w).add(" exceeds the cap of ").add(kMaxArrayElements).add(" elements");
      return false;
    }
    const uint64_t count = op_->count(slot);
    if (count == uint64_t(expected)) return true;
    MessageWriter w = fail(field);
    w.add("has ").add(count).add(" values; expected ");
    add_formula(w);
    if (b >= 0) w.add(" = ").add(expected);  // "out·k·k·in = 3·3·3·2 = 54"
    return false;
  }

  bool check_op(Op op, bool last) {
    op_ = &op;
    const uint8_t kind = op.kind();
    if (kind < uint8_t(OpKind::kInputLut) || kind > uint8_t(OpKind::kGapLinear)) {
      fail("kind").add("is ").add(int(kind))
          .add("; expected 1..5 (input_lut, conv, pool_sum, requant, gap_linear)");
      return false;
    }
    if (last != (OpKind(kind) == OpKind::kGapLinear)) {
      fail("kind").add(last ? "the last op must be gap_linear (it writes the logits)"
                            : "gap_linear must be the last op and only there");
      return false;
    }
    const uint64_t tensors = g_.tensor_count();
    for (uint64_t j = 0; j < op.input_count(); ++j) {
      const int64_t t = op.input(j);
      if (t < 0 || uint64_t(t) >= tensors) {
        fail_indexed("inputs", j, IndexStyle::kBracketed).add("is ").add(t)
            .add("; expected a tensor index 0..").add(tensors - 1);
        return false;
      }
      if (is_unwritten(ranges_[t])) {
        fail_indexed("inputs", j, IndexStyle::kBracketed).add("reads tensor ").add(t)
            .add(" before any op writes it; expected tensor 0 or an earlier op's output");
        return false;
      }
    }
    const int64_t out = op.output();
    if (out < 1 || uint64_t(out) >= tensors) {
      fail("output").add("is ").add(out).add("; expected a tensor index 1..").add(tensors - 1)
          .add(" (tensor 0 is the input)");
      return false;
    }
    if (!is_unwritten(ranges_[out])) {
      fail("output").add("tensor ").add(out)
          .add(" is already written by an earlier op; expected each tensor written once");
      return false;
    }
    // A field its kind does not use is 0 (docs/format.md), as the Model's
    // own rule has it; otherwise a damaged file would pass here and fail
    // only when an engine is built, without the file's name.
    const struct {
      const char* field;
      int64_t value;
      bool used;
    } unused_fields[] = {{"kernel", op.kernel(), OpKind(kind) == OpKind::kConv},
                         {"levels", op.levels(), OpKind(kind) == OpKind::kRequant}};
    for (const auto& f : unused_fields) {
      if (!f.used && f.value != 0) {
        fail(f.field).add("is ").add(f.value).add("; expected 0 (").add(op_kind_name(OpKind(kind)))
            .add(" does not use it)");
        return false;
      }
    }
    ValueRange range;
    bool ok = false;
    switch (OpKind(kind)) {
      case OpKind::kInputLut: ok = check_input_lut(range); break;
      case OpKind::kConv: ok = check_conv(range); break;
      case OpKind::kPoolSum: ok = check_pool_sum(range); break;
      case OpKind::kRequant: ok = check_requant(range); break;
      case OpKind::kGapLinear: ok = check_gap_linear(range); break;
    }
    if (ok) ranges_[out] = range;
    return ok;
  }

  bool check_input_lut(ValueRange& range) {
    if (!expect_input_count(1, 1)) return false;
    if (!expect_dtype("input tensor", kNoIndex, input(0).dtype, DType::kU8)) return false;
    if (!expect_dtype("output tensor", kNoIndex, output().dtype, DType::kU8, DType::kI16)) return false;
    if (!expect_same_hwc("output tensor", kNoIndex, output(), input(0), "the input")) return false;
    const int64_t channels = output().channels;
    if (!expect_size(0, capped_product(channels, 256, kMaxArrayElements), "channels·256", channels, 256))
      return false;
    const bool u8 = output().dtype == DType::kU8;
    const int64_t low = u8 ? 0 : -32768, high = u8 ? 255 : 32767;
    range = {high, low};  // emptied, then widened by each entry
    const uint64_t n = op_->count(0);
    for (uint64_t i = 0; i < n; ++i) {
      const int64_t v = op_->integer(0, i);
      if (v < low || v > high) {
        fail("lut").add('[').add(i).add("] is ").add(v).add("; expected ").add(low).add("..").add(high)
            .add(" (the output dtype ").add(dtype_name(output().dtype)).add(")");
        return false;
      }
      if (v < range.low) range.low = v;
      if (v > range.high) range.high = v;
    }
    return true;
  }

  bool check_conv(ValueRange& range) {
    if (!expect_input_count(1, 1)) return false;
    if (!expect_dtype("input tensor", kNoIndex, input(0).dtype, DType::kU8, DType::kI16)) return false;
    if (!expect_dtype("output tensor", kNoIndex, output().dtype, DType::kI32)) return false;
    if (output().height != input(0).height || output().width != input(0).width) {
      MessageWriter w = fail("output tensor");
      w.add("shape is ");
      add_shape(w, output()).add("; expected the input's height and width (");
      add_shape(w, input(0)).add(")");
      return false;
    }
    const int64_t k = op_->kernel();
    if (k < 1 || k % 2 == 0 || k > kMaxKernel) {
      fail("kernel").add("is ").add(k).add("; expected an odd number in 1..").add(kMaxKernel);
      return false;
    }
    int64_t max_code = 0;
    switch (op_->weight_bits()) {
      case 2: max_code = 1; break;
      case 4: max_code = 7; break;
      case 8: max_code = 127; break;
      default: fail("weight_bits").add("is ").add(op_->weight_bits()).add("; expected 2, 4 or 8"); return false;
    }
    const int64_t out = output().channels, in = input(0).channels;
    const int64_t per_output = capped_product(k * k, in, kMaxArrayElements);
    if (!expect_size(0, per_output < 0 ? -1 : capped_product(out, per_output, kMaxArrayElements),
                     "out·k·k·in", out, k, k, in))
      return false;
    // Codes are symmetric: the most negative two's complement value is
    // reserved (for 2 bits the packing keeps 0b10 unused).
    const int64_t input_bound = input_range(0).magnitude();
    int64_t worst_output = 0;
    for (int64_t o = 0; o < out; ++o) {
      int64_t abs_sum = 0;
      for (int64_t i = 0; i < per_output; ++i) {
        const int64_t code = op_->integer(0, uint64_t(o * per_output + i));
        if (code < -max_code || code > max_code) {
          fail("weights").add('[').add(o * per_output + i).add("] is ").add(code).add("; expected ")
              .add(-max_code).add("..").add(max_code).add(" for weight_bits ").add(op_->weight_bits());
          return false;
        }
        abs_sum += code < 0 ? -code : code;
      }
      const int64_t channel_bound = capped_product(abs_sum, input_bound, kI64Max);
      if (channel_bound < 0 || channel_bound > kI32Max) {
        MessageWriter w = fail("weights");
        w.add("output channel ").add(o).add(" can reach |");
        if (channel_bound < 0) w.add("> 2^63");
        else w.add(channel_bound);
        w.add("| (\xCE\xA3|code| = ").add(abs_sum).add(" \xC3\x97 input bound ").add(input_bound)
            .add("); expected at most 2^31\xE2\x88\x92" "1 so the i32 accumulator cannot overflow");
        return false;
      }
      if (channel_bound > worst_output) worst_output = channel_bound;
    }
    range = {-worst_output, worst_output};
    return true;
  }

  bool check_pool_sum(ValueRange& range) {
    if (!expect_input_count(1, 1)) return false;
    const TensorRecord in = input(0);
    if (!expect_dtype("input tensor", kNoIndex, in.dtype, DType::kU8, DType::kI16, DType::kI32)) return false;
    const DType expected_out = in.dtype == DType::kU8 ? DType::kI16 : DType::kI32;
    if (!expect_dtype("output tensor", kNoIndex, output().dtype, expected_out)) return false;
    if (in.height < 2 || in.width < 2) {
      MessageWriter w = fail("input tensor");
      w.add("shape is ");
      add_shape(w, in).add("; expected at least 2x2");
      return false;
    }
    const TensorRecord out = output();
    if (out.height != in.height / 2 || out.width != in.width / 2 || out.channels != in.channels) {
      MessageWriter w = fail("output tensor");
      w.add("shape is ");
      add_shape(w, out).add("; expected ").add(in.height / 2).add('x').add(in.width / 2).add('x')
          .add(in.channels).add(" (the input halved, floor)");
      return false;
    }
    const ValueRange& input = input_range(0);
    range = {4 * input.low, 4 * input.high};
    const int64_t bound = range.magnitude();
    if (bound > dtype_max(expected_out)) {
      fail("output tensor").add("sums can reach |").add(bound).add("|; expected at most ")
          .add(dtype_max(expected_out)).add(" (").add(dtype_name(expected_out)).add(")");
      return false;
    }
    return true;
  }

  bool check_requant(ValueRange& range) {
    if (!expect_input_count(1, 2)) return false;
    const uint64_t inputs = op_->input_count();
    for (uint64_t j = 0; j < inputs; ++j) {
      if (!expect_dtype("input tensor", j, input(j).dtype, DType::kI32)) return false;
      if (j > 0 && !expect_same_hwc("input tensor", j, input(j), input(0), "input tensor 0")) return false;
    }
    if (!expect_dtype("output tensor", kNoIndex, output().dtype, DType::kU8)) return false;
    if (!expect_same_hwc("output tensor", kNoIndex, output(), input(0), "the input")) return false;
    const int64_t levels = op_->levels();
    if (levels < 2 || levels > 256) {
      fail("levels").add("is ").add(levels).add("; expected 2..256");
      return false;
    }
    const int64_t channels = output().channels, row = levels - 1;
    if (!expect_size(0, capped_product(int64_t(inputs), channels, kMaxArrayElements), "inputs·channels",
                     int64_t(inputs), channels))
      return false;
    if (!expect_size(1, capped_product(channels, row, kMaxArrayElements), "channels·(levels\xE2\x88\x92" "1)",
                     channels, row))
      return false;
    for (int64_t ch = 0; ch < channels; ++ch) {
      for (int64_t k = 1; k < row; ++k) {
        const uint64_t at = uint64_t(ch * row + k);
        const int64_t previous = op_->integer(1, at - 1), current = op_->integer(1, at);
        if (current < previous) {
          fail("thresholds").add("channel ").add(ch).add(" decreases at [").add(at).add("] (").add(previous)
              .add(" then ").add(current).add("); expected each channel's row nondecreasing");
          return false;
        }
      }
      // Z = Σ_j m_j·x_j is computed in int64: bound it.
      int64_t z_bound = 0;
      for (uint64_t j = 0; j < inputs; ++j) {
        const int64_t m = op_->integer(0, j * uint64_t(channels) + uint64_t(ch));
        const int64_t abs_m = m == -kI64Max - 1 ? -1 : (m < 0 ? -m : m);
        z_bound = abs_m < 0 || z_bound < 0 ? -1 : checked_mul_add(abs_m, input_range(j).magnitude(), z_bound);
      }
      if (z_bound < 0) {
        fail("multipliers").add("channel ").add(ch)
            .add(" can make \xCE\xA3 multiplier\xC2\xB7input overflow int64; expected smaller multipliers");
        return false;
      }
    }
    range = {0, levels - 1};
    return true;
  }

  bool check_gap_linear(ValueRange& range) {
    if (!expect_input_count(1, 2)) return false;
    const uint64_t inputs = op_->input_count();
    for (uint64_t j = 0; j < inputs; ++j) {
      if (!expect_dtype("input tensor", j, input(j).dtype, DType::kU8, DType::kI16, DType::kI32)) return false;
      if (j > 0 && !expect_same_hwc("input tensor", j, input(j), input(0), "input tensor 0")) return false;
    }
    const TensorRecord out = output();
    if (!expect_dtype("output tensor", kNoIndex, out.dtype, DType::kF32)) return false;
    if (out.height != 1 || out.width != 1) {
      MessageWriter w = fail("output tensor");
      w.add("shape is ");
      add_shape(w, out).add("; expected f32 1x1xclasses");
      return false;
    }
    const int64_t channels = input(0).channels, classes = out.channels;
    if (!expect_size(0, capped_product(int64_t(inputs), channels, kMaxArrayElements), "inputs·channels",
                     int64_t(inputs), channels) ||
        !expect_size(1, channels, "channels", channels, -1) ||
        !expect_size(2, capped_product(classes, channels, kMaxArrayElements), "classes·channels", classes,
                     channels) ||
        !expect_size(3, classes, "classes", classes, -1))
      return false;
    for (size_t slot = 0; slot < 4; ++slot) {
      const uint64_t n = op_->count(slot);
      for (uint64_t i = 0; i < n; ++i) {
        const float v = op_->real(slot, i);
        if (v - v != 0.0f) {  // NaN or ±infinity, without <cmath>
          fail(op_slots(OpKind::kGapLinear).slots[slot].name).add('[').add(i).add("] is ")
              .add(v != v ? "nan" : (v > 0 ? "inf" : "-inf")).add("; expected a finite number");
          return false;
        }
      }
    }
    range = {0, 0};
    return true;
  }

  const Graph& g_;
  ValueRange* ranges_;
  Diagnostic* d_;
  uint64_t index_ = 0;
  Op* op_ = nullptr;
};

}  // namespace graph_check

// Checks `graph` (see the top of this file) into `ranges`; false with a
// message in `diagnostic` on the first broken rule.
template <typename Graph>
bool check_graph_of(const Graph& graph, ValueRange* ranges, Diagnostic* diagnostic) {
  return graph_check::Checker<Graph>(graph, ranges, diagnostic).run();
}

}  // namespace maqd_rt
