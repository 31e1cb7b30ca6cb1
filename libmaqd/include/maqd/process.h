// Process-wide settings and measurements used by training and benchmarks.
#pragma once

#include <cstdint>

namespace maqd {

// Keeps freed large buffers in the heap instead of returning them to the
// kernel. Every training step allocates the same activation-sized buffers;
// with glibc's defaults each one is a fresh mmap whose pages fault in again,
// which makes LibTorch's convolutions 3–4× slower. Call once at start-up.
void tune_allocator_for_training();
// The thresholds it sets, in bytes; glibc reads the same settings from the
// environment variables MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_
// (how bench_training gives its PyTorch peer the same allocator).
inline constexpr int kMallocMmapThreshold = 32 * 1024 * 1024;
inline constexpr int kMallocTrimThreshold = 4 * kMallocMmapThreshold;

// Peak resident set size of this process so far (or since reset_peak_rss),
// in bytes (getrusage).
int64_t peak_rss_bytes();

// Makes the peak start again from the current resident size (Linux ≥ 4.0:
// /proc/self/clear_refs), so that a phase's own peak can be measured.
// Returns false where the system cannot.
bool reset_peak_rss();

// Resident set size of this process now, in bytes (/proc/self/statm; 0
// where that is unavailable).
int64_t current_rss_bytes();

}  // namespace maqd
