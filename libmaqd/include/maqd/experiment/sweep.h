// Sweeps: a grid of `maqd train` runs from a TOML file, each run a child
// process in its own folder (so its peak memory is its own), one after
// another or several at once; finished runs are skipped and interrupted ones
// resumed, so running a sweep again after Ctrl-C (or a crash) finishes it.
//
// The file: [base] holds `maqd train` options by their long names; an array
// value is a dimension of the grid. Each [[grid]] table (or one [grid])
// overrides and adds dimensions; the runs are the union over the grids of
// each grid's product with the base. Example: experiments/levels.toml.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "maqd/train/config.h"

namespace maqd::experiment {

// A run's `maqd train` options: long name → value as typed on the command
// line, in `maqd train --help` order.
using TrainOptions = std::vector<std::pair<std::string, std::string>>;

// What the planner needs to know of `maqd train`'s options, given by the
// tool that owns them (so the library does not parse command lines).
struct TrainOptionTable {
  std::vector<std::string> names;  // long names in --help order, without help and out
  // The TrainConfig `maqd train OPTIONS --out OUT_DIR` would train with;
  // throws maqd::Error for options it refuses.
  std::function<train::TrainConfig(const TrainOptions& options, const std::string& out_dir)> resolve;
};

struct SweepRun {
  std::string name;  // its folder below the sweep's: the options that vary, "k=v,k=v"
  TrainOptions options;
  train::TrainConfig config;  // as `maqd train` resolves it
};

struct SweepPlan {
  std::string source;  // the sweep file, named in errors
  std::string description;
  std::string out;  // the folder of the run folders
  std::vector<SweepRun> runs;
};

// Plans the sweep in `toml_text` (read from `source`, named in errors).
// `overrides` are KEY=VALUE settings applied to every run (--set);
// `out` overrides the file's `out` (default sweeps/<file stem>).
SweepPlan plan_sweep(const std::string& toml_text, const std::string& source,
                     const std::vector<std::string>& overrides, const std::string& out,
                     const TrainOptionTable& options);
// The same for a file.
SweepPlan plan_sweep_file(const std::string& path, const std::vector<std::string>& overrides,
                          const std::string& out, const TrainOptionTable& options);

// Keeps the runs whose name has every one of `parts` ("ma=2") as a whole
// comma-separated part; throws if none is left.
void keep_only(SweepPlan& plan, const std::vector<std::string>& parts);

enum class RunState { kNew, kResume, kDone };

// A run's folder: done (summary.json), resumable (checkpoint.pt) or new.
// Throws if the folder holds a run with other settings.
RunState run_state(const SweepRun& run, const std::filesystem::path& folder);

struct SweepProcesses {
  std::string executable;  // the `maqd` binary the children run as `maqd train ...`
  int jobs = 1;            // runs at once
  int threads_per_run = 1; // --threads of a run that does not set it
  int processes_per_run = 1;  // > 1: each run trains data-parallel (`maqd train --nproc N`)
  bool dry_run = false;    // print each run's state and command; run nothing
};

// Runs the plan's runs as child processes (`executable train OPTIONS
// --threads N --out FOLDER [--resume]`), each logging to FOLDER/train.log,
// its lines echoed with the run's name; the first SIGINT or SIGTERM makes
// every child save a checkpoint and stop, a second kills them. Returns 0
// when every run finished, 130 when interrupted, 1 when a run failed.
int run_sweep(const SweepPlan& plan, const std::string& sweep_file, const SweepProcesses& processes);

}  // namespace maqd::experiment
