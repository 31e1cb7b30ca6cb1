#include "ops/quant_kernels.h"

#include <ATen/Dispatch.h>

#include "ops/kernel_variants.h"

namespace maqd::kernels {
namespace {

template <typename T>
MAQD_INLINE void round_clip_loop(const T* x, T* y, int64_t n, T pre, T delta, T lo, T hi) {
  for (int64_t i = 0; i < n; ++i) {
    const T r = round_half_even(delta * (pre * x[i]));
    y[i] = std::min(std::max(r / delta, lo), hi);
  }
}
MAQD_VARIANTS(round_clip_f32, round_clip_loop,
              (const float* x, float* y, int64_t n, float pre, float delta, float lo, float hi),
              (x, y, n, pre, delta, lo, hi))
MAQD_VARIANTS(round_clip_f64, round_clip_loop,
              (const double* x, double* y, int64_t n, double pre, double delta, double lo,
               double hi),
              (x, y, n, pre, delta, lo, hi))

template <typename T>
MAQD_INLINE void clipped_ste_loop(const T* dy, const T* x, T* dx, int64_t n, T pre, T lo, T hi, T gain) {
  for (int64_t i = 0; i < n; ++i) {
    // Both loads unconditional and `&`, not `&&`: a select, no branch, so
    // the loop vectorizes without masked loads (which SSE2 lacks).
    const T z = pre * x[i];
    const T g = dy[i] * gain;
    dx[i] = ((z > lo) & (z < hi)) ? g : T(0);
  }
}
MAQD_VARIANTS(clipped_ste_f32, clipped_ste_loop,
              (const float* dy, const float* x, float* dx, int64_t n, float pre, float lo,
               float hi, float gain),
              (dy, x, dx, n, pre, lo, hi, gain))
MAQD_VARIANTS(clipped_ste_f64, clipped_ste_loop,
              (const double* dy, const double* x, double* dx, int64_t n, double pre, double lo,
               double hi, double gain),
              (dy, x, dx, n, pre, lo, hi, gain))

template <typename T>
MAQD_INLINE void sigmoid_surrogate_loop(const T* dy, const T* x, T* dx, int64_t n,
                                        const SlopeSumPlan<T>& plan, T step) {
  alignas(64) T sum[kBlock];
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t len = std::min(kBlock, n - begin);
    // A constant trip count for full blocks lets the compiler drop the
    // remainder handling from the hot loop.
    if (len == kBlock)
      sigmoid_slope_sums(x + begin, sum, kBlock, plan);
    else
      sigmoid_slope_sums(x + begin, sum, len, plan);
    for (int64_t j = 0; j < len; ++j) dx[begin + j] = dy[begin + j] * step * sum[j];
  }
}
MAQD_VARIANTS(sigmoid_surrogate_f32, sigmoid_surrogate_loop,
              (const float* dy, const float* x, float* dx, int64_t n,
               const SlopeSumPlan<float>& plan, float step),
              (dy, x, dx, n, plan, step))
MAQD_VARIANTS(sigmoid_surrogate_f64, sigmoid_surrogate_loop,
              (const double* dy, const double* x, double* dx, int64_t n,
               const SlopeSumPlan<double>& plan, double step),
              (dy, x, dx, n, plan, step))

void check_same_shape(const torch::Tensor& dy, const torch::Tensor& x, const char* op) {
  TORCH_CHECK(dy.sizes() == x.sizes(), op, ": gradient shape ", dy.sizes(),
              " differs from input shape ", x.sizes());
}

}  // namespace

bool fused_supported(const torch::Tensor& t) {
  return t.device().is_cpu() && t.layout() == torch::kStrided &&
         (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kDouble);
}

torch::Tensor round_clip_forward(const torch::Tensor& input, double pre_scale, double delta,
                                 double lo, double hi) {
  const torch::Tensor x = input.contiguous();
  torch::Tensor y = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const int64_t n = x.numel();
  const KernelIsa isa = choose_variant("round_clip_forward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "round_clip_forward", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, round_clip);
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      run(xp + b, yp + b, e - b, scalar_t(pre_scale), scalar_t(delta), scalar_t(lo), scalar_t(hi));
    });
  });
  return y;
}

torch::Tensor clipped_ste_backward(const torch::Tensor& grad, const torch::Tensor& input,
                                   double pre_scale, double lo, double hi, double grad_scale) {
  check_same_shape(grad, input, "clipped_ste_backward");
  const torch::Tensor x = input.contiguous();
  const torch::Tensor dy = grad.to(x.scalar_type()).contiguous();
  torch::Tensor dx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const int64_t n = x.numel();
  const KernelIsa isa = choose_variant("clipped_ste_backward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "clipped_ste_backward", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, clipped_ste);
    const scalar_t *xp = x.data_ptr<scalar_t>(), *gp = dy.data_ptr<scalar_t>();
    scalar_t* dp = dx.data_ptr<scalar_t>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      run(gp + b, xp + b, dp + b, e - b, scalar_t(pre_scale), scalar_t(lo), scalar_t(hi),
          scalar_t(grad_scale));
    });
  });
  return dx;
}

torch::Tensor sigmoid_surrogate_backward(const torch::Tensor& grad, const torch::Tensor& input,
                                         int64_t levels, double alpha, double step) {
  check_same_shape(grad, input, "sigmoid_surrogate_backward");
  const torch::Tensor x = input.contiguous();
  const torch::Tensor dy = grad.to(x.scalar_type()).contiguous();
  torch::Tensor dx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const int64_t n = x.numel();
  const KernelIsa isa = choose_variant("sigmoid_surrogate_backward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sigmoid_surrogate_backward", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, sigmoid_surrogate);
    const SlopeSumPlan<scalar_t> plan = make_slope_sum_plan<scalar_t>(levels, 1.0 / alpha);
    const scalar_t *xp = x.data_ptr<scalar_t>(), *gp = dy.data_ptr<scalar_t>();
    scalar_t* dp = dx.data_ptr<scalar_t>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      run(gp + b, xp + b, dp + b, e - b, plan, scalar_t(step));
    });
  });
  return dx;
}

}  // namespace maqd::kernels
