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

size_t printable_into(const uint8_t* bytes, uint64_t length, char* out, size_t capacity) {
  if (capacity == 0) return 0;
  size_t n = 0;
  auto put = [&](char c) {
    if (n + 1 < capacity) out[n++] = c;
  };
  static const char kHex[] = "0123456789ABCDEF";
  constexpr uint64_t kShown = 64;
  for (uint64_t i = 0; i < length && i < kShown; ++i) {
    const uint8_t c = bytes[i];
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      put(char(c));
    } else {
      put('\\');
      put('x');
      put(kHex[c >> 4]);
      put(kHex[c & 15]);
    }
  }
  if (length > kShown) {
    char digits[24];
    size_t d = 0;
    uint64_t v = length;
    do {
      digits[d++] = char('0' + v % 10);
      v /= 10;
    } while (v);
    for (const char* t = "... ("; *t; ++t) put(*t);
    while (d) put(digits[--d]);
    for (const char* t = " bytes)"; *t; ++t) put(*t);
  }
  out[n] = 0;
  return n;
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
