#include "maqd/data/cifar.h"

#include <cstring>
#include <filesystem>

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

// Appends the records of one file: `fields` are the label bytes that lead
// each record, in file order; `keep` is the one whose value becomes the label.
void read_records(const std::string& path, const std::vector<LabelField>& fields, size_t keep,
                  std::vector<uint8_t>& pixels, std::vector<int64_t>& labels) {
  const detail::FileBytes file = detail::read_file_bytes(path);
  const size_t record = fields.size() + kPixels;
  const size_t size = file.bytes.size();
  check(size > 0, path.c_str(), "empty file, expected records of ", record, " bytes");
  check(size % record == 0, path.c_str(), "offset ", size - size % record, ": truncated record: ",
        size % record, " of ", record, " bytes (", fields.size(), " label byte(s) + ", kPixels,
        " pixels); expected a multiple of ", record, " bytes, found ", size);
  const size_t count = size / record;
  const size_t first = labels.size();
  pixels.resize((first + count) * kPixels);
  labels.resize(first + count);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* rec = file.bytes.data() + i * record;
    for (size_t f = 0; f < fields.size(); ++f) {
      check(rec[f] < fields[f].classes, path.c_str(), "offset ", i * record + f, ": ",
            fields[f].what, " ", int{rec[f]}, " out of range, expected 0..",
            fields[f].classes - 1);
    }
    labels[first + i] = rec[keep];
    std::memcpy(pixels.data() + (first + i) * kPixels, rec + fields.size(), kPixels);
  }
}

Dataset to_dataset(std::string name, int64_t classes, const std::vector<uint8_t>& pixels,
                   const std::vector<int64_t>& labels) {
  Dataset data;
  data.name = std::move(name);
  data.num_classes = classes;
  const int64_t n = static_cast<int64_t>(labels.size());
  data.images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  std::memcpy(data.images.data_ptr<uint8_t>(), pixels.data(), pixels.size());
  data.labels = torch::empty({n}, torch::kInt64);
  std::memcpy(data.labels.data_ptr<int64_t>(), labels.data(), labels.size() * sizeof(int64_t));
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
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const std::string& name : files) {
    read_records((root / name).string(), {{"label", 10}}, 0, pixels, labels);
  }
  return to_dataset(train ? "cifar10/train" : "cifar10/test", 10, pixels, labels);
}

Dataset load_cifar100(const std::string& dir, bool train, bool coarse) {
  const std::string file = train ? "train.bin" : "test.bin";
  const fs::path root = resolve_dir(dir, file, "cifar-100-binary", "CIFAR-100");
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  read_records((root / file).string(), {{"coarse label", 20}, {"fine label", 100}}, coarse ? 0 : 1,
               pixels, labels);
  const std::string kind = coarse ? "cifar100-coarse" : "cifar100";
  return to_dataset(kind + (train ? "/train" : "/test"), coarse ? 20 : 100, pixels, labels);
}

}  // namespace maqd::data
