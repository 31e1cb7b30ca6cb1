// maqd train: every TrainConfig field as a flag (or a key of the --config
// TOML file; flags win), a live progress bar on a terminal, progress lines
// in a log (every 10 % of an epoch or 30 s), one line per epoch, and Ctrl-C
// saving a checkpoint to --resume from. --nproc N starts N local ranks of a
// data-parallel run (this same command line, once per rank); --world-size
// and --rank join one that spans machines (docs/distributed.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "config_file.h"
#include "maqd/error.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/trainer.h"
#include "options.h"

namespace maqd::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
volatile sig_atomic_t g_announce_stop = 0;  // rank 0 says what a Ctrl-C does

extern "C" void on_interrupt(int signal_number) {
  g_stop_requested.store(true);
  // A second Ctrl-C ends the process at once; SIGTERM (maqd sweep stopping
  // its runs) always stops at the next batch with a checkpoint.
  if (signal_number == SIGINT) {
    std::signal(SIGINT, SIG_DFL);
    // Said at once (a slow step would otherwise look ignored, inviting the
    // second Ctrl-C); write(2), as a signal handler may.
    static const char kNotice[] =
        "\nmaqd train: stopping after this step, with a checkpoint (Ctrl-C again stops at once, without one)\n";
    if (g_announce_stop) {
      const int saved = errno;  // the interrupted code may be about to read it
      const ssize_t written = write(STDERR_FILENO, kNotice, sizeof kNotice - 1);
      (void)written;  // nothing to do here about a closed stderr
      errno = saved;
    }
  }
}

// SIGINT and SIGTERM: held back (pending) in a rank from its start until
// its stop handler is in place, so that a stop the launcher forwards while
// the rank still loads ends it at a step with the others, not at once.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
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

// A resumed run keeps the options it was started with, except those
// options_a_resume_may_change(): another value for one, from a flag or the
// --config file, is refused rather than silently ignored (the same value is
// fine, so a script can repeat its whole command line with --resume).
void refuse_option_changes_on_resume(const CLI::App& cmd, const train::TrainConfig& requested) {
  const std::string path = train::checkpoint_path(requested.out_dir);
  if (!std::filesystem::exists(path)) return;
  const nlohmann::json saved = train::to_json(train::read_checkpoint(path).config);
  const nlohmann::json wanted = train::to_json(requested);
  const std::vector<std::string>& may_change = train::options_a_resume_may_change();
  std::string changes;
  for (const CLI::Option* option : cmd.get_options()) {
    const std::string key = train_config_key(option->get_name());
    const bool given = option->count() > 0 || set_by_config_file(*option);
    if (!given || !saved.contains(key) || saved[key] == wanted[key] ||
        std::find(may_change.begin(), may_change.end(), key) != may_change.end())
      continue;
    changes += (changes.empty() ? "" : ", ") + option->get_name() + " " + wanted[key].dump() +
               " (the run's: " + saved[key].dump() + ")";
  }
  check(changes.empty(), "maqd train --resume", changes,
        "; a resumed run keeps the options it started with (--threads, --workers, --data-dir, "
        "--trace-steps and the number of processes may change); expected those options left out "
        "or unchanged, or another --out for a new run");
}

// --nproc: the ranks are this program again, with this command line minus
// --nproc plus each rank's place (later flags win); rank 0 keeps the
// terminal's output, the others print only their errors.
std::vector<pid_t> g_rank_pids;
volatile sig_atomic_t g_stop_forwarded = 0;

extern "C" void forward_stop(int) {
  // Ranks stop together at the next step (SIGTERM: the graceful stop).
  g_stop_forwarded = 1;
  for (pid_t pid : g_rank_pids) kill(pid, SIGTERM);
}

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  check(!args.empty(), "maqd train --nproc", "cannot read /proc/self/cmdline; expected Linux");
  return args;
}

// Starts one rank; `port_fd` (rank 0 without a given port) is the pipe end
// it reports its store's port on.
void start_rank(const std::vector<std::string>& base, int64_t rank, int64_t nproc, int64_t port,
                int64_t threads, int port_fd) {
  std::vector<std::string> argv = base;
  for (const std::string& extra :
       {std::string("--world-size"), std::to_string(nproc), std::string("--rank"), std::to_string(rank),
        std::string("--master-addr"), std::string("127.0.0.1"), std::string("--master-port"),
        std::to_string(port), std::string("--threads"), std::to_string(threads)})
    argv.push_back(extra);
  if (port_fd >= 0) {
    argv.push_back("--rank0-port-fd");
    argv.push_back(std::to_string(port_fd));
  }
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const sigset_t held = stop_signals();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec. A rank whose launcher
    // dies (killed by a sweep, say) stops like Ctrl-C, with a checkpoint.
    // The mask outlives exec; the rank lifts it once it handles the stop.
    pthread_sigmask(SIG_BLOCK, &held, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (port_fd >= 0) fcntl(port_fd, F_SETFD, 0);  // kept across exec
    if (rank > 0) {
      const int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, STDOUT_FILENO);
    }
    execv("/proc/self/exe", c_argv.data());
    _exit(127);
  }
  if (pid < 0) {
    const int error = errno;
    forward_stop(0);
    throw Error("maqd train --nproc: cannot start rank " + std::to_string(rank) + ": " +
                std::strerror(error));
  }
  g_rank_pids.push_back(pid);
}

// The port rank 0 writes once its store listens; 0 when it ended first.
int64_t read_reported_port(int fd) {
  std::string text;
  char c = 0;
  while (read(fd, &c, 1) == 1 && c != '\n') text += c;
  return text.empty() ? 0 : std::stoll(text);
}

int run_local_ranks(int64_t nproc, int64_t threads, int64_t port) {
  std::vector<std::string> base;
  const std::vector<std::string> args = own_command_line();
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") { ++i; continue; }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    base.push_back(args[i]);
  }
  // Each rank is one process, whatever a --config file it reads again says.
  base.insert(base.end(), {"--nproc", "1"});
  const int64_t hardware = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t total = threads > 0 ? threads : hardware;
  const int64_t per_rank = std::max<int64_t>(1, total / nproc);
  // Every rank takes an equal share of each batch and waits for the
  // slowest, so a spare thread on one rank would only idle; say so rather
  // than leave the user to find it.
  if (per_rank * nproc != total)
    std::printf("maqd train --nproc %lld: %lld threads over %lld ranks: each rank takes %lld, %lld in all "
                "(to use exactly --threads, give a multiple of --nproc)\n",
                (long long)nproc, (long long)total, (long long)nproc, (long long)per_rank,
                (long long)(per_rank * nproc));
  std::fflush(stdout);
  g_rank_pids.reserve(size_t(nproc));  // no reallocation under forward_stop
  std::signal(SIGINT, forward_stop);
  std::signal(SIGTERM, forward_stop);
  if (port != 0) {
    for (int64_t rank = 0; rank < nproc; ++rank) start_rank(base, rank, nproc, port, per_rank, -1);
  } else {
    // Rank 0's store takes a free port and says which; the other ranks
    // start once it listens, so no other program can take the port between
    // its choice and its use. A rank 0 that ends before (bad options, say)
    // leaves no other rank waiting for it.
    int report[2];
    check(pipe2(report, O_CLOEXEC) == 0, "maqd train --nproc", "cannot open a pipe for rank 0's port: ",
          std::strerror(errno));
    start_rank(base, 0, nproc, 0, per_rank, report[1]);
    close(report[1]);
    port = read_reported_port(report[0]);
    close(report[0]);
    if (port != 0)
      for (int64_t rank = 1; rank < nproc; ++rank) start_rank(base, rank, nproc, port, per_rank, -1);
    if (g_stop_forwarded) forward_stop(0);  // a Ctrl-C that came before they started
  }
  // Every rank's end, in any order; the first failure decides the exit code.
  int result = 0;
  for (size_t left = g_rank_pids.size(); left > 0; --left) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    const auto at = std::find(g_rank_pids.begin(), g_rank_pids.end(), pid);
    const long rank = long(at - g_rank_pids.begin());
    int code = 0;
    if (WIFEXITED(status)) code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) {
      code = 128 + WTERMSIG(status);
      std::fprintf(stderr, "maqd train --nproc: rank %ld ended by signal %d\n", rank, WTERMSIG(status));
    }
    if (code != 0 && (result == 0 || result == 130)) result = code;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_rank_pids.clear();
  return result;
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
                "Continue the run in --out from its checkpoint with its saved options; only "
                "--threads, --workers, --data-dir, --trace-steps and the number of processes may "
                "change (a flag giving another option a new value is refused). Where --out holds "
                "no checkpoint yet, a new run starts with the options given, and says so first")
      ->group("Execution");
  auto dist = std::make_shared<train::DistributedOptions>();
  auto nproc = std::make_shared<int64_t>(1);
  const std::string group = "Distributed (docs/distributed.md)";
  cmd->add_option("--nproc", *nproc,
                  "Train with N local processes together (data-parallel over Gloo), each on "
                  "its share of every batch with --threads/N threads")
      ->check(CLI::Range(1, 256))->capture_default_str()->group(group);
  cmd->add_option("--world-size", dist->world_size, "Processes in a run that spans machines (with --rank)")
      ->capture_default_str()->group(group);
  cmd->add_option("--rank", dist->rank, "This process's rank, 0 .. world-size − 1; rank 0 writes --out")
      ->capture_default_str()->group(group);
  cmd->add_option("--master-addr", dist->master_addr, "Rank 0's host: where the rendezvous store listens")
      ->capture_default_str()->group(group);
  cmd->add_option("--master-port", dist->master_port,
                  "The rendezvous port on rank 0's host (--nproc: a free one unless given)")
      ->group(group);
  cmd->add_option("--backend", dist->backend, "Collective backend: gloo")->capture_default_str()->group(group);
  cmd->add_option("--sync-norm", dist->sync_norm,
                  "Sum LBN's and BN's batch statistics over the ranks (on: N ranks compute what "
                  "one process does with the whole batch)")
      ->capture_default_str()->group(group);
  cmd->add_option("--dist-timeout", dist->timeout_seconds,
                  "Seconds a rank waits for the others before it stops with an error naming the lost rank")
      ->capture_default_str()->group(group);
  // Where a rank 0 started by --nproc without a port reports the one its store took.
  auto port_fd = std::make_shared<int>(-1);
  cmd->add_option("--rank0-port-fd", *port_fd)->group("");
  auto port_given = std::make_shared<bool>(false);
  cmd->get_option("--master-port")->each([port_given](const std::string&) { *port_given = true; });
  // A later value overrides an earlier one, so that a script's defaults can
  // be followed by the user's (scripts/main.sh passes its extra arguments on).
  for (CLI::Option* option : cmd->get_options())
    if (option->get_items_expected_max() == 1)
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->callback([cmd, config, resume, config_file, dist, nproc, port_given, port_fd] {
    if (*resume) refuse_option_changes_on_resume(*cmd, *config);
    if (*nproc > 1) {
      check(dist->world_size == 1, "maqd train", "--nproc ", *nproc, " with --world-size ",
            dist->world_size, "; expected one of them (--nproc starts the ranks on this machine)");
      exit_code() = run_local_ranks(*nproc, config->threads, *port_given ? dist->master_port : 0);
      return;
    }
    // A plain one-process run has no rendezvous: say so rather than drop the
    // flag. Not where --nproc or --world-size is given (a script's N may
    // be 1), nor on --resume (a run may continue on fewer processes with
    // its command repeated); a --config file may hold them for other runs.
    if (!*resume && cmd->count("--nproc") == 0 && cmd->count("--world-size") == 0)
      for (const char* flag : {"--rank", "--master-addr", "--master-port", "--backend", "--sync-norm",
                               "--dist-timeout"})
        check(cmd->count(flag) == 0, "maqd train", flag,
              " is for a run of several processes; expected it with --nproc N or --world-size N");
    if (*port_fd >= 0)
      dist->on_listening = [fd = *port_fd](int64_t port) {
        // A launcher that is gone closed the pipe: an error, not a silent SIGPIPE.
        const auto previous = std::signal(SIGPIPE, SIG_IGN);
        const int written = dprintf(fd, "%lld\n", (long long)port);
        const int error = errno;
        std::signal(SIGPIPE, previous);
        close(fd);
        check(written > 0, "maqd train --nproc", "rank 0 cannot tell the launcher its port (",
              std::strerror(error), "); expected the launcher still running");
      };
    const bool root = dist->rank == 0;
    const bool live = root && isatty(STDERR_FILENO);
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
    g_announce_stop = root;
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const sigset_t held = stop_signals();  // held back if --nproc started this rank
    pthread_sigmask(SIG_UNBLOCK, &held, nullptr);
    const train::TrainResult result =
        train::run_training(*config, *resume, callbacks, &g_stop_requested, *dist);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (result.interrupted) {
      if (live) std::fprintf(stderr, "\n");
      exit_code() = 130;
      if (!root) return;
      std::printf("interrupted: checkpoint saved in %s; continue with: maqd train --resume --out %s\n",
                  config->out_dir.c_str(), config->out_dir.c_str());
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
