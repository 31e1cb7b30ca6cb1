#include "maqd/data/cifar.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include "data/file_bytes.h"
#include "maqd/error.h"

namespace maqd::data {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPixels = 3 * 32 * 32;

// Where the .bin files are: dir itself, or the folder the archive unpacks.
std::string resolve_dir(const std::string& dir, const std::string& probe,
                        const std::string& archive_folder, const char* kind) {
  if (fs::is_regular_file(fs::path(dir) / probe)) return dir;
  const fs::path nested = fs::path(dir) / archive_folder;
  if (fs::is_regular_file(nested / probe)) return nested.string();
  throw Error(dir + ": " + kind + " file " + probe + " not found (looked in " + dir + " and " +
              nested.string() + ")");
}

struct LabelField {
  const char* what;  // "label", "coarse label", "fine label"
  int64_t classes;
};

// Reads and checks every file first, then copies the records into tensors
// allocated once for all files. `fields` are the label bytes that lead each
// record, in file order; `keep` is the one whose value becomes the label.
Dataset read_records(std::string name, int64_t classes, const std::vector<std::string>& paths,
                     const std::vector<LabelField>& fields, size_t keep) {
  const size_t record = fields.size() + kPixels;
  std::vector<detail::FileBytes> files;
  int64_t total = 0;
  for (const std::string& path : paths) {
    files.push_back(detail::read_file_bytes(path));
    const size_t size = files.back().size();
    const uint8_t* bytes = files.back().data();
    check(size > 0, path.c_str(), "empty file, expected records of ", record, " bytes");
    check(size % record == 0, path.c_str(), "offset ", size - size % record,
          ": truncated record: ", size % record, " of ", record, " bytes (", fields.size(),
          " label byte(s) + ", kPixels, " pixels); expected a multiple of ", record,
          " bytes, found ", size);
    for (size_t offset = 0; offset < size; offset += record) {
      for (size_t f = 0; f < fields.size(); ++f) {
        const uint8_t label = bytes[offset + f];
        check(label < fields[f].classes, path.c_str(), "offset ", offset + f, ": ",
              fields[f].what, " ", int{label}, " out of range, expected 0..",
              fields[f].classes - 1);
      }
    }
    total += static_cast<int64_t>(size / record);
  }

  Dataset data;
  data.name = std::move(name);
  data.num_classes = classes;
  data.images = torch::empty({total, 3, 32, 32}, torch::kUInt8);
  data.labels = torch::empty({total}, torch::kInt64);
  uint8_t* pixels = data.images.data_ptr<uint8_t>();
  int64_t* labels = data.labels.data_ptr<int64_t>();
  for (const detail::FileBytes& file : files) {
    const uint8_t* bytes = file.data();
    for (size_t offset = 0; offset < file.size(); offset += record) {
      *labels++ = bytes[offset + keep];
      std::memcpy(pixels, bytes + offset + fields.size(), kPixels);
      pixels += kPixels;
    }
  }
  return data;
}

}  // namespace

Dataset load_cifar10(const std::string& dir, bool train) {
  const std::string probe = train ? "data_batch_1.bin" : "test_batch.bin";
  const fs::path root = resolve_dir(dir, probe, "cifar-10-batches-bin", "CIFAR-10");
  std::vector<std::string> files;
  if (train) {
    for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
  } else {
    files.push_back("test_batch.bin");
  }
  for (std::string& name : files) name = (root / name).string();
  return read_records(train ? "cifar10/train" : "cifar10/test", 10, files, {{"label", 10}}, 0);
}

Dataset load_cifar100(const std::string& dir, bool train, bool coarse) {
  const std::string file = train ? "train.bin" : "test.bin";
  const fs::path root = resolve_dir(dir, file, "cifar-100-binary", "CIFAR-100");
  const std::string kind = coarse ? "cifar100-coarse" : "cifar100";
  return read_records(kind + (train ? "/train" : "/test"), coarse ? 20 : 100,
                      {(root / file).string()}, {{"coarse label", 20}, {"fine label", 100}},
                      coarse ? 0 : 1);
}

}  // namespace maqd::data
