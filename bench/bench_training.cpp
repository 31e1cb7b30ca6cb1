// Training throughput of a MaQD network against the float network of the
// same architecture: images/s of the exact step `maqd train` runs
// (maqd::train::train_step: forward, loss of Eq. 9, backward, SGD update),
// and their ratio, measured in one process.
//
// Issue 4's target: VGG width ¼, batch 100, 2 threads, MaQD (15, 8) costs at
// most 1.25× the float step. Run:
//   build/bin/bench_training [--threads 2] [--arch vgg] [--width 0.25]
//                            [--batch 100] [--mw 15] [--ma 8] [--rounds 5]
//                            [--steps 10] [--data-dir DIR]
// Batches are Fashion-MNIST training images (Debian's package by default),
// prepared before timing so that only the step is measured. The two networks
// are timed in alternating rounds, so that load from elsewhere on the machine
// hits both alike; the median round of each gives the figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "maqd/data/dataset.h"
#include "maqd/data/loader.h"
#include "maqd/error.h"
#include "maqd/process.h"
#include "maqd/train/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;
using maqd::train::TrainConfig;

struct Contender {
  std::string name;
  TrainConfig config;
  maqd::Network network{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer;
  std::vector<double> images_per_second;  // one entry per round
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run(int argc, char** argv) {
  TrainConfig base;
  base.arch = "vgg";
  base.width = 0.25;
  int threads = 2, rounds = 5, steps = 10;
  int64_t mw = 15, ma = 8;
  CLI::App app{"Training images/s: MaQD network against the float network"};
  app.add_option("--threads", threads, "LibTorch threads")->capture_default_str();
  app.add_option("--arch", base.arch, "architecture (preset or notation)")->capture_default_str();
  app.add_option("--width", base.width, "width multiplier")->capture_default_str();
  app.add_option("--batch", base.batch_size, "batch size")->capture_default_str();
  app.add_option("--mw", mw, "M_w of the MaQD network")->capture_default_str();
  app.add_option("--ma", ma, "M_a of the MaQD network")->capture_default_str();
  app.add_option("--rounds", rounds, "alternating timing rounds")->capture_default_str();
  app.add_option("--steps", steps, "steps per network per round")->capture_default_str();
  app.add_option("--data-dir", base.data_dir, "Fashion-MNIST folder (default: Debian's)");
  CLI11_PARSE(app, argc, argv);
  maqd::check(rounds > 0 && steps > 0, "bench_training", "--rounds and --steps must be > 0");

  maqd::tune_allocator_for_training();
  torch::set_num_threads(threads);

  const maqd::data::Dataset train_set =
      maqd::data::load_dataset(base.dataset, base.data_dir, true).head(base.batch_size * steps);
  const maqd::data::ChannelStats stats = maqd::data::compute_channel_stats(train_set);
  maqd::data::LoaderOptions lo;
  lo.batch_size = base.batch_size;
  lo.shuffle = true;
  std::vector<maqd::data::Batch> batches;
  maqd::data::BatchLoader loader(train_set, stats, lo, 1);
  while (auto b = loader.next()) batches.push_back(*b);

  TrainConfig quantized = base;
  quantized.mw = mw;
  quantized.ma = ma;
  std::vector<Contender> contenders(2);
  contenders[0].name = "float";
  contenders[0].config = base;
  contenders[1].name = "MaQD";
  contenders[1].config = quantized;
  for (Contender& c : contenders) {
    torch::manual_seed(0);
    c.network = maqd::Network(maqd::train::network_options(
        c.config, train_set.channels(), train_set.height(), train_set.width(),
        train_set.num_classes));
    c.network->train();
    c.optimizer = std::make_unique<torch::optim::SGD>(maqd::train::make_optimizer(c.network, c.config));
    // Warm-up: first-touch of every buffer, oneDNN's primitive caches.
    for (int i = 0; i < 3; ++i)
      maqd::train::train_step(c.network, *c.optimizer, batches[i % batches.size()].images,
                              batches[i % batches.size()].labels,
                              maqd::train::loss_options(c.config));
  }

  std::printf("%s width %g, batch %lld, %d threads, %d rounds of %d steps each\n",
              base.arch.c_str(), base.width, static_cast<long long>(base.batch_size), threads,
              rounds, steps);
  for (int round = 0; round < rounds; ++round) {
    for (Contender& c : contenders) {
      const maqd::LossOptions loss = maqd::train::loss_options(c.config);
      int64_t images = 0;
      const auto start = Clock::now();
      for (int s = 0; s < steps; ++s) {
        const maqd::data::Batch& b = batches[s % batches.size()];
        maqd::train::train_step(c.network, *c.optimizer, b.images, b.labels, loss);
        images += b.labels.size(0);
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      c.images_per_second.push_back(double(images) / seconds);
      std::printf("  round %d  %-5s %8.1f images/s\n", round + 1, c.name.c_str(),
                  c.images_per_second.back());
    }
  }
  const double float_ips = median(contenders[0].images_per_second);
  const double maqd_ips = median(contenders[1].images_per_second);
  std::printf("float        %8.1f images/s (median of %d rounds)\n", float_ips, rounds);
  std::printf("MaQD (%lld, %lld) %8.1f images/s\n", static_cast<long long>(mw),
              static_cast<long long>(ma), maqd_ips);
  std::printf("MaQD step / float step: %.2fx (target <= 1.25x)\n", float_ips / maqd_ips);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_training: %s\n", e.what());
    return 1;
  }
}
