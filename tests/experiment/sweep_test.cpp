// The sweep planner and scheduler (maqd/experiment/sweep.h) without the CLI:
// a small option table stands in for `maqd train`'s, and a shell script for
// the training child, so the grid rules, run names, folder states and the
// skip-what-is-done behaviour are checked directly. (tests/cli/sweep_test.sh
// runs `maqd sweep` end to end with real trainings.)
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/fixtures.h"
#include "maqd/error.h"
#include "maqd/experiment/sweep.h"
#include "maqd/train/config.h"

namespace {

namespace fs = std::filesystem;
using maqd::experiment::RunState;
using maqd::experiment::SweepPlan;
using maqd::experiment::TrainOptions;

// A stand-in for maqd train's options: five names in "help" order, and a
// resolver that sets mw and ma and refuses an even mw as maqd train does.
maqd::experiment::TrainOptionTable fake_options() {
  maqd::experiment::TrainOptionTable table;
  table.names = {"arch", "mw", "ma", "epochs", "threads"};
  table.resolve = [](const TrainOptions& options, const std::string& out_dir) {
    maqd::train::TrainConfig config;
    config.out_dir = out_dir;
    for (const auto& [k, v] : options) {
      if (k == "mw") config.mw = std::stoi(v);
      if (k == "ma") config.ma = std::stoi(v);
      if (k == "epochs") config.epochs = std::stoi(v);
    }
    maqd::check(config.mw % 2 == 1, "--mw", "is ", config.mw, "; expected an odd number");
    return config;
  };
  return table;
}

const char* kGrid = R"(
description = "levels"
[base]
arch = "vgg"
epochs = 1
mw = [3, 15]
[[grid]]
ma = [2, 4]
[[grid]]
mw = 255
ma = 8
[[grid]]
mw = 3
ma = 2
)";

TEST(SweepPlan, BaseTimesEachGridInHelpOrderWithoutRepeats) {
  const SweepPlan plan = maqd::experiment::plan_sweep(kGrid, "experiments/levels.toml", {}, "", fake_options());
  EXPECT_EQ(plan.description, "levels");
  EXPECT_EQ(plan.out, "sweeps/levels");
  std::vector<std::string> names;
  for (const auto& run : plan.runs) names.push_back(run.name);
  // The third grid repeats the first run: kept once.
  EXPECT_EQ(names, (std::vector<std::string>{"mw=3,ma=2", "mw=3,ma=4", "mw=15,ma=2", "mw=15,ma=4", "mw=255,ma=8"}));
  EXPECT_EQ(plan.runs[2].options,
            (TrainOptions{{"arch", "vgg"}, {"mw", "15"}, {"ma", "2"}, {"epochs", "1"}}));
  EXPECT_EQ(plan.runs[4].config.mw, 255);
  EXPECT_EQ(plan.runs[4].config.out_dir, "sweeps/levels/mw=255,ma=8");
}

TEST(SweepPlan, OverridesOutAndErrorsNameTheProblem) {
  const SweepPlan plan =
      maqd::experiment::plan_sweep(kGrid, "levels.toml", {"epochs=3", "ma=2"}, "elsewhere", fake_options());
  EXPECT_EQ(plan.out, "elsewhere");
  ASSERT_EQ(plan.runs.size(), 3u);  // ma forced to 2: (3, 2), (15, 2), (255, 2)
  for (const auto& run : plan.runs) EXPECT_EQ(run.config.epochs, 3);
  EXPECT_EQ(plan.runs[0].name, "mw=3");

  const auto message = [](const std::string& text, const std::vector<std::string>& overrides) {
    try {
      maqd::experiment::plan_sweep(text, "s.toml", overrides, "", fake_options());
    } catch (const maqd::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("[base]\nlr = 1\n", {}).find("unknown key 'lr'"), std::string::npos);
  EXPECT_NE(message("[base]\nmw = [\n", {}).find("s.toml: line"), std::string::npos);
  EXPECT_NE(message("[base]\nmw = []\n", {}).find("empty array"), std::string::npos);
  EXPECT_NE(message("[base]\nmw = 3\n", {"epochs"}).find("is not KEY=VALUE"), std::string::npos);
  EXPECT_NE(message("[base]\nmw = 3\n", {"lr=1"}).find("unknown key 'lr'"), std::string::npos);
  EXPECT_NE(message("bogus = 1\n", {}).find("unexpected key 'bogus'"), std::string::npos);
  // The resolver's refusal names the file and the run.
  EXPECT_NE(message("[base]\nmw = [3, 4]\n", {}).find("s.toml: run mw=4: --mw: is 4"), std::string::npos);
  // nproc is the sweep's own option, and the message says so.
  for (const auto& [text, overrides] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"[base]\nnproc = 2\n", {}}, {"[base]\nmw = 3\n", {"nproc=2"}}})
    EXPECT_NE(message(text, overrides).find("key 'nproc' is the sweep's to give: maqd sweep --nproc N"),
              std::string::npos)
        << message(text, overrides);
}

TEST(SweepPlan, KeepOnlyMatchesWholeParts) {
  SweepPlan plan = maqd::experiment::plan_sweep(kGrid, "levels.toml", {}, "", fake_options());
  maqd::experiment::keep_only(plan, {"ma=2"});
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.runs[0].name, "mw=3,ma=2");
  EXPECT_EQ(plan.runs[1].name, "mw=15,ma=2");
  SweepPlan all = maqd::experiment::plan_sweep(kGrid, "levels.toml", {}, "", fake_options());
  try {
    maqd::experiment::keep_only(all, {"ma=9"});
    ADD_FAILURE() << "--only ma=9 should match no run";
  } catch (const maqd::Error& e) {
    // The file, the parts given and what a run name looks like.
    EXPECT_THAT(e.what(), ::testing::HasSubstr("levels.toml: --only ma=9"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'mw=3,ma=2'"));
  }
  EXPECT_THROW(maqd::experiment::keep_only(all, {"a=2"}), maqd::Error);  // a part, not a substring
}

TEST(SweepPlan, RunStateFromTheFolder) {
  maqd_test::TempDir dir;
  const SweepPlan plan = maqd::experiment::plan_sweep(kGrid, "levels.toml", {}, dir.str(), fake_options());
  const auto& run = plan.runs[0];
  const fs::path folder = fs::path(dir.str()) / run.name;
  EXPECT_EQ(maqd::experiment::run_state(run, folder), RunState::kNew);
  fs::create_directories(folder);
  std::ofstream(folder / "config.json") << maqd::train::to_json(run.config).dump();
  std::ofstream(folder / "checkpoint.pt") << "x";
  EXPECT_EQ(maqd::experiment::run_state(run, folder), RunState::kResume);
  std::ofstream(folder / "summary.json") << "{}";
  EXPECT_EQ(maqd::experiment::run_state(run, folder), RunState::kDone);
  // A folder holding another run's checkpoint is not taken over.
  auto other = maqd::train::to_json(run.config);
  other["mw"] = 15;
  std::ofstream(folder / "config.json") << other.dump();
  try {
    maqd::experiment::run_state(run, folder);
    ADD_FAILURE() << "another run's folder was accepted";
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("field mw is 15; the sweep asks for 3"), std::string::npos) << e.what();
  }
}

// A child that writes summary.json into its --out folder, or fails.
std::string fake_trainer(const std::string& dir, int exit_code) {
  const std::string path = dir + "/fake-maqd-" + std::to_string(exit_code);
  std::ofstream(path) << "#!/bin/sh\n"
                         "out=''\n"
                         "while [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n"
                         "echo \"training into $out\"\n"
                      << (exit_code == 0 ? "echo '{}' > \"$out/summary.json\"\n" : "")
                      << "exit " << exit_code << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

TEST(SweepProcesses, RunsEachChildOnceAndSkipsWhatIsDone) {
  maqd_test::TempDir dir;
  const std::string file = dir.str() + "/levels.toml";
  std::ofstream(file) << kGrid;
  const SweepPlan plan =
      maqd::experiment::plan_sweep_file(file, {"ma=2"}, dir.str() + "/out", fake_options());
  ASSERT_EQ(plan.runs.size(), 3u);
  maqd::experiment::SweepProcesses processes;
  processes.executable = fake_trainer(dir.str(), 0);
  processes.jobs = 2;
  EXPECT_EQ(maqd::experiment::run_sweep(plan, file, processes), 0);
  for (const auto& run : plan.runs) {
    const fs::path folder = fs::path(plan.out) / run.name;
    EXPECT_TRUE(fs::exists(folder / "summary.json")) << run.name;
    std::ifstream command(folder / "command.txt");
    std::string text((std::istreambuf_iterator<char>(command)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "maqd train --arch vgg --mw " + std::to_string(run.config.mw) +
                        " --ma 2 --epochs 1 --threads 1 --out " + folder.string() + "\n");
    std::ifstream log(folder / "train.log");
    std::string line;
    std::getline(log, line);
    EXPECT_EQ(line, "training into " + folder.string());
  }
  EXPECT_TRUE(fs::exists(fs::path(plan.out) / "sweep.toml"));
  // Again: every run is done, none starts (a failing trainer would show).
  processes.executable = fake_trainer(dir.str(), 3);
  EXPECT_EQ(maqd::experiment::run_sweep(plan, file, processes), 0);
  // New runs with the failing trainer: the sweep reports the failure.
  const SweepPlan more =
      maqd::experiment::plan_sweep_file(file, {"ma=4"}, dir.str() + "/out-failing", fake_options());
  EXPECT_EQ(maqd::experiment::run_sweep(more, file, processes), 1);
  // Data-parallel runs: each run's command asks for its processes.
  const SweepPlan wide =
      maqd::experiment::plan_sweep_file(file, {"ma=8"}, dir.str() + "/out-wide", fake_options());
  processes.executable = fake_trainer(dir.str(), 0);
  processes.threads_per_run = 2;
  processes.processes_per_run = 2;
  EXPECT_EQ(maqd::experiment::run_sweep(wide, file, processes), 0);
  const fs::path folder = fs::path(wide.out) / wide.runs[0].name;
  std::ifstream command(folder / "command.txt");
  std::string text((std::istreambuf_iterator<char>(command)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "maqd train --arch vgg --mw " + std::to_string(wide.runs[0].config.mw) +
                      " --ma 8 --epochs 1 --threads 2 --nproc 2 --out " + folder.string() + "\n");
}

}  // namespace
