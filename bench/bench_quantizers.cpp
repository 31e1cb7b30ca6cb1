// Fused quantizer kernels against the composed ATen version of the same
// maths (maqd::composed), forward + backward, on an activation-sized tensor
// (a VGG-¼ layer at batch 100: 100×64×28×28 floats) and a weight tensor;
// and LBN + Q_a fused (maqd::norm_activation) against LBN's module followed
// by the composed quantizer.
// Run: build/bin/bench_quantizers [--threads N]; the last lines print the
// fused/composed speed-up measured in this run.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/composed.h"
#include "maqd/ops/kernel_isa.h"
#include "maqd/ops/weight_quantizer.h"
#include "maqd/nn/normalization.h"
#include "maqd/process.h"

namespace {

using QuantFn = std::function<torch::Tensor(const torch::Tensor&)>;

// One training step's worth of quantizer work: forward, then backward.
void step(const QuantFn& quantize, const torch::Tensor& x, const torch::Tensor& upstream) {
  torch::Tensor input = x.detach().requires_grad_(true);
  torch::Tensor out = quantize(input);
  out.backward(upstream);
  benchmark::DoNotOptimize(input.grad().data_ptr());
}

struct Case {
  std::string name;
  std::vector<int64_t> shape;
  QuantFn fused, composed;
};

std::vector<Case> cases() {
  std::vector<Case> list;
  for (int64_t ma : {2, 8}) {
    const maqd::ActivationQuantOptions o{ma, maqd::Surrogate::kSigmoid, 0.25};
    list.push_back({"activation_Ma" + std::to_string(ma), {100, 64, 28, 28},
                    [o](const torch::Tensor& t) { return maqd::quantize_activation(t, o); },
                    [o](const torch::Tensor& t) { return maqd::composed::quantize_activation(t, o); }});
  }
  // LBN + Q_a in training mode: the fused op against LBN's module and the
  // composed quantizer (the weight and bias get their gradients too).
  for (int64_t ma : {2, 8}) {
    const maqd::ActivationQuantOptions o{ma, maqd::Surrogate::kSigmoid, 0.25};
    maqd::NormOptions n;
    n.channels = 64;
    maqd::Norm norm(n);
    norm->train();
    list.push_back({"lbn_activation_Ma" + std::to_string(ma), {100, 64, 28, 28},
                    [norm, o](const torch::Tensor& t) mutable { return norm->forward_activated(t, o); },
                    [norm, o](const torch::Tensor& t) mutable {
                      return maqd::composed::quantize_activation(norm->forward(t), o);
                    }});
  }
  const maqd::WeightQuantOptions w{15, maqd::WeightDelta::kFloor};
  list.push_back({"weight_Mw15", {512, 512, 3, 3},
                  [w](const torch::Tensor& t) { return maqd::quantize_standardized_weight(t, w); },
                  [w](const torch::Tensor& t) {
                    return maqd::composed::quantize_standardized_weight(t, w);
                  }});
  return list;
}

double seconds_per_step(const QuantFn& fn, const torch::Tensor& x, const torch::Tensor& g) {
  step(fn, x, g);  // warm-up: first-touch of buffers
  int reps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < 1.0 || reps < 5) {
    step(fn, x, g);
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return elapsed / reps;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::stoi(argv[i + 1]);
  const std::string cap = maqd::cap_libtorch_isa_from_environment();
  maqd::tune_allocator_for_training();  // as training runs; else page faults dominate
  torch::set_num_threads(threads);
  torch::manual_seed(0);

  for (const Case& c : cases()) {
    const torch::Tensor x = torch::randn(c.shape) * 0.5 + 0.5;
    const torch::Tensor g = torch::randn(c.shape);
    benchmark::RegisterBenchmark(("fused/" + c.name).c_str(), [=](benchmark::State& s) {
      for (auto _ : s) step(c.fused, x, g);
      s.SetItemsProcessed(s.iterations() * x.numel());
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("composed/" + c.name).c_str(), [=](benchmark::State& s) {
      for (auto _ : s) step(c.composed, x, g);
      s.SetItemsProcessed(s.iterations() * x.numel());
    })->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  // The ratios, measured back to back in this process.
  std::printf("\nforward+backward, %d threads: composed time / fused time\n", threads);
  for (const Case& c : cases()) {
    const torch::Tensor x = torch::randn(c.shape) * 0.5 + 0.5;
    const torch::Tensor g = torch::randn(c.shape);
    const double fused = seconds_per_step(c.fused, x, g);
    const double composed = seconds_per_step(c.composed, x, g);
    std::printf("  %-16s fused %8.2f ms  composed %8.2f ms  speed-up %.1fx\n", c.name.c_str(),
                fused * 1e3, composed * 1e3, composed / fused);
  }
  std::printf("ISA cap: %s\nfused kernels ran on %d threads:", cap.empty() ? "none (MAQD_ISA unset)" : cap.c_str(),
              maqd::training_kernel_threads());
  for (const auto& [kernel, isa] : maqd::kernel_isas_used())
    std::printf(" %s=%s;", kernel.c_str(), maqd::to_string(isa));
  std::printf("\n");
  return 0;
}
