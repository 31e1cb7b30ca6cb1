#include "maqd_rt/core/types.h"

namespace maqd_rt {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kU8: return "u8";
    case DType::kI16: return "i16";
    case DType::kI32: return "i32";
    case DType::kF32: return "f32";
  }
  return "unknown-dtype";
}

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::kInputLut: return "input_lut";
    case OpKind::kConv: return "conv";
    case OpKind::kPoolSum: return "pool_sum";
    case OpKind::kRequant: return "requant";
    case OpKind::kGapLinear: return "gap_linear";
  }
  return "unknown-op";
}

const OpSlots& op_slots(OpKind kind) {
  using T = ArrayType;
  static const OpSlots kNone{};
  static const OpSlots kInputLut{1, {{"lut", T::kI32}}};
  static const OpSlots kConv{1, {{"weights", T::kCodes}}};
  static const OpSlots kRequant{2, {{"multipliers", T::kI64}, {"thresholds", T::kI64}}};
  static const OpSlots kGapLinear{
      4, {{"scale", T::kF32}, {"offset", T::kF32}, {"weight", T::kF32}, {"bias", T::kF32}}};
  switch (kind) {
    case OpKind::kInputLut: return kInputLut;
    case OpKind::kConv: return kConv;
    case OpKind::kPoolSum: return kNone;
    case OpKind::kRequant: return kRequant;
    case OpKind::kGapLinear: return kGapLinear;
  }
  return kNone;
}

}  // namespace maqd_rt
