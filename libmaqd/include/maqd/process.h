// Process-wide settings and measurements used by training and benchmarks.
#pragma once

#include <cstdint>

namespace maqd {

// Keeps freed large buffers in the heap instead of returning them to the
// kernel. Every training step allocates the same activation-sized buffers;
// with glibc's defaults each one is a fresh mmap whose pages fault in again,
// which makes LibTorch's convolutions 3–4× slower. Call once at start-up.
void tune_allocator_for_training();

// Peak resident set size of this process so far, in bytes (getrusage).
int64_t peak_rss_bytes();

}  // namespace maqd
