// maqd train: every TrainConfig field as a flag (or a key of the --config
// TOML file; flags win), a live progress bar on a terminal, progress lines
// in a log (every 10 % of an epoch or 30 s), one line per epoch, and Ctrl-C
// saving a checkpoint to --resume from.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>

#include <unistd.h>

#include "commands.h"
#include "maqd/train/trainer.h"
#include "options.h"

namespace maqd::cli {
namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void on_interrupt(int signal_number) {
  g_stop_requested.store(true);
  // A second Ctrl-C ends the process at once; SIGTERM (maqd sweep stopping
  // its runs) always stops at the next batch with a checkpoint.
  if (signal_number == SIGINT) std::signal(SIGINT, SIG_DFL);
}

std::string format_duration(double seconds) {
  const long s = long(seconds + 0.5);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

void print_bar(const train::StepProgress& p) {
  constexpr int kWidth = 24;
  const int filled = int(kWidth * p.batch / std::max<int64_t>(p.batches, 1));
  std::fprintf(stderr, "\repoch %lld/%lld [%s%s] %lld/%lld loss %.4f %.0f img/s ETA %s  ",
               (long long)p.epoch, (long long)p.epochs, std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), (long long)p.batch,
               (long long)p.batches, p.loss, p.images_per_second,
               format_duration(p.eta_seconds).c_str());
  std::fflush(stderr);
}

// Where stderr is not a terminal (a log, CI, nohup), a bar cannot redraw:
// print a line whenever another 10 % of the epoch is done or 30 s have
// passed since the last line, so a log never stays silent for long.
class ProgressLines {
 public:
  void operator()(const train::StepProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.epoch != epoch_) {
      epoch_ = p.epoch;
      tenths_ = 0;
      last_ = now;
    }
    const int64_t tenths = 10 * p.batch / std::max<int64_t>(p.batches, 1);
    const bool stale = now - last_ >= std::chrono::seconds(30);
    if (tenths <= tenths_ && !stale) return;
    tenths_ = tenths;
    last_ = now;
    std::printf("epoch %lld/%lld step %lld/%lld (%lld%%) loss %.4f %.0f img/s, run ends in %s\n",
                (long long)p.epoch, (long long)p.epochs, (long long)p.batch, (long long)p.batches,
                (long long)(100 * p.batch / std::max<int64_t>(p.batches, 1)), p.loss,
                p.images_per_second, format_duration(p.eta_seconds).c_str());
    std::fflush(stdout);
  }

 private:
  int64_t epoch_ = -1, tenths_ = 0;
  std::chrono::steady_clock::time_point last_;
};

void print_epoch(const train::EpochReport& r, bool clear_bar) {
  if (clear_bar) std::fprintf(stderr, "\r%*s\r", 100, "");
  const auto& m = r.metrics;
  std::printf("epoch %lld: train loss %.4f  test loss %.4f  test acc %.2f%%  R_w %.2f%%  R_a %.2f%%  "
              "%.0f img/s  %.1f s\n",
              (long long)m["epoch"].get<int64_t>(), m["train_loss"].get<double>(),
              m["test_loss"].get<double>(), 100 * m["test_accuracy"].get<double>(),
              100 * m["rw"].get<double>(), 100 * m["ra"].get<double>(),
              m["images_per_second"].get<double>(), m["seconds"].get<double>());
  std::fflush(stdout);
}

}  // namespace

void register_train(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("train", "Train a MaQD (or float) network");
  auto config = std::make_shared<train::TrainConfig>();
  auto resume = std::make_shared<bool>(false);
  auto config_file = std::make_shared<std::string>();  // read by main.cpp before parsing
  cmd->add_option("--config", *config_file, "TOML file holding any of these options as `long-name = value` (flags override it)");
  add_train_options(*cmd, *config);
  cmd->add_flag("--resume", *resume,
                "Continue the run in --out from its checkpoint (its saved configuration wins; "
                "--threads, --workers and --data-dir may change)")
      ->group("Execution");
  // A later value overrides an earlier one, so that a script's defaults can
  // be followed by the user's (scripts/main.sh passes its extra arguments on).
  for (CLI::Option* option : cmd->get_options())
    if (option->get_items_expected_max() == 1)
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->callback([config, resume, config_file] {
    const bool live = isatty(STDERR_FILENO);
    train::TrainCallbacks callbacks;
    if (live)
      callbacks.on_step = print_bar;
    else
      callbacks.on_step = ProgressLines();
    callbacks.on_epoch = [live](const train::EpochReport& r) { print_epoch(r, live); };
    // Flushed at once: a log being followed (tail -f) shows each note as it happens.
    callbacks.on_message = [](const std::string& text) {
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
    };
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const train::TrainResult result = train::run_training(*config, *resume, callbacks, &g_stop_requested);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (result.interrupted) {
      if (live) std::fprintf(stderr, "\n");
      std::printf("interrupted: checkpoint saved in %s; continue with: maqd train --resume --out %s\n",
                  config->out_dir.c_str(), config->out_dir.c_str());
      exit_code() = 130;
      return;
    }
    const auto& s = result.summary;
    if (s.contains("test_accuracy"))
      std::printf("done: %s  test accuracy %.2f%% (best %.2f%%)  R_w %.2f%%  R_a %.2f%%\n",
                  config->out_dir.c_str(), 100 * s["test_accuracy"].get<double>(),
                  100 * s["best_test_accuracy"].get<double>(), 100 * s["rw"].get<double>(),
                  100 * s["ra"].get<double>());
  });
}

}  // namespace maqd::cli
