// Readers of the CIFAR binary versions. Each record is the label byte(s) then
// 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, rows top to bottom, which
// is already the [3, 32, 32] layout we keep. dir may be the folder holding the
// .bin files or its parent (where the archive unpacks cifar-10-batches-bin/
// or cifar-100-binary/). Throws maqd::Error naming the file and offset.
#pragma once

#include <string>

#include "maqd/data/dataset.h"

namespace maqd::data {

// Train: data_batch_1.bin .. data_batch_5.bin (50000); test: test_batch.bin.
// Records: label (0..9), pixels.
Dataset load_cifar10(const std::string& dir, bool train);

// train.bin / test.bin. Records: coarse label (0..19), fine label (0..99),
// pixels. Both labels are checked; `coarse` picks which one is kept.
Dataset load_cifar100(const std::string& dir, bool train, bool coarse = false);

}  // namespace maqd::data
