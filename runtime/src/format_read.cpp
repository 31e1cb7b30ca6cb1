// The one reader of .maqd files (docs/format.md; format_write.cpp is the
// writer, format_layout.h and op_arrays.h the layout both use).
//
// Every multi-byte value is read byte by byte, little-endian, so the code
// does not depend on the host's byte order or alignment. The reader treats
// the file as hostile: each offset, size, count and enum is checked against
// the bytes actually present before it is used, and no allocation is larger
// than the file itself could justify.
#include "maqd_rt/format.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "format_layout.h"
#include "maqd_rt/error.hpp"
#include "op_arrays.h"

namespace maqd_rt {

namespace format {

namespace {
constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();
}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
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


// How one array of an op is stored in DATA: the name as bytes, the rest
// as op_arrays() gives their types.
enum class Encoding { kNone, kBytes, kI32, kI64, kF32, kPackedCodes };

// The array in ref slot 1..4 of `kind` (nullptr where the kind has none).
const OpArray* slot_array(OpKind kind, size_t slot) {
  const OpArrays& arrays = op_arrays(kind);
  return slot >= 1 && slot - 1 < arrays.count ? &arrays.arrays[slot - 1] : nullptr;
}

Encoding slot_encoding(OpKind kind, size_t slot) {
  if (slot == 0) return Encoding::kBytes;
  const OpArray* array = slot_array(kind, slot);
  if (!array) return Encoding::kNone;
  switch (array->type) {
    case ArrayType::kI32: return Encoding::kI32;
    case ArrayType::kI64: return Encoding::kI64;
    case ArrayType::kF32: return Encoding::kF32;
    case ArrayType::kCodes: return Encoding::kPackedCodes;
  }
  return Encoding::kNone;
}

std::string slot_name(OpKind kind, size_t slot) {
  if (slot == 0) return "name";
  const OpArray* array = slot_array(kind, slot);
  return array ? array->name : "unused array";
}

size_t element_size(Encoding e) {
  switch (e) {
    case Encoding::kBytes: return 1;
    case Encoding::kI32: return 4;
    case Encoding::kI64: return 8;
    case Encoding::kF32: return 4;
    default: return 0;
  }
}



class FileReader {
 public:
  FileReader(const uint8_t* data, size_t size, const std::string& source)
      : data_(data), size_(size), source_(source) {}

  [[noreturn]] void fail(uint64_t offset, const std::string& field, const std::string& problem,
                         Status status = Status::kBadFile) const {
    throw Error(source_ + ": byte " + std::to_string(offset) + ": " + field + ": " + problem, status);
  }

  // Throws unless [offset, offset + length) lies inside the file.
  void need(uint64_t offset, uint64_t length, const std::string& field) const {
    if (offset > size_ || length > size_ - offset) {
      fail(offset, field,
           "needs " + std::to_string(length) + " bytes but the file ends at byte " +
               std::to_string(size_) + "; expected a complete file (truncated?)");
    }
  }

  uint8_t u8(uint64_t at, const std::string& field) const {
    need(at, 1, field);
    return data_[at];
  }
  uint32_t u32(uint64_t at, const std::string& field) const {
    need(at, 4, field);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(data_[at + i]) << (8 * i);
    return v;
  }
  uint64_t u64(uint64_t at, const std::string& field) const {
    need(at, 8, field);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(data_[at + i]) << (8 * i);
    return v;
  }
  int32_t i32(uint64_t at, const std::string& field) const {
    return int32_t(u32(at, field));  // two's complement: defined since C++20, universal in practice
  }
  void expect_zero(uint64_t at, size_t length, const std::string& field) const {
    need(at, length, field);
    for (size_t i = 0; i < length; ++i) {
      if (data_[at + i] != 0) {
        fail(at + i, field, "is " + std::to_string(data_[at + i]) + "; expected 0 (reserved)");
      }
    }
  }
  const uint8_t* bytes(uint64_t at, uint64_t length, const std::string& field) const {
    need(at, length, field);
    return data_ + at;
  }
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }

 private:
  const uint8_t* data_;
  size_t size_;
  const std::string& source_;
};

void read_header(const FileReader& r, uint32_t& version) {
  const size_t size = r.size();
  if (size < sizeof(kMagic) || std::memcmp(r.data(), kMagic, sizeof(kMagic)) != 0) {
    std::ostringstream found;
    for (size_t i = 0; i < sizeof(kMagic) && i < size; ++i) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%02X ", r.data()[i]);
      found << hex;
    }
    r.fail(kMagicAt, "magic",
           "is [" + found.str() + "]; expected 4D 41 51 44 0D 0A 1A 0A (\"MAQD\\r\\n\\x1a\\n\"): "
           "not a .maqd model file");
  }
  version = r.u32(kVersionAt, "version");
  if (version > kFormatVersion) {
    r.fail(kVersionAt, "version",
           "file version " + std::to_string(version) + " is newer than this runtime's " +
               std::to_string(kFormatVersion) + "; update maqd-rt",
           Status::kUnsupportedVersion);
  }
  if (version == 0) r.fail(kVersionAt, "version", "is 0; expected 1.." + std::to_string(kFormatVersion));
  const uint32_t header_size = r.u32(kHeaderSizeAt, "header_size");
  if (header_size != kHeaderSize) {
    r.fail(kHeaderSizeAt, "header_size",
           "is " + std::to_string(header_size) + "; expected " + std::to_string(kHeaderSize));
  }
  r.need(0, kHeaderSize, "header");
  const uint64_t file_size = r.u64(kFileSizeAt, "file_size");
  if (file_size != size) {
    r.fail(kFileSizeAt, "file_size",
           "says " + std::to_string(file_size) + " bytes but the file has " + std::to_string(size) +
               "; expected them equal (truncated or appended to?)");
  }
  const uint32_t stored = r.u32(kChecksumAt, "checksum");
  const uint32_t actual = file_checksum(r.data(), size);
  if (stored != actual) {
    char text[96];
    std::snprintf(text, sizeof text, "is 0x%08X but the bytes give 0x%08X; the file is corrupt",
                  unsigned(stored), unsigned(actual));
    r.fail(kChecksumAt, "checksum (CRC-32)", text);
  }
  const uint32_t section_count = r.u32(kSectionCountAt, "section_count");
  if (section_count != kSectionCount) {
    r.fail(kSectionCountAt, "section_count",
           "is " + std::to_string(section_count) + "; expected " + std::to_string(kSectionCount));
  }
  const uint64_t table = r.u64(kSectionTableOffsetAt, "section_table_offset");
  if (table != kHeaderSize) {
    r.fail(kSectionTableOffsetAt, "section_table_offset",
           "is " + std::to_string(table) + "; expected " + std::to_string(kHeaderSize));
  }
  r.expect_zero(kHeaderReservedAt, kHeaderSize - kHeaderReservedAt, "header reserved bytes");
}

std::array<Section, kSectionCount> read_section_table(const FileReader& r) {
  std::array<Section, kSectionCount> sections;
  uint64_t previous_end = kHeaderSize + kSectionCount * kSectionEntrySize;
  r.need(kHeaderSize, kSectionCount * kSectionEntrySize, "section table");
  for (size_t i = 0; i < kSectionCount; ++i) {
    const uint64_t at = kHeaderSize + i * kSectionEntrySize;
    const std::string label = std::string("section ") + std::to_string(i) + " (" + kSectionNames[i] + ") ";
    const uint32_t id = r.u32(at + kSectionIdAt, label + "id");
    if (id != kSectionIds[i]) {
      r.fail(at + kSectionIdAt, label + "id",
             "is 0x" + [&] { char t[16]; std::snprintf(t, sizeof t, "%08X", unsigned(id)); return std::string(t); }() +
                 "; expected '" + kSectionNames[i] + "' (v1 has META, TENS, OPS_, DATA in this order)");
    }
    r.expect_zero(at + kSectionReservedAt, 4, label + "reserved");
    r.expect_zero(at + kSectionReserved2At, 8, label + "reserved");
    Section s{r.u64(at + kSectionOffsetAt, label + "offset"), r.u64(at + kSectionSizeAt, label + "size")};
    if (s.offset % kAlignment != 0) {
      r.fail(at + kSectionOffsetAt, label + "offset",
             "is " + std::to_string(s.offset) + "; expected a multiple of " + std::to_string(kAlignment));
    }
    if (s.offset < previous_end) {
      r.fail(at + kSectionOffsetAt, label + "offset",
             "is " + std::to_string(s.offset) + "; expected at least " + std::to_string(previous_end) +
                 " (after the section table and the previous section; sections must not overlap)");
    }
    if (s.offset > r.size() || s.size > r.size() - s.offset) {
      r.fail(at + kSectionSizeAt, label + "size",
             "section [" + std::to_string(s.offset) + ", +" + std::to_string(s.size) +
                 ") runs past the end of the file at " + std::to_string(r.size()) +
                 "; expected it inside the file");
    }
    sections[i] = s;
    previous_end = s.end();
  }
  return sections;
}

// A bounded cursor over the META section.
class MetaCursor {
 public:
  MetaCursor(const FileReader& r, const Section& s) : r_(r), at_(s.offset), end_(s.end()) {}

  uint32_t u32(const std::string& field) {
    check(4, field);
    const uint32_t v = r_.u32(at_, field);
    at_ += 4;
    return v;
  }
  uint64_t u64(const std::string& field) {
    check(8, field);
    const uint64_t v = r_.u64(at_, field);
    at_ += 8;
    return v;
  }
  std::string text(uint32_t length, const std::string& field) {
    check(length, field);
    const uint8_t* p = r_.bytes(at_, length, field);
    at_ += length;
    return std::string(reinterpret_cast<const char*>(p), length);
  }
  uint64_t at() const { return at_; }
  uint64_t end() const { return end_; }

 private:
  void check(uint64_t length, const std::string& field) const {
    if (length > end_ - at_) {
      r_.fail(at_, field,
              "needs " + std::to_string(length) + " bytes but META ends at byte " +
                  std::to_string(end_) + "; expected the entry inside META");
    }
  }
  const FileReader& r_;
  uint64_t at_, end_;
};

void read_meta(const FileReader& r, const Section& s, Model& model) {
  MetaCursor c(r, s);
  // Keys must be strictly increasing (byte order, as std::map keeps them):
  // one canonical encoding, and duplicates cannot silently overwrite.
  auto read_key = [&](const std::string& kind, uint32_t index, const std::string* previous) {
    const std::string field = kind + " entry " + std::to_string(index) + " key";
    const uint64_t at = c.at();
    const uint32_t length = c.u32(field + " length");
    std::string key = c.text(length, field);
    if (previous && !(*previous < key)) {
      r.fail(at, field, "'" + printable(key) + "' follows '" + printable(*previous) +
                            "'; expected keys in strictly increasing byte order (no duplicates)");
    }
    return key;
  };
  const uint32_t text_count = c.u32("text metadata count");
  std::string previous;
  for (uint32_t i = 0; i < text_count; ++i) {
    std::string key = read_key("text", i, i ? &previous : nullptr);
    const uint32_t length = c.u32("text entry " + std::to_string(i) + " value length");
    model.text.emplace_hint(model.text.end(), key, c.text(length, "text entry " + std::to_string(i) + " value"));
    previous = std::move(key);
  }
  const uint32_t integer_count = c.u32("integer metadata count");
  for (uint32_t i = 0; i < integer_count; ++i) {
    std::string key = read_key("integer", i, i ? &previous : nullptr);
    const int64_t value = int64_t(c.u64("integer entry " + std::to_string(i) + " value"));
    model.integers.emplace_hint(model.integers.end(), key, value);
    previous = std::move(key);
  }
  if (c.at() != c.end()) {
    r.fail(c.at(), "META", std::to_string(c.end() - c.at()) +
                               " bytes follow the last entry; expected META to end there");
  }
}

void read_tensors(const FileReader& r, const Section& s, uint32_t count, Model& model) {
  if (s.size != uint64_t(count) * kTensorRecordSize) {
    r.fail(kHeaderSize + kTens * kSectionEntrySize + kSectionSizeAt, "TENS size",
           "is " + std::to_string(s.size) + "; expected tensor_count·16 = " +
               std::to_string(uint64_t(count) * kTensorRecordSize));
  }
  model.tensors.resize(count);  // bounded: count·16 bytes are in the file
  for (uint32_t t = 0; t < count; ++t) {
    const uint64_t at = s.offset + uint64_t(t) * kTensorRecordSize;
    const std::string label = "tensor " + std::to_string(t) + " ";
    const uint8_t dtype = r.u8(at + kTensorDtypeAt, label + "dtype");
    if (dtype < uint8_t(DType::kU8) || dtype > uint8_t(DType::kF32)) {
      r.fail(at + kTensorDtypeAt, label + "dtype",
             "is " + std::to_string(dtype) + "; expected 1 (u8), 2 (i16), 3 (i32) or 4 (f32)");
    }
    r.expect_zero(at + kTensorReservedAt, 3, label + "reserved");
    TensorDesc& d = model.tensors[t];
    d.dtype = DType(dtype);
    d.height = r.i32(at + kTensorHeightAt, label + "height");
    d.width = r.i32(at + kTensorWidthAt, label + "width");
    d.channels = r.i32(at + kTensorChannelsAt, label + "channels");
  }
}

// Decodes weight_bits-wide two's complement codes, low bits first; the most
// negative value is reserved and rejected, as are nonzero padding bits.
void decode_codes(const FileReader& r, uint64_t at, uint64_t count, int bits,
                  const std::string& field, std::vector<int8_t>& out) {
  const int per_byte = 8 / bits;
  const uint32_t mask = (1u << bits) - 1;
  const uint32_t reserved = 1u << (bits - 1);
  out.resize(size_t(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t byte_at = at + i / uint64_t(per_byte);
    const uint32_t field_bits = (uint32_t(r.u8(byte_at, field)) >> (bits * int(i % uint64_t(per_byte)))) & mask;
    if (field_bits == reserved) {
      r.fail(byte_at, field,
             "code " + std::to_string(i) + " is the reserved pattern " + std::to_string(field_bits) +
                 " (−" + std::to_string(reserved) + "); expected −" + std::to_string(reserved - 1) +
                 ".." + std::to_string(reserved - 1) + " for weight_bits " + std::to_string(bits));
    }
    out[size_t(i)] = int8_t(field_bits & reserved ? int32_t(field_bits) - int32_t(1u << bits)
                                                  : int32_t(field_bits));
  }
  const uint64_t used = count % uint64_t(per_byte);
  if (used != 0) {
    const uint64_t last = at + count / uint64_t(per_byte);
    if (r.u8(last, field) >> (bits * int(used))) {
      r.fail(last, field, "padding bits after the last code are nonzero; expected 0");
    }
  }
}

void read_ops(const FileReader& r, const std::array<Section, kSectionCount>& sections,
              uint32_t count, Model& model) {
  const Section& s = sections[kOps];
  const Section& data = sections[kData];
  if (s.size != uint64_t(count) * kOpRecordSize) {
    r.fail(kHeaderSize + kOps * kSectionEntrySize + kSectionSizeAt, "OPS_ size",
           "is " + std::to_string(s.size) + "; expected op_count·128 = " +
               std::to_string(uint64_t(count) * kOpRecordSize));
  }
  model.ops.resize(count);  // bounded: count·128 bytes are in the file
  // Arrays lie in DATA in op and slot order without overlap (as the writer
  // puts them), so each byte of DATA is decoded at most once: the work and
  // memory of reading stay linear in the file's size however many ops
  // point at one array.
  uint64_t data_used = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = s.offset + uint64_t(i) * kOpRecordSize;
    const std::string label = "op " + std::to_string(i) + " ";
    Op& op = model.ops[i];
    const uint8_t kind = r.u8(at + kOpKindAt, label + "kind");
    if (kind < uint8_t(OpKind::kInputLut) || kind > uint8_t(OpKind::kGapLinear)) {
      r.fail(at + kOpKindAt, label + "kind",
             "is " + std::to_string(kind) +
                 "; expected 1 (input_lut), 2 (conv), 3 (pool_sum), 4 (requant) or 5 (gap_linear)");
    }
    op.kind = OpKind(kind);
    const uint8_t input_count = r.u8(at + kOpInputCountAt, label + "input_count");
    if (input_count < 1 || input_count > kMaxInputs) {
      r.fail(at + kOpInputCountAt, label + "input_count",
             "is " + std::to_string(input_count) + "; expected 1 or 2");
    }
    const uint8_t bits = r.u8(at + kOpWeightBitsAt, label + "weight_bits");
    const bool conv = op.kind == OpKind::kConv;
    if (conv ? (bits != 2 && bits != 4 && bits != 8) : bits != 0) {
      r.fail(at + kOpWeightBitsAt, label + "weight_bits",
             "is " + std::to_string(bits) + (conv ? "; expected 2, 4 or 8" : "; expected 0 (not a conv)"));
    }
    op.weight_bits = bits;
    r.expect_zero(at + kOpReservedAt, 1, label + "reserved");
    op.output = r.i32(at + kOpOutputAt, label + "output");
    for (size_t j = 0; j < kMaxInputs; ++j) {
      const uint64_t input_at = at + kOpInputsAt + 4 * j;
      const int32_t t = r.i32(input_at, label + "inputs[" + std::to_string(j) + "]");
      if (j < input_count) {
        op.inputs.push_back(t);
      } else if (t != -1) {
        r.fail(input_at, label + "inputs[" + std::to_string(j) + "]",
               "is " + std::to_string(t) + "; expected −1 (unused: input_count is " +
                   std::to_string(input_count) + ")");
      }
    }
    op.kernel = r.i32(at + kOpKernelAt, label + "kernel");
    op.levels = r.i32(at + kOpLevelsAt, label + "levels");
    r.expect_zero(at + kOpReserved2At, kOpRefsAt - kOpReserved2At, label + "reserved");
    r.expect_zero(at + kOpReserved3At, kOpRecordSize - kOpReserved3At, label + "reserved");

    for (size_t slot = 0; slot < kOpRefCount; ++slot) {
      const Encoding encoding = slot_encoding(op.kind, slot);
      const std::string field = label + slot_name(op.kind, slot);
      const uint64_t ref_at = at + kOpRefsAt + slot * kRefSize;
      const uint64_t offset = r.u64(ref_at, field + " offset");
      const uint64_t n = r.u64(ref_at + 8, field + " count");
      if (n == 0) {
        if (offset != 0) r.fail(ref_at, field + " offset", "is " + std::to_string(offset) + "; expected 0 for an empty array");
        continue;
      }
      if (encoding == Encoding::kNone) {
        r.fail(ref_at + 8, field + " count",
               "is " + std::to_string(n) + "; expected 0 (" + op_kind_name(op.kind) +
                   " stores no array in this slot)");
      }
      if (offset % kAlignment != 0) {
        r.fail(ref_at, field + " offset",
               "is " + std::to_string(offset) + "; expected a multiple of " + std::to_string(kAlignment));
      }
      if (offset >= data.size) {
        r.fail(ref_at, field + " offset",
               "is " + std::to_string(offset) + "; expected less than the DATA size " + std::to_string(data.size));
      }
      const uint64_t available = data.size - offset;
      // Bytes the array needs, computed without overflow; this bounds every
      // allocation below by the file's size.
      const uint64_t per_byte = encoding == Encoding::kPackedCodes ? 8u / bits : 0;
      const bool fits = per_byte ? n / per_byte + (n % per_byte != 0) <= available
                                 : n <= available / element_size(encoding);
      if (!fits) {
        r.fail(ref_at + 8, field + " count",
               "is " + std::to_string(n) + "; the array at DATA+" + std::to_string(offset) +
                   " would run past the end of DATA (" + std::to_string(available) +
                   " bytes left); expected it inside DATA");
      }
      if (offset < data_used) {
        r.fail(ref_at, field + " offset",
               "is " + std::to_string(offset) + ", before the end of the previous array (DATA+" +
                   std::to_string(data_used) +
                   "); expected each array after the one before it, in op and slot order (arrays are "
                   "not shared)");
      }
      const uint64_t length = per_byte ? n / per_byte + (n % per_byte != 0) : n * element_size(encoding);
      data_used = offset + length;
      const uint64_t begin = data.offset + offset;
      const uint8_t* p = r.bytes(begin, length, field);
      auto le32 = [&](uint64_t k) {
        return uint32_t(p[4 * k]) | uint32_t(p[4 * k + 1]) << 8 | uint32_t(p[4 * k + 2]) << 16 |
               uint32_t(p[4 * k + 3]) << 24;
      };
      switch (encoding) {
        case Encoding::kBytes: op.name.assign(reinterpret_cast<const char*>(p), size_t(n)); break;
        case Encoding::kI32: {
          auto& v = op.*(slot_array(op.kind, slot)->i32);
          v.resize(size_t(n));
          for (uint64_t k = 0; k < n; ++k) v[size_t(k)] = int32_t(le32(k));
          break;
        }
        case Encoding::kI64: {
          auto& v = op.*(slot_array(op.kind, slot)->i64);
          v.resize(size_t(n));
          for (uint64_t k = 0; k < n; ++k) v[size_t(k)] = int64_t(uint64_t(le32(2 * k)) | uint64_t(le32(2 * k + 1)) << 32);
          break;
        }
        case Encoding::kF32: {
          auto& v = op.*(slot_array(op.kind, slot)->f32);
          v.resize(size_t(n));
          for (uint64_t k = 0; k < n; ++k) {
            const uint32_t word = le32(k);
            std::memcpy(&v[size_t(k)], &word, 4);
          }
          break;
        }
        case Encoding::kPackedCodes:
          decode_codes(r, begin, n, bits, field, op.*(slot_array(op.kind, slot)->codes));
          break;
        case Encoding::kNone: break;
      }
    }
  }
}

}  // namespace

Model read_model(const uint8_t* data, size_t size, const std::string& source) {
  if (data == nullptr && size != 0) {
    throw Error(source + ": read_model: null data with size " + std::to_string(size), Status::kBadArgument);
  }
  static const uint8_t empty = 0;
  const FileReader r(data ? data : &empty, size, source);
  Model model;
  read_header(r, model.version);
  const auto sections = read_section_table(r);
  const uint32_t tensor_count = r.u32(kTensorCountAt, "tensor_count");
  const uint32_t op_count = r.u32(kOpCountAt, "op_count");
  read_meta(r, sections[kMeta], model);
  read_tensors(r, sections[kTens], tensor_count, model);
  read_ops(r, sections, op_count, model);
  try {
    validate(model);
  } catch (const Error& e) {
    throw Error(source + ": " + e.what(), e.status());
  }
  return model;
}

Model load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open for reading", Status::kIo);
  in.seekg(0, std::ios::end);
  const std::streamoff length = in.tellg();
  if (length < 0) throw Error(path + ": cannot determine the file size", Status::kIo);
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(length));
  if (length > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), length)) {
    throw Error(path + ": read failed after " + std::to_string(in.gcount()) + " of " +
                std::to_string(length) + " bytes", Status::kIo);
  }
  return read_model(bytes.data(), bytes.size(), path);
}

}  // namespace maqd_rt
