// check_graph on the bytes: graph_check.h's rules over a ModelView.
#include "maqd_rt/core/graph.h"

#include "graph_check.h"

namespace maqd_rt {
namespace {

class ViewOp {
 public:
  ViewOp(const ModelView& view, const OpRecord& record) : view_(view), r_(record) {}
  uint8_t kind() const { return uint8_t(r_.kind); }
  int64_t output() const { return r_.output; }
  int64_t kernel() const { return r_.kernel; }
  int64_t levels() const { return r_.levels; }
  int64_t weight_bits() const { return r_.weight_bits; }
  uint64_t input_count() const { return r_.input_count; }
  int64_t input(uint64_t j) const { return r_.inputs[j]; }
  void name(const uint8_t** bytes, uint64_t* length) const {
    *bytes = view_.data() + r_.name.at;
    *length = r_.name.count;
  }
  uint64_t count(size_t slot) const { return r_.arrays[slot].count; }
  int64_t integer(size_t slot, uint64_t k) const {
    const ArrayRef& a = r_.arrays[slot];
    switch (op_slots(r_.kind).slots[slot].type) {
      case ArrayType::kI32: return view_.i32(a, k);
      case ArrayType::kI64: return view_.i64(a, k);
      case ArrayType::kCodes: return view_.code(a, r_.weight_bits, k);
      case ArrayType::kF32: break;
    }
    return 0;
  }
  float real(size_t slot, uint64_t k) const { return view_.f32(r_.arrays[slot], k); }

 private:
  const ModelView& view_;
  OpRecord r_;
};

class ViewGraph {
 public:
  using OpHandle = ViewOp;
  explicit ViewGraph(const ModelView& view) : view_(view) {}
  uint64_t tensor_count() const { return view_.tensor_count(); }
  uint64_t op_count() const { return view_.op_count(); }
  TensorRecord tensor(uint64_t t) const { return view_.tensor(uint32_t(t)); }
  ViewOp op(uint64_t i) const { return ViewOp(view_, view_.op(uint32_t(i))); }

 private:
  const ModelView& view_;
};

}  // namespace

bool check_graph(const ModelView& view, ValueRange* ranges, Diagnostic* diagnostic) {
  return check_graph_of(ViewGraph(view), ranges, diagnostic);
}

}  // namespace maqd_rt
