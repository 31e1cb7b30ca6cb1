#include "maqd/selfcheck.h"

#include <cmath>
#include <functional>
#include <sstream>

#include <torch/torch.h>

#include "maqd/nn/normalization.h"
#include "maqd/ops/activation_quantizer.h"
#include "maqd/ops/loss.h"
#include "maqd/ops/round_clip.h"
#include "maqd/ops/weight_quantizer.h"
#include "maqd/ops/weight_standardization.h"

namespace maqd {
namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Gradient of sum(f(x)·probe) by central differences, in float64.
torch::Tensor numeric_gradient(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                               const torch::Tensor& x, const torch::Tensor& probe) {
  torch::NoGradGuard no_grad;
  torch::Tensor grad = torch::zeros_like(x);
  const double h = 1e-6;
  auto flat = x.view(-1);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double saved = flat[i].item<double>();
    flat[i] = saved + h;
    const double up = (f(x) * probe).sum().item<double>();
    flat[i] = saved - h;
    const double down = (f(x) * probe).sum().item<double>();
    flat[i] = saved;
    grad.view(-1)[i] = (up - down) / (2 * h);
  }
  return grad;
}

double analytic_vs_numeric(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                           const torch::Tensor& x0) {
  torch::Tensor x = x0.clone().requires_grad_(true);
  const torch::Tensor probe = torch::randn_like(f(x0));
  (f(x) * probe).sum().backward();
  return max_abs_diff(x.grad(), numeric_gradient(f, x0.clone(), probe));
}

}  // namespace

std::string SelfcheckReport::summary() const {
  std::ostringstream out;
  if (passed()) {
    out << "selfcheck: ok, " << passed_checks.size() << " operator checks passed (";
    for (size_t i = 0; i < passed_checks.size(); ++i) out << (i ? ", " : "") << passed_checks[i];
    out << ")";
  } else {
    out << "selfcheck: FAILED " << failures.size() << " of "
        << failures.size() + passed_checks.size() << ": ";
    for (size_t i = 0; i < failures.size(); ++i) out << (i ? "; " : "") << failures[i];
  }
  return out.str();
}

SelfcheckReport run_selfcheck() {
  SelfcheckReport report;
  auto record = [&](const std::string& name, bool ok, const std::string& detail) {
    if (ok) report.passed_checks.push_back(name);
    else report.failures.push_back(name + ": " + detail);
  };
  torch::manual_seed(0);
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

  {  // Eq. 6 with ties to even and clipping.
    const torch::Tensor z = torch::tensor({-3.0, -0.25, 0.125, 0.375, 0.625, 0.75, 2.0}, f64);
    const torch::Tensor expected = torch::tensor({-1.0, -0.25, 0.0, 0.5, 0.5, 0.75, 1.0}, f64);
    const double diff = max_abs_diff(round_clip(z, {4.0, -1.0, 1.0}), expected);
    record("round_clip", diff == 0.0, "max |Q − closed form| = " + std::to_string(diff));
  }
  {  // Q_w levels and Eq. 10's indicator.
    const torch::Tensor w_hat = torch::linspace(-4.0, 4.0, 801, f64).requires_grad_(true);
    const torch::Tensor q = quantize_standardized_weight(w_hat, {15, WeightDelta::kFloor});
    q.sum().backward();
    const int64_t levels = std::get<0>(torch::_unique(q.detach())).numel();
    const torch::Tensor mask = (w_hat.detach() / 3.0).abs().lt(1.0).to(torch::kDouble);
    const double diff = max_abs_diff(w_hat.grad(), mask);
    record("Q_w", levels == 15 && diff == 0.0,
           std::to_string(levels) + " levels, gradient off by " + std::to_string(diff));
  }
  {  // Q_a levels and the step-scaled sigmoid surrogate.
    const ActivationQuantOptions options{8, Surrogate::kSigmoid, 0.25};
    const torch::Tensor a = torch::linspace(-0.5, 1.5, 401, f64).requires_grad_(true);
    const torch::Tensor q = quantize_activation(a, options);
    q.sum().backward();
    const int64_t levels = std::get<0>(torch::_unique(q.detach())).numel();
    double diff = 0.0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double x = a[i].item<double>();
      diff = std::max(diff, std::abs(a.grad()[i].item<double>() -
                                     activation_surrogate_derivative(x, options)));
    }
    record("Q_a", levels == 8 && diff < 1e-12,
           std::to_string(levels) + " levels, surrogate off by " + std::to_string(diff));
  }
  {  // Weight standardization by finite differences.
    const torch::Tensor w = torch::randn({3, 2, 3, 3}, f64);
    const double diff = analytic_vs_numeric([](const torch::Tensor& x) { return standardize_weight(x); }, w);
    record("weight_standardization", diff < 1e-6, "gradient off by " + std::to_string(diff));
  }
  {  // LBN by finite differences (training mode).
    LayerBatchNorm lbn(3);
    lbn->to(torch::kDouble);
    {
      torch::NoGradGuard no_grad;
      lbn->weight.uniform_(0.5, 1.5);
      lbn->bias.uniform_(-0.5, 0.5);
    }
    const torch::Tensor x = torch::randn({2, 3, 2, 2}, f64);
    const double diff = analytic_vs_numeric([&](const torch::Tensor& t) { return lbn->forward(t); }, x);
    record("LBN", diff < 1e-6, "gradient off by " + std::to_string(diff));
  }
  {  // Eq. 9 against its closed form.
    const torch::Tensor logits = torch::tensor({{2.0, -1.0, 0.5}}, f64);
    const torch::Tensor target = torch::tensor({0}, torch::kLong);
    const double lse = std::log(std::exp(2.0) + std::exp(-1.0) + std::exp(0.5));
    const double ce = lse - 2.0;
    const double mse = ((2.0 - 1) * (2.0 - 1) + 1.0 + 0.25) / 3.0;
    const double expected = 0.95 * ce + 0.05 * mse;
    const double got = maqd_loss(logits, target).item<double>();
    record("loss", std::abs(got - expected) < 1e-12,
           "got " + std::to_string(got) + ", expected " + std::to_string(expected));
  }
  return report;
}

}  // namespace maqd
