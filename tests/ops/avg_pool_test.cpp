// The fused 2×2 average pooling (ops/avg_pool.h) against torch::avg_pool2d
// and its autograd, in float32 and float64: equal values (the same four
// additions in the same order, then an exact / 4), on random shapes with odd
// and even sizes, one channel, the smallest map; errors for bad shapes.
#include "maqd/ops/avg_pool.h"

#include <random>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"

namespace {

void check_shape(int64_t n, int64_t c, int64_t h, int64_t w, torch::ScalarType type) {
  SCOPED_TRACE("N" + std::to_string(n) + " C" + std::to_string(c) + " " + std::to_string(h) +
               "x" + std::to_string(w) + " " + c10::toString(type));
  const torch::Tensor x0 = torch::randn({n, c, h, w}, torch::dtype(type));
  const torch::Tensor x = x0.clone().requires_grad_(true);
  const torch::Tensor x_ref = x0.clone().requires_grad_(true);
  const torch::Tensor y = maqd::avg_pool_2x2(x);
  const torch::Tensor y_ref = torch::avg_pool2d(x_ref, {2, 2}, {2, 2});
  ASSERT_EQ(y.sizes(), y_ref.sizes());
  EXPECT_TRUE(torch::equal(y, y_ref)) << "forward differs by " << (y - y_ref).abs().max().item<double>();
  const torch::Tensor grad = torch::randn(y.sizes(), torch::dtype(type));
  y.backward(grad);
  y_ref.backward(grad);
  EXPECT_TRUE(torch::equal(x.grad(), x_ref.grad()))
      << "gradient differs by " << (x.grad() - x_ref.grad()).abs().max().item<double>();
  // The dropped last row/column of an odd map gets exactly zero gradient.
  if (h % 2) EXPECT_EQ(x.grad().select(2, h - 1).abs().max().item<double>(), 0.0);
}

TEST(AvgPool, MatchesAtenOnRandomShapes) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 20; ++trial)
    for (torch::ScalarType type : {torch::kFloat, torch::kDouble})
      check_shape(pick(1, 3), pick(1, 9), pick(2, 31), pick(2, 31), type);
}

TEST(AvgPool, EdgeSizes) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  check_shape(1, 1, 2, 2, torch::kFloat);      // one output
  check_shape(2, 3, 3, 3, torch::kFloat);      // odd both ways: one output, five dropped inputs
  check_shape(1, 2, 2, 33, torch::kFloat);     // one output row, odd width
  check_shape(100, 32, 28, 28, torch::kFloat); // VGG ¼'s first AP: many tasks
  check_shape(4, 128, 7, 7, torch::kDouble);   // its last
}

TEST(AvgPool, NonContiguousInput) {
  const torch::Tensor x = torch::randn({2, 6, 5, 8}).transpose(2, 3);  // [2, 6, 8, 5], strided
  EXPECT_TRUE(torch::equal(maqd::avg_pool_2x2(x), torch::avg_pool2d(x, {2, 2}, {2, 2})));
}

TEST(AvgPool, RefusesMapsSmallerThanTheWindow) {
  for (const auto& sizes : {std::vector<int64_t>{1, 1, 1, 4}, std::vector<int64_t>{1, 1, 4, 1},
                            std::vector<int64_t>{4, 4}}) {
    try {
      maqd::avg_pool_2x2(torch::zeros(sizes));
      ADD_FAILURE() << "no error for " << torch::zeros(sizes).sizes();
    } catch (const maqd::Error& e) {
      EXPECT_NE(std::string(e.what()).find("avg_pool: input has shape"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
