// BatchLoader and Prefetcher: determinism, coverage, ordering, bounded
// prefetch, error propagation and shutdown mid-epoch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "common/seed.h"
#include "maqd/data/loader.h"
#include "maqd/error.h"

namespace {

using maqd::data::Batch;
using maqd::data::BatchLoader;
using maqd::data::ChannelStats;
using maqd::data::Dataset;
using maqd::data::LoaderOptions;
using maqd::data::Prefetcher;

// Sample k has label k (so each batch names its samples) and random pixels.
Dataset numbered_dataset(uint64_t seed, int64_t n, int64_t c = 3, int64_t h = 8, int64_t w = 8) {
  std::mt19937_64 rng(seed);
  Dataset data;
  data.name = "numbered";
  data.num_classes = n;
  data.images = torch::empty({n, c, h, w}, torch::kUInt8);
  uint8_t* p = data.images.data_ptr<uint8_t>();
  for (int64_t i = 0; i < data.images.numel(); ++i) p[i] = static_cast<uint8_t>(rng() & 255);
  data.labels = torch::arange(n, torch::kInt64);
  return data;
}

const ChannelStats kStats{{0.5, 0.4, 0.3}, {0.25, 0.2, 0.3}};

std::vector<Batch> drain(BatchLoader& loader) {
  std::vector<Batch> out;
  while (auto batch = loader.next()) out.push_back(std::move(*batch));
  EXPECT_FALSE(loader.next().has_value());
  return out;
}

std::vector<int64_t> order_of(const std::vector<Batch>& batches) {
  std::vector<int64_t> order;
  for (const Batch& b : batches) {
    const int64_t* l = b.labels.data_ptr<int64_t>();
    order.insert(order.end(), l, l + b.labels.numel());
  }
  return order;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].images, b[i].images)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].labels, b[i].labels)) << "batch " << i;
  }
}

TEST(BatchLoader, EverySampleOncePerEpoch) {
  MAQD_SEEDED(seed);
  const Dataset data = numbered_dataset(seed, 103);
  LoaderOptions options;
  options.batch_size = 10;
  options.seed = seed;
  BatchLoader loader(data, kStats, options, 0);
  EXPECT_EQ(loader.num_batches(), 11);
  const std::vector<Batch> batches = drain(loader);
  ASSERT_EQ(batches.size(), 11u);
  EXPECT_EQ(batches.back().labels.numel(), 3);
  std::vector<int64_t> order = order_of(batches);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t k = 0; k < 103; ++k) ASSERT_EQ(sorted[k], k);
  EXPECT_NE(order, sorted) << "the training order should be shuffled";
  // Without augmentation each image is the normalized image of its sample.
  const torch::Tensor all = maqd::data::normalize(data.images, kStats);
  for (const Batch& b : batches) {
    ASSERT_EQ(b.images.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(b.images, all.index_select(0, b.labels)));
  }
}

TEST(BatchLoader, DropLast) {
  MAQD_SEEDED(seed);
  LoaderOptions options;
  options.batch_size = 10;
  options.drop_last = true;
  options.seed = seed;
  BatchLoader loader(numbered_dataset(seed, 103), kStats, options, 0);
  EXPECT_EQ(loader.num_batches(), 10);
  const std::vector<Batch> batches = drain(loader);
  ASSERT_EQ(batches.size(), 10u);
  for (const Batch& b : batches) EXPECT_EQ(b.labels.numel(), 10);
  std::vector<int64_t> order = order_of(batches);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(std::unique(order.begin(), order.end()), order.end());
}

TEST(BatchLoader, EvalKeepsDatasetOrder) {
  LoaderOptions options;
  options.batch_size = 4;
  options.shuffle = false;
  BatchLoader loader(numbered_dataset(1, 10), kStats, options, 3);
  const std::vector<int64_t> order = order_of(drain(loader));
  std::vector<int64_t> expected(10);
  for (int64_t k = 0; k < 10; ++k) expected[k] = k;
  EXPECT_EQ(order, expected);
}

TEST(BatchLoader, SameSeedSameBatchesWhateverTheWorkers) {
  MAQD_SEEDED(seed);
  const Dataset data = numbered_dataset(seed, 250);
  LoaderOptions options;
  options.batch_size = 16;
  options.augment = true;
  options.seed = seed;
  options.workers = 1;
  BatchLoader one(data, kStats, options, 5);
  const std::vector<Batch> a = drain(one);
  BatchLoader again(data, kStats, options, 5);
  expect_same(a, drain(again));
  options.workers = 2;
  options.prefetch = 3;
  BatchLoader two(data, kStats, options, 5);
  expect_same(a, drain(two));
  options.workers = 4;
  options.prefetch = 1;
  BatchLoader four(data, kStats, options, 5);
  expect_same(a, drain(four));
}

// Data-parallel ranks: the shards of each batch, put back together in rank
// order, are the unsharded batch, augmentation included; the last batch
// (250 = 15·16 + 10) splits unevenly.
TEST(BatchLoader, ShardsTogetherAreTheWholeBatch) {
  MAQD_SEEDED(seed);
  const Dataset data = numbered_dataset(seed, 250);
  LoaderOptions options;
  options.batch_size = 16;
  options.augment = true;
  options.seed = seed;
  BatchLoader whole(data, kStats, options, 3);
  const std::vector<Batch> expected = drain(whole);
  for (int64_t count : {2, 3}) {
    std::vector<std::vector<Batch>> shards;
    for (int64_t index = 0; index < count; ++index) {
      options.shard_index = index;
      options.shard_count = count;
      BatchLoader part(data, kStats, options, 3);
      shards.push_back(drain(part));
      ASSERT_EQ(shards.back().size(), expected.size());
    }
    for (size_t b = 0; b < expected.size(); ++b) {
      std::vector<torch::Tensor> images, labels;
      for (const auto& shard : shards) {
        images.push_back(shard[b].images);
        labels.push_back(shard[b].labels);
      }
      EXPECT_TRUE(torch::equal(torch::cat(images), expected[b].images)) << count << " shards, batch " << b;
      EXPECT_TRUE(torch::equal(torch::cat(labels), expected[b].labels)) << count << " shards, batch " << b;
    }
    EXPECT_EQ(shards[0].back().labels.numel(), 10 / count);
  }
  options.shard_index = 2;
  options.shard_count = 2;
  EXPECT_THROW(BatchLoader(data, kStats, options, 0), maqd::Error);
}

TEST(BatchLoader, EpochAndSeedChangeTheRun) {
  MAQD_SEEDED(seed);
  const Dataset data = numbered_dataset(seed, 64);
  LoaderOptions options;
  options.batch_size = 8;
  options.augment = true;
  options.seed = seed;
  BatchLoader e0(data, kStats, options, 0), e1(data, kStats, options, 1);
  const std::vector<Batch> a = drain(e0), b = drain(e1);
  EXPECT_NE(order_of(a), order_of(b));
  options.seed = seed + 1;
  BatchLoader other_seed(data, kStats, options, 0);
  EXPECT_NE(order_of(a), order_of(drain(other_seed)));
}

TEST(BatchLoader, AugmentationChangesImagesButNotLabels) {
  MAQD_SEEDED(seed);
  const Dataset data = numbered_dataset(seed, 64);
  LoaderOptions options;
  options.batch_size = 64;
  options.seed = seed;
  BatchLoader plain(data, kStats, options, 0);
  options.augment = true;
  BatchLoader augmented(data, kStats, options, 0);
  const std::vector<Batch> a = drain(plain), b = drain(augmented);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(torch::equal(a[0].labels, b[0].labels));
  EXPECT_FALSE(torch::equal(a[0].images, b[0].images));
  // With crop and flip off, augmentation is the identity.
  options.augment_options.crop = false;
  options.augment_options.flip = false;
  BatchLoader identity(data, kStats, options, 0);
  expect_same(a, drain(identity));
}

TEST(BatchLoader, RejectsBadOptionsAtConstruction) {
  const Dataset data = numbered_dataset(1, 10);
  LoaderOptions options;
  options.batch_size = 0;
  EXPECT_THROW(BatchLoader(data, kStats, options, 0), maqd::Error);
  options = LoaderOptions{};
  options.workers = 0;
  EXPECT_THROW(BatchLoader(data, kStats, options, 0), maqd::Error);
  EXPECT_THROW(BatchLoader(data, ChannelStats{{0.5}, {0.5}}, LoaderOptions{}, 0), maqd::Error);
}

TEST(BatchLoader, EmptyDataset) {
  BatchLoader loader(numbered_dataset(1, 0), kStats, LoaderOptions{}, 0);
  EXPECT_EQ(loader.num_batches(), 0);
  EXPECT_FALSE(loader.next().has_value());
}

TEST(BatchLoader, DestroyedMidEpoch) {
  const Dataset data = numbered_dataset(1, 2000, 3, 32, 32);
  LoaderOptions options;
  options.batch_size = 10;
  options.augment = true;
  options.workers = 2;
  options.prefetch = 2;
  for (int taken = 0; taken < 3; ++taken) {
    BatchLoader loader(data, kStats, options, 0);
    for (int i = 0; i < taken; ++i) ASSERT_TRUE(loader.next().has_value());
  }  // each destructor must stop and join its workers
}

Batch tagged(int64_t i) {
  Batch b;
  b.labels = torch::full({1}, i, torch::kInt64);
  return b;
}

TEST(Prefetcher, ResultsInOrderWhateverTheTiming) {
  MAQD_SEEDED(seed);
  std::vector<int> delays_us(40);
  std::mt19937_64 rng(seed);
  for (int& d : delays_us) d = static_cast<int>(rng() % 2000);
  Prefetcher prefetcher(
      40,
      [&](int64_t i) {
        std::this_thread::sleep_for(std::chrono::microseconds(delays_us[i]));
        return tagged(i);
      },
      4, 6);
  for (int64_t i = 0; i < 40; ++i) {
    auto b = prefetcher.next();
    ASSERT_TRUE(b.has_value());
    ASSERT_EQ(b->labels.item<int64_t>(), i);
  }
  EXPECT_FALSE(prefetcher.next().has_value());
}

// Waits (up to 10 s, for loaded machines) until `made` reaches `target`,
// then a little longer to catch any overshoot.
int settle(const std::atomic<int>& made, int target) {
  for (int i = 0; i < 1000 && made.load() < target; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  return made.load();
}

TEST(Prefetcher, BoundedAhead) {
  std::atomic<int> made{0};
  Prefetcher prefetcher(
      100, [&](int64_t i) { ++made; return tagged(i); }, 4, 3);
  EXPECT_EQ(settle(made, 3), 3);
  ASSERT_TRUE(prefetcher.next().has_value());
  EXPECT_EQ(settle(made, 4), 4);
}

TEST(Prefetcher, RethrowsWorkerErrorsInOrder) {
  Prefetcher prefetcher(
      20,
      [](int64_t i) -> Batch {
        if (i == 5) throw maqd::Error("make: batch 5 failed");
        // Later batches finish first: the error must still come after 0..4.
        std::this_thread::sleep_for(std::chrono::microseconds(i < 5 ? 3000 : 0));
        return tagged(i);
      },
      3, 8);
  for (int64_t i = 0; i < 5; ++i) {
    auto b = prefetcher.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->labels.item<int64_t>(), i);
  }
  try {
    prefetcher.next();
    ADD_FAILURE() << "no error";
  } catch (const maqd::Error& e) {
    EXPECT_STREQ(e.what(), "make: batch 5 failed");
  }
  EXPECT_THROW(prefetcher.next(), maqd::Error);
}

TEST(Prefetcher, DestroyedWhileWorking) {
  std::atomic<int> made{0};
  {
    Prefetcher prefetcher(
        1000,
        [&](int64_t i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          ++made;
          return tagged(i);
        },
        2, 4);
    prefetcher.next();
  }
  EXPECT_LE(made.load(), 1 + 4 + 2);
}

}  // namespace
