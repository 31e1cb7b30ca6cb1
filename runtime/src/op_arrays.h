// Where the arrays of op_slots() (maqd_rt/core/types.h, the one table of
// which arrays each op kind stores) live in the hosted Op, for the reader,
// the writer and validate()'s check for arrays a kind does not use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "maqd_rt/error.hpp"
#include "maqd_rt/model.hpp"

namespace maqd_rt {

// One array of op_slots(kind) and the Op member that holds it (the one
// pointer that matches `type`).
struct OpArray {
  const char* name = nullptr;
  ArrayType type = ArrayType::kI32;
  std::vector<int32_t> Op::*i32 = nullptr;
  std::vector<int64_t> Op::*i64 = nullptr;
  std::vector<float> Op::*f32 = nullptr;
  std::vector<int8_t> Op::*codes = nullptr;

  size_t size(const Op& op) const {
    switch (type) {
      case ArrayType::kI32: return (op.*i32).size();
      case ArrayType::kI64: return (op.*i64).size();
      case ArrayType::kF32: return (op.*f32).size();
      case ArrayType::kCodes: return (op.*codes).size();
    }
    return 0;
  }
};

struct OpArrays {
  size_t count = 0;
  std::array<OpArray, kMaxOpArrays> arrays{};
};

namespace detail {
// The member for op_slots()'s array `name`: a new array in the table
// without a member here fails at the first use of its kind.
inline OpArray bind_member(const OpSlot& slot) {
  OpArray a;
  a.name = slot.name;
  a.type = slot.type;
  auto is = [&](const char* n) { return std::strcmp(slot.name, n) == 0; };
  if (is("lut")) a.i32 = &Op::lut;
  else if (is("weights")) a.codes = &Op::weights;
  else if (is("multipliers")) a.i64 = &Op::multipliers;
  else if (is("thresholds")) a.i64 = &Op::thresholds;
  else if (is("scale")) a.f32 = &Op::scale;
  else if (is("offset")) a.f32 = &Op::offset;
  else if (is("weight")) a.f32 = &Op::weight;
  else if (is("bias")) a.f32 = &Op::bias;
  const bool bound = (a.type == ArrayType::kI32 && a.i32) || (a.type == ArrayType::kI64 && a.i64) ||
                     (a.type == ArrayType::kF32 && a.f32) || (a.type == ArrayType::kCodes && a.codes);
  if (!bound) throw Error(std::string("op_arrays: no Op member of the right type for array ") + slot.name);
  return a;
}

inline OpArrays bind_members(OpKind kind) {
  OpArrays arrays;
  const OpSlots& slots = op_slots(kind);
  arrays.count = slots.count;
  for (size_t i = 0; i < slots.count; ++i) arrays.arrays[i] = bind_member(slots.slots[i]);
  return arrays;
}
}  // namespace detail

// The arrays of `kind`; an unknown kind has none.
inline const OpArrays& op_arrays(OpKind kind) {
  static const std::array<OpArrays, 5> kBound = {
      detail::bind_members(OpKind::kInputLut), detail::bind_members(OpKind::kConv),
      detail::bind_members(OpKind::kPoolSum), detail::bind_members(OpKind::kRequant),
      detail::bind_members(OpKind::kGapLinear)};
  static const OpArrays kNone{};
  const size_t index = size_t(kind) - size_t(OpKind::kInputLut);
  return index < kBound.size() ? kBound[index] : kNone;
}

}  // namespace maqd_rt
