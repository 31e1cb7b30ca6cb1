// The fused normalization + activation (maqd::norm_activation) against the
// composed ops it replaces (LayerBatchNorm or torch::nn::BatchNorm2d, then
// maqd::composed::quantize_activation or ReLU), run by autograd in float64:
// values, gradients with respect to x, γ and β, and the running statistics.
// Shapes include 1×1 planes, planes that are not a multiple of the kernels'
// 16 lanes, planes longer than their 1024-element flush, and data far from
// zero (shifted moments). Float32 runs of every ISA variant this CPU has
// (MAQD_ISA) are checked against the same float64 reference.
#include "maqd/ops/norm_activation.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/scoped_env.h"
#include "common/seed.h"
#include "maqd/error.h"
#include "maqd/nn/normalization.h"
#include "maqd/ops/composed.h"
#include "maqd/ops/kernel_isa.h"

namespace {

using maqd::ActivationQuantOptions;
using maqd::Surrogate;

using maqd_test::ScopedEnv;

struct Case {
  std::string name;
  std::optional<ActivationQuantOptions> quant;
};

std::vector<Case> activation_cases() {
  return {{"relu", std::nullopt},
          {"sigmoid_Ma2", ActivationQuantOptions{2, Surrogate::kSigmoid, 0.25}},
          {"sigmoid_Ma8", ActivationQuantOptions{8, Surrogate::kSigmoid, 0.25}},
          {"literal_Ma4", ActivationQuantOptions{4, Surrogate::kLiteral, 0.25}},
          {"ste_Ma4", ActivationQuantOptions{4, Surrogate::kSte, 0.25}}};
}

struct Result {
  torch::Tensor y, dx, dweight, dbias, running_mean, running_var;
};

// One forward and backward with upstream gradient `probe`, fused or composed.
Result run(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
           const torch::Tensor& probe, bool per_channel, const std::optional<ActivationQuantOptions>& quant,
           bool fused) {
  torch::Tensor xin = x.detach().clone().requires_grad_(true);
  torch::Tensor w = weight.detach().clone().requires_grad_(true);
  torch::Tensor b = bias.detach().clone().requires_grad_(true);
  const auto type = torch::dtype(x.scalar_type());
  torch::Tensor running_mean = per_channel ? torch::zeros({x.size(1)}, type) : torch::zeros({}, type);
  torch::Tensor running_var = per_channel ? torch::ones({x.size(1)}, type) : torch::ones({}, type);
  if (fused) {
    maqd::NormActivationOptions o;
    o.per_channel = per_channel;
    o.quant = quant;
    const torch::Tensor y = maqd::norm_activation(xin, w, b, running_mean, running_var, o);
    (y * probe).sum().backward();
    return {y.detach(), xin.grad(), w.grad(), b.grad(), running_mean, running_var};
  }
  torch::Tensor normalized;
  if (per_channel) {
    normalized = torch::batch_norm(xin, w, b, running_mean, running_var, /*training=*/true, 0.1,
                                   1e-5, /*cudnn_enabled=*/false);
  } else {
    maqd::LayerBatchNorm lbn(x.size(1));
    lbn->to(x.scalar_type());
    {
      torch::NoGradGuard no_grad;
      lbn->weight.copy_(w);
      lbn->bias.copy_(b);
    }
    normalized = lbn->forward(xin);
    // γ and β's gradients arrive on the module's own parameters.
    w = lbn->weight;
    b = lbn->bias;
    running_mean = lbn->running_mean;
    running_var = lbn->running_var;
  }
  const torch::Tensor y =
      quant ? maqd::composed::quantize_activation(normalized, *quant) : torch::relu(normalized);
  (y * probe).sum().backward();
  return {y.detach(), xin.grad(), w.grad(), b.grad(), running_mean, running_var};
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// Largest difference relative to the reference's largest magnitude, or
// absolute where that is below 1 (a single-element batch has dx = 0).
double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const torch::Tensor g = got.to(torch::kDouble), w = want.to(torch::kDouble);
  return max_abs(g - w) / std::max(max_abs(w), 1.0);
}

struct Shape {
  std::vector<int64_t> sizes;
  double offset;  // added to the data: moments far from zero
};

const std::vector<Shape> kShapes = {
    {{3, 5, 4, 6}, 0.0},  {{1, 1, 1, 1}, 0.0},   {{2, 3, 1, 1}, 0.5},
    {{4, 7, 3, 5}, 0.0},  {{2, 2, 40, 40}, 0.0}, {{3, 4, 5, 7}, 100.0},
};

TEST(NormActivation, MatchesComposedOpsInFloat64) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (const Shape& shape : kShapes)
    for (bool per_channel : {false, true})
      for (const Case& c : activation_cases()) {
        // BN of one value per channel has no unbiased variance (BatchNorm2d refuses it).
        if (per_channel && shape.sizes[0] * shape.sizes[2] * shape.sizes[3] == 1) continue;
        SCOPED_TRACE(c.name + (per_channel ? " BN " : " LBN ") + c10::str(shape.sizes));
        const auto f64 = torch::dtype(torch::kDouble);
        const torch::Tensor x = torch::randn(shape.sizes, f64) * 1.5 + shape.offset;
        const int64_t channels = shape.sizes[1];
        const torch::Tensor weight = torch::rand({channels}, f64) + 0.5;
        const torch::Tensor bias = torch::randn({channels}, f64) * 0.2 + 0.3;
        const torch::Tensor probe = torch::randn(shape.sizes, f64);
        const Result want = run(x, weight, bias, probe, per_channel, c.quant, false);
        const Result got = run(x, weight, bias, probe, per_channel, c.quant, true);
        // A single element with variance 0 normalizes to exactly β: both agree.
        EXPECT_LT(relative_error(got.y, want.y), 1e-12);
        EXPECT_LT(relative_error(got.dx, want.dx), 1e-9);
        EXPECT_LT(relative_error(got.dweight, want.dweight), 1e-9);
        EXPECT_LT(relative_error(got.dbias, want.dbias), 1e-9);
        EXPECT_LT(relative_error(got.running_mean, want.running_mean), 1e-12);
        EXPECT_LT(relative_error(got.running_var, want.running_var), 1e-12);
      }
}

// Each ISA variant in float32 against the float64 composed reference: a
// quantized value may differ where the float32 rounding argument sits within
// float32's precision of a tie (a few in a million), gradients to 1e-4.
TEST(NormActivation, EveryIsaVariantInFloat32) {
  MAQD_SEEDED(seed);
  for (maqd::KernelIsa isa : maqd::available_kernel_isas()) {
    const char* value = isa == maqd::KernelIsa::kAvx512 ? "avx512"
                        : isa == maqd::KernelIsa::kAvx2 ? "avx2"
                                                        : "scalar";
    ScopedEnv env("MAQD_ISA", value);
    SCOPED_TRACE(std::string("MAQD_ISA=") + value);
    torch::manual_seed(seed);
    for (bool per_channel : {false, true})
      for (const Case& c : activation_cases()) {
        SCOPED_TRACE(c.name + (per_channel ? " BN" : " LBN"));
        const std::vector<int64_t> sizes{8, 6, 9, 11};
        const auto f64 = torch::dtype(torch::kDouble);
        const torch::Tensor x = torch::randn(sizes, f64) * 2.0 + 0.7;
        const torch::Tensor weight = torch::rand({sizes[1]}, f64) + 0.5;
        const torch::Tensor bias = torch::randn({sizes[1]}, f64) * 0.2 + 0.3;
        const torch::Tensor probe = torch::randn(sizes, f64);
        const Result want = run(x, weight, bias, probe, per_channel, c.quant, false);
        const Result got = run(x.to(torch::kFloat), weight.to(torch::kFloat),
                               bias.to(torch::kFloat), probe.to(torch::kFloat), per_channel,
                               c.quant, true);
        const torch::Tensor off = (got.y.to(torch::kDouble) - want.y).abs() > 1e-5;
        EXPECT_LE(off.sum().item<int64_t>(), 2) << "values differing by a level";
        if (!c.quant) EXPECT_LT(relative_error(got.y, want.y), 1e-5);
        // With a flipped level the surrogate gradient is unaffected; the STE
        // and ReLU masks may flip one element at a boundary.
        EXPECT_LT(relative_error(got.dx, want.dx), 1e-3);
        EXPECT_LT(relative_error(got.dweight, want.dweight), 1e-3);
        EXPECT_LT(relative_error(got.dbias, want.dbias), 1e-3);
        EXPECT_LT(relative_error(got.running_var, want.running_var), 1e-5);
      }
    bool reported = false;
    for (const auto& [kernel, used] : maqd::kernel_isas_used())
      if (kernel == "norm_activation_backward") {
        EXPECT_EQ(used, isa);
        reported = true;
      }
    EXPECT_TRUE(reported) << "kernel_isas_used() does not list norm_activation_backward";
  }
}

TEST(NormActivation, RejectsWhatItCannotTake) {
  const torch::Tensor w = torch::ones({3}), b = torch::zeros({3});
  torch::Tensor rm = torch::zeros({}), rv = torch::ones({});
  const maqd::NormActivationOptions o;
  EXPECT_THROW(maqd::norm_activation(torch::ones({2, 3, 4}), w, b, rm, rv, o), maqd::Error);
  EXPECT_THROW(maqd::norm_activation(torch::ones({2, 4, 2, 2}), w, b, rm, rv, o), maqd::Error);
  EXPECT_THROW(maqd::norm_activation(torch::ones({2, 3, 2, 2}, torch::kInt), w, b, rm, rv, o),
               maqd::Error);
  try {
    maqd::norm_activation(torch::ones({2, 4, 2, 2}), w, b, rm, rv, o);
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("norm_activation"), std::string::npos) << e.what();
  }
}

TEST(KernelIsa, UnknownValueIsRefusedWithTheAllowedOnes) {
  ScopedEnv env("MAQD_ISA", "sse9");
  try {
    maqd::training_kernel_isa();
    ADD_FAILURE() << "MAQD_ISA=sse9 was accepted";
  } catch (const maqd::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("MAQD_ISA"), std::string::npos) << message;
    EXPECT_NE(message.find("scalar, avx2, avx512, neon, neondot"), std::string::npos) << message;
  }
}

TEST(KernelIsa, CapNeverRaisesAboveTheCpu) {
  const maqd::KernelIsa best = maqd::available_kernel_isas().back();
  {
    ScopedEnv env("MAQD_ISA", "avx512");
    EXPECT_EQ(maqd::training_kernel_isa(), best);
  }
  {
    ScopedEnv env("MAQD_ISA", "scalar");
    EXPECT_EQ(maqd::training_kernel_isa(), maqd::KernelIsa::kBaseline);
  }
}

// The runtime's values, read by the runtime: its Arm names cap at their
// level, so one MAQD_ISA serves `maqd train` and `maqd run` alike.
TEST(KernelIsa, TheRuntimesArmNamesCapAtTheirLevel) {
  const maqd::KernelIsa best = maqd::available_kernel_isas().back();
  {
    ScopedEnv env("MAQD_ISA", "neon");
    EXPECT_EQ(maqd::training_kernel_isa(), std::min(best, maqd::KernelIsa::kAvx2));
  }
  {
    ScopedEnv env("MAQD_ISA", "neondot");
    EXPECT_EQ(maqd::training_kernel_isa(), best);
  }
  {
    ScopedEnv env("MAQD_ISA", "");
    EXPECT_EQ(maqd::training_kernel_isa(), best);
  }
}

// Threads split whole (n, c) planes and every plane's sums are combined in
// one fixed order afterwards, so the result does not depend on the thread
// count: bit for bit, forward and backward (training runs reproduce).
TEST(KernelThreads, FusedNormActivationIsBitIdenticalAcrossThreadCounts) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const int saved = torch::get_num_threads();
  const torch::Tensor x = torch::randn({6, 5, 9, 11}) * 1.5 + 0.2;
  const torch::Tensor weight = torch::rand({5}) + 0.5;
  const torch::Tensor bias = torch::randn({5}) * 0.2;
  const torch::Tensor probe = torch::randn(x.sizes());
  for (const Case& c : activation_cases()) {
    SCOPED_TRACE(c.name);
    torch::set_num_threads(1);
    const Result one = run(x, weight, bias, probe, true, c.quant, true);
    torch::set_num_threads(2);
    const Result two = run(x, weight, bias, probe, true, c.quant, true);
    EXPECT_TRUE(torch::equal(one.y, two.y));
    EXPECT_TRUE(torch::equal(one.dx, two.dx));
    EXPECT_TRUE(torch::equal(one.dweight, two.dweight));
    EXPECT_TRUE(torch::equal(one.dbias, two.dbias));
  }
  torch::set_num_threads(saved);
}

// The fused kernels must share LibTorch's intra-op threads: a libmaqd built
// without OpenMP runs at::parallel_for serially and trains at a fraction of
// the machine's speed, with every result still correct.
TEST(KernelThreads, FusedKernelsUseLibTorchsThreads) {
  const int saved = torch::get_num_threads();
  torch::set_num_threads(2);
  EXPECT_EQ(maqd::training_kernel_threads(), 2);
  torch::set_num_threads(1);
  EXPECT_EQ(maqd::training_kernel_threads(), 1);
  torch::set_num_threads(saved);
}

}  // namespace

namespace {

// An all-reduce between `parties` threads of this process, standing in for
// c10d in the cross-process statistics: each call adds its tensor into a
// shared sum, waits for the others and takes the total. Gives up after 20 s
// (a call order that deadlocks fails the test instead of hanging it).
class ThreadSum {
 public:
  explicit ThreadSum(int parties) : parties_(parties) {}
  void operator()(torch::Tensor& t) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t round = round_;
    total_ = arrived_ == 0 ? t.clone() : total_ + t;
    if (++arrived_ == parties_) {
      result_ = total_;
      arrived_ = 0;
      ++round_;
      done_.notify_all();
    } else if (!done_.wait_for(lock, std::chrono::seconds(20), [&] { return round_ != round; })) {
      throw std::runtime_error("ThreadSum: the other threads never arrived");
    }
    t.copy_(result_);
  }

 private:
  const int parties_;
  std::mutex mutex_;
  std::condition_variable done_;
  int arrived_ = 0;
  int64_t round_ = 0;
  torch::Tensor total_, result_;
};

}  // namespace

// Data-parallel training's synchronized statistics: a batch split between
// two "processes" (threads exchanging the sums) gives, put together, the
// outputs, input gradients and running statistics of the whole batch in one
// call, and γ's and β's gradients summed; without the exchange they differ.
TEST(NormActivation, StatisticsSummedAcrossProcessesEqualTheWholeBatch) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const auto f64 = torch::kDouble;
  for (bool per_channel : {false, true})
    for (const Case& c : activation_cases()) {
      SCOPED_TRACE(c.name + (per_channel ? " BN" : " LBN"));
      // The halves have different means and spreads, so local statistics differ.
      torch::Tensor x = torch::randn({6, 4, 5, 3}, f64);
      x.slice(0, 0, 2).mul_(2.0).add_(0.7);
      const torch::Tensor weight = torch::rand({4}, f64) + 0.5, bias = torch::randn({4}, f64) * 0.1;
      const torch::Tensor probe = torch::randn({6, 4, 5, 3}, f64);
      const Result whole = run(x, weight, bias, probe, per_channel, c.quant, /*fused=*/true);

      for (bool exchange : {true, false}) {
        ThreadSum sum(2);
        Result part[2];
        auto rank = [&](int r) {
          const int64_t begin = r == 0 ? 0 : 2, end = r == 0 ? 2 : 6;  // uneven shards: 2 + 4
          torch::Tensor xin = x.slice(0, begin, end).clone().requires_grad_(true);
          torch::Tensor w = weight.clone().requires_grad_(true), b = bias.clone().requires_grad_(true);
          torch::Tensor rm = per_channel ? torch::zeros({4}, f64) : torch::zeros({}, f64);
          torch::Tensor rv = per_channel ? torch::ones({4}, f64) : torch::ones({}, f64);
          maqd::NormActivationOptions o;
          o.per_channel = per_channel;
          o.quant = c.quant;
          if (exchange) o.sum_across_processes = [&sum](torch::Tensor& t) { sum(t); };
          const torch::Tensor y = maqd::norm_activation(xin, w, b, rm, rv, o);
          (y * probe.slice(0, begin, end)).sum().backward();
          part[r] = {y.detach(), xin.grad(), w.grad(), b.grad(), rm, rv};
        };
        std::thread other(rank, 1);
        rank(0);
        other.join();
        const double y_err = relative_error(torch::cat({part[0].y, part[1].y}), whole.y);
        const double dx_err = relative_error(torch::cat({part[0].dx, part[1].dx}), whole.dx);
        const double mean_err = relative_error(part[0].running_mean, whole.running_mean);
        const double var_err = relative_error(part[1].running_var, whole.running_var);
        if (exchange) {
          EXPECT_LT(y_err, 1e-9);
          EXPECT_LT(dx_err, 1e-9);
          EXPECT_LT(relative_error(part[0].dweight + part[1].dweight, whole.dweight), 1e-9);
          EXPECT_LT(relative_error(part[0].dbias + part[1].dbias, whole.dbias), 1e-9);
          EXPECT_LT(mean_err, 1e-12);
          EXPECT_LT(var_err, 1e-12);
          EXPECT_TRUE(torch::equal(part[0].running_var, part[1].running_var));
        } else {
          EXPECT_GT(mean_err, 1e-3);
          EXPECT_GT(var_err, 1e-3);
        }
      }
      // The moments helper the LBN shift initialization uses agrees too.
      ThreadSum sum(2);
      std::pair<torch::Tensor, torch::Tensor> halves[2];
      std::thread other([&] {
        halves[1] = maqd::batch_mean_variance(x.slice(0, 2, 6), per_channel,
                                              [&sum](torch::Tensor& t) { sum(t); });
      });
      halves[0] = maqd::batch_mean_variance(x.slice(0, 0, 2), per_channel,
                                            [&sum](torch::Tensor& t) { sum(t); });
      other.join();
      const auto [mean, var] = maqd::batch_mean_variance(x, per_channel);
      EXPECT_LT(relative_error(halves[0].first, mean), 1e-12);
      EXPECT_LT(relative_error(halves[1].second, var), 1e-12);
      const torch::Tensor expected_var =
          per_channel ? x.var({0, 2, 3}, /*unbiased=*/false) : x.var(/*unbiased=*/false).expand({4});
      EXPECT_LT(relative_error(var, expected_var), 1e-12);
    }
}
