// maqd sweep CONFIG.toml and maqd plot SWEEP: the commands over the sweep
// planner and scheduler of libmaqd (maqd/experiment/sweep.h), which give the
// file's rules. This file tells them the options of `maqd train`.
#include <algorithm>
#include <filesystem>
#include <thread>

#include "commands.h"
#include "maqd/error.h"
#include "maqd/experiment/summary.h"
#include "maqd/experiment/sweep.h"
#include "maqd/train/config.h"
#include "options.h"
#include "maqd_rt/engine.hpp"

namespace maqd::cli {
namespace {

namespace fs = std::filesystem;

// The long option names of `maqd train` in --help order; the sweep's keys.
std::vector<std::string> train_option_names() {
  CLI::App app;
  train::TrainConfig unused;
  add_train_options(app, unused);
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_lnames())
      if (n != "help" && n != "out") names.push_back(n);
  return names;
}

// The TrainConfig `maqd train` resolves from these flags (the planner names the run in errors).
train::TrainConfig resolve(const experiment::TrainOptions& options, const std::string& out_dir) {
  CLI::App app;
  train::TrainConfig config;
  add_train_options(app, config);
  std::vector<std::string> args{"maqd-train"};
  for (const auto& [k, v] : options) {
    args.push_back("--" + k);
    args.push_back(v);
  }
  args.push_back("--out");
  args.push_back(out_dir);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::ConversionError& e) {
    // CLI11 says "Could not convert": find the option alone to name it.
    for (const auto& [k, v] : options) {
      CLI::App one;
      train::TrainConfig unused;
      add_train_options(one, unused);
      std::vector<std::string> alone{"maqd-train", "--" + k, v};
      std::vector<char*> alone_argv;
      for (std::string& arg : alone) alone_argv.push_back(arg.data());
      try {
        one.parse(int(alone_argv.size()), alone_argv.data());
      } catch (const CLI::ConversionError&) {
        throw Error("--" + k + " is '" + v + "'; expected " + expected_value(*one.get_option("--" + k)));
      } catch (const CLI::ParseError&) {
      }
    }
    throw Error(e.what());
  } catch (const CLI::ParseError& e) {
    throw Error(e.what());
  }
  train::validate(config);
  return config;
}

struct SweepArgs {
  std::string file, out;
  std::vector<std::string> overrides, only;
  int jobs = 1, threads = 0, nproc = 1;
  bool dry_run = false;
};

int run_sweep(const SweepArgs& a) {
  const experiment::TrainOptionTable table{train_option_names(), resolve};
  experiment::SweepPlan plan = experiment::plan_sweep_file(a.file, a.overrides, a.out, table);
  experiment::keep_only(plan, a.only);
  const int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
  experiment::SweepProcesses processes;
  processes.executable = "/proc/self/exe";
  processes.jobs = a.jobs;
  processes.threads_per_run = std::max(1, (a.threads > 0 ? a.threads : hardware) / a.jobs);
  processes.processes_per_run = a.nproc;
  processes.dry_run = a.dry_run;
  return experiment::run_sweep(plan, a.file, processes);
}

}  // namespace

void register_sweep(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("sweep", "Run a grid of trainings from a TOML file (resumable)");
  auto a = std::make_shared<SweepArgs>();
  cmd->add_option("config", a->file, "Sweep file (experiments/*.toml)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Folder of the run folders (default: the file's `out`, else sweeps/NAME)");
  cmd->add_option("--jobs", a->jobs, "Runs at once; the threads are divided between them")
      ->capture_default_str()->check(whole_number(1, INT32_MAX));
  cmd->add_option("--threads", a->threads, "Threads in all (0: every core)")
      ->check(CLI::Range(0, maqd_rt::kMaxEngineThreads))
      ->capture_default_str();
  cmd->add_option("--nproc", a->nproc,
                  "Processes per run: each run trains data-parallel over them (maqd train --nproc), "
                  "sharing its threads")
      ->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--set", a->overrides,
                  "KEY=VALUE applied to every run, e.g. --set epochs=1 --set data-dir=DIR");
  cmd->add_option("--only", a->only,
                  "Run only the runs whose name has every one of these KEY=VALUE parts, e.g. --only ma=2");
  cmd->add_flag("--dry-run", a->dry_run, "Print the runs, their state and commands; run nothing");
  cmd->callback([a] {
    check(a->threads == 0 || a->threads >= int64_t(a->jobs) * a->nproc, "sweep", "--jobs ", a->jobs, " × --nproc ",
          a->nproc, " with --threads ", a->threads,
          "; expected --threads of at least --jobs × --nproc (each process takes one thread or more), or no "
          "--threads");
    exit_code() = run_sweep(*a);
  });
}

void register_plot(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("plot", "Summary tables and PNG plots of a sweep's run folders");
  struct Args {
    std::string sweep, out;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("sweep", a->sweep, "A sweep's output folder (or any folder of run folders)")->required();
  cmd->add_option("-o,--out", a->out, "Folder for the PNGs (default: SWEEP/plots)");
  cmd->callback([a] {
    const std::string out = a->out.empty() ? (fs::path(a->sweep) / "plots").string() : a->out;
    const auto rows = experiment::write_summary(a->sweep);
    std::printf("wrote %s/summary.md and summary.csv (%zu rows)\n", a->sweep.c_str(), rows.size());
    for (const std::string& png : experiment::plot_sweep(a->sweep, out)) std::printf("wrote %s\n", png.c_str());
  });
}

}  // namespace maqd::cli
