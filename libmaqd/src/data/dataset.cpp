#include "maqd/data/dataset.h"

#include <algorithm>
#include <filesystem>

#include "maqd/data/cifar.h"
#include "maqd/data/idx.h"
#include "maqd/data/image_folder.h"
#include "maqd/error.h"
#include "maqd/text.h"

namespace maqd::data {

Dataset Dataset::head(int64_t n) const {
  check(n >= 0, "Dataset::head", "n ", n, ", expected >= 0");
  return range(0, std::min(n, size()));
}

Dataset Dataset::range(int64_t begin, int64_t end) const {
  check(0 <= begin && begin <= end && end <= size(), "Dataset::range", "samples ", begin, " .. ",
        end, " of ", name, "'s ", size(), ", expected 0 <= begin <= end <= ", size());
  Dataset out = *this;
  out.images = images.narrow(0, begin, end - begin);
  out.labels = labels.narrow(0, begin, end - begin);
  return out;
}

const std::vector<std::string>& dataset_kinds() {
  static const std::vector<std::string> kinds = {"fashion-mnist", "mnist", "cifar10", "cifar100",
                                                 "cifar100-coarse", "folder"};
  return kinds;
}

const std::vector<std::string>& class_names(const std::string& kind) {
  static const std::vector<std::string> none;
  static const std::vector<std::string> fashion_mnist = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  static const std::vector<std::string> cifar10 = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                   "dog",      "frog",       "horse", "ship", "truck"};
  static const std::vector<std::string> cifar100 = {
      "apple",        "aquarium_fish", "baby",      "bear",         "beaver",     "bed",
      "bee",          "beetle",        "bicycle",   "bottle",       "bowl",       "boy",
      "bridge",       "bus",           "butterfly", "camel",        "can",        "castle",
      "caterpillar",  "cattle",        "chair",     "chimpanzee",   "clock",      "cloud",
      "cockroach",    "couch",         "crab",      "crocodile",    "cup",        "dinosaur",
      "dolphin",      "elephant",      "flatfish",  "forest",       "fox",        "girl",
      "hamster",      "house",         "kangaroo",  "keyboard",     "lamp",       "lawn_mower",
      "leopard",      "lion",          "lizard",    "lobster",      "man",        "maple_tree",
      "motorcycle",   "mountain",      "mouse",     "mushroom",     "oak_tree",   "orange",
      "orchid",       "otter",         "palm_tree", "pear",         "pickup_truck", "pine_tree",
      "plain",        "plate",         "poppy",     "porcupine",    "possum",     "rabbit",
      "raccoon",      "ray",           "road",      "rocket",       "rose",       "sea",
      "seal",         "shark",         "shrew",     "skunk",        "skyscraper", "snail",
      "snake",        "spider",        "squirrel",  "streetcar",    "sunflower",  "sweet_pepper",
      "table",        "tank",          "telephone", "television",   "tiger",      "tractor",
      "train",        "trout",         "tulip",     "turtle",       "wardrobe",   "whale",
      "willow_tree",  "wolf",          "woman",     "worm"};
  static const std::vector<std::string> cifar100_coarse = {
      "aquatic_mammals",       "fish",
      "flowers",               "food_containers",
      "fruit_and_vegetables",  "household_electrical_devices",
      "household_furniture",   "insects",
      "large_carnivores",      "large_man-made_outdoor_things",
      "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
      "medium_mammals",        "non-insect_invertebrates",
      "people",                "reptiles",
      "small_mammals",         "trees",
      "vehicles_1",            "vehicles_2"};
  if (kind == "fashion-mnist") return fashion_mnist;
  if (kind == "cifar10") return cifar10;
  if (kind == "cifar100") return cifar100;
  if (kind == "cifar100-coarse") return cifar100_coarse;
  return none;
}

namespace {

Dataset load_known_dataset(const std::string& kind, const std::string& dir, bool train,
                           const LoadOptions& options) {
  if (kind == "fashion-mnist") {
    if (!dir.empty()) return load_fashion_mnist(dir, train);
    check(std::filesystem::is_directory(kDebianFashionMnistDir), "load_dataset",
          "fashion-mnist: the default folder ", kDebianFashionMnistDir,
          " is absent; install Debian's dataset-fashion-mnist or give the folder of the IDX files");
    return load_fashion_mnist(kDebianFashionMnistDir, train);
  }
  const bool known = std::count(dataset_kinds().begin(), dataset_kinds().end(), kind) > 0;
  if (!known) {
    throw Error("load_dataset: kind \"" + kind + "\", expected one of " + join(dataset_kinds(), ", "));
  }
  check(!dir.empty(), "load_dataset", kind, " has no default directory; give the folder of its files (maqd: --data-dir)");
  if (kind == "mnist") return load_mnist(dir, train);
  if (kind == "cifar10") return load_cifar10(dir, train);
  if (kind == "folder") return load_image_folder(dir, train, options);
  return load_cifar100(dir, train, kind == "cifar100-coarse");
}

}  // namespace

Dataset load_dataset(const std::string& kind, const std::string& dir, bool train,
                     const LoadOptions& options) {
  check(options.limit >= 0, "load_dataset", "limit ", options.limit, "; expected 0 (all) or a positive count");
  Dataset data = load_known_dataset(kind, dir, train, options);
  if (data.class_names.empty()) data.class_names = class_names(kind);
  return options.limit > 0 ? data.head(options.limit) : data;
}

std::vector<std::string> label_meanings(const std::vector<std::string>& names, const std::string& kind,
                                        int64_t num_classes) {
  if (!names.empty()) return names;
  if (!class_names(kind).empty()) return class_names(kind);
  std::vector<std::string> labels;
  for (int64_t k = 0; k < num_classes; ++k) labels.push_back(std::to_string(k));
  return labels;
}

std::function<void(int64_t, int64_t)> progress_notes(
    const std::string& what, std::function<void(const std::string&)> note,
    std::chrono::milliseconds interval) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last = Clock::now();
  return [what, note = std::move(note), interval, last](int64_t read, int64_t total) mutable {
    const Clock::time_point now = Clock::now();
    if (now - last < interval) return;
    last = now;
    note("reading " + what + ": " + std::to_string(read) + " of " + std::to_string(total) + " images (" +
         std::to_string(100 * read / std::max<int64_t>(total, 1)) + "%)");
  };
}

}  // namespace maqd::data
