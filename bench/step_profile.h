// Where a training step's time goes, from LibTorch's own profiler: every op
// and autograd node the step runs is timed, and each one's self time (its
// time minus its children's) is charged to the category of its outermost
// enclosing op that has one (a WS forward op inside the
// "maqd::weight_standardization" scope counts as WS, its children too).
// The categories come from op and node names and from the scopes libmaqd
// records (maqd::norm_activation, maqd::optimizer, ...).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>

namespace maqd_bench {

inline const std::vector<std::string>& profile_categories() {
  static const std::vector<std::string> names = {
      "convolutions (oneDNN)", "norm + activation",  "activation quantizer",
      "weight standardization", "weight quantizer",  "pooling",
      "loss",                   "optimizer",         "other ops and autograd",
      "outside ops"};
  return names;
}

// The category of one op or autograd node by its name; "" for none.
inline std::string category_of(const std::string& name) {
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("maqd::norm_activation") || has("NormActivationFunction")) return "norm + activation";
  if (has("maqd::activation_quantizer") || has("ActivationQuantFunction"))
    return "activation quantizer";
  if (has("maqd::weight_standardization") || has("VarMeanBackward")) return "weight standardization";
  if (has("maqd::weight_quantizer") || has("WeightQuantFunction")) return "weight quantizer";
  if (has("onvolution") || has("mkldnn_conv") || has("code_conv")) return "convolutions (oneDNN)";
  if (has("avg_pool") || has("AvgPool") || has("aten::mean") || has("MeanBackward")) return "pooling";
  if (has("maqd::loss") || has("NllLoss") || has("LogSoftmax") || has("MseLoss")) return "loss";
  if (has("maqd::optimizer")) return "optimizer";
  return "";
}

struct StepProfile {
  std::vector<double> ms;  // per step, by category in profile_categories() order
  // Per category, its ops' names and self ms per step, largest first.
  std::map<std::string, std::vector<std::pair<double, std::string>>> ops;
};

// The profile of `steps` calls of `step` on this thread. "outside ops" is
// the wall time no recorded op covers (C++ glue between ops).
inline StepProfile profile_steps(int steps, const std::function<void()>& step) {
  using torch::autograd::profiler::LegacyEvent;
  std::map<std::string, double> self_us;
  std::map<std::string, std::map<std::string, double>> op_us;
  double recorded_us = 0;
  const auto start = std::chrono::steady_clock::now();
  auto end = start;
  {
    torch::autograd::profiler::TLSLegacyProfilerGuard guard(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU),
        [&](const torch::autograd::profiler::thread_event_lists& lists) {
          for (const auto& events : lists) {
            struct Open {
              const LegacyEvent* push;
              std::string category;
              double child_us = 0;
            };
            std::vector<Open> stack;
            for (const LegacyEvent& e : events) {
              if (e.kindStr() == "push") {
                const std::string own = category_of(e.name());
                std::string category = own;
                // The outermost categorized ancestor wins.
                for (const Open& o : stack)
                  if (!o.category.empty()) {
                    category = o.category;
                    break;
                  }
                stack.push_back({&e, category});
              } else if (e.kindStr() == "pop" && !stack.empty()) {
                const Open open = stack.back();
                stack.pop_back();
                const double total = open.push->cpuElapsedUs(e);
                const double self = std::max(0.0, total - open.child_us);
                const std::string category =
                    open.category.empty() ? "other ops and autograd" : open.category;
                self_us[category] += self;
                op_us[category][open.push->name()] += self;
                if (stack.empty()) recorded_us += total;
                else stack.back().child_us += total;
              }
            }
          }
        });
    for (int s = 0; s < steps; ++s) step();
    end = std::chrono::steady_clock::now();
  }
  const double wall_us = std::chrono::duration<double, std::micro>(end - start).count();
  self_us["outside ops"] = std::max(0.0, wall_us - recorded_us);
  StepProfile profile;
  for (const std::string& name : profile_categories()) {
    profile.ms.push_back(self_us[name] / 1e3 / steps);
    auto& list = profile.ops[name];
    for (const auto& [op, us] : op_us[name]) list.emplace_back(us / 1e3 / steps, op);
    std::sort(list.rbegin(), list.rend());
  }
  return profile;
}

}  // namespace maqd_bench
