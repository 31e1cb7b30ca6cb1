// The arrays each op kind stores, in the order of its record's refs 1..4
// (ref 0 is the name): the one table that the file reader, the writer and
// validate()'s check for arrays a kind does not use all read, so that a new
// array is added in one place. docs/format.md shows it as the ref table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "maqd_rt/model.hpp"

namespace maqd_rt {

enum class ArrayType { kI32, kI64, kF32, kCodes };

// One array: its name in messages and docs, its element type, and the Op
// member that holds it (the one pointer that matches `type`).
struct OpArray {
  const char* name;
  ArrayType type;
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

inline constexpr size_t kMaxOpArrays = 4;

struct OpArrays {
  size_t count = 0;
  std::array<OpArray, kMaxOpArrays> arrays{};
};

// The arrays of `kind`; an unknown kind has none.
inline const OpArrays& op_arrays(OpKind kind) {
  using T = ArrayType;
  static const OpArrays kNone{};
  static const OpArrays kInputLut{1, {{{"lut", T::kI32, &Op::lut}}}};
  static const OpArrays kConv{1, {{{"weights", T::kCodes, nullptr, nullptr, nullptr, &Op::weights}}}};
  static const OpArrays kRequant{2, {{{"multipliers", T::kI64, nullptr, &Op::multipliers},
                                      {"thresholds", T::kI64, nullptr, &Op::thresholds}}}};
  static const OpArrays kGapLinear{4, {{{"scale", T::kF32, nullptr, nullptr, &Op::scale},
                                        {"offset", T::kF32, nullptr, nullptr, &Op::offset},
                                        {"weight", T::kF32, nullptr, nullptr, &Op::weight},
                                        {"bias", T::kF32, nullptr, nullptr, &Op::bias}}}};
  switch (kind) {
    case OpKind::kInputLut: return kInputLut;
    case OpKind::kConv: return kConv;
    case OpKind::kPoolSum: return kNone;
    case OpKind::kRequant: return kRequant;
    case OpKind::kGapLinear: return kGapLinear;
  }
  return kNone;
}

// Every op kind, for tables over all of them.
inline constexpr std::array<OpKind, 5> kOpKinds = {OpKind::kInputLut, OpKind::kConv, OpKind::kPoolSum,
                                                   OpKind::kRequant, OpKind::kGapLinear};

}  // namespace maqd_rt
