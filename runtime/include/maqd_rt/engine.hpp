// Runs a loaded model on batches of 8-bit images with integer kernels.
//
// Everything is prepared at construction: the ISA (detected once, capped by
// MAQD_ISA), the weights in the kernels' layouts, and one arena holding
// every intermediate buffer of `threads` images in flight plus each
// thread's scratch, planned from the tensors' lifetimes. run() allocates
// nothing. Batches split over images; a batch smaller than the thread count
// splits each conv over output rows (with the requant after it) or, for
// layers of fewer rows than two per thread, over output channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maqd_rt/model.hpp"

namespace maqd_rt {

// The most threads an Engine takes: each holds a slot of the arena and a
// thread, so a mistyped count (100000) would ask for gigabytes and hang.
inline constexpr int kMaxEngineThreads = 256;

// The default bound on an Engine's arena (all threads' tensors and scratch):
// 1 GiB, hundreds of times what the networks of docs/results.md need
// (VGG 1/4: 221 248 bytes per thread), so that a file whose shapes pass the
// format's checks but ask for gigabytes is refused before anything is
// allocated.
inline constexpr size_t kDefaultMaxArenaBytes = size_t(1) << 30;

struct EngineOptions {
  int threads = 1;  // 1 … kMaxEngineThreads; Engine throws maqd_rt::Error otherwise
  // A model whose arena would exceed this is refused with an Error
  // (Status::kLimitExceeded) naming its largest tensor.
  size_t max_arena_bytes = kDefaultMaxArenaBytes;
  // Give every tensor its own buffer, so that tensor_data() shows every
  // layer's output after run() (tests compare them with LibTorch's). Every
  // op then runs on its own: a conv whose kernel could take the requant
  // after it (op_kernel) writes its int32 sums, at some cost in speed.
  bool keep_tensors = false;
  // Time every op of every run() (two clock reads per op; see op_seconds).
  bool profile = false;
};

class Engine {
 public:
  // Throws maqd_rt::Error for an invalid model, a thread count outside
  // 1 … kMaxEngineThreads, or an arena above options.max_arena_bytes.
  explicit Engine(Model model, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // images: batch × [height][width][channels] u8, the model's input shape;
  // logits: batch × num_classes floats.
  void run(const uint8_t* images, int64_t batch, float* logits);

  // With keep_tensors: tensor t (dtype and shape in model().tensors[t]) of
  // the last image of the last run() that the first thread handled. Tensor
  // 0 (the input) and the last op's output (the logits) are not held.
  const void* tensor_data(int32_t tensor) const;

  // With profile: the seconds each op of model().ops has taken over all
  // run() calls so far, summed over the threads that ran it (a thread's
  // wait for the others in a split image is not charged to any op).
  std::vector<double> op_seconds() const;
  // The kernel op i runs, e.g. "avx512 u8 vpdpbusd"; "" for ops other than
  // convs, whose code is the same for every model. A conv whose kernel
  // also runs the requant after it ends in ", requant", and that requant
  // (charged no time) says "in the conv before".
  std::string op_kernel(size_t op) const;

  const Model& model() const;
  size_t arena_bytes() const;  // the whole arena: buffers and scratch
  // RAM the load-time transform of the conv weights holds beyond the
  // model: the layout the chosen ISA's kernels read (for the scalar
  // kernels, the codes unpacked to one byte each; the core instead reads
  // the file's packed codes).
  size_t prepared_weight_bytes() const;
  const char* isa() const;     // "scalar", "avx2", "avx512", "neon" or "neondot"
  int threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The level the environment variable MAQD_ISA caps the kernels at: 0
// (scalar), 1 (avx2 or neon), 2 (avx512 or neondot), or −1 where it is
// unset or empty; a name of the other CPU family caps at its level. Throws
// maqd_rt::Error naming the allowed values for any other value. Read on
// each call. (libmaqd's training kernels take their cap from it too.)
int isa_cap_level();

}  // namespace maqd_rt
