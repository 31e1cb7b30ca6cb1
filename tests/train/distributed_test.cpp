// Data-parallel training end to end, through the maqd tool as a user runs
// it: two processes over Gloo on 127.0.0.1 end with the parameters and
// running statistics of one process with the whole batch (and, without
// synchronized norm statistics, do not); a rank killed mid-epoch ends the
// other within the timeout with a message naming it, and the run resumes
// in one process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/seed.h"
#include "data/fixtures.h"
#include "maqd/error.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/distributed.h"
#include "train/tiny_mnist.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Starts the maqd tool with `args`, its stdout and stderr into `log`.
pid_t start_maqd(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv{MAQD_CLI_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, MAQD_CLI_EXE, &actions, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error("cannot start " + std::string(MAQD_CLI_EXE));
  return pid;
}

// The exit code, or 128 + the signal.
int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_maqd(const std::vector<std::string>& args, const std::string& log) {
  return wait_exit(start_maqd(args, log));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every parameter and buffer of a checkpoint's network, by name.
std::map<std::string, torch::Tensor> network_state(const std::string& run) {
  maqd::Network network = maqd::train::load_network(run + "/checkpoint.pt");
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : network->named_parameters()) state[p.key()] = p.value().detach().clone();
  for (const auto& b : network->named_buffers()) state[b.key()] = b.value().clone();
  return state;
}

// The largest relative difference over all tensors (relative to the
// tensor's largest magnitude), and where it is.
std::pair<double, std::string> largest_difference(const std::map<std::string, torch::Tensor>& a,
                                                  const std::map<std::string, torch::Tensor>& b) {
  std::pair<double, std::string> worst{0.0, ""};
  for (const auto& [name, want] : b) {
    const torch::Tensor got = a.at(name).to(torch::kDouble), w = want.to(torch::kDouble);
    const double scale = std::max(w.abs().max().item<double>(), 1e-12);
    const double diff = (got - w).abs().max().item<double>() / scale;
    if (diff > worst.first) worst = {diff, name};
  }
  return worst;
}

// The ranks `maqd train --nproc` started, in rank order.
std::vector<pid_t> child_processes(pid_t parent) {
  std::ifstream in("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children");
  std::vector<pid_t> pids;
  for (pid_t pid; in >> pid;) pids.push_back(pid);
  return pids;
}

class DistributedTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!maqd::train::distributed_available()) GTEST_SKIP() << "built without c10d/Gloo";
  }
  // Starts `maqd train --nproc 2` for 3 epochs of 3000 tiny images into
  // out_/run (log out_/run.log) and waits for epoch 1's checkpoint, which
  // marks the start of epoch 2; returns the launcher and sets the ranks'
  // pids, in rank order (empty if the checkpoint never came).
  pid_t start_two_ranks_into_epoch_2(uint64_t seed, int timeout, std::vector<std::string> extra,
                                     std::vector<pid_t>& ranks) {
    maqd_test::write_tiny_mnist(data_, seed, 3000, 20);
    const std::string run = out_.file("run");
    std::vector<std::string> args{"train", "--data", "mnist", "--data-dir", data_.str(), "--arch",
                                  "(6C3)-AP-(8C3)-10C1-GAP", "--batch-size", "4", "--epochs", "3",
                                  "--nproc", "2", "--threads", "2", "--seed", std::to_string(seed),
                                  "--out", run, "--dist-timeout", std::to_string(timeout)};
    args.insert(args.end(), extra.begin(), extra.end());
    const pid_t launcher = start_maqd(args, out_.file("run.log"));
    const auto start = Clock::now();
    while (!fs::exists(run + "/checkpoint.pt") && Clock::now() - start < std::chrono::seconds(120))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ranks.clear();
    if (fs::exists(run + "/checkpoint.pt")) ranks = child_processes(launcher);
    return launcher;
  }

  maqd_test::TempDir data_, out_;
};

// A float network with LBN: the ranks' shards of every batch of 8 (4 + 4,
// augmentation on) over 3 steps, against one process with all 8.
TEST_F(DistributedTraining, TwoRanksEqualOneProcessWithTheWholeBatch) {
  MAQD_SEEDED(seed);
  maqd_test::write_tiny_mnist(data_, seed, 24, 20);
  const std::vector<std::string> common{
      "train", "--data", "mnist", "--data-dir", data_.str(), "--arch", "(6C3)-AP-(8C3)-10C1-GAP",
      "--norm", "lbn", "--batch-size", "8", "--epochs", "1", "--lr", "0.05",
      "--seed", std::to_string(seed), "--workers", "1"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::string one = out_.file("one"), synced = out_.file("synced"), local = out_.file("local");
  ASSERT_EQ(run_maqd(with({"--threads", "1", "--out", one}), out_.file("one.log")), 0)
      << read_text(out_.file("one.log"));
  ASSERT_EQ(run_maqd(with({"--nproc", "2", "--threads", "2", "--out", synced}), out_.file("synced.log")), 0)
      << read_text(out_.file("synced.log"));
  ASSERT_EQ(run_maqd(with({"--nproc", "2", "--threads", "2", "--sync-norm", "off", "--out", local}),
                     out_.file("local.log")),
            0)
      << read_text(out_.file("local.log"));
  const auto reference = network_state(one);
  int running_statistics = 0;
  for (const auto& entry : reference) running_statistics += entry.first.find("running_") != std::string::npos;
  ASSERT_GE(running_statistics, 4) << "LBN's running statistics should be compared too";
  const auto [synced_diff, synced_where] = largest_difference(network_state(synced), reference);
  EXPECT_LT(synced_diff, 1e-5) << synced_where;
  const auto [local_diff, local_where] = largest_difference(network_state(local), reference);
  EXPECT_GT(local_diff, 1e-5) << "statistics per rank should differ from the whole batch's";
  std::printf("largest relative difference from one process: %.3g (%s) with --sync-norm on, "
              "%.3g (%s) off\n", synced_diff, synced_where.c_str(), local_diff, local_where.c_str());
  // The ranks share the evaluation (10 + 10 test images): its figures are
  // the whole test set's.
  const auto one_summary = nlohmann::json::parse(read_text(one + "/summary.json"));
  const auto synced_summary = nlohmann::json::parse(read_text(synced + "/summary.json"));
  EXPECT_EQ(synced_summary.at("test_accuracy"), one_summary.at("test_accuracy"));
  EXPECT_NEAR(synced_summary.at("test_loss").get<double>(), one_summary.at("test_loss").get<double>(),
              1e-5 * one_summary.at("test_loss").get<double>());
  EXPECT_NEAR(synced_summary.at("ra").get<double>(), one_summary.at("ra").get<double>(), 1e-3);
  // Rank 0 alone wrote the run folder, with the whole run's images per second.
  EXPECT_TRUE(fs::exists(synced + "/summary.json"));
  EXPECT_NE(read_text(synced + "/metrics.jsonl").find("\"world_size\":2"), std::string::npos);
}

// Without --master-port, rank 0's store takes a free port and the other
// ranks start once it listens (TwoRanksEqualOneProcess… runs that path): a
// rank 0 that fails before it listens ends the launcher at once, with its
// error printed once, and leaves no rank waiting --dist-timeout for it.
TEST_F(DistributedTraining, RankZeroFailingBeforeItListensStartsNoOtherRank) {
  MAQD_SEEDED(seed);
  maqd_test::write_tiny_mnist(data_, seed, 24, 20);
  const std::string run = out_.file("run");
  const std::vector<std::string> args{
      "train", "--data", "mnist", "--data-dir", data_.str(), "--arch", "(6C3)-AP-(8C3)-10C1-GAP",
      "--batch-size", "8", "--epochs", "1", "--seed", std::to_string(seed), "--threads", "2",
      "--out", run};
  ASSERT_EQ(run_maqd(args, out_.file("first.log")), 0) << read_text(out_.file("first.log"));
  // The run exists: every rank would refuse to start another in it.
  std::vector<std::string> again = args;
  for (const char* extra : {"--nproc", "2", "--dist-timeout", "120"}) again.push_back(extra);
  const auto start = Clock::now();
  const int code = run_maqd(again, out_.file("again.log"));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string log = read_text(out_.file("again.log"));
  EXPECT_NE(code, 0) << log;
  EXPECT_LT(seconds, 60) << log;
  const std::string refusal = "a checkpoint exists already";
  const size_t first = log.find(refusal);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(refusal, first + 1), std::string::npos) << "only rank 0 should have started:\n" << log;
}

// `nproc` from a --config file starts the ranks like the flag: each rank
// reads the file again and must not take itself for a launcher.
TEST_F(DistributedTraining, NprocFromAConfigFileStartsTheRanks) {
  MAQD_SEEDED(seed);
  maqd_test::write_tiny_mnist(data_, seed, 24, 20);
  const std::string config = out_.file("two.toml"), run = out_.file("run");
  std::ofstream(config) << "nproc = 2\nthreads = 2\n";
  const std::vector<std::string> args{"train", "--config", config, "--data", "mnist", "--data-dir", data_.str(),
                                      "--arch", "(6C3)-AP-(8C3)-10C1-GAP", "--batch-size", "8", "--epochs", "1",
                                      "--seed", std::to_string(seed), "--out", run};
  ASSERT_EQ(run_maqd(args, out_.file("run.log")), 0) << read_text(out_.file("run.log"));
  EXPECT_NE(read_text(run + "/metrics.jsonl").find("\"world_size\":2"), std::string::npos);
}

// Threads that do not divide among the ranks are named, not left idle
// silently (each rank takes an equal share of a batch, so an extra thread
// on one would only wait).
TEST_F(DistributedTraining, ThreadsThatDoNotDivideAmongTheRanksAreNamed) {
  // A run that cannot start (no data) is enough: the launcher speaks first.
  const std::vector<std::string> args{"train", "--data", "mnist", "--data-dir", out_.file("none"),
                                      "--nproc", "2", "--threads", "3", "--out", out_.file("run")};
  EXPECT_NE(run_maqd(args, out_.file("odd.log")), 0);
  const std::string log = read_text(out_.file("odd.log"));
  EXPECT_NE(log.find("3 threads over 2 ranks: each rank takes 1, 2 in all"), std::string::npos) << log;
  std::vector<std::string> even = args;
  even[8] = "4";
  EXPECT_NE(run_maqd(even, out_.file("even.log")), 0);
  EXPECT_EQ(read_text(out_.file("even.log")).find("threads over"), std::string::npos);
}

// A stop (Ctrl-C, a sweep's SIGTERM) that reaches the launcher while the
// ranks are still starting is held back in each rank until it can stop at
// a step: every rank ends together with a checkpoint (exit 130), none is
// killed mid-start leaving the others to wait --dist-timeout.
TEST_F(DistributedTraining, StopWhileTheRanksStartEndsThemTogetherWithACheckpoint) {
  MAQD_SEEDED(seed);
  maqd_test::write_tiny_mnist(data_, seed, 400, 20);
  const std::string run = out_.file("run"), log_path = out_.file("run.log");
  const pid_t launcher = start_maqd(
      {"train", "--data", "mnist", "--data-dir", data_.str(), "--arch", "(6C3)-AP-(8C3)-10C1-GAP",
       "--batch-size", "4", "--epochs", "1", "--seed", std::to_string(seed), "--nproc", "2",
       "--threads", "2", "--dist-timeout", "120", "--out", run},
      log_path);
  const auto start = Clock::now();
  while (child_processes(launcher).empty() && Clock::now() - start < std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(child_processes(launcher).empty()) << read_text(log_path);
  kill(launcher, SIGTERM);  // rank 0 has just been forked: it is still loading
  const auto stopped = Clock::now();
  const int code = wait_exit(launcher);
  const double seconds = std::chrono::duration<double>(Clock::now() - stopped).count();
  const std::string log = read_text(log_path);
  EXPECT_EQ(code, 130) << log;
  EXPECT_LT(seconds, 60) << log;
  EXPECT_EQ(log.find("ended by signal"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(run + "/checkpoint.pt")) << log;
  EXPECT_FALSE(fs::exists(run + "/summary.json")) << log;
}

TEST(DistributedOptions, FreePortOnlyWhereRankZeroCanTellTheOthers) {
  maqd::train::DistributedOptions options;
  options.world_size = 2;
  options.master_port = 0;
  EXPECT_THROW(maqd::train::validate(options), maqd::Error);  // nobody to tell
  options.on_listening = [](int64_t) {};
  EXPECT_NO_THROW(maqd::train::validate(options));
  options.rank = 1;  // a rank that is not the host needs the port itself
  EXPECT_THROW(maqd::train::validate(options), maqd::Error);
  options.master_port = 65536;
  EXPECT_THROW(maqd::train::validate(options), maqd::Error);
}

// A rank 0 whose store took a free port and then waited in vain names
// that port in its error, and what it waited for.
TEST_F(DistributedTraining, RankZeroAloneNamesThePortItTook) {
  maqd::train::DistributedOptions options;
  options.world_size = 2;
  options.master_port = 0;
  options.timeout_seconds = 1;
  int64_t port = 0;
  options.on_listening = [&port](int64_t listening) { port = listening; };
  try {
    maqd::train::DataParallel alone(options);
    FAIL() << "rank 1 never came, yet rank 0 formed a group";
  } catch (const maqd::Error& e) {
    ASSERT_NE(port, 0);
    EXPECT_NE(std::string(e.what()).find("expected all 2 ranks started and reaching rank 0's store at "
                                         "127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << e.what();
  }
}

// A rank 0 started by --nproc whose launcher is gone before it reports its
// port says so and fails, instead of dying silently of SIGPIPE.
TEST_F(DistributedTraining, RankZeroWhoseLauncherIsGoneSaysSo) {
  MAQD_SEEDED(seed);
  maqd_test::write_tiny_mnist(data_, seed, 24, 20);
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  close(report[0]);  // the launcher that would read the port has ended
  const int code = run_maqd(
      {"train", "--data", "mnist", "--data-dir", data_.str(), "--arch", "(6C3)-AP-(8C3)-10C1-GAP",
       "--batch-size", "8", "--epochs", "1", "--world-size", "2", "--rank", "0", "--master-port", "0",
       "--rank0-port-fd", std::to_string(report[1]), "--dist-timeout", "5", "--out", out_.file("run")},
      out_.file("run.log"));
  close(report[1]);
  const std::string log = read_text(out_.file("run.log"));
  EXPECT_EQ(code, 1) << log;
  EXPECT_NE(log.find("rank 0 cannot tell the launcher its port (Broken pipe)"), std::string::npos) << log;
}

// Rank 1 killed in the second epoch: rank 0 stops within the timeout,
// naming rank 1, and so does `maqd train --nproc`; the checkpoint of epoch 1
// resumes in one process.
TEST_F(DistributedTraining, KilledRankEndsTheOtherAndTheRunResumes) {
  MAQD_SEEDED(seed);
  const std::string run = out_.file("run"), log_path = out_.file("run.log");
  constexpr int kTimeout = 20;
  std::vector<pid_t> ranks;
  const pid_t launcher = start_two_ranks_into_epoch_2(seed, kTimeout, {"--mw", "3", "--ma", "4"}, ranks);
  ASSERT_EQ(ranks.size(), 2u) << read_text(log_path);
  kill(ranks[1], SIGKILL);
  const auto killed = Clock::now();
  const int code = wait_exit(launcher);
  const double seconds = std::chrono::duration<double>(Clock::now() - killed).count();
  const std::string log = read_text(log_path);
  EXPECT_NE(code, 0) << log;
  EXPECT_LT(seconds, kTimeout + 10) << log;
  EXPECT_NE(log.find("lost rank 1"), std::string::npos) << log;
  std::printf("rank 0 and the launcher stopped %.1f s after rank 1 was killed:\n%s", seconds,
              log.substr(log.find("error")).c_str());
  EXPECT_FALSE(fs::exists(run + "/summary.json"));

  ASSERT_EQ(run_maqd({"train", "--resume", "--out", run, "--threads", "1", "--data-dir", data_.str()},
                     out_.file("resume.log")),
            0)
      << read_text(out_.file("resume.log"));
  EXPECT_NE(read_text(out_.file("resume.log")).find("resuming"), std::string::npos);
  EXPECT_TRUE(fs::exists(run + "/summary.json"));
  std::ifstream metrics(run + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) lines += !line.empty();
  EXPECT_EQ(lines, 3);
}

// A rank that hangs (stopped, its sockets open) is found by the timeout:
// rank 0 stops once --dist-timeout has passed, naming the hung rank.
TEST_F(DistributedTraining, HungRankEndsTheOtherAfterTheTimeout) {
  MAQD_SEEDED(seed);
  const std::string log_path = out_.file("run.log");
  // Long enough for both ranks to start and join on a loaded 2-core machine.
  constexpr int kTimeout = 10;
  std::vector<pid_t> ranks;
  const pid_t launcher = start_two_ranks_into_epoch_2(seed, kTimeout, {}, ranks);
  ASSERT_EQ(ranks.size(), 2u) << read_text(log_path);
  kill(ranks[1], SIGSTOP);
  const auto stopped = Clock::now();
  // Rank 0 (the launcher's child, which the launcher reaps at once) must
  // end by itself; rank 1 is then ended by the test.
  while (kill(ranks[0], 0) == 0 && Clock::now() - stopped < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double seconds = std::chrono::duration<double>(Clock::now() - stopped).count();
  kill(ranks[1], SIGKILL);
  kill(ranks[1], SIGCONT);
  wait_exit(launcher);
  const std::string log = read_text(log_path);
  EXPECT_LT(seconds, kTimeout + 15) << log;
  EXPECT_NE(log.find("lost rank 1"), std::string::npos) << log;
  std::printf("rank 0 stopped %.1f s after rank 1 hung (--dist-timeout %d)\n", seconds, kTimeout);
}

}  // namespace
