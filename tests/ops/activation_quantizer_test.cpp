// The activation quantizer Q_a(â) = Q(â, M_a − 1, 0, 1) of Eq. 8 and its three
// surrogate gradients (SPEC §3), against a float64 closed form written here:
//   sigmoid: (1/(M_a−1)) Σ_m σ'_α(â − b_m)   literal: Σ_m σ'_α(â − b_m)
//   ste: 1 for 0 < â < 1
// with b_m = (m − 1/2)/(M_a − 1), σ'_α = σ_α(1 − σ_α)/α, α = 0.25. Checked at the
// thresholds, at 0 and 1, far outside, on random and large inputs, in float64
// (1e-12 relative) and float32 (1e-5 relative + 1e-7: the kernel's fast exp).
#include "maqd/ops/activation_quantizer.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "ops/reference.h"

namespace {

namespace ref = maqd_test::ref;
using maqd::ActivationQuantOptions;
using maqd::Surrogate;

constexpr Surrogate kSurrogates[] = {Surrogate::kSigmoid, Surrogate::kLiteral, Surrogate::kSte};

ActivationQuantOptions opts(int64_t levels, Surrogate surrogate = Surrogate::kSigmoid,
                            double alpha = 0.25) {
  ActivationQuantOptions o;
  o.levels = levels;
  o.surrogate = surrogate;
  o.alpha = alpha;
  return o;
}

double q_a(double x, int64_t levels) {
  return ref::round_clip(x, double(levels - 1), 0.0, 1.0);
}

// dQ_a/dâ for each surrogate, from SPEC §3.
double surrogate(double x, const ActivationQuantOptions& o) {
  switch (o.surrogate) {
    case Surrogate::kSigmoid:
      return ref::activation_slope_sum(x, o.levels, o.alpha) / double(o.levels - 1);
    case Surrogate::kLiteral: return ref::activation_slope_sum(x, o.levels, o.alpha);
    case Surrogate::kSte: return (x > 0.0 && x < 1.0) ? 1.0 : 0.0;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// Runs forward and backward of quantize_activation on `x` with `upstream` and
// checks both against the closed forms. Returns the number of mismatches.
int64_t check_against_closed_form(const torch::Tensor& x, const torch::Tensor& upstream,
                                  const ActivationQuantOptions& o) {
  const bool f32 = x.scalar_type() == torch::kFloat;
  const double rel = f32 ? 1e-5 : 1e-12, abs_tol = f32 ? 1e-7 : 0.0;
  torch::Tensor in = x.detach().clone().requires_grad_(true);
  const torch::Tensor y = maqd::quantize_activation(in, o);
  y.backward(upstream);
  const auto xv = ref::values(x), yv = ref::values(y), gv = ref::values(in.grad()),
             uv = ref::values(upstream);
  int64_t bad = 0;
  const std::string where = "M_a=" + std::to_string(o.levels) + " " + maqd::to_string(o.surrogate) +
                            " α=" + std::to_string(o.alpha) + (f32 ? " float32" : " float64");
  for (size_t i = 0; i < xv.size(); ++i) {
    double expected_y = q_a(xv[i], o.levels);
    if (f32) expected_y = double(float(expected_y));
    const bool tie_ok = f32 && ref::near_tie(double(o.levels - 1) * xv[i]) &&
                        std::abs(yv[i] - expected_y) <= 1.0 / double(o.levels - 1) + 1e-6;
    if (yv[i] != expected_y && !tie_ok && ++bad <= 5)
      ADD_FAILURE() << where << ": forward x=" << xv[i] << " got " << yv[i] << " expected "
                    << expected_y;
    const double expected_g = uv[i] * surrogate(xv[i], o);
    const bool grad_ok = std::isfinite(gv[i]) &&
                         std::abs(gv[i] - expected_g) <= rel * std::abs(expected_g) + abs_tol;
    if (!grad_ok && ++bad <= 5)
      ADD_FAILURE() << where << ": backward x=" << xv[i] << " got " << gv[i] << " expected "
                    << expected_g;
  }
  return bad;
}

TEST(ActivationQuantizer, DefaultsAreThePapers) {
  const ActivationQuantOptions o;
  EXPECT_EQ(o.levels, 2);
  EXPECT_EQ(o.surrogate, Surrogate::kSigmoid);
  EXPECT_EQ(o.alpha, 0.25);
}

TEST(ActivationQuantizer, ForwardTiesAndClipping) {
  for (auto type : {torch::kFloat, torch::kDouble}) {
    // M_a = 2: threshold 1/2, a tie rounds to 0 (even).
    EXPECT_EQ(ref::values(maqd::quantize_activation(
                  ref::tensor({-3.0, 0.0, 0.49, 0.5, 0.51, 1.0, 7.0}, type), opts(2))),
              (std::vector<double>{0, 0, 0, 0, 1, 1, 1}));
    // M_a = 3 (Δ = 2): 0.25 → ROUND(0.5) = 0, 0.75 → ROUND(1.5) = 2 → 1.
    EXPECT_EQ(ref::values(maqd::quantize_activation(ref::tensor({0.25, 0.75, 0.5}, type), opts(3))),
              (std::vector<double>{0, 1, 0.5}));
    // M_a = 5 (Δ = 4): ties 0.5, 1.5, 2.5, 3.5 → 0, 2, 2, 4.
    EXPECT_EQ(ref::values(maqd::quantize_activation(
                  ref::tensor({0.125, 0.375, 0.625, 0.875, -0.125, 1.125}, type), opts(5))),
              (std::vector<double>{0, 0.5, 0.5, 1, 0, 1}));
  }
}

TEST(ActivationQuantizer, HasExactlyMaLevels) {
  const torch::Tensor x = torch::linspace(-0.5, 1.5, 20001, torch::dtype(torch::kDouble));
  for (int64_t levels : {2, 3, 4, 8, 16}) {
    for (auto type : {torch::kFloat, torch::kDouble}) {
      const auto unique = ref::values(
          std::get<0>(torch::_unique(maqd::quantize_activation(x.to(type), opts(levels)))));
      ASSERT_EQ(int64_t(unique.size()), levels) << "M_a=" << levels;
      for (int64_t m = 0; m < levels; ++m) {
        double expected = double(m) / double(levels - 1);
        if (type == torch::kFloat) expected = double(float(expected));
        EXPECT_EQ(unique[m], expected) << "M_a=" << levels << " m=" << m;
      }
    }
  }
}

// Points where the surrogate is most easily wrong: every threshold b_m, its
// neighbours, 0, 1, and far outside (tiny but finite and non-negative).
std::vector<double> special_points(int64_t levels) {
  std::vector<double> x = {0.0, 1.0, -10.0, 10.0, -0.3, 1.3, 0.5, -1e3, 1e3};
  for (int64_t m = 1; m < levels; ++m) {
    const double b = (double(m) - 0.5) / double(levels - 1);
    for (double d : {0.0, 1e-3, -1e-3, 0.05}) x.push_back(b + d);
  }
  return x;
}

// 17, 33 and 256 levels span more than one of the kernel's 16-threshold
// anchor spans (kernel_variants.h), where its products restart from exps.
TEST(ActivationQuantizer, BackwardAtSpecialPointsMatchesClosedForm) {
  for (int64_t levels : {2, 3, 4, 8, 16, 17, 33, 256}) {
    for (Surrogate s : kSurrogates) {
      for (auto type : {torch::kDouble, torch::kFloat}) {
        const auto o = opts(levels, s);
        const torch::Tensor x = ref::tensor(special_points(levels), type);
        const torch::Tensor upstream = torch::ones_like(x);
        EXPECT_EQ(check_against_closed_form(x, upstream, o), 0);
        // Far outside: tiny, finite, non-negative.
        torch::Tensor in = ref::tensor({-10.0, 10.0, -1e3, 1e3}, type).requires_grad_(true);
        maqd::quantize_activation(in, o).sum().backward();
        for (double g : ref::values(in.grad())) {
          EXPECT_TRUE(std::isfinite(g));
          EXPECT_GE(g, 0.0);
          EXPECT_LT(g, 1e-12);
        }
      }
    }
  }
}

TEST(ActivationQuantizer, BackwardHandValues) {
  // M_a = 2 at the threshold 1/2: σ'_α(0) = (1/4)/α = 1, for sigmoid and literal.
  for (Surrogate s : {Surrogate::kSigmoid, Surrogate::kLiteral}) {
    torch::Tensor x = ref::tensor({0.5}).requires_grad_(true);
    maqd::quantize_activation(x, opts(2, s)).backward(ref::tensor({1.0}));
    EXPECT_NEAR(x.grad().item<double>(), 1.0, 1e-15);
  }
  // α = 0.5 halves the peak: σ'_α(0) = 1/(4α) = 0.5.
  torch::Tensor x = ref::tensor({0.5}).requires_grad_(true);
  maqd::quantize_activation(x, opts(2, Surrogate::kSigmoid, 0.5)).backward(ref::tensor({1.0}));
  EXPECT_NEAR(x.grad().item<double>(), 0.5, 1e-15);
}

TEST(ActivationQuantizer, BackwardOnRandomInputMatchesClosedForm) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x64 = torch::rand({2000}, torch::dtype(torch::kDouble)) * 2.0 - 0.5;
  const torch::Tensor u64 = torch::randn({2000}, torch::dtype(torch::kDouble));
  for (int64_t levels : {2, 3, 4, 8, 16, 17, 33, 256}) {
    for (Surrogate s : kSurrogates) {
      for (double alpha : {0.25, 0.1}) {
        EXPECT_EQ(check_against_closed_form(x64, u64, opts(levels, s, alpha)), 0);
        EXPECT_EQ(check_against_closed_form(x64.to(torch::kFloat), u64.to(torch::kFloat),
                                            opts(levels, s, alpha)),
                  0);
      }
    }
  }
}

// The step height 1/(M_a − 1): sigmoid and literal differ by exactly that factor.
TEST(ActivationQuantizer, SigmoidIsLiteralTimesStepHeight) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::rand({500}, torch::dtype(torch::kDouble)) * 1.4 - 0.2;
  for (int64_t levels : {2, 3, 8, 16}) {
    torch::Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
    maqd::quantize_activation(a, opts(levels, Surrogate::kSigmoid)).sum().backward();
    maqd::quantize_activation(b, opts(levels, Surrogate::kLiteral)).sum().backward();
    const torch::Tensor ratio = b.grad() / a.grad();
    EXPECT_LT((ratio - double(levels - 1)).abs().max().item<double>(), 1e-12 * (levels - 1))
        << "M_a=" << levels;
  }
}

// Trapezoid integral of dQ_a/dâ over [−5, 6] (the tails beyond are < e^−20).
double integral_of_gradient(const ActivationQuantOptions& o, torch::ScalarType type) {
  const int64_t n = 11001;  // h = 1e-3
  torch::Tensor x = torch::linspace(-5.0, 6.0, n, torch::dtype(torch::kDouble)).to(type);
  x.requires_grad_(true);
  maqd::quantize_activation(x, o).sum().backward();
  const auto g = ref::values(x.grad());
  const double h = 11.0 / double(n - 1);
  double sum = 0.0;
  for (int64_t i = 0; i + 1 < n; ++i) sum += 0.5 * h * (g[i] + g[i + 1]);
  return sum;
}

TEST(ActivationQuantizer, SurrogateIntegratesToTheStaircaseRise) {
  for (int64_t levels : {2, 3, 4, 8, 16}) {
    for (auto type : {torch::kDouble, torch::kFloat}) {
      EXPECT_NEAR(integral_of_gradient(opts(levels, Surrogate::kSigmoid), type), 1.0, 1e-3)
          << "M_a=" << levels;
      EXPECT_NEAR(integral_of_gradient(opts(levels, Surrogate::kLiteral), type),
                  double(levels - 1), 1e-3 * double(levels - 1))
          << "M_a=" << levels;
      EXPECT_NEAR(integral_of_gradient(opts(levels, Surrogate::kSte), type), 1.0, 2e-3)
          << "M_a=" << levels;
    }
  }
}

TEST(ActivationQuantizer, LargeInputThreadedPathMatchesClosedForm) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const int64_t n = 150007;
  const torch::Tensor x = torch::rand({n}, torch::dtype(torch::kDouble)) * 1.6 - 0.3;
  const torch::Tensor u = torch::randn({n}, torch::dtype(torch::kDouble));
  EXPECT_EQ(check_against_closed_form(x, u, opts(4, Surrogate::kSigmoid)), 0);
  EXPECT_EQ(check_against_closed_form(x.to(torch::kFloat), u.to(torch::kFloat),
                                      opts(8, Surrogate::kSigmoid)),
            0);
  EXPECT_EQ(check_against_closed_form(x.to(torch::kFloat), u.to(torch::kFloat),
                                      opts(3, Surrogate::kSte)),
            0);
}

TEST(ActivationQuantizer, NonContiguousInput) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor base = torch::rand({30, 20}, torch::dtype(torch::kDouble)) * 1.4 - 0.2;
  const torch::Tensor x = base.t();
  const torch::Tensor u = torch::randn({30, 20}, torch::dtype(torch::kDouble)).t();
  EXPECT_EQ(check_against_closed_form(x, u, opts(4, Surrogate::kLiteral)), 0);
}

TEST(ActivationQuantizer, SurrogateDerivativeFunctionMatchesClosedForm) {
  for (int64_t levels : {2, 3, 4, 8, 16}) {
    for (Surrogate s : kSurrogates) {
      for (double alpha : {0.25, 0.1}) {
        const auto o = opts(levels, s, alpha);
        std::vector<double> x = special_points(levels);
        for (int i = 0; i <= 200; ++i) x.push_back(-0.5 + 0.01 * i);
        for (double v : x) {
          const double expected = surrogate(v, o);
          const double got = maqd::activation_surrogate_derivative(v, o);
          EXPECT_NEAR(got, expected, 1e-12 * std::abs(expected) + 1e-15)
              << "M_a=" << levels << " " << maqd::to_string(s) << " α=" << alpha << " x=" << v;
        }
      }
    }
  }
}

TEST(ActivationQuantizer, SurrogateNamesRoundTrip) {
  for (Surrogate s : kSurrogates) EXPECT_EQ(maqd::parse_surrogate(maqd::to_string(s)), s);
  EXPECT_EQ(maqd::to_string(Surrogate::kSigmoid), "sigmoid");
  EXPECT_EQ(maqd::to_string(Surrogate::kLiteral), "literal");
  EXPECT_EQ(maqd::to_string(Surrogate::kSte), "ste");
  MAQD_EXPECT_ERROR(maqd::parse_surrogate("relu"), "activation_quantizer", "relu", "sigmoid",
                    "literal", "ste");
  MAQD_EXPECT_ERROR(maqd::parse_surrogate(""), "activation_quantizer");
  MAQD_EXPECT_ERROR(maqd::parse_surrogate("Sigmoid"), "activation_quantizer");
}

TEST(ActivationQuantizer, InvalidParametersThrow) {
  const torch::Tensor x = torch::rand({4});
  for (int64_t levels : {1, 0, -2}) {
    SCOPED_TRACE("levels " + std::to_string(levels));
    MAQD_EXPECT_ERROR(maqd::quantize_activation(x, opts(levels)), "activation_quantizer",
                      "levels", std::to_string(levels), "≥ 2");
    MAQD_EXPECT_ERROR(maqd::activation_surrogate_derivative(0.5, opts(levels)),
                      "activation_quantizer", "levels");
    MAQD_EXPECT_ERROR(maqd::validate(opts(levels, Surrogate::kSte)), "activation_quantizer",
                      "levels");
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double alpha : {0.0, -0.25, nan, std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE("alpha " + std::to_string(alpha));
    MAQD_EXPECT_ERROR(maqd::quantize_activation(x, opts(2, Surrogate::kSigmoid, alpha)),
                      "activation_quantizer", "alpha", "> 0");
    MAQD_EXPECT_ERROR(maqd::activation_surrogate_derivative(0.5, opts(4, Surrogate::kLiteral, alpha)),
                      "activation_quantizer", "alpha");
  }
  MAQD_EXPECT_ERROR(maqd::validate(opts(2, static_cast<Surrogate>(7))), "activation_quantizer",
                    "surrogate");
}

}  // namespace
