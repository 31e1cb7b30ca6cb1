// Independent float64 references and small helpers shared by the operator
// tests. Nothing here calls the code under test: every expected value is a
// closed form or a plain loop over doubles (std::nearbyint, std::exp).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "maqd/error.h"

namespace maqd_test::ref {

// The tensor's values as doubles, in row-major order.
inline std::vector<double> values(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

inline torch::Tensor tensor(const std::vector<double>& v, torch::ScalarType type = torch::kDouble) {
  return torch::tensor(v, torch::dtype(torch::kDouble)).to(type);
}

// Q(z, Δ, a, b) = clamp(ROUND(Δz)/Δ, a, b), ROUND half to even (Eq. 6).
inline double round_clip(double z, double delta, double lo, double hi) {
  const double q = std::nearbyint(delta * z) / delta;
  return q < lo ? lo : (q > hi ? hi : q);
}

// σ_α(z) = 1/(1 + exp(−z/α)), σ'_α(z) = σ_α(z)(1 − σ_α(z))/α, as SPEC §3 writes
// them, with 1 − σ_α(z) written as σ_α(−z) (an identity) so that the far
// tails keep their relative precision instead of cancelling to 0.
inline double sigmoid(double z, double alpha) { return 1.0 / (1.0 + std::exp(-z / alpha)); }
inline double sigmoid_prime(double z, double alpha) {
  return sigmoid(z, alpha) * sigmoid(-z, alpha) / alpha;
}

// Σ_{m=1}^{M_a−1} σ'_α(x − b_m), b_m = (m − 1/2)/(M_a − 1): the literal Eq. 11 sum.
inline double activation_slope_sum(double x, int64_t levels, double alpha) {
  double sum = 0.0;
  for (int64_t m = 1; m < levels; ++m)
    sum += sigmoid_prime(x - (double(m) - 0.5) / double(levels - 1), alpha);
  return sum;
}

// A rounding argument y sits "near a tie" when it is within `tol` (relative)
// of a half-integer: a float32 kernel may round it either way.
inline bool near_tie(double y, double tol = 1e-5) {
  const double frac = std::abs(y - std::floor(y) - 0.5);
  return frac < tol * std::max(1.0, std::abs(y));
}

// Central finite differences of a scalar function of a float64 tensor.
inline torch::Tensor finite_difference(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                                       const torch::Tensor& x, double h = 1e-6) {
  torch::NoGradGuard no_grad;
  torch::Tensor base = x.detach().clone().to(torch::kDouble).contiguous();
  torch::Tensor grad = torch::zeros_like(base);
  double* p = base.data_ptr<double>();
  double* g = grad.data_ptr<double>();
  for (int64_t i = 0; i < base.numel(); ++i) {
    const double saved = p[i];
    p[i] = saved + h;
    const double up = f(base).item<double>();
    p[i] = saved - h;
    const double down = f(base).item<double>();
    p[i] = saved;
    g[i] = (up - down) / (2 * h);
  }
  return grad;
}

// Largest |a − b| elementwise.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.detach().to(torch::kDouble) - b.detach().to(torch::kDouble)).abs().max().item<double>();
}

// Number of distinct values of a tensor.
inline int64_t distinct(const torch::Tensor& t) {
  return std::get<0>(torch::_unique(t.detach().flatten())).numel();
}

}  // namespace maqd_test::ref

// Expects `statement` to throw maqd::Error whose message contains every part.
#define MAQD_EXPECT_ERROR(statement, ...)                                         \
  do {                                                                            \
    bool maqd_thrown = false;                                                     \
    try {                                                                         \
      static_cast<void>(statement);                                               \
    } catch (const maqd::Error& e) {                                              \
      maqd_thrown = true;                                                         \
      const std::string maqd_message = e.what();                                  \
      for (const std::string& part : std::initializer_list<std::string>{__VA_ARGS__}) \
        EXPECT_NE(maqd_message.find(part), std::string::npos)                    \
            << "message \"" << maqd_message << "\" lacks \"" << part << "\"";     \
    }                                                                             \
    EXPECT_TRUE(maqd_thrown) << #statement " did not throw maqd::Error";          \
  } while (0)
