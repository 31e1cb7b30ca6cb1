#include "maqd/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>

#include "maqd/error.h"
#include "maqd/text.h"
#include "maqd/data/image_file.h"

namespace maqd::data {
namespace {

namespace fs = std::filesystem;

// The folders (class folders) or the files (a class's images) of `dir`,
// names only, in byte order, skipping hidden entries (".DS_Store", editors'
// files), which no user means as data, and other files beside the class
// folders (a README, labels.csv). A folder inside a class folder and an
// image beside the class folders are refused: skipped, they would be left
// out of the data without a word.
std::vector<std::string> sorted_entries(const fs::path& dir, bool folders) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (entry.is_directory() == folders) {
      names.push_back(name);
      continue;
    }
    check(folders, entry.path().string().c_str(),
          "a folder inside a class folder; expected the class's images directly in it (sub-folders are not read)");
    check(!is_image_file_name(name), entry.path().string().c_str(),
          "an image beside the class folders; expected it inside the folder of its class");
  }
  std::sort(names.begin(), names.end());
  return names;
}

fs::path split_folder(const std::string& dir, const char* split) {
  const fs::path path = fs::path(dir) / split;
  check(fs::is_directory(path), path.string().c_str(),
        "no such folder; expected DIR/train/CLASS/IMAGE and DIR/test/CLASS/IMAGE (", image_file_extensions(), ") "
        "under the --data-dir of a folder data set, or DIR/CLASS/IMAGE with --test-split F to hold out a fraction F "
        "of each class");
  return path;
}

// With a test split: whether the class's `index`-th file (by name) is a
// test image; evenly spaced, the last of every 1/split files.
bool in_test_split(size_t index, double split) {
  return std::floor(double(index + 1) * split) > std::floor(double(index) * split);
}

}  // namespace

std::string folder_part_name(const std::string& dir, bool train, double test_split) {
  if (test_split > 0) return dir + (train ? " (training part)" : " (test part)");
  return (fs::path(dir) / (train ? "train" : "test")).string();
}

Dataset load_image_folder(const std::string& dir, bool train, const LoadOptions& options) {
  const double split = options.test_split;
  const std::optional<ImageResize> resize =
      options.resize.empty() ? std::nullopt
                             : std::optional<ImageResize>(parse_resize(options.resize, "load_dataset: resize"));
  check(split == 0 || (split > 0 && split < 1), "load_dataset", "test split ", split,
        "; expected 0 (DIR/train and DIR/test) or a fraction between 0 and 1");
  check(options.limit >= 0, "load_dataset", "limit ", options.limit, "; expected 0 (all) or a positive count");
  // Without a split the classes are DIR/train's folders, for the test set
  // too; with one, DIR's own. A trained network's classes, where given,
  // come first.
  const fs::path root = split > 0 ? fs::path(dir) : split_folder(dir, train ? "train" : "test");
  if (split > 0) {
    check(fs::is_directory(root), root.string().c_str(),
          "no such folder; expected DIR/CLASS/IMAGE (", image_file_extensions(), ") under the --data-dir of a folder "
          "set with --test-split");
    check(!fs::is_directory(root / "train"), (root / "train").string().c_str(),
          "a train/ folder beside --test-split; expected DIR/CLASS/ folders only (leave out --test-split "
          "to use DIR/train and DIR/test as they are)");
  }
  const bool given = !options.classes.empty();
  const fs::path class_root = split > 0 || given ? root : split_folder(dir, "train");
  const std::vector<std::string> classes = given ? options.classes : sorted_entries(class_root, true);
  check(classes.size() >= 2, given ? "load_dataset" : class_root.string().c_str(), classes.size(),
        given ? " classes given" : " class folder(s)", "; expected at least 2, one per class");
  const std::string class_list = join(classes, ", ");

  // Every class's files, listed and checked by name before any is read.
  std::vector<std::vector<std::string>> files(classes.size());
  for (const std::string& folder : sorted_entries(root, true)) {
    const auto found = std::find(classes.begin(), classes.end(), folder);
    check(found != classes.end(), (root / folder).string().c_str(),
          given ? "a class the network was not trained on; expected one of " : "a test class the training set does not have; expected one of ",
          class_list);
    std::vector<std::string>& paths = files[size_t(found - classes.begin())];
    const std::vector<std::string> names = sorted_entries(root / folder, false);
    check(!names.empty(), (root / folder).string().c_str(), "no images in this class folder");
    for (size_t i = 0; i < names.size(); ++i) {
      check(is_image_file_name(names[i]), (root / folder / names[i]).string().c_str(),
            "not an image file this reader takes; expected ", image_file_extensions(),
            " (e.g. `convert IN.gif OUT.png` with ImageMagick)");
      if (split == 0 || in_test_split(i, split) != train)
        paths.push_back((root / folder / names[i]).string());
    }
  }
  size_t listed = 0;
  for (const auto& paths : files) listed += paths.size();
  check(listed > 0 || split == 0, root.string().c_str(), "a test split of ", split,
        " holds no image; expected classes of at least 1/", split, " images each, or a larger --test-split");
  check(listed > 0, root.string().c_str(), "no class folders; expected one folder of images per class");

  // The set is the classes' images taken in turn (round robin), so the
  // first `limit` of it hold `wanted[c]` images of class c: count them
  // without reading, then read only those.
  std::vector<size_t> wanted(classes.size(), 0);
  const size_t total = options.limit > 0 ? std::min(listed, size_t(options.limit)) : listed;
  for (size_t turn = 0, taken = 0; taken < total; ++turn)
    for (size_t label = 0; label < classes.size() && taken < total; ++label)
      if (turn < files[label].size()) ++wanted[label], ++taken;

  // Each class's images, [H][W][C] each.
  std::vector<std::vector<std::vector<uint8_t>>> per_class(classes.size());
  maqd_rt::TensorDesc shape;
  std::string first_image;
  int64_t read = 0;
  for (size_t label = 0; label < classes.size(); ++label)
    for (size_t i = 0; i < wanted[label]; ++i) {
      const std::string& path = files[label][i];
      ImageFile image = read_image_file(path);  // its errors name the file
      if (resize) image = resize_image(image, *resize);
      const maqd_rt::TensorDesc& got = image.shape;
      if (first_image.empty()) {
        shape = got;
        first_image = path;
      }
      // --resize scales sizes but keeps channels: name which differs.
      check(got.channels == shape.channels, path.c_str(), "image has ", got.channels, " channel",
            got.channels == 1 ? "" : "s", " (", got.channels == 1 ? "grey" : "colour", "); expected ",
            shape.channels, " like ", first_image,
            " (every image of a data set has the same channels, with or without --resize: convert them to one)");
      check(got.height == shape.height && got.width == shape.width, path.c_str(), "image is ", got.height, "×",
            got.width, "×", got.channels, "; expected ", shape.height, "×", shape.width, "×", shape.channels,
            " like ", first_image, " (every image of a data set has one size; --resize HxW scales them to one)");
      per_class[label].push_back(std::move(image.pixels));
      if (options.progress) options.progress(++read, int64_t(total));
    }

  // Round robin into one [N][H][W][C] tensor, each image freed once
  // copied, so the set is held about twice at the peak, not three times.
  const int64_t n = int64_t(total);
  torch::Tensor hwc = torch::empty({n, shape.height, shape.width, shape.channels}, torch::kUInt8);
  torch::Tensor labels = torch::empty({n}, torch::kInt64);
  uint8_t* to = hwc.data_ptr<uint8_t>();
  int64_t* label_out = labels.data_ptr<int64_t>();
  const size_t image_bytes = size_t(shape.height) * size_t(shape.width) * size_t(shape.channels);
  for (size_t turn = 0, taken = 0; taken < total; ++turn)
    for (size_t label = 0; label < per_class.size(); ++label) {
      if (turn >= per_class[label].size()) continue;
      std::vector<uint8_t>& image = per_class[label][turn];
      std::copy(image.begin(), image.end(), to + taken * image_bytes);
      std::vector<uint8_t>().swap(image);
      label_out[taken++] = int64_t(label);
    }

  Dataset data;
  data.name = std::string("folder/") + (train ? "train" : "test");
  data.num_classes = int64_t(classes.size());
  data.class_names = classes;
  data.images = hwc.permute({0, 3, 1, 2}).contiguous();
  data.labels = labels;
  return data;
}

}  // namespace maqd::data
