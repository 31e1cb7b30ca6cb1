// The op graph's rules (docs/format.md, "What a reader checks"; the maths
// in maqd_rt/model.hpp), checked on an opened ModelView in the core: dtypes,
// shapes, array sizes, the order in which ops write and read tensors, and
// the value range of every tensor, from which it proves that no integer
// accumulator can overflow. The hosted validate(Model) runs the same
// checks (one template, core/src/graph_check.h) on its in-memory model.
#pragma once

#include <cstdint>

#include "maqd_rt/core/model_view.h"
#include "maqd_rt/core/types.h"

namespace maqd_rt {

// The values an integer tensor can hold, proved from the input's 0..255
// and each op's arrays; {0, 0} for the float logits.
struct ValueRange {
  int64_t low = 0, high = 0;
  int64_t magnitude() const { return low < -high ? -low : high; }
};

// Caps that keep every later size computation (bytes, indices, sums over a
// map) inside int64 and every per-image element index inside int32.
inline constexpr int64_t kMaxTensorElements = (int64_t(1) << 31) - 1;
inline constexpr int64_t kMaxArrayElements = (int64_t(1) << 31) - 1;
inline constexpr uint64_t kMaxTensors = uint64_t(1) << 20;
inline constexpr uint64_t kMaxOps = uint64_t(1) << 20;
inline constexpr int32_t kMaxKernel = 255;

// Checks the graph of `view` (opened). `ranges` has view.tensor_count()
// entries and receives each tensor's ValueRange. On failure returns false
// and writes "model: op 3 'conv2' (conv): weights: ...; expected ..." into
// `diagnostic` (when not null). No heap, no exceptions; linear in the
// model's size.
bool check_graph(const ModelView& view, ValueRange* ranges, Diagnostic* diagnostic);

}  // namespace maqd_rt
