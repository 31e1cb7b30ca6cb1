#include "maqd/data/loader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "maqd/error.h"

namespace maqd::data {

// ---------------------------------------------------------------- Prefetcher
//
// Workers claim indices in increasing order, never more than `depth` past the
// one the consumer waits for, so at most `depth` results exist at a time.
// Because claims are ordered, when make(j) fails every i < j is already
// claimed and will still arrive: the consumer sees results 0..j-1, then j's
// exception, exactly as a serial loop would.

struct Prefetcher::State {
  int64_t count = 0;
  int64_t depth = 1;
  MakeFn make;

  std::mutex mutex;
  std::condition_variable work_cv;   // a worker may claim, or must stop
  std::condition_variable ready_cv;  // a result or an error arrived
  int64_t next_claim = 0;
  int64_t next_take = 0;
  std::map<int64_t, Batch> ready;
  int64_t error_index = std::numeric_limits<int64_t>::max();
  std::exception_ptr error;
  bool stop = false;  // set by the destructor or the first error
  std::vector<std::thread> threads;

  void work() {
    for (;;) {
      int64_t index = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        work_cv.wait(lock, [&] {
          return stop || next_claim >= count || next_claim < next_take + depth;
        });
        if (stop || next_claim >= count) return;
        index = next_claim++;
      }
      try {
        Batch batch = make(index);
        std::lock_guard<std::mutex> lock(mutex);
        ready.emplace(index, std::move(batch));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (index < error_index) {
          error_index = index;
          error = std::current_exception();
        }
        stop = true;
        work_cv.notify_all();
      }
      ready_cv.notify_one();
    }
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    work_cv.notify_all();
    for (std::thread& t : threads) {
      if (t.joinable()) t.join();
    }
  }
};

Prefetcher::Prefetcher(int64_t count, MakeFn make, int64_t workers, int64_t depth)
    : state_(std::make_unique<State>()) {
  check(count >= 0, "Prefetcher", "count ", count, ", expected >= 0");
  check(workers >= 1, "Prefetcher", "workers ", workers, ", expected >= 1");
  check(depth >= 1, "Prefetcher", "depth ", depth, ", expected >= 1");
  check(bool(make), "Prefetcher", "make: expected a function");
  state_->count = count;
  state_->depth = depth;
  state_->make = std::move(make);
  const int64_t threads = std::min(workers, count);
  try {
    for (int64_t i = 0; i < threads; ++i) state_->threads.emplace_back([s = state_.get()] { s->work(); });
  } catch (...) {
    state_->shutdown();
    throw;
  }
}

Prefetcher::~Prefetcher() { state_->shutdown(); }

std::optional<Batch> Prefetcher::next() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.next_take >= s.count) return std::nullopt;
  s.ready_cv.wait(lock, [&] { return s.ready.count(s.next_take) > 0 || s.error_index <= s.next_take; });
  auto it = s.ready.find(s.next_take);
  if (it == s.ready.end()) std::rethrow_exception(s.error);
  Batch batch = std::move(it->second);
  s.ready.erase(it);
  ++s.next_take;
  lock.unlock();
  s.work_cv.notify_all();
  return batch;
}

// --------------------------------------------------------------- BatchLoader
namespace {

// splitmix64's finalizer: decorrelates nearby (seed, epoch, batch) triples
// before they seed a generator.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t stream_seed(uint64_t seed, int64_t epoch, uint64_t stream) {
  return mix64(mix64(mix64(seed) ^ static_cast<uint64_t>(epoch)) ^ stream);
}

// The shuffle's stream; batch b uses stream b.
constexpr uint64_t kOrderStream = std::numeric_limits<uint64_t>::max();

// Uniform in 0..n-1 by rejection. std::uniform_int_distribution and
// std::shuffle differ between standard libraries; mt19937_64's output does
// not, so with these two a seed means the same run everywhere.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         std::numeric_limits<uint64_t>::max() % n;
  uint64_t r = rng();
  while (r >= limit) r = rng();
  return r % n;
}

struct Plan {
  Dataset data;
  ChannelStats stats;
  LoaderOptions options;
  int64_t epoch = 0;
  std::vector<int64_t> order;

  Batch make(int64_t b) const {
    const int64_t batch_begin = b * options.batch_size;
    const int64_t batch_end = std::min<int64_t>(batch_begin + options.batch_size, order.size());
    const auto [first, last] =
        shard_range(batch_end - batch_begin, options.shard_index, options.shard_count);
    const std::vector<int64_t> indices(order.begin() + batch_begin + first,
                                       order.begin() + batch_begin + last);
    Batch batch;
    if (options.augment) {
      const AugmentOptions& a = options.augment_options;
      std::mt19937_64 rng(stream_seed(options.seed, epoch, static_cast<uint64_t>(b)));
      // Drawn for the whole batch, so that each image's crop and flip do
      // not depend on how the batch is sharded.
      std::vector<AugmentParams> params(size_t(batch_end - batch_begin));
      for (AugmentParams& p : params) {
        p.dy = a.crop ? static_cast<int64_t>(uniform_below(rng, 2 * a.pad + 1)) : a.pad;
        p.dx = a.crop ? static_cast<int64_t>(uniform_below(rng, 2 * a.pad + 1)) : a.pad;
        p.flip = a.flip && (rng() >> 63) != 0;
      }
      params = std::vector<AugmentParams>(params.begin() + first, params.begin() + last);
      batch.images = gather_normalize(data.images, indices, stats, &params, a.pad);
    } else {
      batch.images = gather_normalize(data.images, indices, stats);
    }
    batch.labels = torch::empty({int64_t(indices.size())}, torch::kInt64);
    const int64_t* labels = data.labels.data_ptr<int64_t>();
    int64_t* out = batch.labels.data_ptr<int64_t>();
    for (size_t i = 0; i < indices.size(); ++i) out[i] = labels[indices[i]];
    return batch;
  }
};

}  // namespace

std::pair<int64_t, int64_t> shard_range(int64_t batch_size, int64_t index, int64_t count) {
  return {batch_size * index / count, batch_size * (index + 1) / count};
}

BatchLoader::BatchLoader(Dataset data, ChannelStats stats, LoaderOptions options, int64_t epoch) {
  constexpr const char* kWhere = "BatchLoader";
  check(options.shard_count >= 1 && options.shard_index >= 0 &&
            options.shard_index < options.shard_count,
        kWhere, "shard ", options.shard_index, " of ", options.shard_count,
        ", expected 0 <= shard_index < shard_count");
  check(options.batch_size >= 1, kWhere, "batch_size ", options.batch_size, ", expected >= 1");
  check(options.workers >= 1, kWhere, "workers ", options.workers, ", expected >= 1");
  check(options.prefetch >= 1, kWhere, "prefetch ", options.prefetch, ", expected >= 1");
  check(options.augment_options.pad >= 0, kWhere, "augment pad ", options.augment_options.pad,
        ", expected >= 0");
  // An empty gather checks the images tensor and the stats now, not in a worker.
  gather_normalize(data.images, {}, stats);
  const int64_t n = data.size();
  check(data.labels.defined() && data.labels.scalar_type() == torch::kInt64 &&
            data.labels.dim() == 1 && data.labels.size(0) == n && data.labels.is_contiguous(),
        kWhere, "dataset ", data.name, " labels: expected a contiguous int64 [", n, "] tensor");

  auto plan = std::make_shared<Plan>();
  plan->data = std::move(data);
  plan->stats = std::move(stats);
  plan->options = options;
  plan->epoch = epoch;
  plan->order.resize(n);
  for (int64_t i = 0; i < n; ++i) plan->order[i] = i;
  if (options.shuffle) {
    std::mt19937_64 rng(stream_seed(options.seed, epoch, kOrderStream));
    for (int64_t i = n - 1; i > 0; --i) {
      std::swap(plan->order[i], plan->order[uniform_below(rng, static_cast<uint64_t>(i) + 1)]);
    }
  }
  num_batches_ = options.drop_last ? n / options.batch_size
                                   : (n + options.batch_size - 1) / options.batch_size;
  prefetcher_ = std::make_unique<Prefetcher>(
      num_batches_, [plan](int64_t b) { return plan->make(b); }, options.workers,
      options.prefetch);
}

std::optional<Batch> BatchLoader::next() { return prefetcher_->next(); }

}  // namespace maqd::data
