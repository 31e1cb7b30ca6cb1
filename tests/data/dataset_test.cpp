// Dataset helpers, load_dataset dispatch, and the real Debian Fashion-MNIST.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "data/fixtures.h"
#include "maqd/data/dataset.h"
#include "maqd/data/idx.h"
#include "maqd/data/transforms.h"
#include "maqd/error.h"

namespace {

using maqd::data::Dataset;
using ::testing::HasSubstr;

TEST(Dataset, Head) {
  Dataset data;
  data.name = "d";
  data.num_classes = 10;
  data.images = torch::arange(5 * 4, torch::kUInt8).reshape({5, 1, 2, 2});
  data.labels = torch::arange(5, torch::kInt64);
  const Dataset two = data.head(2);
  EXPECT_EQ(two.size(), 2);
  EXPECT_EQ(two.num_classes, 10);
  EXPECT_TRUE(torch::equal(two.images, data.images.narrow(0, 0, 2)));
  EXPECT_TRUE(torch::equal(two.labels, torch::arange(2, torch::kInt64)));
  EXPECT_TRUE(two.images.is_contiguous());
  EXPECT_EQ(data.head(99).size(), 5);
  EXPECT_EQ(data.head(0).size(), 0);
  EXPECT_THROW(data.head(-1), maqd::Error);
  // range: a data-parallel rank's share of the test set.
  const Dataset middle = data.range(1, 4);
  EXPECT_TRUE(torch::equal(middle.labels, torch::arange(1, 4, torch::kInt64)));
  EXPECT_TRUE(torch::equal(middle.images, data.images.narrow(0, 1, 3)));
  EXPECT_EQ(data.range(5, 5).size(), 0);
  EXPECT_THROW(data.range(3, 2), maqd::Error);
  EXPECT_THROW(data.range(0, 6), maqd::Error);
  EXPECT_THROW(data.range(-1, 2), maqd::Error);
}

TEST(LoadDataset, UnknownKindListsTheKnownOnes) {
  try {
    maqd::data::load_dataset("imagenet", "/nowhere", true);
    ADD_FAILURE() << "no error";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("\"imagenet\""));
    EXPECT_THAT(e.what(), HasSubstr("fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse"));
  }
  EXPECT_THROW(maqd::data::load_dataset("cifar10", "", true), maqd::Error);
}

TEST(LoadDataset, Dispatches) {
  maqd_test::TempDir dir;
  maqd_test::write_file(dir.file("t10k-images-idx3-ubyte"),
                        maqd_test::idx_images(1, 2, 2, {1, 2, 3, 4}));
  maqd_test::write_file(dir.file("t10k-labels-idx1-ubyte"), maqd_test::idx_labels(1, {8}));
  EXPECT_EQ(maqd::data::load_dataset("mnist", dir.str(), false).name, "mnist/test");
  maqd_test::write_file(dir.file("test.bin"), maqd_test::cifar_records(0, {{2, 30}}));
  EXPECT_EQ(maqd::data::load_dataset("cifar100", dir.str(), false).labels[0].item<int64_t>(), 30);
  EXPECT_EQ(maqd::data::load_dataset("cifar100-coarse", dir.str(), false).labels[0].item<int64_t>(), 2);
  maqd_test::write_file(dir.file("test_batch.bin"), maqd_test::cifar_records(0, {{6}}));
  EXPECT_EQ(maqd::data::load_dataset("cifar10", dir.str(), false).labels[0].item<int64_t>(), 6);
  // A limit gives the first N of a built-in set too.
  maqd_test::write_file(dir.file("test_batch.bin"), maqd_test::cifar_records(0, {{6}, {2}, {9}}));
  maqd::data::LoadOptions two;
  two.limit = 2;
  const maqd::data::Dataset first_two = maqd::data::load_dataset("cifar10", dir.str(), false, two);
  ASSERT_EQ(first_two.size(), 2);
  EXPECT_EQ(first_two.labels[1].item<int64_t>(), 2);
}

// What labels stand for: the names given, else the kind's, else the labels.
TEST(LabelMeanings, NamesThenTheKindsThenTheLabelsThemselves) {
  using maqd::data::label_meanings;
  EXPECT_EQ(label_meanings({"cat", "dog"}, "fashion-mnist", 2), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(label_meanings({}, "fashion-mnist", 10), maqd::data::class_names("fashion-mnist"));
  EXPECT_EQ(label_meanings({}, "mnist", 3), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_NE(label_meanings({}, "mnist", 10), label_meanings({}, "fashion-mnist", 10));
}

// The published figures for Fashion-MNIST: 60000 + 10000 images of 28x28,
// 6000 / 1000 per class, training pixel mean 0.2860 and std 0.3530.
// One name per class of each kind that has names; CIFAR-100's meta files
// list both sets alphabetically, so that order is the label order.
TEST(ClassNames, OnePerClassInTheDistributionsOrder) {
  using maqd::data::class_names;
  EXPECT_EQ(class_names("fashion-mnist").size(), 10u);
  EXPECT_EQ(class_names("fashion-mnist")[9], "Ankle boot");
  EXPECT_EQ(class_names("cifar10").size(), 10u);
  EXPECT_EQ(class_names("cifar10")[0], "airplane");
  EXPECT_EQ(class_names("cifar100").size(), 100u);
  EXPECT_EQ(class_names("cifar100-coarse").size(), 20u);
  for (const char* kind : {"cifar100", "cifar100-coarse"}) {
    const std::vector<std::string>& names = class_names(kind);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << kind;
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << kind;
  }
  EXPECT_TRUE(class_names("mnist").empty());
  EXPECT_TRUE(class_names("nonsense").empty());
}

TEST(DebianFashionMnist, LoadsWithTheDefaultDirectory) {
  if (!std::filesystem::is_directory(maqd::data::kDebianFashionMnistDir)) {
    GTEST_SKIP() << maqd::data::kDebianFashionMnistDir << " is absent (Debian package dataset-fashion-mnist)";
  }
  const Dataset train = maqd::data::load_dataset("fashion-mnist", "", true);
  const Dataset test = maqd::data::load_dataset("fashion-mnist", "", false);
  EXPECT_EQ(train.name, "fashion-mnist/train");
  ASSERT_EQ(train.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  ASSERT_EQ(test.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_TRUE(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kInt64)));
  EXPECT_TRUE(torch::equal(torch::bincount(test.labels), torch::full({10}, 1000, torch::kInt64)));
  const maqd::data::ChannelStats stats = maqd::data::compute_channel_stats(train);
  EXPECT_NEAR(stats.mean[0], 0.2860, 5e-4);
  EXPECT_NEAR(stats.std[0], 0.3530, 5e-4);
}

}  // namespace
