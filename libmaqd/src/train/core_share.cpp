#include "maqd/train/core_share.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <torch/utils.h>

#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace maqd::train {

double cores_busy_elsewhere(uint64_t busy_ticks, uint64_t total_ticks, double own_seconds,
                            int stat_cpus, double ticks_per_second) {
  if (total_ticks == 0 || stat_cpus <= 0) return 0;
  // Wall time of the span, in ticks of one CPU.
  const double wall_ticks = double(total_ticks) / double(stat_cpus);
  const double others = double(busy_ticks) - own_seconds * ticks_per_second;
  return std::max(0.0, others / wall_ticks);
}

int threads_for_free_cores(double busy_elsewhere, int usable_cpus, int max_threads) {
  const int taken = int(std::ceil(busy_elsewhere - 0.25));
  return std::clamp(usable_cpus - std::max(taken, 0), 1, std::max(max_threads, 1));
}

CoreShare::Sample CoreShare::sample() {
  Sample s;
#if defined(__linux__)
  std::ifstream stat("/proc/stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind("cpu ", 0) != 0) return s;
  std::istringstream fields(line.substr(4));
  // user nice system idle iowait irq softirq steal
  uint64_t value[8] = {};
  for (uint64_t& v : value) fields >> v;
  if (!fields) return s;
  const uint64_t idle = value[3] + value[4];
  s.total_ticks = value[0] + value[1] + value[2] + idle + value[5] + value[6] + value[7];
  s.busy_ticks = s.total_ticks - idle;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  s.own_seconds = double(usage.ru_utime.tv_sec) + double(usage.ru_stime.tv_sec) +
                  1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  s.valid = true;
#endif
  return s;
}

CoreShare::CoreShare(int max_threads)
    : max_threads_(std::max(max_threads, 1)), threads_(max_threads_), active_(false) {
#if defined(__linux__)
  const char* fixed = std::getenv("MAQD_FIXED_THREADS");
  if (max_threads_ < 2 || (fixed && std::strcmp(fixed, "1") == 0)) return;
  std::ifstream stat("/proc/stat");
  std::string line;
  int cpus = 0;
  while (std::getline(stat, line))
    if (line.rfind("cpu", 0) == 0 && line.size() > 3 && line[3] >= '0' && line[3] <= '9') ++cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  usable_cpus_ = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : cpus;
  stat_cpus_ = cpus;
  last_ = sample();
  last_time_ = std::chrono::steady_clock::now();
  active_ = cpus > 0 && last_.valid;
#endif
}

void CoreShare::update() {
#if defined(__linux__)
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_time_ < std::chrono::seconds(1)) return;
  const Sample s = sample();
  if (!s.valid) return;
  const double busy = cores_busy_elsewhere(
      s.busy_ticks - last_.busy_ticks, s.total_ticks - last_.total_ticks,
      s.own_seconds - last_.own_seconds, stat_cpus_, double(sysconf(_SC_CLK_TCK)));
  last_ = s;
  last_time_ = now;
  const int want = threads_for_free_cores(busy, usable_cpus_, max_threads_);
  if (want != threads_) {
    threads_ = want;
    torch::set_num_threads(want);
  }
#endif
}

}  // namespace maqd::train
