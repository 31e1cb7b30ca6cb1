// A .maqd model file read in place: the core's view of a model over a const
// byte buffer (a file loaded into RAM, or an array in a microcontroller's
// flash). Opening it checks every rule of docs/format.md's "What a reader
// checks" that concerns the bytes (header, checksum, sections, records,
// metadata, where each array lies and its weight codes); the graph's rules
// are validate()'s. Nothing is copied and nothing allocated: records and
// array elements are decoded, little-endian, when asked for. No exceptions:
// open() returns false and fills a Diagnostic.
#pragma once

#include <cstddef>
#include <cstdint>

#include "maqd_rt/core/types.h"

namespace maqd_rt {

// The format version write_model() writes and the newest a reader accepts.
inline constexpr uint32_t kFormatVersion = 1;

// An array in the file: where its first byte is and how many elements it has.
struct ArrayRef {
  uint64_t at = 0;  // byte offset from the start of the file
  uint64_t count = 0;
};

struct TensorRecord {
  DType dtype = DType::kU8;
  int32_t height = 0, width = 0, channels = 0;
};

inline constexpr size_t kMaxOpInputs = 2;

struct OpRecord {
  OpKind kind = OpKind::kConv;
  uint8_t input_count = 0;
  uint8_t weight_bits = 0;  // conv: 2, 4 or 8; others 0
  int32_t output = 0;
  int32_t inputs[kMaxOpInputs] = {-1, -1};
  int32_t kernel = 0, levels = 0;
  ArrayRef name;                      // bytes
  ArrayRef arrays[kMaxOpArrays] = {};  // op_slots(kind)'s arrays; count 0 where empty
};

// One META entry: text entries first, then integer entries, keys in
// strictly increasing byte order within each kind.
struct MetaEntry {
  bool is_integer = false;
  const char* key = nullptr;
  uint32_t key_length = 0;
  const char* text = nullptr;  // text entries
  uint32_t text_length = 0;
  int64_t value = 0;           // integer entries
};

class ModelView {
 public:
  // Checks the bytes; on failure returns false and, where `diagnostic` is
  // not null, says "byte N: field: problem; expected ...". `data` must
  // outlive the view.
  bool open(const uint8_t* data, size_t size, Diagnostic* diagnostic);

  uint32_t version() const { return version_; }
  uint32_t tensor_count() const { return tensor_count_; }
  uint32_t op_count() const { return op_count_; }
  uint32_t meta_count() const { return text_count_ + integer_count_; }

  TensorRecord tensor(uint32_t index) const;
  OpRecord op(uint32_t index) const;
  // Calls f(const MetaEntry&) for every entry in file order.
  template <typename F>
  void for_each_meta(F&& f) const {
    uint64_t at = meta_at_ + 4;
    for (uint32_t i = 0; i < meta_count(); ++i) {
      if (i == text_count_) at += 4;  // the integer count
      MetaEntry e = meta_entry(at, i >= text_count_);
      f(static_cast<const MetaEntry&>(e));
    }
  }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Element k (< a.count) of an array of that type.
  int32_t i32(ArrayRef a, uint64_t k) const;
  int64_t i64(ArrayRef a, uint64_t k) const;
  float f32(ArrayRef a, uint64_t k) const;
  // Weight code k of a conv's weights packed `bits` wide (two's complement,
  // low bits first).
  int8_t code(ArrayRef a, int bits, uint64_t k) const;
  // Codes first .. first + count − 1 of such an array into out.
  void codes(ArrayRef a, int bits, uint64_t first, uint64_t count, int8_t* out) const;

 private:
  MetaEntry meta_entry(uint64_t& at, bool integer) const;

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0, tensor_count_ = 0, op_count_ = 0;
  uint32_t text_count_ = 0, integer_count_ = 0;
  uint64_t meta_at_ = 0, tensors_at_ = 0, ops_at_ = 0, data_at_ = 0;
};

}  // namespace maqd_rt
