// One model's inference on one image at a time, on one thread, in working
// memory the caller gives: what a microcontroller runs. Nothing is allocated
// and nothing is copied out of the model's bytes: weights, tables and
// thresholds are read in place (so a model in flash stays in flash), 2- and
// 4-bit weight codes are unpacked one output channel at a time into a small
// scratch. The arithmetic is the scalar kernels' (scalar_kernels.h), so the
// logits equal the hosted runtime's bit for bit.
//
//   ModelView view;  Inference inference;  Diagnostic d;
//   if (!view.open(bytes, size, &d) || !inference.prepare(view, arena, sizeof arena, &d))
//     ... d.status, d.message ...
//   inference.run(image, logits, &d);
//
// The arena holds a table of every tensor (24 bytes each), the tensors of
// one image, planned to share bytes where their lifetimes allow, the conv
// scratch and the output layer's features; arena_bytes() says how much of it
// a model uses (`maqd info` prints it for a model file).
#pragma once

#include <cstddef>
#include <cstdint>

#include "maqd_rt/core/model_view.h"
#include "maqd_rt/core/types.h"

namespace maqd_rt {

struct Placement;

class Inference {
 public:
  // The arena and the model's bytes must start at 8-byte boundaries and
  // outlive the Inference, and the CPU must be little-endian (the arrays
  // are used in place). Checks the graph (check_graph), then plans; false
  // with `diagnostic` filled when the graph breaks a rule (kBadFile), the
  // arena is too small (kLimitExceeded, naming the bytes needed, which
  // diagnostic->arena_needed holds too) or an argument is wrong
  // (kBadArgument). The first context_bytes of the arena (a multiple of 8)
  // stay the caller's (the C API keeps its context there); they count in
  // arena_bytes(), arena_needed and the messages, which so give the size
  // of the whole arena.
  bool prepare(const ModelView& view, void* arena, size_t arena_bytes, Diagnostic* diagnostic,
               size_t context_bytes = 0);

  // image: the model's input, height × width × channels bytes; logits:
  // num_classes() floats. False (kBadArgument) before prepare() succeeded
  // or for a null pointer.
  bool run(const uint8_t* image, float* logits, Diagnostic* diagnostic) const;

  bool prepared() const { return table_ != nullptr; }
  // Bytes of the arena in use (context, table, tensors, scratch, features).
  uint64_t arena_bytes() const { return arena_bytes_; }
  int32_t num_classes() const { return classes_; }
  TensorRecord input() const { return view_.tensor(0); }

 private:
  ModelView view_;
  Placement* table_ = nullptr;   // per tensor, at the arena's start
  uint8_t* tensors_ = nullptr;   // one image's tensors (table_[t].offset)
  int8_t* scratch_ = nullptr;    // one output channel's unpacked codes
  float* features_ = nullptr;    // the output layer's per-channel features
  uint64_t arena_bytes_ = 0;
  int32_t classes_ = 0;
};

}  // namespace maqd_rt
