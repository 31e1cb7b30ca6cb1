// One epoch of batches, prepared on background threads so the training step
// never waits for data. Every random choice (order, crops, flips) derives
// from (seed, epoch, batch index) alone, so a run replays exactly whatever
// the number of workers or the thread timing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <torch/types.h>

#include "maqd/data/dataset.h"
#include "maqd/data/transforms.h"

namespace maqd::data {

struct Batch {
  torch::Tensor images;  // float [B, C, H, W], normalized
  torch::Tensor labels;  // int64 [B]
};

struct LoaderOptions {
  int64_t batch_size = 100;
  bool shuffle = true;     // false for evaluation: dataset order
  bool drop_last = false;  // drop a last batch smaller than batch_size
  bool augment = false;    // random crop/flip per augment_options
  AugmentOptions augment_options;
  int64_t workers = 1;     // background threads, >= 1
  int64_t prefetch = 4;    // batches prepared ahead of the consumer, >= 1
  uint64_t seed = 0;
  // Data-parallel training: every batch is split into shard_count
  // contiguous parts and this loader yields part shard_index only; the
  // order and the augmentation stay those of the whole batch, so the shards
  // of all ranks together are exactly one process's batch.
  int64_t shard_index = 0;
  int64_t shard_count = 1;
};

// The images [begin, end) of a batch of `batch_size` that shard `index` of
// `count` takes.
std::pair<int64_t, int64_t> shard_range(int64_t batch_size, int64_t index, int64_t count);

// Runs make(0) .. make(count - 1) on `workers` threads, at most `depth`
// indices ahead of the consumer, and returns the results in index order.
// An exception thrown by make(i) is re-thrown by the next() that would have
// returned result i. Destroying it mid-way stops and joins the threads.
// next() is for one consumer thread.
class Prefetcher {
 public:
  using MakeFn = std::function<Batch(int64_t index)>;
  Prefetcher(int64_t count, MakeFn make, int64_t workers, int64_t depth);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  std::optional<Batch> next();  // std::nullopt after the last result

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class BatchLoader {
 public:
  // Validates the options and the stats against the data (maqd::Error), then
  // starts the workers. `data` shares its tensors; nothing is copied.
  BatchLoader(Dataset data, ChannelStats stats, LoaderOptions options, int64_t epoch);

  std::optional<Batch> next();  // std::nullopt at the end of the epoch
  int64_t num_batches() const { return num_batches_; }

 private:
  int64_t num_batches_ = 0;
  std::unique_ptr<Prefetcher> prefetcher_;
};

}  // namespace maqd::data
