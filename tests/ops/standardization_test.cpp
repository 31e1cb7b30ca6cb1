// Weight standardization (SPEC §2): per output channel over its fan-in,
// Ŵ = (W − μ)/sqrt(σ²_biased + ε), ε = 1e-5, against a float64 loop; the
// gradient against central finite differences in float64.
#include "maqd/ops/weight_standardization.h"

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

// The float64 loop: rows = size(0), each row standardized over the rest.
std::vector<double> standardize_loop(const torch::Tensor& w, double eps) {
  const auto v = ref::values(w);
  const int64_t rows = w.size(0), n = w.numel() / rows;
  std::vector<double> out(v.size());
  for (int64_t o = 0; o < rows; ++o) {
    double mu = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mu += v[o * n + j];
    mu /= double(n);
    for (int64_t j = 0; j < n; ++j) var += (v[o * n + j] - mu) * (v[o * n + j] - mu);
    var /= double(n);  // biased
    for (int64_t j = 0; j < n; ++j) out[o * n + j] = (v[o * n + j] - mu) / std::sqrt(var + eps);
  }
  return out;
}

// Random weights whose output channels have different offsets and scales
// (some rows small enough for ε to matter).
torch::Tensor random_weight(const std::vector<int64_t>& shape, torch::ScalarType type) {
  torch::Tensor w = torch::randn(shape, torch::dtype(torch::kDouble));
  for (int64_t o = 0; o < shape[0]; ++o) {
    const double scale = std::pow(10.0, -3.0 + 4.0 * double(o) / double(std::max<int64_t>(1, shape[0] - 1)));
    w[o] = w[o] * scale + double(o) - 1.5;
  }
  return w.to(type);
}

TEST(WeightStandardization, ForwardMatchesLoop) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  EXPECT_EQ(maqd::kWeightStandardizationEps, 1e-5);
  for (const auto& shape : std::vector<std::vector<int64_t>>{
           {4, 3, 3, 3}, {16, 8, 1, 1}, {5, 7}, {3, 2, 5, 5}}) {
    const torch::Tensor w = random_weight(shape, torch::kDouble);
    const torch::Tensor y = maqd::standardize_weight(w);
    EXPECT_EQ(y.sizes(), w.sizes());
    const auto yv = ref::values(y), expected = standardize_loop(w, 1e-5);
    for (size_t i = 0; i < yv.size(); ++i)
      ASSERT_NEAR(yv[i], expected[i], 1e-12 * (1 + std::abs(expected[i]))) << "element " << i;
    // Another ε is honoured.
    const auto y3 = ref::values(maqd::standardize_weight(w, 1e-3));
    const auto e3 = standardize_loop(w, 1e-3);
    for (size_t i = 0; i < y3.size(); ++i)
      ASSERT_NEAR(y3[i], e3[i], 1e-12 * (1 + std::abs(e3[i]))) << "element " << i;
  }
}

TEST(WeightStandardization, ForwardFloat32MatchesLoop) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  // Unit-scale rows: float32 cancellation on large offsets is not under test here.
  const torch::Tensor w = torch::randn({8, 4, 3, 3}) * 0.2 + 0.1;
  const auto yv = ref::values(maqd::standardize_weight(w)), expected = standardize_loop(w, 1e-5);
  for (size_t i = 0; i < yv.size(); ++i)
    ASSERT_NEAR(yv[i], expected[i], 1e-5 * (1 + std::abs(expected[i]))) << "element " << i;
}

// Unit variance for rows whose variance dwarfs ε; a constant row maps to 0.
TEST(WeightStandardization, RowsHaveZeroMeanAndUnitVariance) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  torch::Tensor w = torch::randn({6, 4, 3, 3}, torch::dtype(torch::kDouble)) * 5.0 + 3.0;
  w[5].fill_(2.5);
  const auto yv = ref::values(maqd::standardize_weight(w));
  const int64_t n = 36;
  for (int64_t o = 0; o < 6; ++o) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mean += yv[o * n + j] / n;
    for (int64_t j = 0; j < n; ++j) var += (yv[o * n + j] - mean) * (yv[o * n + j] - mean) / n;
    EXPECT_NEAR(mean, 0.0, 1e-12) << "row " << o;
    if (o < 5) EXPECT_NEAR(var, 1.0, 1e-5) << "row " << o;  // 1/(1 + ε/σ²), σ² ≈ 25
    else EXPECT_EQ(var, 0.0);
  }
}

TEST(WeightStandardization, GradientMatchesFiniteDifferences) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor w0 = torch::randn({4, 3, 3, 3}, torch::dtype(torch::kDouble));
  const torch::Tensor probe = torch::randn({4, 3, 3, 3}, torch::dtype(torch::kDouble));
  torch::Tensor w = w0.clone().requires_grad_(true);
  (maqd::standardize_weight(w) * probe).sum().backward();
  const torch::Tensor numeric = ref::finite_difference(
      [&](const torch::Tensor& x) { return (maqd::standardize_weight(x) * probe).sum(); }, w0, 1e-6);
  EXPECT_LT(ref::max_abs_diff(w.grad(), numeric), 1e-6);
  // The check has teeth: the gradient is far from zero.
  EXPECT_GT(w.grad().abs().max().item<double>(), 0.1);
}

TEST(WeightStandardization, InvalidInputThrows) {
  MAQD_EXPECT_ERROR(maqd::standardize_weight(torch::randn({5})), "standardize_weight", "1",
                    "dimensions");
  MAQD_EXPECT_ERROR(maqd::standardize_weight(torch::randn({2, 3}), 0.0), "standardize_weight",
                    "eps");
  MAQD_EXPECT_ERROR(
      maqd::standardize_weight(torch::randn({2, 3}), std::numeric_limits<double>::quiet_NaN()),
      "standardize_weight", "eps");
}

}  // namespace
