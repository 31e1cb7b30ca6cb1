#include "maqd/data/idx.h"

#include <filesystem>
#include <iomanip>
#include <limits>
#include <sstream>

#include "data/file_bytes.h"
#include "maqd/error.h"

namespace maqd::data {
namespace {

using detail::FileBytes;
using detail::read_be32;

constexpr uint32_t kImagesMagic = 0x00000803;  // uint8, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // uint8, 1 dimension
constexpr int64_t kClasses = 10;

std::string hex32(uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(8) << std::setfill('0') << value;
  return out.str();
}

void check_header(const FileBytes& file, size_t header_bytes, uint32_t magic, const char* what) {
  // The magic first: a file of the wrong kind is a likelier mistake than a
  // short one, and says more.
  const char* path = file.path.c_str();
  if (file.size() >= 4) {
    const uint32_t found = read_be32(file, 0);
    check(found == magic, path, "offset 0: magic ", hex32(found), ", expected ", hex32(magic),
          " (", what, ")");
  }
  check(file.size() >= header_bytes, path, "truncated: expected at least ", header_bytes,
        " bytes (IDX header), found ", file.size());
}

// The payload must end exactly where the header says: a longer file is as
// suspect as a shorter one (a wrong file or a concatenation).
void check_size(const FileBytes& file, uint64_t expected) {
  const uint64_t found = file.size();
  check(found >= expected, file.path.c_str(), "truncated: expected ", expected, " bytes, found ",
        found);
  check(found == expected, file.path.c_str(), "offset ", expected, ": expected end of file, found ",
        found - expected, " more bytes");
}

uint32_t positive_dim(const FileBytes& file, size_t offset, const char* field) {
  const uint32_t value = read_be32(file, offset);
  check(value > 0, file.path.c_str(), "offset ", offset, ": ", field, " 0, expected > 0");
  return value;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  for (const std::string& name : {stem, stem + ".gz"}) {
    const fs::path path = fs::path(dir) / name;
    if (fs::is_regular_file(path)) return path.string();
  }
  throw Error(dir + ": neither " + stem + " nor " + stem + ".gz found");
}

Dataset load_idx_dir(const std::string& dir, bool train, const std::string& kind) {
  const std::string split = train ? "train" : "t10k";
  return load_idx(find_idx_file(dir, split + "-images-idx3-ubyte"),
                  find_idx_file(dir, split + "-labels-idx1-ubyte"),
                  kind + (train ? "/train" : "/test"));
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 const std::string& name) {
  const FileBytes images = detail::read_file_bytes(images_path);
  check_header(images, 16, kImagesMagic, "IDX uint8 3-D images");
  const uint32_t count = positive_dim(images, 4, "image count");
  const uint32_t rows = positive_dim(images, 8, "rows");
  const uint32_t cols = positive_dim(images, 12, "columns");
  // Each factor is < 2^32, so rows * cols fits; the count multiply may not.
  const uint64_t pixels = uint64_t{rows} * cols;
  check(pixels <= (std::numeric_limits<uint64_t>::max() - 16) / count, images_path.c_str(),
        "offset 4: ", count, " images of ", rows, "x", cols, " pixels overflow a 64-bit size");
  check_size(images, 16 + count * pixels);

  const FileBytes labels = detail::read_file_bytes(labels_path);
  check_header(labels, 8, kLabelsMagic, "IDX uint8 1-D labels");
  const uint32_t label_count = read_be32(labels, 4);
  check(label_count == count, labels_path.c_str(), "offset 4: label count ", label_count,
        ", expected ", count, " (the image count of ", images_path, ")");
  check_size(labels, 8 + uint64_t{count});

  Dataset data;
  data.name = name;
  data.num_classes = kClasses;
  // A view of the file's buffer past the header: no copy (see file_bytes.h).
  data.images = images.tensor.narrow(0, 16, static_cast<int64_t>(count * pixels))
                    .view({int64_t{count}, 1, int64_t{rows}, int64_t{cols}});
  data.labels = torch::empty({int64_t{count}}, torch::kInt64);
  int64_t* out = data.labels.data_ptr<int64_t>();
  const uint8_t* label_bytes = labels.data();
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t label = label_bytes[8 + i];
    check(label < kClasses, labels_path.c_str(), "offset ", 8 + i, ": label ", int{label},
          " out of range, expected 0..", kClasses - 1);
    out[i] = label;
  }
  return data;
}

Dataset load_mnist(const std::string& dir, bool train) { return load_idx_dir(dir, train, "mnist"); }

Dataset load_fashion_mnist(const std::string& dir, bool train) {
  return load_idx_dir(dir, train, "fashion-mnist");
}

}  // namespace maqd::data
