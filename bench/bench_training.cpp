// Training throughput of maqd against a plain PyTorch script of the same
// network and step (bench/peer_training.py on Debian's python3-torch), for
// the float network and MaQD networks, timed in alternating rounds of one
// run so that load from elsewhere on the machine hits every contender alike.
//
// maqd's step is maqd::train::train_step, exactly what `maqd train` runs
// (forward, loss of Eq. 9, backward, SGD update). The peer runs as a child
// process that times its own steps when told to (no start-up or pipe time is
// counted). Batches are Fashion-MNIST training images prepared before timing.
//
//   build/bin/bench_training [--threads 2] [--width 0.25] [--batch 100]
//       [--configs float,15:8,3:4,3:2] [--rounds 5] [--steps 10]
//       (a config ending in /bf16, e.g. float/bf16 or 15:8/bf16, trains with
//        --precision bf16, and the peer casts its convs to bfloat16 likewise)
//       [--peer bench/peer_training.py | --peer none] [--data-dir DIR]
//       [--beside-busy]   (alone and beside a CPU-bound process instead of the peer)
//
// MAQD_ISA=avx2 (or scalar) pins maqd's fused kernels, oneDNN and ATen to
// that ISA, in this process and in the peer (kernel_isa.h), so one AVX-512
// machine measures an AVX2 machine's path. The output names the CPU, the
// ISA every fused kernel ran, and, per config, the median images/s with the
// range over rounds, maqd / peer, and maqd's step time over its float step.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "maqd/data/dataset.h"
#include "maqd/data/loader.h"
#include "maqd/error.h"
#include "maqd/line_process.h"
#include "maqd/ops/code_conv.h"
#include "maqd/ops/kernel_isa.h"
#include "maqd/process.h"
#include "maqd/train/core_share.h"
#include "maqd/train/trainer.h"
#include "step_profile.h"

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif

namespace {

using Clock = std::chrono::steady_clock;
using maqd::train::TrainConfig;

struct Config {
  std::string name;  // "float" or "(M_w, M_a)"
  std::string key;   // the peer's name for it
  int64_t mw = 0, ma = 0;
  std::string precision = "float32";
};

struct Contender {
  Config config;
  TrainConfig train;
  maqd::Network network{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer;
  std::vector<double> maqd_ips, peer_ips;  // one entry per round
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// "median [min-max]".
std::string range_text(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  char text[64];
  std::snprintf(text, sizeof text, "%7.1f [%.0f-%.0f]", median(v), *lo, *hi);
  return std::string(text);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::vector<Config> parse_configs(const std::string& text) {
  std::vector<Config> configs;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    Config c;
    const std::string bf16_suffix = "/bf16";
    const bool bf16 = item.size() > bf16_suffix.size() &&
                      item.compare(item.size() - bf16_suffix.size(), bf16_suffix.size(), bf16_suffix) == 0;
    if (bf16) item.resize(item.size() - bf16_suffix.size());
    if (item == "float") {
      c.name = c.key = "float";
    } else {
      const size_t colon = item.find(':');
      maqd::check(colon != std::string::npos, "bench_training",
                  "--configs entry '", item, "' is not 'float' or 'MW:MA' (e.g. 15:8), each "
                  "optionally followed by /bf16");
      c.mw = std::stoll(item.substr(0, colon));
      c.ma = std::stoll(item.substr(colon + 1));
      c.name = "(" + std::to_string(c.mw) + ", " + std::to_string(c.ma) + ")";
      c.key = "q" + std::to_string(c.mw) + "_" + std::to_string(c.ma);
    }
    if (bf16) {
      c.precision = "bf16";
      c.name += " bf16";
      c.key += "_bf16";
    }
    configs.push_back(c);
  }
  maqd::check(!configs.empty() && configs[0].key == "float", "bench_training",
              "--configs must start with 'float' (the ratios are taken against its float32 step)");
  return configs;
}

// One profiled pass of `steps` steps per contender: ms per step by category.
void print_profile(std::vector<Contender>& contenders, const std::vector<maqd::data::Batch>& batches,
                   int steps) {
  std::vector<maqd_bench::StepProfile> columns;
  // The profiler's first use in a process is slow (its callbacks are set up
  // then): one discarded step keeps that out of the first column.
  {
    Contender& c = contenders.front();
    const maqd::data::Batch& b = batches.front();
    maqd_bench::profile_steps(1, [&] {
      maqd::train::train_step(c.network, *c.optimizer, b.images, b.labels,
                              maqd::train::loss_options(c.train));
    });
  }
  for (Contender& c : contenders) {
    const maqd::LossOptions loss = maqd::train::loss_options(c.train);
    int s = 0;
    columns.push_back(maqd_bench::profile_steps(steps, [&] {
      const maqd::data::Batch& b = batches[s++ % batches.size()];
      maqd::train::train_step(c.network, *c.optimizer, b.images, b.labels, loss);
    }));
  }
  std::printf("\nmaqd's step by category, ms per step (%d profiled steps; the profiler adds "
              "a few us per op)\n%-24s", steps, "category");
  for (const Contender& c : contenders) std::printf("  %10s", c.config.name.c_str());
  std::printf("\n");
  const auto& names = maqd_bench::profile_categories();
  std::vector<double> totals(contenders.size(), 0.0);
  for (size_t k = 0; k < names.size(); ++k) {
    std::printf("%-24s", names[k].c_str());
    for (size_t i = 0; i < columns.size(); ++i) {
      std::printf("  %10.1f", columns[i].ms[k]);
      totals[i] += columns[i].ms[k];
    }
    std::printf("\n");
  }
  std::printf("%-24s", "total");
  for (double t : totals) std::printf("  %10.1f", t);
  std::printf("\n\nthe largest ops of each category in the last config (%s), self ms per step:\n",
              contenders.back().config.name.c_str());
  for (const std::string& name : names) {
    const auto& ops = columns.back().ops.at(name);
    if (ops.empty()) continue;
    std::printf("  %s:", name.c_str());
    for (size_t i = 0; i < ops.size() && i < 4; ++i)
      std::printf(" %s %.1f;", ops[i].second.c_str(), ops[i].first);
    std::printf("\n");
  }
}

// A CPU-bound process (one thread spinning), as another user's job would be.
struct BusyProcess {
  pid_t pid;
  BusyProcess() : pid(fork()) {
    maqd::check(pid >= 0, "bench_training", "fork() failed for the busy process");
    if (pid == 0) {
      volatile uint64_t spin = 0;
      for (;;) spin = spin + 1;
    }
  }
  ~BusyProcess() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

// Images/s of `steps` steps after `warm_seconds` of untimed ones; `cores`
// (if any) adjusts the thread count between steps as `maqd train` does.
double timed_steps(Contender& c, const std::vector<maqd::data::Batch>& batches, int steps,
                   double warm_seconds, maqd::train::CoreShare* cores) {
  const maqd::LossOptions loss = maqd::train::loss_options(c.train);
  size_t next = 0;
  auto step = [&] {
    if (cores) cores->update();
    const maqd::data::Batch& b = batches[next++ % batches.size()];
    maqd::train::train_step(c.network, *c.optimizer, b.images, b.labels, loss);
    return b.labels.size(0);
  };
  const auto warm_start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - warm_start).count() < warm_seconds) step();
  int64_t images = 0;
  const auto start = Clock::now();
  for (int s = 0; s < steps; ++s) images += step();
  return double(images) / std::chrono::duration<double>(Clock::now() - start).count();
}

// Issue 15's shared-core benchmark: each config alone and beside one
// CPU-bound process, with the thread count fixed (OpenMP's threads spin
// for a descheduled peer) and following the free cores (train/core_share.h,
// what `maqd train` does), alternating within each round.
void run_beside_busy(std::vector<Contender>& contenders,
                     const std::vector<maqd::data::Batch>& batches, int rounds, int steps,
                     int threads) {
  struct Cell {
    std::vector<double> alone, beside;
  };
  const char* modes[] = {"fixed threads", "follows free cores"};
  std::vector<std::array<Cell, 2>> cells(contenders.size());
  for (int round = 0; round < rounds; ++round)
    for (size_t i = 0; i < contenders.size(); ++i)
      for (int mode = 0; mode < 2; ++mode) {
        Contender& c = contenders[i];
        torch::set_num_threads(threads);
        std::unique_ptr<maqd::train::CoreShare> cores;
        if (mode == 1) cores = std::make_unique<maqd::train::CoreShare>(threads);
        const double alone = timed_steps(c, batches, steps, 1.5, cores.get());
        const int threads_alone = torch::get_num_threads();
        double beside = 0;
        int threads_beside = 0;
        {
          BusyProcess busy;
          beside = timed_steps(c, batches, steps, 2.5, cores.get());
          threads_beside = torch::get_num_threads();
        }
        cells[i][mode].alone.push_back(alone);
        cells[i][mode].beside.push_back(beside);
        std::printf("  round %d  %-10s %-19s alone %7.1f images/s (%d threads)   beside a busy "
                    "process %7.1f images/s (%d threads)   %.2fx\n",
                    round + 1, c.config.name.c_str(), modes[mode], alone, threads_alone, beside,
                    threads_beside, beside / alone);
        std::fflush(stdout);
      }
  torch::set_num_threads(threads);
  std::printf("\nimages/s, median [min-max] of %d rounds; ratio = median beside / median alone\n",
              rounds);
  std::printf("%-10s  %-19s  %-22s  %-22s  %s\n", "config", "threads", "alone", "beside busy",
              "ratio");
  for (size_t i = 0; i < contenders.size(); ++i)
    for (int mode = 0; mode < 2; ++mode) {
      const Cell& cell = cells[i][mode];
      std::printf("%-10s  %-19s  %-22s  %-22s  %.2fx\n", contenders[i].config.name.c_str(),
                  modes[mode], range_text(cell.alone).c_str(), range_text(cell.beside).c_str(),
                  median(cell.beside) / median(cell.alone));
    }
}

int run(int argc, char** argv) {
  TrainConfig base;
  base.arch = "vgg";
  base.width = 0.25;
  int threads = 2, rounds = 5, steps = 10;
  std::string configs_text = "float,15:8,3:4,3:2";
  std::string peer_script = std::string(MAQD_SOURCE_DIR) + "/bench/peer_training.py";
  std::string python = "/usr/bin/python3";
  bool profile = false;
  CLI::App app{"Training images/s of maqd against a plain PyTorch script, float and MaQD"};
  app.add_option("--threads", threads, "threads of maqd and of the peer")->capture_default_str();
  app.add_option("--width", base.width, "VGG width multiplier")->capture_default_str();
  app.add_option("--batch", base.batch_size, "batch size")->capture_default_str();
  app.add_option("--configs", configs_text, "float first, then MW:MA pairs")->capture_default_str();
  app.add_option("--rounds", rounds, "alternating timing rounds")->capture_default_str();
  app.add_option("--steps", steps, "steps per contender per round")->capture_default_str();
  app.add_option("--peer", peer_script, "the PyTorch script, or 'none'")->capture_default_str();
  app.add_option("--python", python, "the Python with Debian's torch")->capture_default_str();
  app.add_option("--data-dir", base.data_dir, "Fashion-MNIST folder (default: Debian's)");
  app.add_flag("--profile", profile,
               "after the rounds, where maqd's step time goes (LibTorch's profiler), per config");
  bool beside_busy = false;
  app.add_flag("--beside-busy", beside_busy,
               "instead of the peer: maqd alone and beside one CPU-bound process, threads fixed "
               "and following the free cores (issue 15); e.g. --configs float,3:4");
  CLI11_PARSE(app, argc, argv);
  maqd::check(rounds > 0 && steps > 0, "bench_training", "--rounds and --steps must be > 0");
  maqd::check(threads > 0, "bench_training", "--threads must be > 0");

  const std::string cap = maqd::cap_libtorch_isa_from_environment();
  maqd::tune_allocator_for_training();
  torch::set_num_threads(threads);
  const std::vector<Config> configs = parse_configs(configs_text);

  const maqd::data::Dataset train_set =
      maqd::data::load_dataset(base.dataset, base.data_dir, true).head(base.batch_size * steps);
  const maqd::data::ChannelStats stats = maqd::data::compute_channel_stats(train_set);
  maqd::data::LoaderOptions lo;
  lo.batch_size = base.batch_size;
  lo.shuffle = true;
  std::vector<maqd::data::Batch> batches;
  maqd::data::BatchLoader loader(train_set, stats, lo, 1);
  while (auto b = loader.next()) batches.push_back(*b);

  std::unique_ptr<maqd::LineProcess> peer;
  if (peer_script != "none" && !beside_busy) {
    maqd::check(access(peer_script.c_str(), R_OK) == 0, "bench_training", "--peer ", peer_script,
                " cannot be read; expected bench/peer_training.py or 'none'");
    std::vector<std::string> args{"--threads", std::to_string(threads), "--width",
                                  std::to_string(base.width), "--batch",
                                  std::to_string(base.batch_size), "--batches", std::to_string(steps)};
    if (!base.data_dir.empty()) args.insert(args.end(), {"--data-dir", base.data_dir});
    std::vector<std::string> argv{python, peer_script};
    argv.insert(argv.end(), args.begin(), args.end());
    // The peer gets maqd's allocator settings: with glibc's defaults its
    // step was slower and varied from run to run (glibc adapts its mmap
    // threshold to the order of frees; docs/results/issue13/peer-malloc-avx2.txt).
    peer = std::make_unique<maqd::LineProcess>(
        argv, "bench_training: the peer (bench/peer_training.py)",
        std::vector<std::pair<std::string, std::string>>{
            {"MALLOC_MMAP_THRESHOLD_", std::to_string(maqd::kMallocMmapThreshold)},
            {"MALLOC_TRIM_THRESHOLD_", std::to_string(maqd::kMallocTrimThreshold)}});
  }

  std::vector<Contender> contenders;
  for (const Config& config : configs) {
    Contender c;
    c.config = config;
    c.train = base;
    c.train.mw = config.mw;
    c.train.ma = config.ma;
    c.train.precision = config.precision;
    torch::manual_seed(0);
    c.network = maqd::Network(maqd::train::network_options(
        c.train, train_set.channels(), train_set.height(), train_set.width(), train_set.num_classes));
    c.network->train();
    maqd::train::check_precision_runs_here(c.train);
    if (config.precision == "bf16") c.network->set_conv_compute_dtype(torch::kBFloat16);
    c.optimizer =
        std::make_unique<torch::optim::SGD>(maqd::train::make_optimizer(c.network, c.train));
    // Warm-up: first touch of every buffer, oneDNN's primitive caches.
    for (int i = 0; i < 3; ++i)
      maqd::train::train_step(c.network, *c.optimizer, batches[i % batches.size()].images,
                              batches[i % batches.size()].labels, maqd::train::loss_options(c.train));
    if (peer) {
      const std::string answer = peer->ask("setup " + config.key + " " + std::to_string(config.mw) +
                                           " " + std::to_string(config.ma) + " " + config.precision);
      maqd::check(answer == "ready", "bench_training", "the peer answered '", answer,
                  "' to setup; expected 'ready'");
    }
    contenders.push_back(std::move(c));
  }

  std::printf("CPU: %s; %d threads; VGG width %g, batch %lld; %d rounds of %d steps\n",
              cpu_model().c_str(), threads, base.width, static_cast<long long>(base.batch_size),
              rounds, steps);
  std::printf("ISA cap: %s\n", cap.empty() ? "none (MAQD_ISA unset)" : cap.c_str());
  std::printf("maqd's fused kernels ran on %d threads:", maqd::training_kernel_threads());
  for (const auto& [kernel, isa] : maqd::kernel_isas_used())
    std::printf(" %s=%s;", kernel.c_str(), maqd::to_string(isa));
  std::printf("\nforward convs on codes (oneDNN):");
  const std::vector<std::string> code_convs = maqd::code_conv_kernels_used();
  if (code_convs.empty()) std::printf(" none (float convs; MAQD_CODE_CONV=0 or no oneDNN)");
  for (const std::string& kernel : code_convs) std::printf(" %s;", kernel.c_str());
  std::printf("\npeer: %s\n",
              peer ? (python + " " + peer_script +
                      " (with maqd's malloc thresholds: MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)")
                         .c_str()
                   : "none");

  if (beside_busy) {
    run_beside_busy(contenders, batches, rounds, steps, threads);
    return 0;
  }
  for (int round = 0; round < rounds; ++round) {
    for (Contender& c : contenders) {
      const maqd::LossOptions loss = maqd::train::loss_options(c.train);
      int64_t images = 0;
      const auto start = Clock::now();
      for (int s = 0; s < steps; ++s) {
        const maqd::data::Batch& b = batches[s % batches.size()];
        maqd::train::train_step(c.network, *c.optimizer, b.images, b.labels, loss);
        images += b.labels.size(0);
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      c.maqd_ips.push_back(double(images) / seconds);
      std::printf("  round %d  %-14s maqd %8.1f images/s", round + 1, c.config.name.c_str(),
                  c.maqd_ips.back());
      if (peer) {
        const std::string answer = peer->ask("time " + c.config.key + " " + std::to_string(steps));
        std::istringstream in(answer);
        std::string key;
        double ips = 0;
        maqd::check(bool(in >> key >> ips) && key == c.config.key, "bench_training",
                    "the peer answered '", answer, "'; expected '", c.config.key, " IMAGES/S'");
        c.peer_ips.push_back(ips);
        std::printf("   peer %8.1f images/s", ips);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }

  auto range = range_text;
  std::printf("\nimages/s, median [min-max] of %d rounds\n", rounds);
  std::printf("%-14s  %-22s  %-22s  %-10s  %s\n", "config", "maqd", "peer (PyTorch)",
              "maqd/peer", "maqd step / maqd float step");
  const double float_ips = median(contenders[0].maqd_ips);
  for (const Contender& c : contenders) {
    const double ips = median(c.maqd_ips);
    std::printf("%-14s  %-22s  %-22s  %-10s  %.2fx\n", c.config.name.c_str(),
                range(c.maqd_ips).c_str(), peer ? range(c.peer_ips).c_str() : "-",
                peer ? (std::to_string(ips / median(c.peer_ips)).substr(0, 4) + "x").c_str() : "-",
                float_ips / ips);
  }
  if (profile) print_profile(contenders, batches, steps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that dies must not kill this process with SIGPIPE: the next
  // answer's read reports it.
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_training: %s\n", e.what());
    return 1;
  }
}
