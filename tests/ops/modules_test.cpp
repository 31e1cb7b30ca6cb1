// The modules a network is made of: maqd::Conv (W, WS(W), Q_w(WS(W)), Q_w(W))
// and maqd::Activation (ReLU or Q_a), against float64 loops and the functional
// ops; option validation at construction.
#include <cmath>
#include <optional>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "maqd/nn/activation.h"
#include "maqd/nn/conv.h"
#include "maqd/ops/code_conv.h"
#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/weight_quantizer.h"
#include "maqd/ops/weight_standardization.h"
#include "ops/reference.h"

namespace {

namespace ref = maqd_test::ref;
using maqd::ConvOptions;
using maqd::WeightQuantOptions;

ConvOptions conv_opts(bool ws, std::optional<int64_t> levels, int64_t in = 3, int64_t out = 4,
                      int64_t k = 3) {
  ConvOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel_size = k;
  o.weight_standardization = ws;
  if (levels) {
    WeightQuantOptions q;
    q.levels = *levels;
    o.quant = q;
  }
  return o;
}

// The effective weight in float64: optional WS per output channel, optional Q_w.
std::vector<double> effective_loop(const torch::Tensor& w, bool ws, std::optional<int64_t> levels) {
  auto v = ref::values(w);
  const int64_t rows = w.size(0), n = w.numel() / rows;
  if (ws) {
    for (int64_t o = 0; o < rows; ++o) {
      double mu = 0, var = 0;
      for (int64_t j = 0; j < n; ++j) mu += v[o * n + j] / double(n);
      for (int64_t j = 0; j < n; ++j) var += (v[o * n + j] - mu) * (v[o * n + j] - mu) / double(n);
      for (int64_t j = 0; j < n; ++j) v[o * n + j] = (v[o * n + j] - mu) / std::sqrt(var + 1e-5);
    }
  }
  if (levels)
    for (double& x : v) x = ref::round_clip(x / 3.0, double(*levels - 1) / 2.0, -1.0, 1.0);
  return v;
}

// Direct convolution, stride 1, zero padding p, float64.
std::vector<double> conv_loop(const torch::Tensor& x, const std::vector<double>& w, int64_t out,
                              int64_t k, int64_t p) {
  const auto xv = ref::values(x);
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t oh = h + 2 * p - k + 1, ow = wd + 2 * p - k + 1;
  std::vector<double> y(n * out * oh * ow, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t r = 0; r < oh; ++r)
        for (int64_t s = 0; s < ow; ++s) {
          double acc = 0;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t a = 0; a < k; ++a)
              for (int64_t b = 0; b < k; ++b) {
                const int64_t yy = r + a - p, xx = s + b - p;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                acc += xv[((i * c + ci) * h + yy) * wd + xx] * w[((o * c + ci) * k + a) * k + b];
              }
          y[((i * out + o) * oh + r) * ow + s] = acc;
        }
  return y;
}

struct Variant {
  bool ws;
  std::optional<int64_t> levels;
};
const Variant kVariants[] = {{true, 3}, {false, 3}, {true, 5}, {true, std::nullopt},
                             {false, std::nullopt}};

// A float64 conv; without WS its weight is drawn wider (N(0, 2²)) so that
// Q_w(W) reaches its levels instead of rounding LibTorch's small init to 0.
maqd::Conv make_conv(const Variant& v) {
  maqd::Conv conv(conv_opts(v.ws, v.levels));
  conv->to(torch::kDouble);
  if (!v.ws) {
    torch::NoGradGuard no_grad;
    conv->weight.normal_(0.0, 2.0);
  }
  return conv;
}

std::string name(const Variant& v) {
  return std::string(v.ws ? "WS" : "noWS") + (v.levels ? " M_w=" + std::to_string(*v.levels) : " float");
}

TEST(ConvModule, EffectiveWeightIsTheComposition) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (const Variant& v : kVariants) {
    maqd::Conv conv = make_conv(v);
    const torch::Tensor eff = conv->effective_weight();
    EXPECT_EQ(eff.sizes(), conv->weight.sizes()) << name(v);
    const auto got = ref::values(eff), expected = effective_loop(conv->weight, v.ws, v.levels);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], expected[i], v.levels ? 0.0 : 1e-12) << name(v) << " element " << i;
    // The same as the functional ops chained.
    torch::Tensor chained = v.ws ? maqd::standardize_weight(conv->weight) : conv->weight;
    EXPECT_LT(ref::max_abs_diff(conv->standardized_weight(), chained), 1e-15) << name(v);
    if (v.levels) {
      WeightQuantOptions q;
      q.levels = *v.levels;
      chained = maqd::quantize_standardized_weight(chained, q);
      EXPECT_LE(ref::distinct(eff), *v.levels) << name(v);
      EXPECT_GE(ref::distinct(eff), 2) << name(v);
    }
    EXPECT_TRUE(torch::equal(eff, chained)) << name(v);
  }
}

TEST(ConvModule, ForwardIsConvolutionWithEffectiveWeight) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({2, 3, 6, 5}, torch::dtype(torch::kDouble));
  for (const Variant& v : kVariants) {
    maqd::Conv conv = make_conv(v);
    const torch::Tensor y = conv->forward(x);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 4, 6, 5})) << name(v);  // padding k/2
    EXPECT_LT(ref::max_abs_diff(y, torch::conv2d(x, conv->effective_weight(), {}, 1, 1)), 1e-12)
        << name(v);
    const auto expected = conv_loop(x, effective_loop(conv->weight, v.ws, v.levels), 4, 3, 1);
    const auto got = ref::values(y);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], expected[i], 1e-10 * (1 + std::abs(expected[i]))) << name(v) << " " << i;
  }
}

TEST(ConvModule, StrideBiasAndKernelOne) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  // Fan-in 8 lets |Ŵ| reach √7 ≈ 2.6, so Q_w with M_w = 5 is not all zeros.
  ConvOptions o = conv_opts(true, 5, 8, 2, 1);
  o.bias = true;
  o.stride = 2;
  maqd::Conv conv(o);
  conv->to(torch::kDouble);
  ASSERT_TRUE(conv->bias.defined());
  const torch::Tensor x = torch::randn({1, 8, 5, 5}, torch::dtype(torch::kDouble));
  const torch::Tensor y = conv->forward(x);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 2, 3, 3}));
  EXPECT_EQ(conv->options().padding, 0);
  const auto w = effective_loop(conv->weight, true, 5);
  EXPECT_GE(ref::distinct(conv->effective_weight()), 2);
  const auto xv = ref::values(x), yv = ref::values(y), bv = ref::values(conv->bias);
  for (int64_t oc = 0; oc < 2; ++oc)
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t s = 0; s < 3; ++s) {
        double acc = bv[oc];
        for (int64_t c = 0; c < 8; ++c) acc += w[oc * 8 + c] * xv[(c * 5 + 2 * r) * 5 + 2 * s];
        EXPECT_NEAR(yv[(oc * 3 + r) * 3 + s], acc, 1e-12);
      }
}

TEST(ConvModule, GradientsReachTheWeight) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({2, 3, 5, 5}, torch::dtype(torch::kDouble));
  const torch::Tensor probe = torch::randn({2, 4, 5, 5}, torch::dtype(torch::kDouble));
  for (const Variant& v : kVariants) {
    maqd::Conv conv = make_conv(v);
    (conv->forward(x) * probe).sum().backward();
    const torch::Tensor g = conv->weight.grad();
    ASSERT_TRUE(g.defined()) << name(v);
    EXPECT_TRUE(torch::isfinite(g).all().item<bool>()) << name(v);
    EXPECT_GT(g.abs().max().item<double>(), 0.0) << name(v);
  }
}

// --precision bf16: the conv's arithmetic in bfloat16 (8 significant bits,
// so about 2^-8 relative error per product), its tensors float32.
TEST(ConvModule, Bf16ComputeKeepsFloat32TensorsAndGradients) {
  // Where maqd refuses --precision bf16 (no AVX-512 BF16, or oneDNN capped
  // below it, where LibTorch's bf16 conv fails to find a kernel).
  if (!maqd::native_bf16_convolutions()) GTEST_SKIP() << "no native bf16 convolutions here";
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  ConvOptions o = conv_opts(false, std::nullopt, 8, 6, 3);
  o.bias = true;
  maqd::Conv conv(o);
  const torch::Tensor x = torch::randn({2, 8, 7, 7}).requires_grad_(true);
  const torch::Tensor probe = torch::randn({2, 6, 7, 7});
  const torch::Tensor float32_out = conv->forward(x).detach();

  const torch::Tensor x64 = x.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor w64 = conv->weight.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor b64 = conv->bias.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor y64 = torch::conv2d(x64, w64, b64, 1, 1);
  (y64 * probe.to(torch::kDouble)).sum().backward();

  conv->set_compute_dtype(torch::kBFloat16);
  EXPECT_EQ(conv->compute_dtype(), torch::kBFloat16);
  const torch::Tensor y = conv->forward(x);
  (y * probe).sum().backward();
  EXPECT_EQ(y.scalar_type(), torch::kFloat);
  EXPECT_EQ(conv->weight.grad().scalar_type(), torch::kFloat);
  EXPECT_EQ(conv->bias.grad().scalar_type(), torch::kFloat);
  EXPECT_EQ(x.grad().scalar_type(), torch::kFloat);
  const auto relative_error = [](const torch::Tensor& got, const torch::Tensor& want) {
    return (got.to(torch::kDouble) - want).abs().max().item<double>() /
           want.abs().max().item<double>();
  };
  EXPECT_LT(relative_error(y, y64), 2e-2);
  EXPECT_LT(relative_error(conv->weight.grad(), w64.grad()), 2e-2);
  EXPECT_LT(relative_error(conv->bias.grad(), b64.grad()), 1e-2);
  EXPECT_LT(relative_error(x.grad(), x64.grad()), 2e-2);
  // It did round: bfloat16 cannot reproduce float32's sums of 72 products.
  EXPECT_GT(relative_error(y, float32_out.to(torch::kDouble)), 1e-4);

  MAQD_EXPECT_ERROR(conv->set_compute_dtype(torch::kHalf), "conv", "compute dtype", "bfloat16");
}

TEST(ConvModule, InvalidOptionsThrow) {
  MAQD_EXPECT_ERROR(maqd::Conv(conv_opts(true, 4)), "weight_quantizer", "levels", "4");
  MAQD_EXPECT_ERROR(maqd::Conv(conv_opts(true, 1)), "weight_quantizer", "levels");
  ConvOptions bad_scale = conv_opts(true, 3);
  bad_scale.quant->scale = 0.0;
  MAQD_EXPECT_ERROR(maqd::Conv(bad_scale), "weight_quantizer", "scale");
  MAQD_EXPECT_ERROR(maqd::Conv(conv_opts(true, 3, 0, 4)), "conv", "in_channels");
  MAQD_EXPECT_ERROR(maqd::Conv(conv_opts(true, 3, 3, 4, 0)), "conv", "kernel_size");
  maqd::Conv conv(conv_opts(true, 3));
  MAQD_EXPECT_ERROR(conv->forward(torch::randn({1, 2, 5, 5})), "conv", "expected [N, 3, H, W]");
}

TEST(ActivationModule, ReluWithoutQuantization) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::Activation act;
  EXPECT_FALSE(act->quant().has_value());
  const torch::Tensor x = torch::randn({500}, torch::dtype(torch::kDouble)) * 2.0;
  torch::Tensor xin = x.clone().requires_grad_(true);
  const torch::Tensor y = act->forward(xin);
  y.sum().backward();
  const auto xv = ref::values(x), yv = ref::values(y), gv = ref::values(xin.grad());
  for (size_t i = 0; i < xv.size(); ++i) {
    ASSERT_EQ(yv[i], std::max(xv[i], 0.0));
    ASSERT_EQ(gv[i], xv[i] > 0 ? 1.0 : 0.0);
  }
  // ReLU does not clip at 1.
  EXPECT_GT(y.max().item<double>(), 1.5);
}

TEST(ActivationModule, QuantizerWhenConfigured) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::ActivationQuantOptions q;
  q.levels = 4;
  maqd::Activation act(q);
  ASSERT_TRUE(act->quant().has_value());
  EXPECT_EQ(act->quant()->levels, 4);
  const torch::Tensor x = torch::rand({500}, torch::dtype(torch::kDouble)) * 1.6 - 0.3;
  torch::Tensor xin = x.clone().requires_grad_(true);
  const torch::Tensor y = act->forward(xin);
  y.sum().backward();
  const auto xv = ref::values(x), yv = ref::values(y), gv = ref::values(xin.grad());
  for (size_t i = 0; i < xv.size(); ++i) {
    ASSERT_EQ(yv[i], ref::round_clip(xv[i], 3.0, 0.0, 1.0));
    const double expected = ref::activation_slope_sum(xv[i], 4, 0.25) / 3.0;
    ASSERT_NEAR(gv[i], expected, 1e-12 * expected);
  }
}

TEST(ActivationModule, InvalidOptionsThrow) {
  maqd::ActivationQuantOptions q;
  q.levels = 1;
  MAQD_EXPECT_ERROR(maqd::Activation(q), "activation_quantizer", "levels");
  q.levels = 2;
  q.alpha = -1.0;
  MAQD_EXPECT_ERROR(maqd::Activation(q), "activation_quantizer", "alpha");
}

}  // namespace
