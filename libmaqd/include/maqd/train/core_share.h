// Training threads that follow the cores other processes leave free.
//
// OpenMP's threads busy-wait at every barrier of a step. Beside another
// CPU-bound process, one of maqd's threads is often descheduled and the
// others spin until it returns: 2 threads beside one busy process on 2 cores
// trained at 0.27–0.39× their speed alone (issue 15,
// docs/results/issue15/). CoreShare measures, at most once a second, how
// many cores other processes keep busy (/proc/stat's busy time less this
// process's own CPU time) and sets LibTorch's thread count to the cores
// left, between 1 and the requested count; alone it changes nothing.
// Linux only; elsewhere, and with MAQD_FIXED_THREADS=1, it does nothing.
#pragma once

#include <chrono>
#include <cstdint>

namespace maqd::train {

class CoreShare {
 public:
  // max_threads: the thread count asked for (and set while the cores are free).
  explicit CoreShare(int max_threads);
  // Call between steps: re-measures when a second has passed since the last
  // measurement and changes the thread count if the free cores changed.
  void update();
  // The thread count in force.
  int threads() const { return threads_; }
  // Whether it may change the count (Linux, max_threads > 1, not disabled).
  bool active() const { return active_; }

 private:
  struct Sample {
    bool valid = false;
    uint64_t busy_ticks = 0, total_ticks = 0;  // all CPUs, from /proc/stat
    double own_seconds = 0;                    // this process's user + system time
  };
  static Sample sample();

  int max_threads_;
  int threads_;
  bool active_;
  int stat_cpus_ = 1;
  int usable_cpus_ = 1;
  Sample last_;
  std::chrono::steady_clock::time_point last_time_;
};

// The cores other processes keep busy between two readings, from the busy
// and total ticks over stat_cpus CPUs and this process's CPU seconds over
// the same span (ticks_per_second: sysconf(_SC_CLK_TCK)). Exposed for tests.
double cores_busy_elsewhere(uint64_t busy_ticks, uint64_t total_ticks, double own_seconds,
                            int stat_cpus, double ticks_per_second);
// The thread count for that load: the usable CPUs less the busy ones
// (rounded so that a quarter core of background noise is ignored), between
// 1 and max_threads.
int threads_for_free_cores(double busy_elsewhere, int usable_cpus, int max_threads);

}  // namespace maqd::train
