// The weight quantizer Q_w = Q(s·Ŵ, Δ_w, −1, 1) of Eq. 7 with Eq. 10's
// gradient (SPEC §2), against closed forms: s = 1/3, Δ_w = (M_w−1)/2 (floor)
// or M_w/2 (half); exactly M_w levels in floor mode; gradient 1_{|s·Ŵ|<1}
// (checked at |s·Ŵ| = 1 exactly); the gradient through the standardization
// to W in closed form; R_w ≈ 13.4 % on Gaussian Ŵ; integer codes; errors.
#include "maqd/ops/weight_quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "maqd/ops/weight_standardization.h"
#include "ops/reference.h"

namespace {

namespace ref = maqd_test::ref;
using maqd::WeightDelta;
using maqd::WeightQuantOptions;

constexpr double kS = 1.0 / 3.0;

WeightQuantOptions opts(int64_t levels, WeightDelta delta = WeightDelta::kFloor,
                        double scale = kS) {
  WeightQuantOptions o;
  o.levels = levels;
  o.delta = delta;
  o.scale = scale;
  return o;
}

// Δ_w written out from SPEC §2, independently of maqd::weight_delta.
double delta_w(int64_t levels, WeightDelta mode) {
  return mode == WeightDelta::kFloor ? double(levels - 1) / 2.0 : double(levels) / 2.0;
}

double q_w(double x, int64_t levels, WeightDelta mode) {
  return ref::round_clip(kS * x, delta_w(levels, mode), -1.0, 1.0);
}

TEST(WeightQuantizer, DefaultsAreThePapers) {
  const WeightQuantOptions o;
  EXPECT_EQ(o.levels, 3);
  EXPECT_EQ(o.delta, WeightDelta::kFloor);
  EXPECT_DOUBLE_EQ(o.scale, 1.0 / 3.0);
  EXPECT_EQ(maqd::weight_delta(opts(3)), 1.0);
  EXPECT_EQ(maqd::weight_delta(opts(255)), 127.0);
  EXPECT_EQ(maqd::weight_delta(opts(3, WeightDelta::kHalf)), 1.5);
  EXPECT_EQ(maqd::weight_delta(opts(15, WeightDelta::kHalf)), 7.5);
}

TEST(WeightQuantizer, ForwardMatchesClosedForm) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({6, 5, 3, 3}, torch::dtype(torch::kDouble)) * 2.5;
  const auto xv = ref::values(x);
  for (int64_t levels : {3, 5, 7, 15, 255}) {
    for (WeightDelta mode : {WeightDelta::kFloor, WeightDelta::kHalf}) {
      const torch::Tensor y = maqd::quantize_standardized_weight(x, opts(levels, mode));
      EXPECT_EQ(y.sizes(), x.sizes());
      const auto yv = ref::values(y);
      for (size_t i = 0; i < xv.size(); ++i)
        ASSERT_EQ(yv[i], q_w(xv[i], levels, mode))
            << "M_w=" << levels << " mode=" << maqd::to_string(mode) << " x=" << xv[i];
    }
  }
}

TEST(WeightQuantizer, ForwardFloat32MatchesClosedForm) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({4000}) * 2.5;
  const auto xv = ref::values(x);
  for (int64_t levels : {3, 15}) {
    const auto yv = ref::values(maqd::quantize_standardized_weight(x, opts(levels)));
    const double d = delta_w(levels, WeightDelta::kFloor);
    int64_t ties = 0;
    for (size_t i = 0; i < xv.size(); ++i) {
      const double expected = double(float(q_w(xv[i], levels, WeightDelta::kFloor)));
      if (yv[i] == expected) continue;
      ASSERT_TRUE(ref::near_tie(d * (kS * xv[i]))) << "x=" << xv[i] << " got " << yv[i];
      ++ties;
    }
    EXPECT_LE(ties, 2);
  }
}

// Floor mode: exactly M_w levels {k/Δ_w : |k| ≤ Δ_w}, every one reached on
// a dense grid over [−4, 4] (s·x spans [−4/3, 4/3]).
TEST(WeightQuantizer, FloorModeHasExactlyMwLevels) {
  const torch::Tensor x = torch::linspace(-4.0, 4.0, 20001, torch::dtype(torch::kDouble));
  for (int64_t levels : {3, 5, 15, 255}) {
    const torch::Tensor y = maqd::quantize_standardized_weight(x, opts(levels));
    const auto unique = ref::values(std::get<0>(torch::_unique(y)));
    ASSERT_EQ(int64_t(unique.size()), levels) << "M_w=" << levels;
    const double d = delta_w(levels, WeightDelta::kFloor);
    std::vector<double> expected;
    for (int64_t k = -(levels - 1) / 2; k <= (levels - 1) / 2; ++k) expected.push_back(k / d);
    EXPECT_EQ(unique, expected) << "M_w=" << levels;
  }
  // Ternary: {−1, 0, 1} exactly.
  const auto ternary =
      ref::values(std::get<0>(torch::_unique(maqd::quantize_standardized_weight(x, opts(3)))));
  EXPECT_EQ(ternary, (std::vector<double>{-1.0, 0.0, 1.0}));
}

TEST(WeightQuantizer, HalfModeTernaryHasFiveValues) {
  const torch::Tensor x = torch::linspace(-4.0, 4.0, 20001, torch::dtype(torch::kDouble));
  const auto unique = ref::values(
      std::get<0>(torch::_unique(maqd::quantize_standardized_weight(x, opts(3, WeightDelta::kHalf)))));
  EXPECT_EQ(unique, (std::vector<double>{-1.0, -2.0 / 3.0, 0.0, 2.0 / 3.0, 1.0}));
}

// Gaussian Ŵ (already standardized): P(|x| > 1.5) = 2(1 − Φ(1.5)) = 13.36 % non-zeros
// for M_w = 3 floor; P(|x| > 1) = 31.73 % for half.
TEST(WeightQuantizer, GaussianNonZeroShare) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({1000000});
  const double floor_share =
      maqd::quantize_standardized_weight(x, opts(3)).ne(0).to(torch::kDouble).mean().item<double>();
  const double expected_floor = std::erfc(1.5 / std::sqrt(2.0));  // 2(1 − Φ(1.5))
  EXPECT_NEAR(expected_floor, 0.1336, 1e-4);
  EXPECT_NEAR(floor_share, expected_floor, 0.01);
  const double half_share = maqd::quantize_standardized_weight(x, opts(3, WeightDelta::kHalf))
                                .ne(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(half_share, std::erfc(1.0 / std::sqrt(2.0)), 0.01);
}

// Eq. 10: ∂Q_w/∂Ŵ = 1 where |s·Ŵ| < 1, else 0 (no factor s), at the edge exactly.
TEST(WeightQuantizer, GradientIsIndicatorAtTheEdgeExactly) {
  ASSERT_EQ((1.0 / 3.0) * 3.0, 1.0);  // s·Ŵ is exactly 1 at Ŵ = 3 in float64
  const double inside = 3.0 - 1e-12;
  ASSERT_LT((1.0 / 3.0) * inside, 1.0);
  const std::vector<double> x = {3.0, -3.0, inside, -inside, 0.0, 1.4, -2.0, 3.5, -100.0, 1e30};
  const std::vector<double> expected = {0, 0, 1, 1, 1, 1, 1, 0, 0, 0};
  for (WeightDelta mode : {WeightDelta::kFloor, WeightDelta::kHalf}) {
    torch::Tensor w = ref::tensor(x).requires_grad_(true);
    const torch::Tensor upstream = ref::tensor({5, 5, 5, -4, 0.25, 2, 3, 5, 5, 5});
    maqd::quantize_standardized_weight(w, opts(5, mode)).backward(upstream);
    const auto g = ref::values(w.grad());
    const auto u = ref::values(upstream);
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_EQ(g[i], expected[i] * u[i]) << "Ŵ=" << x[i] << " mode=" << maqd::to_string(mode);
  }
  // float32: float(1/3)·3 rounds to 1 as well, so Ŵ = 3 is outside.
  torch::Tensor w32 = ref::tensor({3.0, -3.0, 2.99, -2.99}, torch::kFloat).requires_grad_(true);
  maqd::quantize_standardized_weight(w32, opts(3)).sum().backward();
  EXPECT_EQ(ref::values(w32.grad()), (std::vector<double>{0, 0, 1, 1}));
}

TEST(WeightQuantizer, GradientOnRandomInputIsIndicator) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (auto type : {torch::kDouble, torch::kFloat}) {
    const torch::Tensor x = (torch::randn({3000}, torch::dtype(torch::kDouble)) * 3.0).to(type);
    const torch::Tensor upstream = torch::randn({3000}, torch::dtype(type));
    torch::Tensor w = x.clone().requires_grad_(true);
    maqd::quantize_standardized_weight(w, opts(15)).backward(upstream);
    const auto xv = ref::values(x), gv = ref::values(w.grad()), uv = ref::values(upstream);
    int64_t zeros = 0;
    for (size_t i = 0; i < xv.size(); ++i) {
      const bool in = std::abs(kS * xv[i]) < 1.0;
      zeros += !in;
      ASSERT_EQ(gv[i], in ? uv[i] : 0.0) << "x=" << xv[i];
    }
    EXPECT_GT(zeros, 100);  // the input does reach beyond |s·Ŵ| = 1
  }
}

// quantize_weight = standardize_weight ∘ Q_w: the gradient to W is J_WSᵀ·(mask ⊙ g),
// with J_WS in closed form per output channel (n = fan-in, r = (σ² + ε)^−½):
//   ∂L/∂w_j = r·(g_j − mean g) − r³·(w_j − μ)·mean(g·(w − μ)).
TEST(WeightQuantizer, GradientThroughStandardizationMatchesClosedForm) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const int64_t out = 8, n = 4 * 3 * 3;
  torch::Tensor w0 = torch::randn({out, 4, 3, 3}, torch::dtype(torch::kDouble));
  // Outliers push some standardized weights beyond |s·Ŵ| = 1 (max |Ŵ| = √(n−1) ≈ 5.9).
  for (int64_t o = 0; o < out; o += 2) w0[o][o % 4][1][1] = 8.0 + o;
  const torch::Tensor upstream = torch::randn({out, 4, 3, 3}, torch::dtype(torch::kDouble));
  torch::Tensor w = w0.clone().requires_grad_(true);
  const torch::Tensor y = maqd::quantize_weight(w, opts(3));
  y.backward(upstream);

  const auto wv = ref::values(w0), uv = ref::values(upstream), gv = ref::values(w.grad()),
             yv = ref::values(y);
  int64_t masked = 0;
  for (int64_t o = 0; o < out; ++o) {
    const double* wr = wv.data() + o * n;
    double mu = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mu += wr[j];
    mu /= n;
    for (int64_t j = 0; j < n; ++j) var += (wr[j] - mu) * (wr[j] - mu);
    var /= n;
    const double r = 1.0 / std::sqrt(var + 1e-5);
    std::vector<double> g(n);
    double mean_g = 0, mean_gc = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double hat = (wr[j] - mu) * r;
      // Forward: Q_w of the standardized weight.
      EXPECT_EQ(yv[o * n + j], q_w(hat, 3, WeightDelta::kFloor));
      const bool in = std::abs(kS * hat) < 1.0;
      masked += !in;
      g[j] = in ? uv[o * n + j] : 0.0;
      mean_g += g[j];
      mean_gc += g[j] * (wr[j] - mu);
    }
    mean_g /= n;
    mean_gc /= n;
    for (int64_t j = 0; j < n; ++j) {
      const double expected = r * (g[j] - mean_g) - r * r * r * (wr[j] - mu) * mean_gc;
      EXPECT_NEAR(gv[o * n + j], expected, 1e-12 * (1 + std::abs(expected)))
          << "out " << o << " element " << j;
    }
  }
  EXPECT_GE(masked, out / 2);  // the mask is exercised

  // The same through two library pieces: standardize_weight's autograd applied
  // to mask ⊙ upstream.
  torch::Tensor w2 = w0.clone().requires_grad_(true);
  const torch::Tensor hat = maqd::standardize_weight(w2);
  const torch::Tensor mask = (hat.detach() * kS).abs().lt(1.0).to(torch::kDouble);
  hat.backward(mask * upstream);
  EXPECT_LT(ref::max_abs_diff(w2.grad(), w.grad()), 1e-12);
}

TEST(WeightQuantizer, LargeInputThreadedPathMatchesLoop) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const int64_t n = 200003;
  const torch::Tensor x = torch::randn({n}, torch::dtype(torch::kDouble)) * 3.0;
  const torch::Tensor upstream = torch::randn({n}, torch::dtype(torch::kDouble));
  torch::Tensor w = x.clone().requires_grad_(true);
  const torch::Tensor y = maqd::quantize_standardized_weight(w, opts(7));
  y.backward(upstream);
  const auto xv = ref::values(x), yv = ref::values(y), gv = ref::values(w.grad()),
             uv = ref::values(upstream);
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double g = std::abs(kS * xv[i]) < 1.0 ? uv[i] : 0.0;
    if ((yv[i] != q_w(xv[i], 7, WeightDelta::kFloor) || gv[i] != g) && ++bad <= 5)
      ADD_FAILURE() << "element " << i << " x=" << xv[i];
  }
  EXPECT_EQ(bad, 0);
}

TEST(WeightQuantizer, FloorCodesAreIntegersOfTheForward) {
  const torch::Tensor x = torch::linspace(-4.0, 4.0, 4001, torch::dtype(torch::kDouble));
  const auto xv = ref::values(x);
  for (int64_t levels : {3, 5, 15, 255}) {
    const WeightQuantOptions o = opts(levels);
    const torch::Tensor codes = maqd::weight_codes(x, o);
    EXPECT_EQ(codes.scalar_type(), torch::kInt);
    EXPECT_FALSE(codes.requires_grad());
    const int64_t half = (levels - 1) / 2;
    EXPECT_EQ(maqd::weight_code_denominator(o), half);
    const auto cv = ref::values(codes);
    const auto yv = ref::values(maqd::quantize_standardized_weight(x, o));
    for (size_t i = 0; i < xv.size(); ++i) {
      const double k = std::clamp(std::nearbyint(double(half) * (kS * xv[i])), double(-half),
                                  double(half));
      ASSERT_EQ(cv[i], k) << "M_w=" << levels << " x=" << xv[i];
      ASSERT_EQ(cv[i] / double(half), yv[i]) << "M_w=" << levels << " x=" << xv[i];
    }
  }
}

TEST(WeightQuantizer, HalfCodes) {
  const torch::Tensor x = torch::linspace(-4.0, 4.0, 4001, torch::dtype(torch::kDouble));
  const WeightQuantOptions o = opts(3, WeightDelta::kHalf);
  EXPECT_EQ(maqd::weight_code_denominator(o), 3);
  const torch::Tensor codes = maqd::weight_codes(x, o);
  const auto unique = ref::values(std::get<0>(torch::_unique(codes)));
  EXPECT_EQ(unique, (std::vector<double>{-3, -2, 0, 2, 3}));
  const auto cv = ref::values(codes), yv = ref::values(maqd::quantize_standardized_weight(x, o));
  for (size_t i = 0; i < cv.size(); ++i) ASSERT_DOUBLE_EQ(cv[i] / 3.0, yv[i]);
  // M_w = 5, Δ_w = 5/2: values 2k/5 clipped to ±1, codes on the grid 1/5.
  const WeightQuantOptions o5 = opts(5, WeightDelta::kHalf);
  EXPECT_EQ(maqd::weight_code_denominator(o5), 5);
  EXPECT_EQ(ref::values(std::get<0>(torch::_unique(maqd::weight_codes(x, o5)))),
            (std::vector<double>{-5, -4, -2, 0, 2, 4, 5}));
}

TEST(WeightQuantizer, FloatCodesMatchDoubleCodes) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({5000}) * 2.0;
  for (int64_t levels : {3, 255}) {
    const auto c32 = ref::values(maqd::weight_codes(x, opts(levels)));
    const auto xv = ref::values(x);
    const double half = double((levels - 1) / 2);
    int64_t off = 0;
    for (size_t i = 0; i < xv.size(); ++i) {
      const double k = std::clamp(std::nearbyint(half * (kS * xv[i])), -half, half);
      if (c32[i] != k) {
        ASSERT_TRUE(ref::near_tie(half * (kS * xv[i]))) << "x=" << xv[i];
        ++off;
      }
    }
    EXPECT_LE(off, 2);
  }
}

TEST(WeightQuantizer, ModuleStandardizesThenQuantizes) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::WeightQuantizer module(opts(5));
  const torch::Tensor w = torch::randn({3, 2, 3, 3}, torch::dtype(torch::kDouble));
  const auto yv = ref::values(module->forward(w));
  const auto wv = ref::values(w);
  const int64_t n = 18;
  for (int64_t o = 0; o < 3; ++o) {
    double mu = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mu += wv[o * n + j] / n;
    for (int64_t j = 0; j < n; ++j) var += (wv[o * n + j] - mu) * (wv[o * n + j] - mu) / n;
    for (int64_t j = 0; j < n; ++j) {
      const double hat = (wv[o * n + j] - mu) / std::sqrt(var + 1e-5);
      ASSERT_EQ(yv[o * n + j], q_w(hat, 5, WeightDelta::kFloor));
    }
  }
}

TEST(WeightQuantizer, DeltaModeNamesRoundTrip) {
  for (WeightDelta mode : {WeightDelta::kFloor, WeightDelta::kHalf})
    EXPECT_EQ(maqd::parse_weight_delta(maqd::to_string(mode)), mode);
  EXPECT_EQ(maqd::to_string(WeightDelta::kFloor), "floor");
  EXPECT_EQ(maqd::to_string(WeightDelta::kHalf), "half");
  MAQD_EXPECT_ERROR(maqd::parse_weight_delta("ceil"), "weight_quantizer", "ceil", "floor", "half");
}

TEST(WeightQuantizer, InvalidParametersThrow) {
  const torch::Tensor w = torch::randn({2, 3, 3, 3});
  for (int64_t levels : {4, 2, 1, 0, -3, 256}) {
    SCOPED_TRACE("levels " + std::to_string(levels));
    MAQD_EXPECT_ERROR(maqd::quantize_standardized_weight(w, opts(levels)), "weight_quantizer",
                      "levels", std::to_string(levels), "odd", "≥ 3");
    MAQD_EXPECT_ERROR(maqd::quantize_weight(w, opts(levels)), "weight_quantizer", "levels");
    MAQD_EXPECT_ERROR(maqd::weight_codes(w, opts(levels)), "weight_quantizer", "levels");
    MAQD_EXPECT_ERROR(maqd::weight_delta(opts(levels)), "weight_quantizer", "levels");
    MAQD_EXPECT_ERROR(maqd::WeightQuantizer(opts(levels)), "weight_quantizer", "levels");
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double scale : {0.0, -1.0 / 3.0, nan, std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE("scale " + std::to_string(scale));
    MAQD_EXPECT_ERROR(maqd::quantize_standardized_weight(w, opts(3, WeightDelta::kFloor, scale)),
                      "weight_quantizer", "scale", "> 0");
    MAQD_EXPECT_ERROR(maqd::quantize_weight(w, opts(3, WeightDelta::kHalf, scale)),
                      "weight_quantizer", "scale");
    MAQD_EXPECT_ERROR(maqd::validate(opts(3, WeightDelta::kFloor, scale)), "weight_quantizer",
                      "scale");
  }
}

}  // namespace
