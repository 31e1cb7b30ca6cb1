// The hosted reader of .maqd files: the core's ModelView checks the bytes
// (runtime/core/src/model_view.cpp, the one place that reads the format)
// and the core's check_graph its graph, then this copies the view into a
// Model for the engine. Errors become maqd_rt::Error naming the source.
#include "maqd_rt/format.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "maqd_rt/core/graph.h"
#include "maqd_rt/error.hpp"
#include "file_bytes.h"
#include "format_layout.h"
#include "op_arrays.h"

namespace maqd_rt {

namespace {

// Every array of the record, element by element from the view (each was
// checked to lie inside DATA, so each copy is bounded by the file's size).
void copy_arrays(const ModelView& view, const OpRecord& record, Op& op) {
  op.name.assign(reinterpret_cast<const char*>(view.data() + record.name.at), size_t(record.name.count));
  const OpArrays& arrays = op_arrays(op.kind);
  for (size_t slot = 0; slot < arrays.count; ++slot) {
    const OpArray& array = arrays.arrays[slot];
    const ArrayRef ref = record.arrays[slot];
    const size_t n = size_t(ref.count);
    auto fill = [n](auto& values, auto element) {
      values.resize(n);
      for (size_t k = 0; k < n; ++k) values[k] = element(k);
    };
    switch (array.type) {
      case ArrayType::kI32: fill(op.*(array.i32), [&](size_t k) { return view.i32(ref, k); }); break;
      case ArrayType::kI64: fill(op.*(array.i64), [&](size_t k) { return view.i64(ref, k); }); break;
      case ArrayType::kF32: fill(op.*(array.f32), [&](size_t k) { return view.f32(ref, k); }); break;
      case ArrayType::kCodes:
        fill(op.*(array.codes), [&](size_t k) { return view.code(ref, record.weight_bits, k); });
        break;
    }
  }
}

}  // namespace

Model read_model(const uint8_t* data, size_t size, const std::string& source) {
  ModelView view;
  Diagnostic diagnostic;
  if (!view.open(data, size, &diagnostic)) {
    throw Error(source + ": " + (diagnostic.status == Status::kBadArgument ? "read_model: " : "") +
                    diagnostic.message,
                diagnostic.status);
  }
  // The graph's rules on the bytes, before anything is copied out of them.
  std::vector<ValueRange> ranges(view.tensor_count());  // bounded: 16 bytes of the file each
  if (!check_graph(view, ranges.data(), &diagnostic))
    throw Error(source + ": " + diagnostic.message, diagnostic.status);
  Model model;
  model.version = view.version();
  view.for_each_meta([&](const MetaEntry& e) {
    std::string key(e.key, e.key_length);
    if (e.is_integer) model.integers.emplace_hint(model.integers.end(), std::move(key), e.value);
    else model.text.emplace_hint(model.text.end(), std::move(key), std::string(e.text, e.text_length));
  });
  model.tensors.resize(view.tensor_count());  // bounded: 16 bytes of the file each
  for (uint32_t t = 0; t < view.tensor_count(); ++t) {
    const TensorRecord r = view.tensor(t);
    model.tensors[t] = TensorDesc{r.dtype, r.height, r.width, r.channels};
  }
  model.ops.resize(view.op_count());  // bounded: 128 bytes of the file each
  for (uint32_t i = 0; i < view.op_count(); ++i) {
    const OpRecord r = view.op(i);
    Op& op = model.ops[i];
    op.kind = r.kind;
    op.weight_bits = r.weight_bits;
    op.output = r.output;
    op.inputs.assign(r.inputs, r.inputs + r.input_count);
    op.kernel = r.kernel;
    op.levels = r.levels;
    copy_arrays(view, r, op);
  }
  return model;
}

Model load_model(const std::string& path) {
  const FileBytes bytes(path);
  return read_model(bytes.data(), bytes.size(), path);
}

bool starts_like_a_model(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;  // a pipe's bytes would be spent
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  uint8_t magic[sizeof format::kMagic];
  return file && std::fread(magic, 1, sizeof magic, file.get()) == sizeof magic &&
         std::memcmp(magic, format::kMagic, sizeof magic) == 0;
}

FileBytes::FileBytes(const std::string& path) {
  // Read in pieces rather than measured by seeking: a pipe (/dev/stdin,
  // <(…)) cannot seek, and a folder opens but measures as 2^63 bytes.
  // ferror tells a failed read (a folder's EISDIR) from the end. No further
  // than one byte past the header's file_size, so /dev/zero or an endless
  // pipe stops at once and the core names the mismatch.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    const int error = errno;
    throw Error(path + ": cannot open for reading (" + std::strerror(error) + ")", Status::kIo);
  }
  constexpr size_t kPiece = size_t(1) << 20;
  uint64_t wanted = kPiece;  // until the header says
  bool header_read = false;
  for (;;) {
    const size_t piece = size_t(std::min<uint64_t>(kPiece, wanted - size_));
    words_.resize((size_ + piece + 7) / 8);
    const size_t got = std::fread(reinterpret_cast<char*>(words_.data()) + size_, 1, piece, file.get());
    size_ += got;
    if (!header_read && size_ >= format::kFileSizeAt + 8) {
      header_read = true;
      uint64_t file_size = 0;  // u64 little-endian, as the core reads it
      for (size_t b = 0; b < 8; ++b) file_size |= uint64_t(data()[format::kFileSizeAt + b]) << (8 * b);
      wanted = std::max<uint64_t>(size_, std::min<uint64_t>(file_size, uint64_t(1) << 40) + 1);
    }
    if (got < piece || size_ >= wanted) break;
  }
  if (std::ferror(file.get())) {
    const int error = errno;
    throw Error(path + ": read failed after " + std::to_string(size_) + " bytes (" + std::strerror(error) + ")",
                Status::kIo);
  }
  words_.resize((size_ + 7) / 8);
  words_.shrink_to_fit();
}

}  // namespace maqd_rt
