// The one reader of .maqd bytes (docs/format.md; runtime/src/format_write.cpp
// is the writer, format_layout.h the layout both use). Freestanding: no
// exceptions, no heap, no strings; messages are written into the caller's
// Diagnostic.
//
// Every multi-byte value is read byte by byte, little-endian, so the code
// does not depend on the host's byte order or alignment. The file is
// treated as hostile: each offset, size, count and enum is checked against
// the bytes actually present before it is used.
#include "maqd_rt/core/model_view.h"

#include <cstring>
#include <type_traits>

#include "format_layout.h"
#include "message_writer.h"

namespace maqd_rt {

namespace format {

namespace {
struct CrcTable {
  uint32_t entries[256];
  constexpr CrcTable() : entries() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      entries[i] = c;
    }
  }
};
constexpr CrcTable kCrcTable;
}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrcTable.entries[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t file_checksum(const uint8_t* data, size_t size) {
  const uint8_t zeros[4] = {0, 0, 0, 0};
  uint32_t crc = crc32(data, kChecksumAt);
  crc = crc32(zeros, 4, crc);
  return crc32(data + kChecksumAt + 4, size - kChecksumAt - 4, crc);
}

}  // namespace format

namespace {

using namespace format;

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

// The checks of one open(): each returns false after writing the message.
class Checker {
 public:
  Checker(const uint8_t* data, size_t size, Diagnostic* d) : data_(data), size_(size), d_(d) {}

  // "byte N: " then the caller's parts; returns the writer for the rest.
  MessageWriter fail(uint64_t at, Status status = Status::kBadFile) {
    if (d_) d_->status = status;
    MessageWriter w(d_);
    w.add("byte ").add(at).add(": ");
    return w;
  }

  bool inside(uint64_t at, uint64_t length) const { return at <= size_ && length <= size_ - at; }
  // Unless [at, at + length) is in the file, fails naming `field`.
  bool need(uint64_t at, uint64_t length, const char* field, const char* field2 = "") {
    if (inside(at, length)) return true;
    fail(at).add(field).add(field2).add(": needs ").add(length).add(" bytes but the file ends at byte ")
        .add(uint64_t(size_)).add("; expected a complete file (truncated?)");
    return false;
  }
  bool zero(uint64_t at, uint64_t length, const char* label, int64_t index, const char* field) {
    for (uint64_t i = 0; i < length; ++i) {
      if (data_[at + i] != 0) {
        MessageWriter w = fail(at + i);
        w.add(label);
        if (index >= 0) w.add(index).add(' ');
        w.add(field).add(": is ").add(data_[at + i]).add("; expected 0 (reserved)");
        return false;
      }
    }
    return true;
  }
  const uint8_t* at(uint64_t offset) const { return data_ + offset; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  Diagnostic* d_;
};

bool check_header(Checker& c, uint32_t& version) {
  const size_t size = c.size();
  if (size < sizeof(kMagic) || std::memcmp(c.at(0), kMagic, sizeof(kMagic)) != 0) {
    MessageWriter w = c.fail(kMagicAt);
    w.add("magic: is [");
    for (size_t i = 0; i < sizeof(kMagic) && i < size; ++i) (i ? w.add(' ') : w).hex(*c.at(i), 2);
    w.add("]; expected 4D 41 51 44 0D 0A 1A 0A (\"MAQD\\r\\n\\x1a\\n\"): not a .maqd model file");
    return false;
  }
  if (!c.need(kVersionAt, 4, "version")) return false;
  version = le32(c.at(kVersionAt));
  if (version > kFormatVersion) {
    c.fail(kVersionAt, Status::kUnsupportedVersion)
        .add("version: file version ").add(version).add(" is newer than this runtime's ")
        .add(kFormatVersion).add("; update maqd-rt");
    return false;
  }
  if (version == 0) {
    c.fail(kVersionAt).add("version: is 0; expected 1..").add(kFormatVersion);
    return false;
  }
  if (!c.need(kHeaderSizeAt, 4, "header_size")) return false;
  const uint32_t header_size = le32(c.at(kHeaderSizeAt));
  if (header_size != kHeaderSize) {
    c.fail(kHeaderSizeAt).add("header_size: is ").add(header_size).add("; expected ").add(kHeaderSize);
    return false;
  }
  if (!c.need(0, kHeaderSize, "header")) return false;
  const uint64_t file_size = le64(c.at(kFileSizeAt));
  if (file_size != size) {
    c.fail(kFileSizeAt).add("file_size: says ").add(file_size).add(" bytes but the file has ")
        .add(uint64_t(size)).add("; expected them equal (truncated or appended to?)");
    return false;
  }
  const uint32_t stored = le32(c.at(kChecksumAt));
  const uint32_t actual = file_checksum(c.at(0), size);
  if (stored != actual) {
    c.fail(kChecksumAt).add("checksum (CRC-32): is 0x").hex(stored, 8).add(" but the bytes give 0x")
        .hex(actual, 8).add("; the file is corrupt");
    return false;
  }
  const uint32_t section_count = le32(c.at(kSectionCountAt));
  if (section_count != kSectionCount) {
    c.fail(kSectionCountAt).add("section_count: is ").add(section_count).add("; expected ").add(kSectionCount);
    return false;
  }
  const uint64_t table = le64(c.at(kSectionTableOffsetAt));
  if (table != kHeaderSize) {
    c.fail(kSectionTableOffsetAt).add("section_table_offset: is ").add(table).add("; expected ")
        .add(kHeaderSize);
    return false;
  }
  return c.zero(kHeaderReservedAt, kHeaderSize - kHeaderReservedAt, "", -1, "header reserved bytes");
}

bool check_sections(Checker& c, Section (&sections)[kSectionCount]) {
  uint64_t previous_end = kHeaderSize + kSectionCount * kSectionEntrySize;
  if (!c.need(kHeaderSize, kSectionCount * kSectionEntrySize, "section table")) return false;
  for (size_t i = 0; i < kSectionCount; ++i) {
    const uint64_t at = kHeaderSize + i * kSectionEntrySize;
    auto label = [&](MessageWriter w) -> MessageWriter {
      w.add("section ").add(uint64_t(i)).add(" (").add(kSectionNames[i]).add(") ");
      return w;
    };
    const uint32_t id = le32(c.at(at + kSectionIdAt));
    if (id != kSectionIds[i]) {
      label(c.fail(at + kSectionIdAt)).add("id: is 0x").hex(id, 8).add("; expected '").add(kSectionNames[i])
          .add("' (v1 has META, TENS, OPS_, DATA in this order)");
      return false;
    }
    const size_t reserved[2][2] = {{kSectionReservedAt, 4}, {kSectionReserved2At, 8}};
    for (const auto& field : reserved) {
      const size_t offset = field[0], length = field[1];
      for (size_t k = 0; k < length; ++k) {
        if (*c.at(at + offset + k) != 0) {
          label(c.fail(at + offset + k)).add("reserved: is ").add(*c.at(at + offset + k))
              .add("; expected 0 (reserved)");
          return false;
        }
      }
    }
    const Section s{le64(c.at(at + kSectionOffsetAt)), le64(c.at(at + kSectionSizeAt))};
    if (s.offset % kAlignment != 0) {
      label(c.fail(at + kSectionOffsetAt)).add("offset: is ").add(s.offset).add("; expected a multiple of ")
          .add(kAlignment);
      return false;
    }
    if (s.offset < previous_end) {
      label(c.fail(at + kSectionOffsetAt)).add("offset: is ").add(s.offset).add("; expected at least ")
          .add(previous_end).add(" (after the section table and the previous section; sections must not overlap)");
      return false;
    }
    if (s.offset > c.size() || s.size > c.size() - s.offset) {
      label(c.fail(at + kSectionSizeAt)).add("size: section [").add(s.offset).add(", +").add(s.size)
          .add(") runs past the end of the file at ").add(uint64_t(c.size())).add("; expected it inside the file");
      return false;
    }
    sections[i] = s;
    previous_end = s.end();
  }
  return true;
}

// META: counts, then entries [key length, key, value]; keys strictly
// increasing (byte order, as std::map keeps them): one canonical encoding,
// and duplicates cannot silently overwrite.
bool check_meta(Checker& c, const Section& s, uint32_t& text_count, uint32_t& integer_count) {
  uint64_t at = s.offset;
  const uint64_t end = s.end();
  auto take = [&](uint64_t length, const char* kind, int64_t index, const char* field) {
    if (length <= end - at) return true;
    MessageWriter w = c.fail(at);
    w.add(kind);
    if (index >= 0) w.add(" entry ").add(index).add(' ');
    w.add(field).add(": needs ").add(length).add(" bytes but META ends at byte ").add(end)
        .add("; expected the entry inside META");
    return false;
  };
  const uint8_t* previous = nullptr;
  uint32_t previous_length = 0;
  for (int integer = 0; integer < 2; ++integer) {
    const char* kind = integer ? "integer" : "text";
    if (!take(4, kind, -1, " metadata count")) return false;
    const uint32_t count = le32(c.at(at));
    at += 4;
    (integer ? integer_count : text_count) = count;
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t key_at = at;
      if (!take(4, kind, i, "key length")) return false;
      const uint32_t length = le32(c.at(at));
      at += 4;
      if (!take(length, kind, i, "key")) return false;
      const uint8_t* key = c.at(at);
      at += length;
      if (i > 0) {
        const int order = std::memcmp(previous, key, previous_length < length ? previous_length : length);
        const bool increasing = order < 0 || (order == 0 && previous_length < length);
        if (!increasing) {
          c.fail(key_at).add(kind).add(" entry ").add(i).add(" key: '").quoted(key, length).add("' follows '")
              .quoted(previous, previous_length)
              .add("'; expected keys in strictly increasing byte order (no duplicates)");
          return false;
        }
      }
      previous = key;
      previous_length = length;
      if (integer) {
        if (!take(8, kind, i, "value")) return false;
        at += 8;
      } else {
        if (!take(4, kind, i, "value length")) return false;
        const uint32_t value_length = le32(c.at(at));
        at += 4;
        if (!take(value_length, kind, i, "value")) return false;
        at += value_length;
      }
    }
  }
  if (at != end) {
    c.fail(at).add("META: ").add(end - at).add(" bytes follow the last entry; expected META to end there");
    return false;
  }
  return true;
}

bool check_tensors(Checker& c, const Section& s, uint32_t count) {
  if (s.size != uint64_t(count) * kTensorRecordSize) {
    c.fail(kHeaderSize + kTens * kSectionEntrySize + kSectionSizeAt).add("TENS size: is ").add(s.size)
        .add("; expected tensor_count·16 = ").add(uint64_t(count) * kTensorRecordSize);
    return false;
  }
  for (uint32_t t = 0; t < count; ++t) {
    const uint64_t at = s.offset + uint64_t(t) * kTensorRecordSize;
    const uint8_t dtype = *c.at(at + kTensorDtypeAt);
    if (dtype < uint8_t(DType::kU8) || dtype > uint8_t(DType::kF32)) {
      c.fail(at + kTensorDtypeAt).add("tensor ").add(t).add(" dtype: is ").add(dtype)
          .add("; expected 1 (u8), 2 (i16), 3 (i32) or 4 (f32)");
      return false;
    }
    if (!c.zero(at + kTensorReservedAt, 3, "tensor ", t, "reserved")) return false;
  }
  return true;
}

size_t element_size(ArrayType type) {
  switch (type) {
    case ArrayType::kI32: return 4;
    case ArrayType::kI64: return 8;
    case ArrayType::kF32: return 4;
    case ArrayType::kCodes: return 0;  // packed: weight_bits each
  }
  return 0;
}

// The packed codes: the most negative value is reserved and rejected, as
// are nonzero padding bits after the last code.
bool check_codes(Checker& c, uint64_t at, uint64_t count, int bits, uint32_t op, const char* name) {
  const int per_byte = 8 / bits;
  const uint32_t mask = (1u << bits) - 1;
  const uint32_t reserved = 1u << (bits - 1);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t byte_at = at + i / uint64_t(per_byte);
    const uint32_t field = (uint32_t(*c.at(byte_at)) >> (bits * int(i % uint64_t(per_byte)))) & mask;
    if (field == reserved) {
      c.fail(byte_at).add("op ").add(op).add(' ').add(name).add(": code ").add(i).add(" is the reserved pattern ")
          .add(field).add(" (−").add(reserved).add("); expected −").add(reserved - 1).add("..")
          .add(reserved - 1).add(" for weight_bits ").add(bits);
      return false;
    }
  }
  const uint64_t used = count % uint64_t(per_byte);
  if (used != 0) {
    const uint64_t last = at + count / uint64_t(per_byte);
    if (*c.at(last) >> (bits * int(used))) {
      c.fail(last).add("op ").add(op).add(' ').add(name)
          .add(": padding bits after the last code are nonzero; expected 0");
      return false;
    }
  }
  return true;
}

bool check_ops(Checker& c, const Section (&sections)[kSectionCount], uint32_t count) {
  const Section& s = sections[kOps];
  const Section& data = sections[kData];
  if (s.size != uint64_t(count) * kOpRecordSize) {
    c.fail(kHeaderSize + kOps * kSectionEntrySize + kSectionSizeAt).add("OPS_ size: is ").add(s.size)
        .add("; expected op_count·128 = ").add(uint64_t(count) * kOpRecordSize);
    return false;
  }
  // Arrays lie in DATA in op and slot order without overlap (as the writer
  // puts them), so each byte of DATA is read at most once: the work stays
  // linear in the file's size however many ops point at one array.
  uint64_t data_used = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = s.offset + uint64_t(i) * kOpRecordSize;
    auto op_fail = [&](uint64_t where) -> MessageWriter {
      MessageWriter w = c.fail(where);
      w.add("op ").add(i).add(' ');
      return w;
    };
    const uint8_t kind = *c.at(at + kOpKindAt);
    if (kind < uint8_t(OpKind::kInputLut) || kind > uint8_t(OpKind::kGapLinear)) {
      op_fail(at + kOpKindAt).add("kind: is ").add(kind)
          .add("; expected 1 (input_lut), 2 (conv), 3 (pool_sum), 4 (requant) or 5 (gap_linear)");
      return false;
    }
    const uint8_t input_count = *c.at(at + kOpInputCountAt);
    if (input_count < 1 || input_count > kMaxInputs) {
      op_fail(at + kOpInputCountAt).add("input_count: is ").add(input_count).add("; expected 1 or 2");
      return false;
    }
    const uint8_t bits = *c.at(at + kOpWeightBitsAt);
    const bool conv = OpKind(kind) == OpKind::kConv;
    if (conv ? (bits != 2 && bits != 4 && bits != 8) : bits != 0) {
      op_fail(at + kOpWeightBitsAt).add("weight_bits: is ").add(bits)
          .add(conv ? "; expected 2, 4 or 8" : "; expected 0 (not a conv)");
      return false;
    }
    if (!c.zero(at + kOpReservedAt, 1, "op ", i, "reserved")) return false;
    for (size_t j = input_count; j < kMaxInputs; ++j) {
      const uint64_t input_at = at + kOpInputsAt + 4 * j;
      const int32_t t = int32_t(le32(c.at(input_at)));
      if (t != -1) {
        op_fail(input_at).add("inputs[").add(uint64_t(j)).add("]: is ").add(t)
            .add("; expected −1 (unused: input_count is ").add(input_count).add(")");
        return false;
      }
    }
    if (!c.zero(at + kOpReserved2At, kOpRefsAt - kOpReserved2At, "op ", i, "reserved")) return false;
    if (!c.zero(at + kOpReserved3At, kOpRecordSize - kOpReserved3At, "op ", i, "reserved")) return false;

    const OpSlots& slots = op_slots(OpKind(kind));
    for (size_t slot = 0; slot < kOpRefCount; ++slot) {
      const bool has_array = slot == 0 || slot - 1 < slots.count;
      const char* name = slot == 0 ? "name" : has_array ? slots.slots[slot - 1].name : "unused array";
      const uint64_t ref_at = at + kOpRefsAt + slot * kRefSize;
      const uint64_t offset = le64(c.at(ref_at));
      const uint64_t n = le64(c.at(ref_at + 8));
      if (n == 0) {
        if (offset != 0) {
          op_fail(ref_at).add(name).add(" offset: is ").add(offset).add("; expected 0 for an empty array");
          return false;
        }
        continue;
      }
      if (!has_array) {
        op_fail(ref_at + 8).add(name).add(" count: is ").add(n).add("; expected 0 (")
            .add(op_kind_name(OpKind(kind))).add(" stores no array in this slot)");
        return false;
      }
      if (offset % kAlignment != 0) {
        op_fail(ref_at).add(name).add(" offset: is ").add(offset).add("; expected a multiple of ").add(kAlignment);
        return false;
      }
      if (offset >= data.size) {
        op_fail(ref_at).add(name).add(" offset: is ").add(offset).add("; expected less than the DATA size ")
            .add(data.size);
        return false;
      }
      const uint64_t available = data.size - offset;
      const bool codes = slot > 0 && slots.slots[slot - 1].type == ArrayType::kCodes;
      const uint64_t per_byte = codes ? 8u / bits : 0;
      const size_t element = slot == 0 ? 1 : element_size(slots.slots[slot - 1].type);
      const bool fits = per_byte ? n / per_byte + (n % per_byte != 0) <= available : n <= available / element;
      if (!fits) {
        op_fail(ref_at + 8).add(name).add(" count: is ").add(n).add("; the array at DATA+").add(offset)
            .add(" would run past the end of DATA (").add(available).add(" bytes left); expected it inside DATA");
        return false;
      }
      if (offset < data_used) {
        op_fail(ref_at).add(name).add(" offset: is ").add(offset).add(", before the end of the previous array (DATA+")
            .add(data_used)
            .add("); expected each array after the one before it, in op and slot order (arrays are not shared)");
        return false;
      }
      const uint64_t length = per_byte ? n / per_byte + (n % per_byte != 0) : n * element;
      data_used = offset + length;
      if (codes && !check_codes(c, data.offset + offset, n, bits, i, name)) return false;
    }
  }
  return true;
}

}  // namespace

bool ModelView::open(const uint8_t* data, size_t size, Diagnostic* diagnostic) {
  *this = ModelView();
  static const uint8_t kEmpty = 0;
  if (data == nullptr && size != 0) {
    if (diagnostic) {
      diagnostic->status = Status::kBadArgument;
      MessageWriter(diagnostic).add("null data with size ").add(uint64_t(size));
    }
    return false;
  }
  Checker c(data ? data : &kEmpty, size, diagnostic);
  uint32_t version = 0;
  Section sections[kSectionCount];
  if (!check_header(c, version) || !check_sections(c, sections)) return false;
  const uint32_t tensor_count = le32(c.at(kTensorCountAt));
  const uint32_t op_count = le32(c.at(kOpCountAt));
  uint32_t text_count = 0, integer_count = 0;
  if (!check_meta(c, sections[kMeta], text_count, integer_count) ||
      !check_tensors(c, sections[kTens], tensor_count) || !check_ops(c, sections, op_count)) {
    return false;
  }
  data_ = data;
  size_ = size;
  version_ = version;
  tensor_count_ = tensor_count;
  op_count_ = op_count;
  text_count_ = text_count;
  integer_count_ = integer_count;
  meta_at_ = sections[kMeta].offset;
  tensors_at_ = sections[kTens].offset;
  ops_at_ = sections[kOps].offset;
  data_at_ = sections[kData].offset;
  if (diagnostic) *diagnostic = Diagnostic();
  return true;
}

TensorRecord ModelView::tensor(uint32_t index) const {
  const uint8_t* p = data_ + tensors_at_ + uint64_t(index) * kTensorRecordSize;
  TensorRecord t;
  t.dtype = DType(p[kTensorDtypeAt]);
  t.height = int32_t(le32(p + kTensorHeightAt));
  t.width = int32_t(le32(p + kTensorWidthAt));
  t.channels = int32_t(le32(p + kTensorChannelsAt));
  return t;
}

OpRecord ModelView::op(uint32_t index) const {
  const uint8_t* p = data_ + ops_at_ + uint64_t(index) * kOpRecordSize;
  OpRecord op;
  op.kind = OpKind(p[kOpKindAt]);
  op.input_count = p[kOpInputCountAt];
  op.weight_bits = p[kOpWeightBitsAt];
  op.output = int32_t(le32(p + kOpOutputAt));
  for (size_t j = 0; j < kMaxOpInputs; ++j) op.inputs[j] = int32_t(le32(p + kOpInputsAt + 4 * j));
  op.kernel = int32_t(le32(p + kOpKernelAt));
  op.levels = int32_t(le32(p + kOpLevelsAt));
  auto ref = [&](size_t slot) {
    const uint8_t* r = p + kOpRefsAt + slot * kRefSize;
    const uint64_t count = le64(r + 8);
    return ArrayRef{count ? data_at_ + le64(r) : 0, count};
  };
  op.name = ref(0);
  for (size_t slot = 1; slot < kOpRefCount; ++slot) op.arrays[slot - 1] = ref(slot);
  return op;
}

MetaEntry ModelView::meta_entry(uint64_t& at, bool integer) const {
  MetaEntry e;
  e.is_integer = integer;
  e.key_length = le32(data_ + at);
  e.key = reinterpret_cast<const char*>(data_ + at + 4);
  at += 4 + e.key_length;
  if (integer) {
    e.value = int64_t(le64(data_ + at));
    at += 8;
  } else {
    e.text_length = le32(data_ + at);
    e.text = reinterpret_cast<const char*>(data_ + at + 4);
    at += 4 + e.text_length;
  }
  return e;
}

int32_t ModelView::i32(ArrayRef a, uint64_t k) const { return int32_t(le32(data_ + a.at + 4 * k)); }
int64_t ModelView::i64(ArrayRef a, uint64_t k) const { return int64_t(le64(data_ + a.at + 8 * k)); }
float ModelView::f32(ArrayRef a, uint64_t k) const {
  const uint32_t word = le32(data_ + a.at + 4 * k);
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}
namespace {
// Code k of an array packed `bits` (2, 4 or 8) wide from `bytes`: shifts
// only (no division, which a Cortex-M4 does in a library call for 64 bits).
inline int8_t packed_code(const uint8_t* bytes, int bits, uint64_t k) {
  const int shift = bits == 2 ? 2 : bits == 4 ? 1 : 0;  // log2 of the codes per byte
  const uint32_t mask = (1u << bits) - 1, sign = 1u << (bits - 1);
  const uint32_t field = (uint32_t(bytes[k >> shift]) >> (uint32_t(bits) * uint32_t(k & ((1u << shift) - 1)))) & mask;
  return int8_t(int32_t(field ^ sign) - int32_t(sign));  // two's complement of `bits` bits
}
}  // namespace

int8_t ModelView::code(ArrayRef a, int bits, uint64_t k) const { return packed_code(data_ + a.at, bits, k); }

void ModelView::codes(ArrayRef a, int bits, uint64_t first, uint64_t count, int8_t* out) const {
  const uint8_t* bytes = data_ + a.at;
  for (uint64_t i = 0; i < count; ++i) out[i] = packed_code(bytes, bits, first + i);
}

}  // namespace maqd_rt
