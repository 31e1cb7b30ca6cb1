#include "maqd_rt/core/inference.h"

#include <cstring>

#include "maqd_rt/core/graph.h"
#include "dsp_kernels.h"
#include "message_writer.h"
#include "plan.h"
#include "scalar_kernels.h"

namespace maqd_rt {
namespace {

constexpr uint64_t kAlign = 8;

uint64_t dtype_bytes(DType dtype) {
  switch (dtype) {
    case DType::kU8: return 1;
    case DType::kI16: return 2;
    default: return 4;
  }
}

bool little_endian() {
  const uint32_t one = 1;
  uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

MessageWriter fail(Diagnostic* d, Status status, uint64_t arena_needed = 0) {
  if (d) {
    d->status = status;
    d->arena_needed = arena_needed;
  }
  MessageWriter w(d);
  w.add("inference: ");
  return w;
}

template <typename T>
const T* array_at(const ModelView& view, const ArrayRef& ref) {
  return reinterpret_cast<const T*>(view.data() + ref.at);
}

}  // namespace

bool Inference::prepare(const ModelView& view, void* arena, size_t arena_bytes, Diagnostic* d,
                        size_t context_bytes) {
  *this = Inference();
  if (d) d->arena_needed = 0;
  if (!arena || reinterpret_cast<uintptr_t>(arena) % kAlign != 0 || context_bytes % kAlign != 0 ||
      context_bytes > arena_bytes) {
    fail(d, Status::kBadArgument).add("the arena is ")
        .add(!arena ? "NULL" : reinterpret_cast<uintptr_t>(arena) % kAlign != 0 ? "not 8-byte aligned"
                                                                                : "not past its context")
        .add("; expected working memory that starts at an 8-byte boundary, with a context of a multiple of 8 bytes "
             "inside it");
    return false;
  }
  uint8_t* const base = static_cast<uint8_t*>(arena) + context_bytes;  // what the plan may use
  const uint64_t room = arena_bytes - context_bytes;
  if (!view.data() || reinterpret_cast<uintptr_t>(view.data()) % kAlign != 0) {
    fail(d, Status::kBadArgument).add("the model's bytes ").add(view.data() ? "are not 8-byte aligned" : "are not open")
        .add("; expected an opened ModelView over bytes at an 8-byte boundary (the arrays are read in place)");
    return false;
  }
  if (!little_endian()) {
    fail(d, Status::kError).add("this CPU is big-endian; expected little-endian (the arrays are read in place)");
    return false;
  }
  const uint64_t tensors = view.tensor_count(), ops = view.op_count();
  const uint64_t table_bytes = round_up(tensors * sizeof(Placement), kAlign);
  if (room < table_bytes) {
    fail(d, Status::kLimitExceeded, context_bytes + table_bytes).add("the arena has ").add(uint64_t(arena_bytes))
        .add(" bytes but ").add(context_bytes ? "the context and " : "").add("the table of ").add(tensors)
        .add(" tensors alone need ").add(uint64_t(context_bytes + table_bytes)).add("; expected a larger arena");
    return false;
  }
  static_assert(sizeof(ValueRange) <= sizeof(Placement), "the ranges are checked in the table's place");
  if (!check_graph(view, reinterpret_cast<ValueRange*>(base), d)) return false;

  // Lifetimes: from the producing op to the last op that reads the tensor;
  // the image (tensor 0) and the logits are the caller's.
  Placement* table = reinterpret_cast<Placement*>(base);
  for (uint64_t t = 0; t < tensors; ++t) {
    const TensorRecord r = view.tensor(uint32_t(t));
    table[t] = Placement{};
    table[t].bytes = round_up(uint64_t(r.height) * uint64_t(r.width) * uint64_t(r.channels) * dtype_bytes(r.dtype),
                              kAlign);
  }
  uint64_t scratch = 0, features = 0;
  for (uint64_t i = 0; i < ops; ++i) {
    const OpRecord op = view.op(uint32_t(i));
    table[op.output].first = table[op.output].last = int32_t(i);
    for (uint8_t j = 0; j < op.input_count; ++j)
      if (table[op.inputs[j]].last < int32_t(i)) table[op.inputs[j]].last = int32_t(i);
    if (op.kind == OpKind::kConv && op.weight_bits != 8) {
      const uint64_t per_output = uint64_t(op.kernel) * uint64_t(op.kernel) * uint64_t(view.tensor(op.inputs[0]).channels);
      if (per_output > scratch) scratch = per_output;
    }
    if (op.kind == OpKind::kGapLinear) features = uint64_t(view.tensor(op.inputs[0]).channels) * sizeof(float);
  }
  const uint64_t slot = plan_placements(
      table, size_t(ops - 1), [&](size_t k) { return view.op(uint32_t(k)).output; }, kAlign);
  const uint64_t scratch_at = table_bytes + slot;
  const uint64_t features_at = scratch_at + round_up(scratch, kAlign);
  const uint64_t total = features_at + round_up(features, kAlign);
  if (total > room) {
    MessageWriter message = fail(d, Status::kLimitExceeded, context_bytes + total);
    message.add("the model needs ").add(uint64_t(context_bytes + total)).add(" bytes of arena (");
    if (context_bytes) message.add(uint64_t(context_bytes)).add(" context, ");
    message.add(table_bytes).add(" table, ").add(slot).add(" tensors, ").add(scratch).add(" conv scratch, ")
        .add(features).add(" features); the arena has ").add(uint64_t(arena_bytes));
    return false;
  }
  view_ = view;
  table_ = table;
  tensors_ = base + table_bytes;
  scratch_ = reinterpret_cast<int8_t*>(base + scratch_at);
  features_ = reinterpret_cast<float*>(base + features_at);
  arena_bytes_ = context_bytes + total;
  classes_ = view.tensor(view.op(uint32_t(ops - 1)).output).channels;
  return true;
}

bool Inference::run(const uint8_t* image, float* logits, Diagnostic* d) const {
  if (!table_ || !image || !logits) {
    fail(d, Status::kBadArgument).add(!table_ ? "run before a successful prepare" : !image ? "image is NULL" : "logits is NULL")
        .add("; expected a prepared Inference, an image and room for the logits");
    return false;
  }
  auto tensor = [&](int32_t t) -> uint8_t* {
    return t == 0 ? const_cast<uint8_t*>(image) : tensors_ + table_[t].offset;
  };
  const uint32_t ops = view_.op_count();
  for (uint32_t i = 0; i < ops; ++i) {
    const OpRecord op = view_.op(i);
    const TensorRecord in = view_.tensor(uint32_t(op.inputs[0]));
    const TensorRecord out = view_.tensor(uint32_t(op.output));
    const int64_t pixels = int64_t(in.height) * in.width;
    switch (op.kind) {
      case OpKind::kInputLut: {
        const int32_t* lut = array_at<int32_t>(view_, op.arrays[0]);
        if (out.dtype == DType::kU8)
          kernels::input_lut_u8(image, lut, pixels * in.channels, in.channels, tensor(op.output));
        else
          kernels::input_lut_i16(image, lut, pixels * in.channels, in.channels,
                                 reinterpret_cast<int16_t*>(tensor(op.output)));
        break;
      }
      case OpKind::kConv: {
        const kernels::ConvShape shape{in.height, in.width, in.channels, out.channels, op.kernel};
        const uint64_t per_output = uint64_t(op.kernel) * uint64_t(op.kernel) * uint64_t(in.channels);
        int32_t* result = reinterpret_cast<int32_t*>(tensor(op.output));
        for (int32_t o = 0; o < out.channels; ++o) {
          const int8_t* codes = array_at<int8_t>(view_, op.arrays[0]) + uint64_t(o) * per_output;
          if (op.weight_bits != 8) {  // unpack this channel's codes
            view_.codes(op.arrays[0], op.weight_bits, uint64_t(o) * per_output, per_output, scratch_);
            codes = scratch_;
          }
          // The DSP kernels where the CPU has them (Cortex-M4/M7), else the scalar ones.
          const auto conv_u8 = kernels::dsp::kHaveDspKernels ? kernels::dsp::conv_u8_rows
                                                             : kernels::scalar::conv_u8_rows;
          const auto conv_i16 = kernels::dsp::kHaveDspKernels ? kernels::dsp::conv_i16_rows
                                                              : kernels::scalar::conv_i16_rows;
          if (in.dtype == DType::kU8)
            conv_u8(shape, codes, tensor(op.inputs[0]), result, 0, out.height, o, o + 1);
          else
            conv_i16(shape, codes, reinterpret_cast<const int16_t*>(tensor(op.inputs[0])), result, 0, out.height, o,
                     o + 1);
        }
        break;
      }
      case OpKind::kPoolSum:
        if (in.dtype == DType::kU8)
          kernels::scalar::pool_sum_u8(tensor(op.inputs[0]), reinterpret_cast<int16_t*>(tensor(op.output)),
                                       in.height, in.width, in.channels);
        else if (in.dtype == DType::kI16)
          kernels::scalar::pool_sum_i16(reinterpret_cast<const int16_t*>(tensor(op.inputs[0])),
                                        reinterpret_cast<int32_t*>(tensor(op.output)), in.height, in.width,
                                        in.channels);
        else
          kernels::scalar::pool_sum_i32(reinterpret_cast<const int32_t*>(tensor(op.inputs[0])),
                                        reinterpret_cast<int32_t*>(tensor(op.output)), in.height, in.width,
                                        in.channels);
        break;
      case OpKind::kRequant: {
        const int32_t* inputs[2] = {reinterpret_cast<const int32_t*>(tensor(op.inputs[0])),
                                    op.input_count > 1 ? reinterpret_cast<const int32_t*>(tensor(op.inputs[1]))
                                                       : nullptr};
        kernels::scalar::requant(inputs, op.input_count, array_at<int64_t>(view_, op.arrays[0]),
                                 array_at<int64_t>(view_, op.arrays[1]), op.levels, pixels, in.channels,
                                 tensor(op.output));
        break;
      }
      case OpKind::kGapLinear: {
        kernels::GapInput inputs[2];
        for (uint8_t j = 0; j < op.input_count; ++j)
          inputs[j] = {view_.tensor(uint32_t(op.inputs[j])).dtype, tensor(op.inputs[j])};
        kernels::gap_linear(inputs, op.input_count, pixels, in.channels, array_at<float>(view_, op.arrays[0]),
                            array_at<float>(view_, op.arrays[1]), array_at<float>(view_, op.arrays[2]),
                            array_at<float>(view_, op.arrays[3]), out.channels, features_, logits);
        break;
      }
    }
  }
  return true;
}

}  // namespace maqd_rt
