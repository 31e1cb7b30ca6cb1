#include "maqd/ops/weight_standardization.h"

#include <cmath>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "maqd/error.h"
#include "ops/quant_kernels.h"

namespace maqd {
namespace {

// Ŵ row by row, sums in float64; keeps 1/sqrt(σ² + ε) per row for backward.
template <typename T>
void standardize_rows(const T* w, T* y, double* inv_std, int64_t rows, int64_t cols, double eps) {
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* x = w + r * cols;
      double sum = 0;
      for (int64_t i = 0; i < cols; ++i) sum += double(x[i]);
      const double mean = sum / double(cols);
      double squares = 0;
      for (int64_t i = 0; i < cols; ++i) squares += (double(x[i]) - mean) * (double(x[i]) - mean);
      const double inv = 1.0 / std::sqrt(squares / double(cols) + eps);
      inv_std[r] = inv;
      T* out = y + r * cols;
      for (int64_t i = 0; i < cols; ++i) out[i] = T((double(x[i]) - mean) * inv);
    }
  });
}

// dW = s · (g − mean(g) − Ŵ · mean(g · Ŵ)), s = 1/sqrt(σ² + ε): layer
// normalization's gradient over each row, exact with ε (s·(W − μ) = Ŵ).
template <typename T>
void standardize_rows_backward(const T* g, const T* y, const double* inv_std, T* dw, int64_t rows,
                               int64_t cols) {
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* gr = g + r * cols;
      const T* yr = y + r * cols;
      double sum_g = 0, sum_gy = 0;
      for (int64_t i = 0; i < cols; ++i) {
        sum_g += double(gr[i]);
        sum_gy += double(gr[i]) * double(yr[i]);
      }
      const double mean_g = sum_g / double(cols), mean_gy = sum_gy / double(cols);
      const double inv = inv_std[r];
      T* out = dw + r * cols;
      for (int64_t i = 0; i < cols; ++i)
        out[i] = T(inv * (double(gr[i]) - mean_g - double(yr[i]) * mean_gy));
    }
  });
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class WeightStandardizationFunction
    : public torch::autograd::Function<WeightStandardizationFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& weight, double eps) {
    const torch::Tensor w = weight.contiguous();
    const int64_t rows = w.size(0), cols = w.numel() / rows;
    torch::Tensor y = torch::empty_like(w, torch::MemoryFormat::Contiguous);
    torch::Tensor inv_std = torch::empty({rows}, w.options().dtype(torch::kDouble));
    AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "standardize_weight", [&] {
      standardize_rows(w.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                       inv_std.data_ptr<double>(), rows, cols, eps);
    });
    ctx->save_for_backward({y, inv_std});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& y = saved[0];
    const torch::Tensor g = grads[0].to(y.scalar_type()).contiguous();
    const int64_t rows = y.size(0), cols = y.numel() / rows;
    torch::Tensor dw = torch::empty_like(y, torch::MemoryFormat::Contiguous);
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "standardize_weight_backward", [&] {
      standardize_rows_backward(g.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                                saved[1].data_ptr<double>(), dw.data_ptr<scalar_t>(), rows, cols);
    });
    return {dw, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor standardize_weight(const torch::Tensor& weight, double eps) {
  // Profiler scopes (bench_training --profile) cost nothing when it is off.
  RECORD_FUNCTION("maqd::weight_standardization", std::vector<c10::IValue>());
  check(weight.dim() >= 2, "standardize_weight",
        "weight has ", weight.dim(), " dimensions; expected ≥ 2 ([out, fan-in...])");
  check(std::isfinite(eps) && eps > 0, "standardize_weight", "parameter eps is ", eps,
        "; allowed: a finite number > 0");
  // One op of two passes per row on CPU (the composed form below was a dozen
  // small ATen ops forward and backward per conv, 10 ms of a VGG ¼ step).
  if (kernels::fused_supported(weight) && weight.numel() > 0)
    return WeightStandardizationFunction::apply(weight, eps);
  const torch::Tensor flat = weight.reshape({weight.size(0), -1});
  // Biased variance: Ŵ has unit variance over each output channel's fan-in.
  const auto [var, mean] = torch::var_mean(flat, /*dim=*/{1}, /*unbiased=*/false, /*keepdim=*/true);
  return ((flat - mean) * torch::rsqrt(var + eps)).view_as(weight);
}

}  // namespace maqd
