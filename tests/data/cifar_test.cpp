// CIFAR-10 and CIFAR-100 binary readers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "data/fixtures.h"
#include "maqd/data/cifar.h"
#include "maqd/error.h"

namespace {

using maqd::data::Dataset;
using maqd_test::Bytes;
using maqd_test::cifar_records;
using maqd_test::TempDir;
using maqd_test::write_file;
using ::testing::HasSubstr;

template <typename Load>
void expect_error(Load load, const std::vector<std::string>& parts) {
  try {
    load();
    ADD_FAILURE() << "no error";
  } catch (const maqd::Error& e) {
    for (const std::string& part : parts) EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

void expect_pattern(const Dataset& data, int64_t n, int64_t sample) {
  auto px = data.images.accessor<uint8_t, 4>();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 32; ++y)
      for (int64_t x = 0; x < 32; ++x)
        ASSERT_EQ(px[n][c][y][x], maqd_test::pattern(sample, c, y, x))
            << "image " << n << " c " << c << " y " << y << " x " << x;
}

TEST(Cifar10, TrainBatchesConcatenateInOrder) {
  TempDir dir;
  // Sample k of the training set has label k % 10 and pixels pattern(k, ...).
  const int counts[5] = {2, 1, 1, 1, 3};
  int64_t first = 0;
  for (int b = 0; b < 5; ++b) {
    std::vector<Bytes> labels;
    for (int i = 0; i < counts[b]; ++i) labels.push_back({static_cast<uint8_t>((first + i) % 10)});
    write_file(dir.file("data_batch_" + std::to_string(b + 1) + ".bin"), cifar_records(first, labels));
    first += counts[b];
  }
  write_file(dir.file("test_batch.bin"), cifar_records(100, {{9}, {0}}));

  const Dataset train = maqd::data::load_cifar10(dir.str(), true);
  EXPECT_EQ(train.name, "cifar10/train");
  EXPECT_EQ(train.num_classes, 10);
  ASSERT_EQ(train.images.sizes(), (std::vector<int64_t>{8, 3, 32, 32}));
  for (int64_t k = 0; k < 8; ++k) {
    EXPECT_EQ(train.labels[k].item<int64_t>(), k % 10);
    expect_pattern(train, k, k);
  }
  const Dataset test = maqd::data::load_cifar10(dir.str(), false);
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(test.labels[0].item<int64_t>(), 9);
  EXPECT_EQ(test.labels[1].item<int64_t>(), 0);
  expect_pattern(test, 1, 101);
}

TEST(Cifar10, FindsTheArchiveFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("cifar-10-batches-bin"));
  write_file(dir.file("cifar-10-batches-bin/test_batch.bin"), cifar_records(0, {{4}}));
  EXPECT_EQ(maqd::data::load_cifar10(dir.str(), false).labels[0].item<int64_t>(), 4);
  expect_error([&] { maqd::data::load_cifar10(dir.str(), true); },
               {dir.str(), "data_batch_1.bin not found"});
}

TEST(Cifar10, SizeNotAMultipleOfTheRecord) {
  TempDir dir;
  Bytes bytes = cifar_records(0, {{1}});
  bytes.insert(bytes.end(), 10, 0);
  write_file(dir.file("test_batch.bin"), bytes);
  expect_error([&] { maqd::data::load_cifar10(dir.str(), false); },
               {dir.file("test_batch.bin"), "offset 3073: truncated record: 10 of 3073 bytes",
                "expected a multiple of 3073 bytes, found 3083"});
}

TEST(Cifar10, EmptyFile) {
  TempDir dir;
  write_file(dir.file("test_batch.bin"), {});
  expect_error([&] { maqd::data::load_cifar10(dir.str(), false); },
               {dir.file("test_batch.bin"), "empty file"});
}

TEST(Cifar10, LabelOutOfRange) {
  TempDir dir;
  write_file(dir.file("test_batch.bin"), cifar_records(0, {{1}, {10}}));
  expect_error([&] { maqd::data::load_cifar10(dir.str(), false); },
               {dir.file("test_batch.bin") + ": offset 3073: label 10 out of range, expected 0..9"});
}

TEST(Cifar100, FineAndCoarseLabels) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("cifar-100-binary"));
  write_file(dir.file("cifar-100-binary/train.bin"), cifar_records(0, {{19, 99}, {0, 5}, {7, 42}}));
  const Dataset fine = maqd::data::load_cifar100(dir.str(), true);
  EXPECT_EQ(fine.name, "cifar100/train");
  EXPECT_EQ(fine.num_classes, 100);
  ASSERT_EQ(fine.size(), 3);
  EXPECT_EQ(fine.labels[0].item<int64_t>(), 99);
  EXPECT_EQ(fine.labels[1].item<int64_t>(), 5);
  EXPECT_EQ(fine.labels[2].item<int64_t>(), 42);
  expect_pattern(fine, 2, 2);

  const Dataset coarse = maqd::data::load_cifar100(dir.str(), true, true);
  EXPECT_EQ(coarse.name, "cifar100-coarse/train");
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(coarse.labels[0].item<int64_t>(), 19);
  EXPECT_EQ(coarse.labels[2].item<int64_t>(), 7);
  EXPECT_TRUE(torch::equal(coarse.images, fine.images));
}

TEST(Cifar100, BothLabelsAreChecked) {
  TempDir dir;
  write_file(dir.file("test.bin"), cifar_records(0, {{3, 100}}));
  expect_error([&] { maqd::data::load_cifar100(dir.str(), false, true); },
               {dir.file("test.bin") + ": offset 1: fine label 100 out of range, expected 0..99"});
  write_file(dir.file("test.bin"), cifar_records(0, {{3, 4}, {20, 4}}));
  expect_error([&] { maqd::data::load_cifar100(dir.str(), false); },
               {dir.file("test.bin") + ": offset 3074: coarse label 20 out of range, expected 0..19"});
}

TEST(Cifar100, SizeNotAMultipleOfTheRecord) {
  TempDir dir;
  write_file(dir.file("test.bin"), Bytes(3074 + 3000, 1));
  expect_error([&] { maqd::data::load_cifar100(dir.str(), false); },
               {dir.file("test.bin"), "offset 3074: truncated record: 3000 of 3074 bytes"});
}

}  // namespace
