// A fixed set of worker threads that run one parallel loop at a time; the
// calling thread is worker 0. Created once per Engine so that run() never
// starts threads.
//
// At batch 1 the engine runs one parallel loop per layer, a few microseconds
// of work each: waking sleeping threads through a condition variable costs
// as much as the layer. So workers spin on an atomic generation counter for
// a short while (kSpins pauses, about a millisecond on a Zen 3) before they sleep, and
// the caller spins on the count of workers still busy. Both yield the core
// every kPausesPerYield pauses: with more threads than free cores, the
// thread one waits for may be queued behind it on the same core, and would
// otherwise run only after the whole spin (about 1 ms a layer on a Zen 3,
// 50 times the work of the layer at batch 1).
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "maqd_rt/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace maqd_rt {

class ThreadPool {
 public:
  // Throws maqd_rt::Error (Status::kOutOfMemory) when the system cannot
  // start a thread, after stopping the ones already started.
  explicit ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
    int w = 1;
    try {
      for (; w < size_; ++w) workers_.emplace_back([this, w] { work(w); });
    } catch (const std::exception& e) {
      stop();
      throw Error("maqd-rt: cannot start thread " + std::to_string(w) + " of " + std::to_string(size_) +
                      ": " + e.what(),
                  Status::kOutOfMemory);
    }
  }
  ~ThreadPool() { stop(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // Calls body(worker) once on each worker, 0 … size()−1, and waits; the
  // first exception thrown is rethrown here. One caller at a time. The body
  // is passed by reference, not wrapped in a std::function, which would
  // allocate for a lambda of more than two captures on every call.
  template <typename Body>
  void run(const Body& body) {
    if (size_ == 1) {
      body(0);
      return;
    }
    body_ = &body;
    call_ = [](const void* b, int worker) { (*static_cast<const Body*>(b))(worker); };
    error_ = nullptr;
    pending_.store(size_ - 1, std::memory_order_relaxed);
    {
      // Under the mutex, so that a worker about to sleep sees the new
      // generation in its wait predicate or gets the notification.
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    start_.notify_all();
    std::exception_ptr own;
    try {
      body(0);
    } catch (...) {
      own = std::current_exception();
    }
    for (long spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) wait_a_little(spins);
    body_ = nullptr;
    call_ = nullptr;
    if (own) std::rethrow_exception(own);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    start_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }
  static constexpr long kSpins = 1 << 15;
  static constexpr long kPausesPerYield = 1 << 8;  // a few microseconds

  // One step of a spin wait: a pause, a yield every kPausesPerYield steps,
  // and only yields once the spin is over.
  static void wait_a_little(long spins) {
#if defined(__x86_64__) || defined(__i386__)
    if (spins < kSpins && (spins + 1) % kPausesPerYield != 0) {
      _mm_pause();
      return;
    }
#endif
    std::this_thread::yield();
  }

  void work(int worker) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t now = generation_.load(std::memory_order_acquire);
      for (long spins = 0; now == seen && !stopping_.load(std::memory_order_relaxed); ++spins) {
        if (spins < kSpins) {
          wait_a_little(spins);
        } else {
          std::unique_lock<std::mutex> lock(mutex_);
          start_.wait(lock, [&] {
            return stopping_.load() || generation_.load(std::memory_order_acquire) != seen;
          });
        }
        now = generation_.load(std::memory_order_acquire);
      }
      if (stopping_.load()) return;
      seen = now;
      try {
        call_(body_, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  const void* body_ = nullptr;                    // published by generation_
  void (*call_)(const void*, int worker) = nullptr;  // calls *body_
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;  // written under mutex_, read after pending_ reaches 0
};

}  // namespace maqd_rt
