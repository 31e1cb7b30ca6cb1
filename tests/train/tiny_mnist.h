// A tiny MNIST-format data set written by a test: 10 classes of 8×8 images,
// class k a bright square at a k-dependent place plus noise, so a tiny
// network learns something within an epoch or two.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "data/fixtures.h"

namespace maqd_test {

inline void write_tiny_mnist(const TempDir& dir, uint64_t seed, uint32_t train_count = 96,
                             uint32_t test_count = 40) {
  std::mt19937 rng{uint32_t(seed)};
  std::uniform_int_distribution<int> noise(0, 60);
  auto make = [&](uint32_t count, const std::string& prefix) {
    Bytes pixels, labels;
    for (uint32_t i = 0; i < count; ++i) {
      const int label = int(i % 10);
      labels.push_back(uint8_t(label));
      for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x) {
          const bool on = (y / 3 == label / 3) && (x / 3 == label % 3);
          pixels.push_back(uint8_t(noise(rng) + (on ? 180 : 0)));
        }
    }
    write_file(dir.file(prefix + "-images-idx3-ubyte"), idx_images(count, 8, 8, pixels));
    write_file(dir.file(prefix + "-labels-idx1-ubyte"), idx_labels(count, labels));
  };
  make(train_count, "train");
  make(test_count, "t10k");
}

}  // namespace maqd_test
