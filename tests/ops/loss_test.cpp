// The loss of Eq. 9 (SPEC §5) against a float64 closed form:
//   L = (1 − γ)·mean_n(logsumexp(z_n) − z_{n,y_n}) + γ·mean_{n,k}(t_{n,k} − onehot_{n,k})²,
// t = logits (default) or softmax probabilities; gradient by finite differences.
#include "maqd/ops/loss.h"

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
using maqd::LossOptions;
using maqd::MseTarget;

LossOptions opts(double gamma, MseTarget target = MseTarget::kLogits) {
  LossOptions o;
  o.gamma = gamma;
  o.mse_target = target;
  return o;
}

double loss_loop(const torch::Tensor& logits, const torch::Tensor& targets, double gamma,
                 MseTarget target) {
  const auto z = ref::values(logits);
  const auto y = ref::values(targets);
  const int64_t n = logits.size(0), k = logits.size(1);
  double ce = 0, mse = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = z.data() + i * k;
    double max = row[0];
    for (int64_t j = 1; j < k; ++j) max = std::max(max, row[j]);
    double sum = 0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(row[j] - max);
    const double lse = max + std::log(sum);
    const int64_t label = int64_t(y[i]);
    ce += lse - row[label];
    for (int64_t j = 0; j < k; ++j) {
      const double t = target == MseTarget::kLogits ? row[j] : std::exp(row[j] - lse);
      const double d = t - (j == label ? 1.0 : 0.0);
      mse += d * d;
    }
  }
  return (1 - gamma) * ce / double(n) + gamma * mse / double(n * k);
}

TEST(Loss, DefaultsAreThePapers) {
  const LossOptions o;
  EXPECT_EQ(o.gamma, 0.05);
  EXPECT_EQ(o.mse_target, MseTarget::kLogits);
}

TEST(Loss, MatchesClosedForm) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor logits = torch::randn({7, 10}, torch::dtype(torch::kDouble)) * 3.0;
  const torch::Tensor targets = torch::randint(0, 10, {7}, torch::kLong);
  for (MseTarget t : {MseTarget::kLogits, MseTarget::kProbabilities}) {
    for (double gamma : {0.05, 0.0, 0.5, 1.0}) {
      const double got = maqd::maqd_loss(logits, targets, opts(gamma, t)).item<double>();
      EXPECT_NEAR(got, loss_loop(logits, targets, gamma, t), 1e-12)
          << "γ=" << gamma << " target=" << int(t);
    }
  }
  // The default options are γ = 0.05 on the logits.
  EXPECT_NEAR(maqd::maqd_loss(logits, targets).item<double>(),
              loss_loop(logits, targets, 0.05, MseTarget::kLogits), 1e-12);
  // float32 logits and int32 targets.
  EXPECT_NEAR(maqd::maqd_loss(logits.to(torch::kFloat), targets.to(torch::kInt)).item<double>(),
              loss_loop(logits, targets, 0.05, MseTarget::kLogits), 1e-5);
}

// Hand-computed: logits all 0 over K classes: CE = log K, MSE on logits = 1/K,
// MSE on probabilities = ((1 − 1/K)² + (K − 1)/K²)/K = (K − 1)/K².
TEST(Loss, HandValues) {
  const int64_t k = 4;
  const torch::Tensor logits = torch::zeros({3, k}, torch::dtype(torch::kDouble));
  const torch::Tensor targets = torch::tensor({0, 3, 1}, torch::kLong);
  EXPECT_NEAR(maqd::maqd_loss(logits, targets, opts(0.05)).item<double>(),
              0.95 * std::log(4.0) + 0.05 * 0.25, 1e-15);
  EXPECT_NEAR(maqd::maqd_loss(logits, targets, opts(0.05, MseTarget::kProbabilities)).item<double>(),
              0.95 * std::log(4.0) + 0.05 * 3.0 / 16.0, 1e-15);
}

TEST(Loss, GradientMatchesFiniteDifferences) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor logits = torch::randn({5, 6}, torch::dtype(torch::kDouble)) * 2.0;
  const torch::Tensor targets = torch::randint(0, 6, {5}, torch::kLong);
  for (MseTarget t : {MseTarget::kLogits, MseTarget::kProbabilities}) {
    torch::Tensor z = logits.clone().requires_grad_(true);
    maqd::maqd_loss(z, targets, opts(0.05, t)).backward();
    const torch::Tensor numeric = ref::finite_difference(
        [&](const torch::Tensor& v) { return maqd::maqd_loss(v, targets, opts(0.05, t)); }, logits,
        1e-6);
    EXPECT_LT(ref::max_abs_diff(z.grad(), numeric), 1e-8) << "target=" << int(t);
    // And against the analytic gradient of the logits form:
    // (1−γ)(softmax − onehot)/N + γ·2(z − onehot)/(N·K).
    if (t == MseTarget::kLogits) {
      const torch::Tensor onehot = torch::one_hot(targets, 6).to(torch::kDouble);
      const torch::Tensor analytic =
          0.95 * (torch::softmax(logits, 1) - onehot) / 5.0 + 0.05 * 2.0 * (logits - onehot) / 30.0;
      EXPECT_LT(ref::max_abs_diff(z.grad(), analytic), 1e-14);
    }
  }
}

TEST(Loss, InvalidInputsThrow) {
  const torch::Tensor logits = torch::randn({4, 3});
  const torch::Tensor targets = torch::tensor({0, 1, 2, 0}, torch::kLong);
  MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, torch::tensor({0, 1, 2}, torch::kLong)), "maqd_loss",
                    "targets", "[3]", "expected [4]");
  MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, targets.view({2, 2})), "maqd_loss", "targets");
  MAQD_EXPECT_ERROR(maqd::maqd_loss(torch::randn({12}), targets), "maqd_loss", "logits", "[12]");
  MAQD_EXPECT_ERROR(maqd::maqd_loss(torch::randn({4, 3, 1}), targets), "maqd_loss", "logits");
  // Labels outside [0, K) and non-integer labels are rejected, naming the range.
  MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, torch::tensor({0, 1, 3, 0}, torch::kLong)), "maqd_loss",
                    "targets", "0..3", "0..2");
  MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, torch::tensor({0, -1, 2, 0}, torch::kLong)),
                    "maqd_loss", "-1..2");
  MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, torch::tensor({0, -100, 2, 0}, torch::kLong)),
                    "maqd_loss", "-100..2");
  MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, torch::tensor({0.0, 1.0, 2.0, 0.0})), "maqd_loss",
                    "integer class labels");
  for (double gamma : {-0.01, 1.01, std::numeric_limits<double>::quiet_NaN()}) {
    SCOPED_TRACE("gamma " + std::to_string(gamma));
    MAQD_EXPECT_ERROR(maqd::maqd_loss(logits, targets, opts(gamma)), "maqd_loss", "gamma",
                      "[0, 1]");
  }
}

}  // namespace
