// Bytes of live CPU tensors, counted by an allocator installed in c10's
// allocator registry. This is the memory the paper compares (Fig. 3, right:
// what tensors take); the resident set size also holds freed heap that
// malloc keeps, code, and the data set, and moves by tens of MiB between
// runs of one setting.
//
// Only tensors allocated after install_tensor_memory_counter() are counted
// (a tensor allocated before keeps its own deleter and is never subtracted).
// Thread-safe: the counts are atomics.
#pragma once

#include <cstdint>

namespace maqd::train {

// Makes every later CPU tensor allocation go through the counter (it
// delegates to c10's aligned CPU allocation). Idempotent.
void install_tensor_memory_counter();
bool tensor_memory_counter_installed();

// Bytes of counted tensors alive now.
int64_t live_tensor_bytes();
// The most live bytes since the last reset_peak_tensor_bytes() (or install).
int64_t peak_tensor_bytes();
// Starts the peak again from the live bytes now.
void reset_peak_tensor_bytes();

}  // namespace maqd::train
