// The normalizations of SPEC §4 against float64 loops:
//   LBN (Eq. 5): one mean and one biased variance over N, C, H, W; affine g_c, b_c;
//   BN: per channel over N, H, W;  LN (Eq. 3): per sample over C, H, W, affine per (c, h, w).
// Gradients by central finite differences; running statistics as the closed-form
// EMA (momentum 0.1, unbiased variance); evaluation uses them (and so differs
// from training mode on the same batch); eval_affine reproduces evaluation.
#include "maqd/nn/normalization.h"

#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "ops/reference.h"

namespace {

namespace ref = maqd_test::ref;
using maqd::NormKind;
using maqd::NormOptions;

constexpr double kEps = 1e-5;

NormOptions norm_opts(NormKind kind, int64_t c, int64_t h = 0, int64_t w = 0) {
  NormOptions o;
  o.kind = kind;
  o.channels = c;
  o.height = h;
  o.width = w;
  return o;
}

// A parameter or buffer of a module by its dotted name.
torch::Tensor param(const torch::nn::Module& m, const std::string& name) {
  for (const auto& p : m.named_parameters()) if (p.key() == name) return p.value();
  for (const auto& b : m.named_buffers()) if (b.key() == name) return b.value();
  ADD_FAILURE() << "no parameter or buffer " << name;
  return {};
}

void assign(torch::Tensor target, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  target.copy_(value);
}

// Index of element (n, c, h, w) in a contiguous NCHW tensor.
struct Shape {
  int64_t n, c, h, w;
  int64_t at(int64_t i, int64_t j, int64_t k, int64_t l) const { return ((i * c + j) * h + k) * w + l; }
  int64_t numel() const { return n * c * h * w; }
};

std::pair<double, double> mean_biased_var(const std::vector<double>& x) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  return {mean, var / double(x.size())};
}

// The values of channel c, over N, H, W.
std::vector<double> channel_values(const std::vector<double>& x, Shape s, int64_t c) {
  std::vector<double> values;
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t k = 0; k < s.h; ++k)
      for (int64_t l = 0; l < s.w; ++l) values.push_back(x[s.at(i, c, k, l)]);
  return values;
}

// Per-channel normalization with the given statistics, then the affine g_c, b_c.
std::vector<double> per_channel_affine(const std::vector<double>& x, Shape s,
                                       const std::vector<double>& g, const std::vector<double>& b,
                                       const std::vector<double>& mean,
                                       const std::vector<double>& var) {
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t k = 0; k < s.h; ++k)
        for (int64_t l = 0; l < s.w; ++l) {
          const int64_t e = s.at(i, c, k, l);
          y[e] = g[c] * (x[e] - mean[c]) / std::sqrt(var[c] + kEps) + b[c];
        }
  return y;
}

// LBN: one mean and one biased variance over everything.
std::vector<double> lbn_loop(const std::vector<double>& x, Shape s, const std::vector<double>& g,
                             const std::vector<double>& b, double mean, double var) {
  return per_channel_affine(x, s, g, b, std::vector<double>(s.c, mean),
                            std::vector<double>(s.c, var));
}

// BN: per channel over N, H, W.
std::vector<double> bn_loop(const std::vector<double>& x, Shape s, const std::vector<double>& g,
                            const std::vector<double>& b) {
  std::vector<double> mean(s.c), var(s.c);
  for (int64_t c = 0; c < s.c; ++c)
    std::tie(mean[c], var[c]) = mean_biased_var(channel_values(x, s, c));
  return per_channel_affine(x, s, g, b, mean, var);
}

// LN: per sample over C, H, W; affine per (c, h, w).
std::vector<double> ln_loop(const std::vector<double>& x, Shape s, const std::vector<double>& g,
                            const std::vector<double>& b) {
  std::vector<double> y(x.size());
  const int64_t per = s.c * s.h * s.w;
  for (int64_t i = 0; i < s.n; ++i) {
    const std::vector<double> sample(x.begin() + i * per, x.begin() + (i + 1) * per);
    const auto [mean, var] = mean_biased_var(sample);
    for (int64_t j = 0; j < per; ++j)
      y[i * per + j] = g[j] * (x[i * per + j] - mean) / std::sqrt(var + kEps) + b[j];
  }
  return y;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& expected,
                  double tol, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << what << " element " << i;
}

// Finite-difference gradient of `loss` wrt the tensor `target` (a parameter
// or an input), which is restored afterwards.
torch::Tensor fd_wrt(torch::Tensor target, const std::function<torch::Tensor()>& loss) {
  const torch::Tensor saved = target.detach().clone();
  const torch::Tensor g = ref::finite_difference(
      [&](const torch::Tensor& v) {
        target.detach().copy_(v);
        return loss();
      },
      saved, 1e-6);
  assign(target, saved);
  return g;
}

const Shape kShape{3, 4, 3, 2};

// Gains around 1 and random shifts, written into a norm's weight and bias.
struct Affine {
  torch::Tensor g, b;
};
Affine random_affine(torch::Tensor weight, torch::Tensor bias) {
  Affine a{torch::randn(weight.sizes(), torch::dtype(torch::kDouble)) + 1.0,
           torch::randn(bias.sizes(), torch::dtype(torch::kDouble))};
  assign(weight, a.g);
  assign(bias, a.b);
  return a;
}

torch::Tensor random_input(Shape s, double offset = 0.7, double scale = 1.8) {
  return torch::randn({s.n, s.c, s.h, s.w}, torch::dtype(torch::kDouble)) * scale + offset;
}

TEST(LayerBatchNorm, TrainingForwardMatchesLoop) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Norm norm(norm_opts(NormKind::kLayerBatch, kShape.c));
  norm->to(torch::kDouble);
  const auto [g, b] = random_affine(param(*norm, "lbn.weight"), param(*norm, "lbn.bias"));
  const torch::Tensor x = random_input(kShape);
  const auto xv = ref::values(x);
  const auto [mean, var] = mean_biased_var(xv);
  expect_close(ref::values(norm->forward(x)),
               lbn_loop(xv, kShape, ref::values(g), ref::values(b), mean, var), 1e-12, "LBN");
  // Not BN: per-channel statistics would give a different output.
  const torch::Tensor bn = ref::tensor(bn_loop(xv, kShape, ref::values(g), ref::values(b)));
  EXPECT_GT(ref::max_abs_diff(norm->forward(x), bn.view_as(x)), 1e-3);
}

TEST(LayerBatchNorm, GradientsMatchFiniteDifferences) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::LayerBatchNorm lbn(kShape.c);
  lbn->to(torch::kDouble);
  random_affine(lbn->weight, lbn->bias);
  torch::Tensor x = random_input(kShape);
  const torch::Tensor probe = torch::randn_like(x);
  auto loss = [&] { return (lbn->forward(x) * probe).sum(); };

  torch::Tensor xin = x.clone().requires_grad_(true);
  for (auto& p : lbn->parameters()) p.mutable_grad() = torch::Tensor();
  (lbn->forward(xin) * probe).sum().backward();
  const torch::Tensor gx = xin.grad(), gw = lbn->weight.grad().clone(),
                      gb = lbn->bias.grad().clone();

  EXPECT_LT(ref::max_abs_diff(gx, fd_wrt(x, loss)), 1e-6);
  EXPECT_LT(ref::max_abs_diff(gw, fd_wrt(lbn->weight, loss)), 1e-6);
  EXPECT_LT(ref::max_abs_diff(gb, fd_wrt(lbn->bias, loss)), 1e-6);
  EXPECT_GT(gx.abs().max().item<double>(), 0.1);
}

// After k training steps the running statistics are the EMA with momentum m,
// starting from mean 0 and variance 1, of the batch mean and the unbiased
// batch variance (n/(n−1)); evaluation then normalizes with them.
TEST(LayerBatchNorm, RunningStatisticsAreTheEmaAndEvalUsesThem) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (double momentum : {0.1, 0.3}) {
    maqd::LayerBatchNorm lbn(kShape.c, kEps, momentum);
    lbn->to(torch::kDouble);
    const auto [g, b] = random_affine(lbn->weight, lbn->bias);
    double rm = 0.0, rv = 1.0;
    const double n = double(kShape.numel());
    for (int step = 0; step < 4; ++step) {
      const torch::Tensor batch = random_input(kShape, 0.5 * step + 1.0, 1.0 + step);
      const auto [mean, var] = mean_biased_var(ref::values(batch));
      rm = (1 - momentum) * rm + momentum * mean;
      rv = (1 - momentum) * rv + momentum * var * n / (n - 1);
      lbn->forward(batch);
    }
    EXPECT_NEAR(lbn->running_mean.item<double>(), rm, 1e-12);
    EXPECT_NEAR(lbn->running_var.item<double>(), rv, 1e-12);
    EXPECT_EQ(lbn->num_batches_tracked.item<int64_t>(), 4);

    lbn->eval();
    const torch::Tensor x = random_input(kShape, -0.4, 0.6);
    const torch::Tensor eval_out = lbn->forward(x);
    expect_close(ref::values(eval_out),
                 lbn_loop(ref::values(x), kShape, ref::values(g), ref::values(b), rm, rv), 1e-12,
                 "LBN eval");
    // Evaluation does not touch the running statistics.
    EXPECT_NEAR(lbn->running_mean.item<double>(), rm, 1e-12);
    EXPECT_EQ(lbn->num_batches_tracked.item<int64_t>(), 4);
    // ... and differs from training mode on the same batch.
    lbn->train();
    EXPECT_GT(ref::max_abs_diff(eval_out, lbn->forward(x)), 0.1);
  }
}

TEST(LayerBatchNorm, EvalAffineReproducesEvaluation) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Norm norm(norm_opts(NormKind::kLayerBatch, kShape.c));
  norm->to(torch::kDouble);
  const auto [g, b] = random_affine(param(*norm, "lbn.weight"), param(*norm, "lbn.bias"));
  for (int step = 0; step < 3; ++step) norm->forward(random_input(kShape, 1.0, 2.0));
  norm->eval();
  const double rm = param(*norm, "lbn.running_mean").item<double>();
  const double rv = param(*norm, "lbn.running_var").item<double>();
  const auto [scale, shift] = norm->eval_affine();
  const auto sv = ref::values(scale), hv = ref::values(shift), gv = ref::values(g),
             bv = ref::values(b);
  ASSERT_EQ(sv.size(), size_t(kShape.c));
  ASSERT_EQ(hv.size(), size_t(kShape.c));
  for (int64_t c = 0; c < kShape.c; ++c) {
    EXPECT_NEAR(sv[c], gv[c] / std::sqrt(rv + kEps), 1e-12);
    EXPECT_NEAR(hv[c], bv[c] - rm * gv[c] / std::sqrt(rv + kEps), 1e-12);
  }
  const torch::Tensor x = random_input(kShape);
  const torch::Tensor folded = x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
  EXPECT_LT(ref::max_abs_diff(norm->forward(x), folded), 1e-12);
}

TEST(LayerBatchNorm, CenteredShiftCentresEveryChannelOnTheFirstBatchOnly) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Norm norm(norm_opts(NormKind::kLayerBatch, kShape.c));
  norm->to(torch::kDouble);
  const torch::Tensor g = torch::rand({kShape.c}, torch::dtype(torch::kDouble)) + 0.5;
  assign(param(*norm, "lbn.weight"), g);
  // Channels with very different means: the offsets a ternary filter's code
  // sum gives its channel.
  const torch::Tensor offsets = torch::arange(kShape.c, torch::dtype(torch::kDouble)) * 3.0;
  const torch::Tensor x = random_input(kShape) + offsets.view({1, -1, 1, 1});
  norm->center_shift_on_next_batch();
  norm->forward_activated(x, std::nullopt);
  // Expected from float64 loops: b_c = −g_c·(μ_c − μ)/σ with the layer's μ, σ.
  const auto xv = ref::values(x);
  const auto [mean, var] = mean_biased_var(xv);
  const double inv_std = 1.0 / std::sqrt(var + kEps);
  const auto bv = ref::values(param(*norm, "lbn.bias")), gv = ref::values(g);
  for (int64_t c = 0; c < kShape.c; ++c) {
    const double channel_mean = mean_biased_var(channel_values(xv, kShape, c)).first;
    EXPECT_NEAR(bv[c], -gv[c] * (channel_mean - mean) * inv_std, 1e-9) << "channel " << c;
  }
  // So the LBN output has mean 0 in every channel on that batch.
  const torch::Tensor y = norm->forward(x);
  EXPECT_LT(y.mean({0, 2, 3}).abs().max().item<double>(), 1e-9);
  // Once only: the next batch leaves the shifts to training.
  const torch::Tensor before = param(*norm, "lbn.bias").clone();
  norm->forward_activated(random_input(kShape), std::nullopt);
  EXPECT_TRUE(torch::equal(before, param(*norm, "lbn.bias")));
}

TEST(BatchNorm, CenteredShiftLeavesBatchNormAlone) {
  maqd::Norm norm(norm_opts(NormKind::kBatch, kShape.c));
  norm->to(torch::kDouble);
  norm->center_shift_on_next_batch();
  norm->forward_activated(random_input(kShape) + 5.0, std::nullopt);
  EXPECT_EQ(param(*norm, "bn.bias").abs().max().item<double>(), 0.0);
}

TEST(BatchNorm, TrainingForwardAndInputGradient) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Norm norm(norm_opts(NormKind::kBatch, kShape.c));
  norm->to(torch::kDouble);
  const auto [g, b] = random_affine(param(*norm, "bn.weight"), param(*norm, "bn.bias"));
  torch::Tensor x = random_input(kShape);
  expect_close(ref::values(norm->forward(x)),
               bn_loop(ref::values(x), kShape, ref::values(g), ref::values(b)), 1e-12, "BN");
  const torch::Tensor probe = torch::randn_like(x);
  torch::Tensor xin = x.clone().requires_grad_(true);
  (norm->forward(xin) * probe).sum().backward();
  EXPECT_LT(ref::max_abs_diff(xin.grad(), fd_wrt(x, [&] { return (norm->forward(x) * probe).sum(); })),
            1e-6);
}

TEST(BatchNorm, RunningStatisticsEvalAndEvalAffine) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Norm norm(norm_opts(NormKind::kBatch, kShape.c));
  norm->to(torch::kDouble);
  const auto [g, b] = random_affine(param(*norm, "bn.weight"), param(*norm, "bn.bias"));
  std::vector<double> rm(kShape.c, 0.0), rv(kShape.c, 1.0);
  const double n = double(kShape.n * kShape.h * kShape.w);
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor batch = random_input(kShape, 1.0 + step, 1.5);
    const auto xv = ref::values(batch);
    for (int64_t c = 0; c < kShape.c; ++c) {
      const auto [mean, var] = mean_biased_var(channel_values(xv, kShape, c));
      rm[c] = 0.9 * rm[c] + 0.1 * mean;
      rv[c] = 0.9 * rv[c] + 0.1 * var * n / (n - 1);
    }
    norm->forward(batch);
  }
  expect_close(ref::values(param(*norm, "bn.running_mean")), rm, 1e-12, "running mean");
  expect_close(ref::values(param(*norm, "bn.running_var")), rv, 1e-12, "running var");

  norm->eval();
  const torch::Tensor x = random_input(kShape);
  const auto expected = per_channel_affine(ref::values(x), kShape, ref::values(g), ref::values(b), rm, rv);
  const torch::Tensor eval_out = norm->forward(x);
  expect_close(ref::values(eval_out), expected, 1e-12, "BN eval");
  const auto [scale, shift] = norm->eval_affine();
  EXPECT_LT(ref::max_abs_diff(eval_out, x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1})),
            1e-12);
}

TEST(LayerNorm, ForwardAndInputGradient) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Norm norm(norm_opts(NormKind::kLayer, kShape.c, kShape.h, kShape.w));
  norm->to(torch::kDouble);
  const auto [g, b] = random_affine(param(*norm, "ln.weight"), param(*norm, "ln.bias"));
  torch::Tensor x = random_input(kShape);
  const auto expected = ln_loop(ref::values(x), kShape, ref::values(g), ref::values(b));
  expect_close(ref::values(norm->forward(x)), expected, 1e-12, "LN");
  // Per-sample statistics: the same in evaluation mode.
  norm->eval();
  expect_close(ref::values(norm->forward(x)), expected, 1e-12, "LN eval");
  norm->train();
  const torch::Tensor probe = torch::randn_like(x);
  torch::Tensor xin = x.clone().requires_grad_(true);
  (norm->forward(xin) * probe).sum().backward();
  EXPECT_LT(ref::max_abs_diff(xin.grad(), fd_wrt(x, [&] { return (norm->forward(x) * probe).sum(); })),
            1e-6);
  MAQD_EXPECT_ERROR(norm->eval_affine(), "normalization", "LN");
}

TEST(Normalization, WrongShapesThrow) {
  const torch::Tensor x = torch::randn({2, 3, 5, 5});
  maqd::Norm lbn(norm_opts(NormKind::kLayerBatch, 4));
  MAQD_EXPECT_ERROR(lbn->forward(x), "layer_batch_norm", "[2, 3, 5, 5]", "expected [N, 4, H, W]");
  MAQD_EXPECT_ERROR(lbn->forward(torch::randn({4, 5, 5})), "layer_batch_norm", "expected [N, 4, H, W]");
  maqd::Norm bn(norm_opts(NormKind::kBatch, 4));
  MAQD_EXPECT_ERROR(bn->forward(x), "batch_norm", "expected [N, 4, H, W]");
  maqd::Norm ln(norm_opts(NormKind::kLayer, 3, 4, 4));
  MAQD_EXPECT_ERROR(ln->forward(x), "layer_norm", "expected [N, 3, 4, 4]");
  MAQD_EXPECT_ERROR(maqd::Norm(norm_opts(NormKind::kLayer, 3)), "normalization", "height");
  MAQD_EXPECT_ERROR(maqd::Norm(norm_opts(NormKind::kBatch, 0)), "normalization", "channels");
  MAQD_EXPECT_ERROR(maqd::LayerBatchNorm(0), "layer_batch_norm", "channels");
  MAQD_EXPECT_ERROR(maqd::LayerBatchNorm(4, 0.0), "layer_batch_norm", "eps");
  MAQD_EXPECT_ERROR(maqd::LayerBatchNorm(4, 1e-5, 1.5), "layer_batch_norm", "momentum");
}

TEST(Normalization, KindNamesRoundTrip) {
  for (NormKind k : {NormKind::kLayerBatch, NormKind::kBatch, NormKind::kLayer})
    EXPECT_EQ(maqd::parse_norm_kind(maqd::to_string(k)), k);
  EXPECT_EQ(maqd::to_string(NormKind::kLayerBatch), "lbn");
  EXPECT_EQ(maqd::to_string(NormKind::kBatch), "bn");
  EXPECT_EQ(maqd::to_string(NormKind::kLayer), "ln");
  MAQD_EXPECT_ERROR(maqd::parse_norm_kind("gn"), "normalization", "gn", "lbn");
}

}  // namespace
