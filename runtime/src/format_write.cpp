// The one writer of .maqd files (docs/format.md; format_read.cpp is the
// reader). Every multi-byte value is written byte by byte, little-endian,
// at the offsets the reader reads (format_layout.h).
#include "maqd_rt/format.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "format_layout.h"
#include "maqd_rt/error.hpp"
#include "op_arrays.h"

namespace maqd_rt {

namespace {

using namespace format;

uint64_t round_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}



class ByteSink {
 public:
  std::vector<uint8_t> bytes;

  void u8(uint8_t v) { bytes.push_back(v); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(uint8_t(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(uint8_t(v >> (8 * i)));
  }
  void i32(int32_t v) { u32(uint32_t(v)); }
  void raw(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes.insert(bytes.end(), p, p + size);
  }
  void align(size_t alignment) { bytes.resize(round_up(bytes.size(), alignment), 0); }
  // Writes `width` little-endian bytes at `at` of bytes already there: the
  // records are written field by field at the offsets the reader reads
  // (format_layout.h), so the layout is stated once.
  void put(size_t at, uint64_t v, int width) {
    for (int i = 0; i < width; ++i) bytes.at(at + size_t(i)) = uint8_t(v >> (8 * i));
  }
  // Appends a zeroed record of `size` bytes and returns its offset.
  size_t record(size_t size) {
    const size_t at = bytes.size();
    bytes.resize(at + size, 0);
    return at;
  }
};

uint32_t length_u32(size_t length, const std::string& what) {
  if (length > std::numeric_limits<uint32_t>::max()) {
    throw Error("write_model: " + what + " is " + std::to_string(length) +
                " bytes; expected at most 2^32−1");
  }
  return uint32_t(length);
}

struct DataRef {
  uint64_t offset = 0, count = 0;
};

// Appends one array to DATA at the next 64-byte boundary.
class DataWriter {
 public:
  ByteSink sink;

  DataRef add(const std::string& s) {
    return add_raw(s.size(), [&] { sink.raw(s.data(), s.size()); });
  }
  DataRef add(const std::vector<int32_t>& v) {
    return add_raw(v.size(), [&] { for (int32_t x : v) sink.i32(x); });
  }
  DataRef add(const std::vector<int64_t>& v) {
    return add_raw(v.size(), [&] { for (int64_t x : v) sink.u64(uint64_t(x)); });
  }
  DataRef add(const std::vector<float>& v) {
    return add_raw(v.size(), [&] {
      for (float x : v) {
        uint32_t bits = 0;
        std::memcpy(&bits, &x, 4);
        sink.u32(bits);
      }
    });
  }
  // Codes as weight_bits-wide two's complement fields, low bits first.
  DataRef add_codes(const std::vector<int8_t>& codes, int bits) {
    return add_raw(codes.size(), [&] {
      const int per_byte = 8 / bits;
      const uint32_t mask = (1u << bits) - 1;
      for (size_t i = 0; i < codes.size(); i += size_t(per_byte)) {
        uint32_t byte = 0;
        for (int k = 0; k < per_byte && i + size_t(k) < codes.size(); ++k) {
          byte |= (uint32_t(uint8_t(codes[i + size_t(k)])) & mask) << (bits * k);
        }
        sink.u8(uint8_t(byte));
      }
    });
  }

 private:
  template <typename Emit>
  DataRef add_raw(size_t count, Emit emit) {
    if (count == 0) return {};
    sink.align(kAlignment);
    const DataRef ref{sink.bytes.size(), count};
    emit();
    return ref;
  }
};

std::vector<uint8_t> encode_meta(const Model& model) {
  ByteSink s;
  s.u32(length_u32(model.text.size(), "the text metadata count"));
  for (const auto& [key, value] : model.text) {
    s.u32(length_u32(key.size(), "text key '" + printable(key) + "'"));
    s.raw(key.data(), key.size());
    s.u32(length_u32(value.size(), "text value of '" + printable(key) + "'"));
    s.raw(value.data(), value.size());
  }
  s.u32(length_u32(model.integers.size(), "the integer metadata count"));
  for (const auto& [key, value] : model.integers) {
    s.u32(length_u32(key.size(), "integer key '" + printable(key) + "'"));
    s.raw(key.data(), key.size());
    s.u64(uint64_t(value));
  }
  return std::move(s.bytes);
}

}  // namespace

std::vector<uint8_t> write_model(const Model& model) {
  validate(model);
  if (model.version != kFormatVersion) {
    throw Error("write_model: model version is " + std::to_string(model.version) +
                "; this writer writes only version " + std::to_string(kFormatVersion));
  }
  const std::vector<uint8_t> meta = encode_meta(model);

  ByteSink tensors;
  for (const TensorDesc& t : model.tensors) {
    const size_t at = tensors.record(kTensorRecordSize);
    tensors.put(at + kTensorDtypeAt, uint8_t(t.dtype), 1);
    tensors.put(at + kTensorHeightAt, uint32_t(t.height), 4);
    tensors.put(at + kTensorWidthAt, uint32_t(t.width), 4);
    tensors.put(at + kTensorChannelsAt, uint32_t(t.channels), 4);
  }

  DataWriter data;
  ByteSink ops;
  for (const Op& op : model.ops) {
    const size_t at = ops.record(kOpRecordSize);
    ops.put(at + kOpKindAt, uint8_t(op.kind), 1);
    ops.put(at + kOpInputCountAt, op.inputs.size(), 1);
    ops.put(at + kOpWeightBitsAt, uint8_t(op.weight_bits), 1);
    ops.put(at + kOpOutputAt, uint32_t(op.output), 4);
    for (size_t j = 0; j < kMaxInputs; ++j)
      ops.put(at + kOpInputsAt + 4 * j, uint32_t(j < op.inputs.size() ? op.inputs[j] : -1), 4);
    ops.put(at + kOpKernelAt, uint32_t(op.kernel), 4);
    ops.put(at + kOpLevelsAt, uint32_t(op.levels), 4);
    std::array<DataRef, kOpRefCount> refs{};
    refs[0] = data.add(op.name);
    const OpArrays& arrays = op_arrays(op.kind);
    for (size_t j = 0; j < arrays.count; ++j) {
      const OpArray& a = arrays.arrays[j];
      switch (a.type) {
        case ArrayType::kI32: refs[j + 1] = data.add(op.*a.i32); break;
        case ArrayType::kI64: refs[j + 1] = data.add(op.*a.i64); break;
        case ArrayType::kF32: refs[j + 1] = data.add(op.*a.f32); break;
        case ArrayType::kCodes: refs[j + 1] = data.add_codes(op.*a.codes, op.weight_bits); break;
      }
    }
    for (size_t slot = 0; slot < kOpRefCount; ++slot) {
      ops.put(at + kOpRefsAt + slot * kRefSize, refs[slot].offset, 8);
      ops.put(at + kOpRefsAt + slot * kRefSize + 8, refs[slot].count, 8);
    }
  }

  // Sections follow the table in order, each at a 64-byte boundary.
  const std::vector<uint8_t>* payloads[kSectionCount] = {&meta, &tensors.bytes, &ops.bytes,
                                                         &data.sink.bytes};
  std::array<Section, kSectionCount> sections;
  uint64_t cursor = kHeaderSize + kSectionCount * kSectionEntrySize;
  for (size_t i = 0; i < kSectionCount; ++i) {
    cursor = round_up(cursor, kAlignment);
    sections[i] = {cursor, payloads[i]->size()};
    cursor += payloads[i]->size();
  }

  ByteSink file;
  file.record(kHeaderSize);
  std::memcpy(file.bytes.data() + kMagicAt, kMagic, sizeof(kMagic));
  file.put(kVersionAt, kFormatVersion, 4);
  file.put(kHeaderSizeAt, kHeaderSize, 4);
  file.put(kFileSizeAt, cursor, 8);
  file.put(kSectionCountAt, kSectionCount, 4);
  file.put(kSectionTableOffsetAt, kHeaderSize, 8);
  file.put(kTensorCountAt, model.tensors.size(), 4);
  file.put(kOpCountAt, model.ops.size(), 4);
  for (size_t i = 0; i < kSectionCount; ++i) {
    const size_t entry = file.record(kSectionEntrySize);
    file.put(entry + kSectionIdAt, kSectionIds[i], 4);
    file.put(entry + kSectionOffsetAt, sections[i].offset, 8);
    file.put(entry + kSectionSizeAt, sections[i].size, 8);
  }
  for (size_t i = 0; i < kSectionCount; ++i) {
    file.bytes.resize(sections[i].offset, 0);
    file.raw(payloads[i]->data(), payloads[i]->size());
  }
  file.put(kChecksumAt, file_checksum(file.bytes.data(), file.bytes.size()), 4);
  return std::move(file.bytes);
}

void save_model(const Model& model, const std::string& path) {
  if (path.empty()) throw Error("save_model: the path is empty; expected a file name", Status::kBadArgument);
  const std::vector<uint8_t> bytes = write_model(model);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw Error(path + ": cannot create " + tmp + " (" + std::strerror(errno) +
                      "); expected a writable, existing folder",
                  Status::kIo);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    out.close();  // a failed close (NFS, a full disk) must not be renamed over the target
    if (!out) {
      const int error = errno;
      std::remove(tmp.c_str());
      throw Error(path + ": cannot write " + std::to_string(bytes.size()) + " bytes (" + std::strerror(error) +
                      "); the file is unchanged",
                  Status::kIo);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(tmp.c_str());
    throw Error(path + ": cannot replace it with the new file (" + std::strerror(error) + "); the file is unchanged",
                Status::kIo);
  }
}

std::string model_c_source(const std::vector<uint8_t>& bytes, const std::string& symbol,
                           const std::string& note) {
  bool identifier = !symbol.empty() && !(symbol[0] >= '0' && symbol[0] <= '9');
  for (char c : symbol)
    identifier = identifier && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_');
  if (!identifier) {
    throw Error("model_c_source: symbol '" + printable(symbol) +
                    "' is not a C identifier; expected letters, digits and _, not starting with a digit",
                Status::kBadArgument);
  }
  // Keywords of C (C89 to C23) and C++ (the file compiles as either), the
  // names they reserve (_x at file scope, x__y: the compiler's and the
  // library's macros such as __cplusplus are among them), the
  // names stddef.h and stdint.h define or reserve (int…_t, INT…_MAX, …),
  // and the file's own macro: any of them would make the file fail to
  // compile, far from this call.
  static const char* const kTaken[] = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
      "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr",
      "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default",
      "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float",
      "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not",
      "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "restrict", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local", "throw", "true",
      "try", "typedef", "typeid", "typename", "typeof", "typeof_unqual", "union", "unsigned", "using", "virtual",
      "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "size_t", "ptrdiff_t", "max_align_t",
      "nullptr_t", "NULL", "offsetof", "main", "MAQD_MODEL_ALIGNED"};
  const auto starts = [&](const char* prefix) { return symbol.rfind(prefix, 0) == 0; };
  const auto ends = [&](const std::string& suffix) {
    return symbol.size() >= suffix.size() && symbol.compare(symbol.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // (A trailing _ would put __ into NAME_size.)
  bool taken = symbol[0] == '_' || symbol.back() == '_' || symbol.find("__") != std::string::npos ||
               ((starts("int") || starts("uint")) && ends("_t"));
  for (const char* prefix : {"INT", "UINT", "PTRDIFF", "SIZE", "WCHAR", "WINT", "SIG_ATOMIC"})
    for (const char* suffix : {"_MAX", "_MIN", "_C", "_WIDTH"})
      taken = taken || (starts(prefix) && ends(suffix));
  for (const char* name : kTaken) taken = taken || symbol == name;
  if (taken) {
    throw Error("model_c_source: symbol '" + symbol +
                    "' is a C or C++ keyword, a name they reserve (_x, x__y, x_, INT…_MAX, int…_t), main or a "
                    "name the file uses; expected another name",
                Status::kBadArgument);
  }
  if (bytes.empty()) {
    throw Error("model_c_source: no bytes; expected a .maqd file (write_model)", Status::kBadArgument);
  }
  // The note goes into a comment: printable, and unable to end it.
  std::string comment = printable(note);
  for (size_t at = comment.find("*/"); at != std::string::npos; at = comment.find("*/", at))
    comment.replace(at, 2, "*\\/");
  std::string out;
  out.reserve(bytes.size() * 6 + 1024);
  out += "/* " + comment + "\n"
         " * A .maqd model file (docs/format.md), " + std::to_string(bytes.size()) + " bytes, as C data:\n"
         " * give " + symbol + " and " + symbol + "_size to the runtime. Aligned to 64 bytes, the\n"
         " * alignment of every array inside the file. */\n"
         "#include <stddef.h>\n#include <stdint.h>\n\n"
         "#if defined(__cplusplus)\n#define MAQD_MODEL_ALIGNED alignas(64)\n"
         "#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n"
         "#define MAQD_MODEL_ALIGNED _Alignas(64)\n"
         "#else\n#define MAQD_MODEL_ALIGNED __attribute__((aligned(64)))\n#endif\n\n"
         "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
         "extern const uint8_t " + symbol + "[" + std::to_string(bytes.size()) + "];\n"
         "extern const size_t " + symbol + "_size;\n"
         "MAQD_MODEL_ALIGNED const uint8_t " + symbol + "[" + std::to_string(bytes.size()) + "] = {\n";
  char hex[8];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(hex, sizeof hex, "0x%02x,", unsigned(bytes[i]));
    out += (i % 16 == 0 ? "  " : " ");
    out += hex;
    if (i % 16 == 15 || i + 1 == bytes.size()) out += "\n";
  }
  out += "};\nconst size_t " + symbol + "_size = " + std::to_string(bytes.size()) + ";\n"
         "#ifdef __cplusplus\n}\n#endif\n";
  return out;
}

}  // namespace maqd_rt
