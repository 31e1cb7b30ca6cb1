// What the first steps of a run do, layer by layer (maqd train
// --trace-steps N): for each hidden conv the gradient norm of its weight,
// relative to the weight's norm, and R_w; for each activation R_a of the
// training batch. One JSON line per step in trace.jsonl beside metrics.jsonl.
// Made to find why a run sits at chance: a stuck and a healthy seed side by
// side show where the gradient stops.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "maqd/nn/network.h"

namespace maqd::train {

class StepTrace {
 public:
  // Appends to `path`.
  StepTrace(Network network, const std::string& path);
  ~StepTrace();
  StepTrace(const StepTrace&) = delete;
  StepTrace& operator=(const StepTrace&) = delete;

  // Before a traced step: installs the activation hook (evaluation between
  // epochs replaces hooks, so each step installs its own).
  void arm();
  // After the step's backward (the gradients still in place): writes its
  // line and removes the hook.
  void record(int64_t step, double loss, double lr);

 private:
  Network network_;
  std::ofstream out_;
  std::vector<double> activation_ratios_;  // of the last forward, by hook index
};

std::string trace_path(const std::string& out_dir);  // trace.jsonl

}  // namespace maqd::train
