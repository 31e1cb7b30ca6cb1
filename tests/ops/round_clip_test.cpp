// Q(z, Δ, a, b) = clamp(ROUND(Δz)/Δ, a, b) of Eq. 6 (SPEC §1): rounding ties
// go to even, clip edges are inclusive in the forward and excluded from the
// clipped straight-through gradient, and random inputs in float32 and float64
// (including one large enough for the threaded path) agree with a float64 loop.
#include "maqd/ops/round_clip.h"

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
using maqd::RoundClipOptions;

RoundClipOptions opts(double delta, double lo, double hi) {
  RoundClipOptions o;
  o.delta = delta;
  o.lo = lo;
  o.hi = hi;
  return o;
}

TEST(RoundClip, TiesRoundHalfToEven) {
  for (auto type : {torch::kFloat, torch::kDouble}) {
    // Δ = 1: the ties of std::nearbyint, written out by hand.
    const std::vector<double> z = {0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49, 0.51};
    const std::vector<double> expected = {0.0, 2.0, 2.0, 4.0, -0.0, -2.0, -2.0, 0.0, 1.0};
    const auto y = ref::values(maqd::round_clip(ref::tensor(z, type), opts(1.0, -10.0, 10.0)));
    ASSERT_EQ(y.size(), expected.size());
    for (size_t i = 0; i < z.size(); ++i) EXPECT_EQ(y[i], expected[i]) << "z = " << z[i];
    // −0.5 rounds to −0: the sign survives.
    EXPECT_TRUE(std::signbit(y[4]));

    // Δ = 2 and Δ = 4: ties of Δz on the grid 1/Δ (all exact in binary).
    const auto y2 = ref::values(maqd::round_clip(ref::tensor({0.25, 0.75, -0.25, 1.25}, type),
                                                 opts(2.0, -10.0, 10.0)));
    EXPECT_EQ(y2, (std::vector<double>{0.0, 1.0, -0.0, 1.0}));
    const auto y4 = ref::values(maqd::round_clip(ref::tensor({0.375, 0.625, 0.125}, type),
                                                 opts(4.0, -10.0, 10.0)));
    EXPECT_EQ(y4, (std::vector<double>{0.5, 0.5, 0.0}));
  }
}

TEST(RoundClip, ClipEdgesAreInclusive) {
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const RoundClipOptions o = opts(4.0, -0.5, 1.25);
    const std::vector<double> z = {-0.5, 1.25, -0.75, 1.5, -100.0, 100.0, -0.625, 1.375};
    // −0.625·4 = −2.5 → −2 → −0.5 (inside by rounding); 1.375·4 = 5.5 → 6 → 1.5 → clip 1.25.
    const std::vector<double> expected = {-0.5, 1.25, -0.5, 1.25, -0.5, 1.25, -0.5, 1.25};
    EXPECT_EQ(ref::values(maqd::round_clip(ref::tensor(z, type), o)), expected);
  }
  // A clip edge off the grid 1/Δ: the output is the edge itself, not a grid value.
  EXPECT_EQ(ref::values(maqd::round_clip(ref::tensor({0.0, 0.3, 10.0}), opts(1.0, 0.1, 0.3))),
            (std::vector<double>{0.1, 0.1, 0.3}));
}

TEST(RoundClip, BackwardIsOneStrictlyInsideAndZeroAtTheEdges) {
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const RoundClipOptions o = opts(3.0, -0.5, 1.0);
    const std::vector<double> z = {-0.5, 1.0, -0.75, 1.5, -0.4999, 0.9999, 0.0, 0.5, -1e30, 1e30};
    const std::vector<double> expected = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0};
    torch::Tensor x = ref::tensor(z, type).requires_grad_(true);
    const torch::Tensor upstream = ref::tensor({2, 2, 2, 2, 2, -3, 0.5, 7, 1, 1}, type);
    maqd::round_clip(x, o).backward(upstream);
    const auto g = ref::values(x.grad());
    const auto u = ref::values(upstream);
    for (size_t i = 0; i < z.size(); ++i) EXPECT_EQ(g[i], expected[i] * u[i]) << "z = " << z[i];
  }
}

// Random inputs against the float64 loop, in both precisions, small and large
// (> 100000 elements, so at::parallel_for splits the work with grain 16384).
void check_random(torch::ScalarType type, int64_t n, double delta, double lo, double hi,
                  uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor z = (torch::randn({n}, torch::dtype(torch::kDouble)) * 1.5).to(type);
  torch::Tensor x = z.clone().requires_grad_(true);
  const torch::Tensor upstream = torch::randn({n}, torch::dtype(type));
  const torch::Tensor y = maqd::round_clip(x, opts(delta, lo, hi));
  y.backward(upstream);
  const auto zv = ref::values(z), yv = ref::values(y), gv = ref::values(x.grad()),
             uv = ref::values(upstream);
  int64_t bad_forward = 0, bad_backward = 0, ties = 0;
  for (int64_t i = 0; i < n; ++i) {
    double expected = ref::round_clip(zv[i], delta, lo, hi);
    if (type == torch::kFloat) expected = double(float(expected));
    if (yv[i] != expected) {
      // float32 computes Δ·z in float: only a near-tie may round the other way.
      if (type == torch::kFloat && ref::near_tie(delta * zv[i]) &&
          std::abs(yv[i] - expected) <= 1.0 / delta * (1 + 1e-6)) {
        ++ties;
      } else if (++bad_forward <= 5) {
        ADD_FAILURE() << "forward z=" << zv[i] << " got " << yv[i] << " expected " << expected;
      }
    }
    const double g = (zv[i] > lo && zv[i] < hi) ? uv[i] : 0.0;
    if (gv[i] != g && ++bad_backward <= 5)
      ADD_FAILURE() << "backward z=" << zv[i] << " got " << gv[i] << " expected " << g;
  }
  EXPECT_EQ(bad_forward, 0);
  EXPECT_EQ(bad_backward, 0);
  EXPECT_LE(ties, 2);
}

TEST(RoundClip, RandomFloat64MatchesLoop) {
  MAQD_SEEDED(seed);
  check_random(torch::kDouble, 1000, 3.0, -1.0, 2.0, seed);
  check_random(torch::kDouble, 1000, 2.5, 0.0, 1.0, seed + 1);
}

TEST(RoundClip, RandomFloat32MatchesLoop) {
  MAQD_SEEDED(seed);
  check_random(torch::kFloat, 1000, 3.0, -1.0, 2.0, seed);
  check_random(torch::kFloat, 1000, 7.0, 0.0, 1.0, seed + 1);
}

TEST(RoundClip, LargeInputThreadedPathMatchesLoop) {
  MAQD_SEEDED(seed);
  check_random(torch::kDouble, 150001, 3.0, -1.0, 2.0, seed);
  check_random(torch::kFloat, 150001, 4.0, -2.0, 1.5, seed + 1);
}

TEST(RoundClip, NonContiguousInput) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  const torch::Tensor base = torch::randn({40, 30}, torch::dtype(torch::kDouble));
  const torch::Tensor z = base.t();  // a transposed view
  const auto y = ref::values(maqd::round_clip(z, opts(2.0, -1.0, 1.0)));
  const auto zv = ref::values(z);
  for (size_t i = 0; i < zv.size(); ++i)
    ASSERT_EQ(y[i], ref::round_clip(zv[i], 2.0, -1.0, 1.0)) << "element " << i;
}

TEST(RoundClip, ModuleForwardsTheFunction) {
  maqd::RoundClip module(opts(2.0, 0.0, 1.0));
  EXPECT_EQ(ref::values(module->forward(ref::tensor({0.25, 0.3, 0.8, 2.0}))),
            (std::vector<double>{0.0, 0.5, 1.0, 1.0}));
}

TEST(RoundClip, InvalidParametersThrow) {
  const torch::Tensor z = torch::zeros({3});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  MAQD_EXPECT_ERROR(maqd::round_clip(z, opts(0.0, 0.0, 1.0)), "round_clip", "delta", "> 0");
  MAQD_EXPECT_ERROR(maqd::round_clip(z, opts(-1.0, 0.0, 1.0)), "round_clip", "delta");
  MAQD_EXPECT_ERROR(maqd::round_clip(z, opts(nan, 0.0, 1.0)), "round_clip", "delta");
  MAQD_EXPECT_ERROR(maqd::round_clip(z, opts(1.0, -inf, 1.0)), "round_clip", "lo");
  MAQD_EXPECT_ERROR(maqd::round_clip(z, opts(1.0, 1.0, 1.0)), "round_clip", "hi");
  MAQD_EXPECT_ERROR(maqd::round_clip(z, opts(1.0, 0.0, nan)), "round_clip", "hi");
  MAQD_EXPECT_ERROR(maqd::RoundClip(opts(1.0, 2.0, 1.0)), "round_clip", "hi");
}

}  // namespace
