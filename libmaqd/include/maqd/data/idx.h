// Readers of the IDX format of MNIST and Fashion-MNIST: big-endian u32 magic
// (0x00000803 for uint8 3-D images, 0x00000801 for uint8 1-D labels), u32
// dimensions, then the payload. Files may be raw or gzip (recognised by the
// bytes 1f 8b, not by the name); error offsets count decompressed bytes.
#pragma once

#include <string>

#include "maqd/data/dataset.h"

namespace maqd::data {

// Where Debian's dataset-fashion-mnist package installs the four .gz files.
inline constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads an images/labels pair into images [N, 1, rows, cols] and 10 classes.
// Throws maqd::Error naming the file, the offset, what was expected and found.
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 const std::string& name);

// Looks in dir for {train,t10k}-{images-idx3,labels-idx1}-ubyte, raw first,
// then with ".gz". Named "mnist/train" etc.
Dataset load_mnist(const std::string& dir, bool train);
Dataset load_fashion_mnist(const std::string& dir = kDebianFashionMnistDir, bool train = true);

}  // namespace maqd::data
