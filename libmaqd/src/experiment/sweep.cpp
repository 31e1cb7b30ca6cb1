// The sweep planner and its process scheduler (maqd/experiment/sweep.h);
// `maqd sweep` is a thin command over them.
#include "maqd/experiment/sweep.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "maqd/error.h"
#include "maqd/experiment/summary.h"

namespace maqd::experiment {

// Named, not anonymous: libmaqd builds its sources in unity batches.
namespace sweep_internal {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// One option value, as it is passed on the command line.
using Value = std::string;

std::string shortest_number(double v) {
  char text[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, v);
    if (std::strtod(text, nullptr) == v) break;
  }
  return text;
}

Value value_of(const toml::node& node, const std::string& where) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* n = node.as_integer()) return std::to_string(n->get());
  if (const auto* f = node.as_floating_point()) return shortest_number(f->get());
  throw Error(where + ": expected a string, number or boolean (or an array of them)");
}

using Dimensions = std::map<std::string, std::vector<Value>>;

// A key a sweep's runs cannot take, refused with where it belongs instead.
void check_run_option(const std::vector<std::string>& allowed, const std::string& name, const char* where) {
  check(name != "nproc" && name != "world-size", where, "key '", name,
        "' is the sweep's to give: maqd sweep --nproc N trains each run over N processes");
  check(std::find(allowed.begin(), allowed.end(), name) != allowed.end(), where, "unknown key '", name,
        "'; expected a long option of 'maqd train' (see maqd train --help)");
}

void read_dimensions(const toml::table& table, const std::string& where,
                     const std::vector<std::string>& allowed, Dimensions& into) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    check_run_option(allowed, name, where.c_str());
    std::vector<Value> values;
    if (const auto* array = node.as_array()) {
      for (const auto& item : *array) values.push_back(value_of(item, where + "." + name));
      check(!values.empty(), where.c_str(), "key '", name, "' is an empty array; expected values");
    } else {
      values.push_back(value_of(node, where + "." + name));
    }
    into[name] = values;
  }
}

SweepPlan make_plan(const std::string& path, const toml::table& file,
                    const std::vector<std::string>& overrides, const std::string& out_dir,
                    const TrainOptionTable& table) {
  const std::vector<std::string>& names = table.names;
  SweepPlan plan;
  plan.source = path;
  plan.out = out_dir;
  Dimensions base;
  std::vector<Dimensions> grids;
  for (const auto& [key, node] : file) {
    const std::string k(key.str());
    if (k == "description" && node.is_string()) plan.description = node.as_string()->get();
    else if (k == "out" && node.is_string()) continue;  // read by run_sweep
    else if (k == "base" && node.is_table()) read_dimensions(*node.as_table(), path + ": [base]", names, base);
    else if (k == "grid" && node.is_table()) {
      grids.emplace_back();
      read_dimensions(*node.as_table(), path + ": [grid]", names, grids.back());
    } else if (k == "grid" && node.is_array_of_tables()) {
      for (const auto& item : *node.as_array()) {
        grids.emplace_back();
        read_dimensions(*item.as_table(), path + ": [[grid]] " + std::to_string(grids.size()), names,
                        grids.back());
      }
    } else {
      throw Error(path + ": unexpected key '" + k +
                  "'; expected description = \"…\", out = \"folder\", [base] and [grid] or [[grid]]");
    }
  }
  Dimensions forced;
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    check(eq != std::string::npos && eq > 0, "--set", "'", o, "' is not KEY=VALUE");
    const std::string k = o.substr(0, eq);
    check_run_option(names, k, "--set");
    forced[k] = {o.substr(eq + 1)};
  }
  if (grids.empty()) grids.emplace_back();

  // Every combination, with options in `maqd train --help` order.
  std::vector<std::map<std::string, Value>> combos;
  for (const Dimensions& grid : grids) {
    Dimensions dims = base;
    for (const auto& [k, v] : grid) dims[k] = v;
    for (const auto& [k, v] : forced) dims[k] = v;
    std::vector<std::map<std::string, Value>> partial{{}};
    for (const std::string& k : names) {
      if (!dims.count(k)) continue;
      std::vector<std::map<std::string, Value>> next;
      for (const auto& p : partial)
        for (const Value& v : dims[k]) {
          auto q = p;
          q[k] = v;
          next.push_back(q);
        }
      partial = std::move(next);
    }
    for (auto& c : partial)
      if (std::find(combos.begin(), combos.end(), c) == combos.end()) combos.push_back(c);
  }
  // Names from the options that differ between runs (execution ones excluded).
  std::vector<std::string> varied;
  for (const std::string& k : names) {
    if (k == "threads" || k == "workers" || k == "data-dir") continue;
    std::set<std::string> seen;
    for (const auto& c : combos) seen.insert(c.count(k) ? c.at(k) : std::string(1, '\1') + "default");
    if (seen.size() > 1) varied.push_back(k);
  }
  for (const auto& c : combos) {
    SweepRun run;
    for (const std::string& k : varied)
      run.name += (run.name.empty() ? "" : ",") + k + "=" + (c.count(k) ? c.at(k) : std::string("default"));
    if (run.name.empty()) run.name = "run";
    for (const std::string& k : names)
      if (c.count(k)) run.options.emplace_back(k, c.at(k));
    try {
      run.config = table.resolve(run.options, (fs::path(out_dir) / run.name).string());
    } catch (const Error& e) {
      throw Error(path + ": run " + run.name + ": " + e.what());
    }
    plan.runs.push_back(std::move(run));
  }
  return plan;
}

// The settings of a run that must match for its folder to be reused.
nlohmann::json comparable(nlohmann::json config) {
  for (const char* f : {"out_dir", "threads", "workers", "data_dir", "device"}) config.erase(f);
  return config;
}


std::atomic<int> g_signals{0};
extern "C" void on_sweep_signal(int) { g_signals.fetch_add(1); }

struct Child {
  pid_t pid = -1;
  size_t index = 0;
  fs::path log;
  std::streamoff printed = 0;
  Clock::time_point start;
  int lock_fd = -1;
};

// Locks the run folder for the child's lifetime: the child inherits the
// descriptor, so a sweep started again while an orphaned child still saves
// its checkpoint waits for it instead of racing it.
int lock_folder(const fs::path& folder, const std::string& name) {
  fs::create_directories(folder);
  const std::string path = (folder / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  check(fd >= 0, path.c_str(), "cannot open the lock file");
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::printf("[%s] waiting for an earlier process still working in %s\n", name.c_str(),
                folder.string().c_str());
    std::fflush(stdout);
    flock(fd, LOCK_EX);
  }
  return fd;
}

pid_t spawn(const std::string& executable, const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = fork();
  check(pid >= 0, "maqd sweep", "fork failed");
  if (pid > 0) return pid;
  // Child: its own process group (the sweep forwards Ctrl-C once, as
  // SIGTERM), stopped like Ctrl-C if the sweep dies.
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(executable.c_str(), argv.data());
  std::perror("maqd sweep: exec");
  _exit(127);
}

// New complete lines of a child's log, prefixed with its run name.
void echo_log(Child& child, const std::string& name) {
  std::ifstream in(child.log, std::ios::binary);
  if (!in) return;
  in.seekg(child.printed);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // an incomplete last line: print it when it ends
    child.printed += std::streamoff(line.size() + 1);
    std::printf("[%s] %s\n", name.c_str(), line.c_str());
  }
  std::fflush(stdout);
}

std::string duration(double seconds) {
  const long s = long(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return text;
}

}  // namespace sweep_internal

using namespace sweep_internal;

SweepPlan plan_sweep(const std::string& toml_text, const std::string& source,
                     const std::vector<std::string>& overrides, const std::string& out,
                     const TrainOptionTable& options) {
  toml::table file;
  try {
    file = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw Error(source + ": line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const std::string folder =
      !out.empty() ? out : file["out"].value_or(std::string("sweeps/") + fs::path(source).stem().string());
  return make_plan(source, file, overrides, folder, options);
}

SweepPlan plan_sweep_file(const std::string& path, const std::vector<std::string>& overrides,
                          const std::string& out, const TrainOptionTable& options) {
  std::ifstream in(path, std::ios::binary);
  check(bool(in), path.c_str(), "cannot open the sweep file");
  std::ostringstream text;
  text << in.rdbuf();
  return plan_sweep(text.str(), path, overrides, out, options);
}

void keep_only(SweepPlan& plan, const std::vector<std::string>& parts) {
  if (parts.empty()) return;
  // Names are comma-separated KEY=VALUE parts; whole parts match.
  auto selected = [&](const SweepRun& run) {
    const std::string name = "," + run.name + ",";
    for (const std::string& part : parts)
      if (name.find("," + part + ",") == std::string::npos) return false;
    return true;
  };
  std::vector<SweepRun> kept;
  for (const SweepRun& run : plan.runs)
    if (selected(run)) kept.push_back(run);
  if (kept.empty()) {
    std::string given;
    for (const std::string& part : parts) given += (given.empty() ? "" : " ") + part;
    throw Error(plan.source + ": --only " + given + ": no run of the sweep has every one of these "
                "parts; expected whole parts of the run names, which look like '" +
                (plan.runs.empty() ? std::string("key=value,...") : plan.runs.front().name) + "'");
  }
  plan.runs = std::move(kept);
}

RunState run_state(const SweepRun& run, const fs::path& folder) {
  const fs::path config_path = folder / "config.json";
  if (fs::exists(config_path)) {
    std::ifstream in(config_path);
    const auto saved = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json want = comparable(train::to_json(run.config));
    if (!saved.is_discarded() && fs::exists(folder / "checkpoint.pt")) {
      const nlohmann::json have = comparable(saved);
      for (const auto& [field, value] : want.items())
        check(have.value(field, nlohmann::json()) == value, config_path.string().c_str(),
              "this folder holds a run whose field ", field, " is ",
              have.value(field, nlohmann::json()).dump(), "; the sweep asks for ", value.dump(),
              ". Delete the folder or choose another --out");
    }
  }
  if (fs::exists(folder / "summary.json")) return RunState::kDone;
  if (fs::exists(folder / "checkpoint.pt")) return RunState::kResume;
  return RunState::kNew;
}

int run_sweep(const SweepPlan& plan, const std::string& sweep_file, const SweepProcesses& a) {
  const std::string& out = plan.out;
  const int threads_per_run = a.threads_per_run;

  std::vector<RunState> states;
  size_t done = 0;
  for (const SweepRun& run : plan.runs) {
    states.push_back(run_state(run, fs::path(out) / run.name));
    done += states.back() == RunState::kDone;
  }
  std::printf("sweep %s: %zu runs in %s (%zu done), %d at once, %d thread%s each\n", sweep_file.c_str(),
              plan.runs.size(), out.c_str(), done, a.jobs, threads_per_run,
              threads_per_run == 1 ? "" : "s");
  if (!plan.description.empty()) std::printf("  %s\n", plan.description.c_str());
  auto command_of = [&](size_t i) {
    const SweepRun& run = plan.runs[i];
    std::vector<std::string> args{"maqd", "train"};
    bool has_threads = false;
    for (const auto& [k, v] : run.options) {
      args.push_back("--" + k);
      args.push_back(v);
      has_threads |= k == "threads";
    }
    if (!has_threads) {
      args.push_back("--threads");
      args.push_back(std::to_string(threads_per_run));
    }
    if (a.processes_per_run > 1) {
      args.push_back("--nproc");
      args.push_back(std::to_string(a.processes_per_run));
    }
    args.push_back("--out");
    args.push_back((fs::path(out) / run.name).string());
    if (states[i] == RunState::kResume) args.push_back("--resume");
    return args;
  };
  auto joined = [](const std::vector<std::string>& args) {
    std::string text;
    for (const std::string& s : args) text += (text.empty() ? "" : " ") + s;
    return text;
  };
  if (a.dry_run) {
    for (size_t i = 0; i < plan.runs.size(); ++i) {
      const char* state = states[i] == RunState::kDone ? "done" : states[i] == RunState::kResume ? "resume" : "new";
      std::printf("  %-6s %s\n         %s\n", state, plan.runs[i].name.c_str(), joined(command_of(i)).c_str());
    }
    return 0;
  }
  fs::create_directories(out);
  fs::copy_file(sweep_file, fs::path(out) / "sweep.toml", fs::copy_options::overwrite_existing);

  g_signals.store(0);
  struct sigaction action {};
  action.sa_handler = on_sweep_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::vector<Child> running;
  std::vector<std::string> failed;
  size_t next = 0, finished = done;
  int forwarded = 0;
  const auto sweep_start = Clock::now();
  while (true) {
    const int signals = g_signals.load();
    if (signals > forwarded) {
      // First Ctrl-C: every run saves a checkpoint and stops; second: at once.
      // The whole process group each run leads: its ranks too, with --nproc.
      for (const Child& c : running) kill(-c.pid, signals == 1 ? SIGTERM : SIGKILL);
      if (forwarded == 0)
        std::printf("stopping: each running run saves a checkpoint (Ctrl-C again to kill them)\n");
      forwarded = signals;
    }
    while (signals == 0 && int(running.size()) < a.jobs && next < plan.runs.size()) {
      const size_t i = next++;
      const SweepRun& run = plan.runs[i];
      if (states[i] == RunState::kDone) {
        std::printf("[%s] done already: skipped\n", run.name.c_str());
        continue;
      }
      const fs::path folder = fs::path(out) / run.name;
      Child child;
      child.lock_fd = lock_folder(folder, run.name);
      states[i] = run_state(run, folder);  // an earlier process may have finished it meanwhile
      if (states[i] == RunState::kDone) {
        ::close(child.lock_fd);
        ++finished;
        continue;
      }
      child.index = i;
      child.log = folder / "train.log";
      child.start = Clock::now();
      if (fs::exists(child.log)) child.printed = std::streamoff(fs::file_size(child.log));
      const std::vector<std::string> args = command_of(i);
      { std::ofstream(folder / "command.txt", std::ios::trunc) << joined(args) << "\n"; }
      child.pid = spawn(a.executable, args, child.log);
      std::printf("[%s] %s (%zu/%zu; log %s)\n", run.name.c_str(),
                  states[i] == RunState::kResume ? "resumed" : "started", i + 1, plan.runs.size(),
                  child.log.c_str());
      std::fflush(stdout);
      running.push_back(child);
    }
    if (running.empty()) break;
    for (Child& c : running) echo_log(c, plan.runs[c.index].name);
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    const auto it = std::find_if(running.begin(), running.end(), [&](const Child& c) { return c.pid == pid; });
    if (it == running.end()) continue;
    Child child = *it;
    running.erase(it);
    echo_log(child, plan.runs[child.index].name);
    ::close(child.lock_fd);
    const std::string& name = plan.runs[child.index].name;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const double seconds = std::chrono::duration<double>(Clock::now() - child.start).count();
    if (code == 0) {
      ++finished;
      std::printf("[%s] finished in %s (%zu/%zu runs done, sweep %s)\n", name.c_str(),
                  duration(seconds).c_str(), finished, plan.runs.size(),
                  duration(std::chrono::duration<double>(Clock::now() - sweep_start).count()).c_str());
    } else if (forwarded > 0) {
      std::printf("[%s] stopped (exit %d); run the sweep again to resume it\n", name.c_str(), code);
    } else {
      failed.push_back(name);
      std::printf("[%s] FAILED with exit code %d; see %s\n", name.c_str(), code, child.log.c_str());
    }
    std::fflush(stdout);
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);

  const auto rows = write_summary(out);
  std::printf("summary: %s/summary.md and summary.csv (%zu rows); plots: maqd plot %s\n", out.c_str(),
              rows.size(), out.c_str());

  if (forwarded > 0) {
    std::printf("interrupted: %zu of %zu runs done; run the same command again to continue\n",
                finished, plan.runs.size());
    return 130;
  }
  if (!failed.empty()) {
    std::string list;
    for (const std::string& f : failed) list += " " + f;
    std::printf("%zu run(s) failed:%s\n", failed.size(), list.c_str());
    return 1;
  }
  return 0;
}

}  // namespace maqd::experiment
