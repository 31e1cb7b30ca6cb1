// maqd::composed::* (the ATen-chain versions the CUDA path uses) against the
// fused CPU kernels: identical forward values, gradients equal within float
// tolerance, for every surrogate and delta mode, in float32 and float64. Both
// sides are checked against closed forms elsewhere; this guards the device path.
#include "maqd/ops/composed.h"

#include <cmath>
#include <functional>
#include <limits>
#include <utility>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/round_clip.h"
#include "maqd/ops/weight_quantizer.h"
#include "ops/reference.h"

namespace {

namespace ref = maqd_test::ref;

using Op = std::function<torch::Tensor(const torch::Tensor&)>;

// Runs `fused` and `composed` on the same input and upstream gradient.
// `slope_peak` bounds the surrogate (Σ of the peaks 1/(4α) for the
// activation): the composed form computes σ(1 − σ) in the tensor's precision,
// so 1 − σ cancels in the tails and its absolute error is ~ulp/α = 4·ulp·peak
// per term (measured: 1.2e-6 at α = 0.1 in float32, relative 1.4e-4 where σ' is
// 1/300 of its peak); the tolerance allows 4× that.
void expect_same(const Op& fused, const Op& composed, const torch::Tensor& x,
                 const torch::Tensor& upstream, const std::string& what,
                 double slope_peak = 1.0) {
  const bool f32 = x.scalar_type() == torch::kFloat;
  torch::Tensor a = x.detach().clone().requires_grad_(true);
  torch::Tensor b = x.detach().clone().requires_grad_(true);
  const torch::Tensor ya = fused(a), yb = composed(b);
  ASSERT_EQ(ya.scalar_type(), yb.scalar_type()) << what;
  ASSERT_EQ(ya.sizes(), yb.sizes()) << what;
  EXPECT_TRUE(torch::equal(ya, yb)) << what << ": forward differs at "
                                    << (ya != yb).nonzero().numel() << " elements";
  ya.backward(upstream);
  yb.backward(upstream);
  const auto ga = ref::values(a.grad()), gb = ref::values(b.grad()), u = ref::values(upstream);
  const double rel = f32 ? 1e-5 : 1e-12, ulp = f32 ? 6e-8 : 1.1e-16;
  int64_t bad = 0;
  for (size_t i = 0; i < ga.size(); ++i) {
    const double tol = rel * std::abs(gb[i]) + 16 * ulp * slope_peak * std::abs(u[i]);
    if (!(std::abs(ga[i] - gb[i]) <= tol) && ++bad <= 5)
      ADD_FAILURE() << what << ": gradient element " << i << " fused " << ga[i] << " composed "
                    << gb[i];
  }
  EXPECT_EQ(bad, 0) << what;
  // The gradient is not trivially zero.
  EXPECT_GT(b.grad().abs().max().item<double>(), 0.0) << what;
}

std::string tag(torch::ScalarType t) { return t == torch::kFloat ? "float32" : "float64"; }

TEST(Composed, RoundClipMatchesFused) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const torch::Tensor x = (torch::randn({3000}, torch::dtype(torch::kDouble)) * 1.5).to(type);
    // Hand-picked ties and clip edges on top.
    const torch::Tensor special = ref::tensor({0.5, 1.5, 2.5, -0.5, -1.0, 2.0, 0.25, 0.75}, type);
    const torch::Tensor input = torch::cat({x, special});
    const torch::Tensor upstream = torch::randn_like(input);
    for (const auto& o : std::vector<maqd::RoundClipOptions>{{1.0, -1.0, 2.0}, {3.0, 0.0, 1.0},
                                                             {2.5, -0.5, 0.75}}) {
      expect_same([&](const torch::Tensor& z) { return maqd::round_clip(z, o); },
                  [&](const torch::Tensor& z) { return maqd::composed::round_clip(z, o); }, input,
                  upstream, "round_clip Δ=" + std::to_string(o.delta) + " " + tag(type));
    }
  }
}

TEST(Composed, WeightQuantizerMatchesFused) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const torch::Tensor x = (torch::randn({3000}, torch::dtype(torch::kDouble)) * 2.5).to(type);
    const torch::Tensor special = ref::tensor({3.0, -3.0, 1.5, -1.5, 4.5, 0.0}, type);
    const torch::Tensor input = torch::cat({x, special});
    const torch::Tensor upstream = torch::randn_like(input);
    for (int64_t levels : {3, 5, 255}) {
      for (auto mode : {maqd::WeightDelta::kFloor, maqd::WeightDelta::kHalf}) {
        maqd::WeightQuantOptions o;
        o.levels = levels;
        o.delta = mode;
        expect_same(
            [&](const torch::Tensor& w) { return maqd::quantize_standardized_weight(w, o); },
            [&](const torch::Tensor& w) { return maqd::composed::quantize_standardized_weight(w, o); },
            input, upstream,
            "weight M_w=" + std::to_string(levels) + " " + maqd::to_string(mode) + " " + tag(type));
      }
    }
  }
}

TEST(Composed, ActivationQuantizerMatchesFusedForEverySurrogate) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const torch::Tensor x = (torch::rand({3000}, torch::dtype(torch::kDouble)) * 2.0 - 0.5).to(type);
    const torch::Tensor special = ref::tensor({0.0, 1.0, 0.5, 0.25, 0.75, -4.0, 5.0}, type);
    const torch::Tensor input = torch::cat({x, special});
    const torch::Tensor upstream = torch::randn_like(input);
    for (int64_t levels : {2, 3, 4, 8, 16}) {
      for (auto s : {maqd::Surrogate::kSigmoid, maqd::Surrogate::kLiteral, maqd::Surrogate::kSte}) {
        for (double alpha : {0.25, 0.1}) {
          maqd::ActivationQuantOptions o;
          o.levels = levels;
          o.surrogate = s;
          o.alpha = alpha;
          expect_same([&](const torch::Tensor& a) { return maqd::quantize_activation(a, o); },
                      [&](const torch::Tensor& a) { return maqd::composed::quantize_activation(a, o); },
                      input, upstream,
                      "activation M_a=" + std::to_string(levels) + " " + maqd::to_string(s) +
                          " α=" + std::to_string(alpha) + " " + tag(type),
                      double(levels - 1) / (4 * alpha));
        }
      }
    }
  }
}

// Multi-dimensional, non-contiguous input: both paths keep the shape.
TEST(Composed, NonContiguousInputs) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = (torch::rand({8, 6, 5}, torch::dtype(torch::kDouble)) * 1.4 - 0.2).transpose(0, 2);
  const torch::Tensor upstream = torch::randn({5, 6, 8}, torch::dtype(torch::kDouble));
  maqd::ActivationQuantOptions o;
  o.levels = 4;
  expect_same([&](const torch::Tensor& a) { return maqd::quantize_activation(a, o); },
              [&](const torch::Tensor& a) { return maqd::composed::quantize_activation(a, o); }, x,
              upstream, "activation transposed");
  maqd::WeightQuantOptions w;
  expect_same([&](const torch::Tensor& a) { return maqd::quantize_standardized_weight(a * 6, w); },
              [&](const torch::Tensor& a) { return maqd::composed::quantize_standardized_weight(a * 6, w); },
              x, upstream, "weight transposed");
}

// A NaN input gives NaN in both paths (neither clamps it to an edge).
TEST(Composed, NaNPropagatesAlike) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const torch::Tensor x = ref::tensor({0.3, nan, -2.0, nan, 5.0}, type);
    const maqd::RoundClipOptions rc{2.0, -1.0, 1.0};
    maqd::WeightQuantOptions w;
    maqd::ActivationQuantOptions a;
    a.levels = 4;
    const std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs = {
        {maqd::round_clip(x, rc), maqd::composed::round_clip(x, rc)},
        {maqd::quantize_standardized_weight(x, w), maqd::composed::quantize_standardized_weight(x, w)},
        {maqd::quantize_activation(x, a), maqd::composed::quantize_activation(x, a)}};
    for (const auto& [fused, composed] : pairs) {
      EXPECT_TRUE(torch::equal(torch::isnan(fused), torch::isnan(x))) << tag(type);
      EXPECT_TRUE(torch::equal(torch::isnan(composed), torch::isnan(x))) << tag(type);
      EXPECT_TRUE(torch::equal(torch::nan_to_num(fused, 7.0), torch::nan_to_num(composed, 7.0)));
    }
  }
}

}  // namespace
