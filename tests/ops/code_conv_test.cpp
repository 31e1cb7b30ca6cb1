// The forward convolution on integer codes (ops/code_conv.h) against an
// independent float64 reference (torch::conv2d in double on the same values):
// forward and both gradients on random shapes, grids and values, edge sizes
// included (1×1 maps, 1 channel, stride 2, no padding, the largest codes);
// the check that inputs lie on their grid; the bounds of the fast path.
#include "maqd/ops/code_conv.h"

#include <random>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "ops/reference.h"

namespace {

struct Problem {
  int64_t batch, in_channels, out_channels, height, width, kernel, stride, padding;
  int64_t input_denominator, weight_denominator;
};

std::string describe(const Problem& p) {
  return "N" + std::to_string(p.batch) + " C" + std::to_string(p.in_channels) + " OC" +
         std::to_string(p.out_channels) + " " + std::to_string(p.height) + "x" +
         std::to_string(p.width) + " k" + std::to_string(p.kernel) + " s" +
         std::to_string(p.stride) + " p" + std::to_string(p.padding) + " d" +
         std::to_string(p.input_denominator) + " D" + std::to_string(p.weight_denominator);
}

// Values m/d (m in [0, d]) and k/D (k in [−D, D]), float32.
torch::Tensor grid_input(const Problem& p) {
  return torch::randint(0, p.input_denominator + 1,
                        {p.batch, p.in_channels, p.height, p.width}, torch::kDouble)
             .div(double(p.input_denominator))
             .to(torch::kFloat);
}

torch::Tensor grid_weight(const Problem& p) {
  return torch::randint(-p.weight_denominator, p.weight_denominator + 1,
                        {p.out_channels, p.in_channels, p.kernel, p.kernel}, torch::kDouble)
             .div(double(p.weight_denominator))
             .to(torch::kFloat);
}

bool available() {
  const Problem p{1, 1, 1, 3, 3, 3, 1, 1, 3, 1};
  return maqd::code_conv_available(grid_input(p), grid_weight(p), 3, 1);
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, double relative,
                  const std::string& what) {
  const double scale = want.abs().max().item<double>() + 1e-12;
  const double error = (got.to(torch::kDouble) - want).abs().max().item<double>();
  EXPECT_LE(error, relative * scale) << what << ": max error " << error << " vs max " << scale;
}

void check_problem(const Problem& p) {
  SCOPED_TRACE(describe(p));
  const torch::Tensor input = grid_input(p).requires_grad_(true);
  const torch::Tensor weight = grid_weight(p).requires_grad_(true);
  ASSERT_TRUE(maqd::code_conv_available(input, weight, p.input_denominator, p.weight_denominator));
  const torch::Tensor out = maqd::code_conv2d(input, weight, p.input_denominator,
                                              p.weight_denominator, p.stride, p.padding);

  const torch::Tensor input64 = input.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor weight64 = weight.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor out64 = torch::conv2d(input64, weight64, {}, p.stride, p.padding);
  ASSERT_EQ(out.sizes(), out64.sizes());
  // Integer sums, one rounding of the scale: a few float32 ulps of the largest output.
  expect_close(out, out64, 4e-7, "forward");

  const torch::Tensor grad_out = torch::randn(out.sizes(), torch::kDouble);
  out.backward(grad_out.to(torch::kFloat));
  out64.backward(grad_out);
  expect_close(input.grad(), input64.grad(), 1e-5, "grad input");
  expect_close(weight.grad(), weight64.grad(), 1e-5, "grad weight");
}

TEST(CodeConv, MatchesFloat64ReferenceOnRandomProblems) {
  if (!available()) GTEST_SKIP() << "built without oneDNN: code_conv2d is unavailable";
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t input_grids[] = {1, 3, 7, 12, 28, 255};
  const int64_t weight_grids[] = {1, 3, 7, 15, 64, 127};
  for (int trial = 0; trial < 24; ++trial) {
    Problem p;
    p.batch = pick(1, 3);
    p.in_channels = pick(1, 40);
    p.out_channels = pick(1, 40);
    p.height = pick(1, 11);
    p.width = pick(1, 11);
    p.kernel = pick(0, 3) == 0 ? 1 : 3;
    p.stride = pick(1, 2);
    p.padding = pick(0, 2) == 0 ? 0 : p.kernel / 2;
    if (p.height + 2 * p.padding < p.kernel || p.width + 2 * p.padding < p.kernel) p.padding = 1;
    do {
      p.input_denominator = input_grids[pick(0, 5)];
      p.weight_denominator = weight_grids[pick(0, 5)];
    } while (2 * p.input_denominator * p.weight_denominator > 32767);
    check_problem(p);
  }
}

TEST(CodeConv, EdgeSizesAndLargestCodes) {
  if (!available()) GTEST_SKIP() << "built without oneDNN: code_conv2d is unavailable";
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  check_problem({1, 1, 1, 1, 1, 1, 1, 0, 1, 1});          // one pixel, one channel
  check_problem({2, 1, 3, 1, 1, 3, 1, 1, 3, 1});          // 1×1 map, 3×3 kernel, padded
  check_problem({1, 16, 32, 28, 28, 3, 1, 1, 3, 1});      // VGG ¼'s first hidden conv at (3, 4)
  check_problem({2, 64, 128, 7, 7, 3, 1, 1, 28, 7});      // after AP at M_a = 8, M_w = 15
  check_problem({1, 128, 8, 5, 5, 3, 2, 0, 255, 64});     // the largest grid product allowed
  // Every value at its extreme: all sums at the int32 path's largest magnitude.
  const Problem p{1, 128, 4, 3, 3, 3, 1, 1, 255, 64};
  const torch::Tensor input = torch::ones({1, 128, 3, 3});
  const torch::Tensor weight = -torch::ones({4, 128, 3, 3});
  const torch::Tensor out = maqd::code_conv2d(input, weight, 255, 64, 1, 1);
  expect_close(out, torch::conv2d(input.to(torch::kDouble), weight.to(torch::kDouble), {}, 1, 1),
               4e-7, describe(p) + " all extremes");
}

TEST(CodeConv, RunsOneDnnIntegerKernels) {
  if (!available()) GTEST_SKIP() << "built without oneDNN: code_conv2d is unavailable";
  const Problem p{2, 16, 16, 8, 8, 3, 1, 1, 3, 1};
  maqd::code_conv2d(grid_input(p), grid_weight(p), 3, 1, 1, 1);
  const auto kernels = maqd::code_conv_kernels_used();
  ASSERT_FALSE(kernels.empty());
  bool integer_kernel = false;
  for (const std::string& name : kernels)
    integer_kernel |= name.find("not used") == std::string::npos;
  EXPECT_TRUE(integer_kernel) << "oneDNN offered only reference kernels: " << kernels.front();
}

TEST(CodeConv, RefusesValuesOffTheGrid) {
  if (!available()) GTEST_SKIP() << "built without oneDNN: code_conv2d is unavailable";
  const Problem p{1, 4, 4, 5, 5, 3, 1, 1, 3, 1};
  auto message = [&](torch::Tensor input, torch::Tensor weight) -> std::string {
    try {
      maqd::code_conv2d(input, weight, 3, 1, 1, 1);
    } catch (const maqd::Error& e) {
      return e.what();
    }
    return "";
  };
  torch::Tensor off = grid_input(p);
  off.index_put_({0, 1, 2, 3}, 0.5f);  // not m/3
  EXPECT_NE(message(off, grid_weight(p)).find("code_conv: input"), std::string::npos);
  torch::Tensor above = grid_input(p);
  above.index_put_({0, 0, 0, 0}, 4.0f / 3);  // m = 4 > d
  EXPECT_NE(message(above, grid_weight(p)).find("code_conv: input"), std::string::npos);
  torch::Tensor not_a_number = grid_input(p);
  not_a_number.index_put_({0, 3, 4, 4}, std::nanf(""));
  EXPECT_NE(message(not_a_number, grid_weight(p)).find("code_conv: input"), std::string::npos);
  torch::Tensor weight = grid_weight(p);
  weight.index_put_({2, 1, 0, 0}, -2.0f);  // k = −2 < −D
  EXPECT_NE(message(grid_input(p), weight).find("code_conv: weight"), std::string::npos);
}

// --precision bf16: the forward stays on integer codes; the backward
// convolutions round to bfloat16 and return float32 gradients.
TEST(CodeConv, Bf16BackwardReturnsFloat32GradientsNearFloat64) {
  if (!available()) GTEST_SKIP() << "built without oneDNN: code_conv2d is unavailable";
  // Where maqd refuses --precision bf16 (no AVX-512 BF16, or oneDNN capped
  // below it, where LibTorch's bf16 conv fails to find a kernel).
  if (!maqd::native_bf16_convolutions()) GTEST_SKIP() << "no native bf16 convolutions here";
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const Problem p{2, 12, 10, 9, 9, 3, 1, 1, 7, 15};
  const torch::Tensor input = grid_input(p).requires_grad_(true);
  const torch::Tensor weight = grid_weight(p).requires_grad_(true);
  const torch::Tensor float32_out =
      maqd::code_conv2d(input.detach(), weight.detach(), 7, 15, 1, 1);
  const torch::Tensor out = maqd::code_conv2d(input, weight, 7, 15, 1, 1, torch::kBFloat16);
  EXPECT_TRUE(torch::equal(out, float32_out));

  const torch::Tensor input64 = input.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor weight64 = weight.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor grad_out = torch::randn(out.sizes(), torch::kDouble);
  torch::conv2d(input64, weight64, {}, 1, 1).backward(grad_out);
  out.backward(grad_out.to(torch::kFloat));
  ASSERT_EQ(input.grad().scalar_type(), torch::kFloat);
  ASSERT_EQ(weight.grad().scalar_type(), torch::kFloat);
  expect_close(input.grad(), input64.grad(), 2e-2, "grad input");
  expect_close(weight.grad(), weight64.grad(), 2e-2, "grad weight");
  // Rounded to bfloat16 on the way (float32 would be within 1e-5).
  const double off = (weight.grad().to(torch::kDouble) - weight64.grad()).abs().max().item<double>();
  EXPECT_GT(off, 1e-4 * weight64.grad().abs().max().item<double>());
  MAQD_EXPECT_ERROR(maqd::code_conv2d(input, weight, 7, 15, 1, 1, torch::kHalf), "code_conv",
                    "backward dtype", "bfloat16");
}

TEST(CodeConv, FastPathBounds) {
  const torch::Tensor input = torch::zeros({1, 2, 3, 3});
  const torch::Tensor weight = torch::zeros({2, 2, 3, 3});
  EXPECT_FALSE(maqd::code_conv_available(input, weight, 0, 1));
  EXPECT_FALSE(maqd::code_conv_available(input, weight, 256, 1));    // codes beyond u8
  EXPECT_FALSE(maqd::code_conv_available(input, weight, 3, 128));    // codes beyond s8
  EXPECT_FALSE(maqd::code_conv_available(input, weight, 255, 127));  // int16 pairs could saturate
  EXPECT_FALSE(maqd::code_conv_available(input.to(torch::kDouble), weight, 3, 1));
  if (available()) EXPECT_TRUE(maqd::code_conv_available(input, weight, 255, 64));
  try {
    maqd::code_conv2d(input, weight, 256, 1, 1, 1);
    ADD_FAILURE() << "no error for d = 256";
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("code_conv"), std::string::npos) << e.what();
  }
}

}  // namespace
