#include "maqd/data/dataset.h"

#include <algorithm>
#include <filesystem>

#include "maqd/data/cifar.h"
#include "maqd/data/idx.h"
#include "maqd/error.h"

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
                                                 "cifar100-coarse"};
  return kinds;
}

Dataset load_dataset(const std::string& kind, const std::string& dir, bool train) {
  if (kind == "fashion-mnist") {
    if (!dir.empty()) return load_fashion_mnist(dir, train);
    check(std::filesystem::is_directory(kDebianFashionMnistDir), "load_dataset",
          "fashion-mnist: the default folder ", kDebianFashionMnistDir,
          " is absent; install Debian's dataset-fashion-mnist or give the folder of the IDX files");
    return load_fashion_mnist(kDebianFashionMnistDir, train);
  }
  const bool known = std::count(dataset_kinds().begin(), dataset_kinds().end(), kind) > 0;
  if (!known) {
    std::string list;
    for (const std::string& k : dataset_kinds()) list += (list.empty() ? "" : ", ") + k;
    throw Error("load_dataset: kind \"" + kind + "\", expected one of " + list);
  }
  check(!dir.empty(), "load_dataset", kind, " has no default directory; give the folder of its files (maqd: --data-dir)");
  if (kind == "mnist") return load_mnist(dir, train);
  if (kind == "cifar10") return load_cifar10(dir, train);
  return load_cifar100(dir, train, kind == "cifar100-coarse");
}

}  // namespace maqd::data
