#include "ops/quant_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <ATen/Parallel.h>

namespace maqd::kernels {
namespace {

// One loop body compiled for x86-64-v4 (AVX-512), v3 (AVX2) and baseline
// x86-64; glibc's ifunc picks the best at load time. Elsewhere the plain loop
// is compiled once. Whole ISA levels, not single features: a bare "avx512f"
// clone left the sigmoid surrogate's loop scalar (12x slower, measured).
#if defined(__x86_64__) && defined(__GNUC__)
#define MAQD_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MAQD_MULTIVERSION
#endif
// Loop bodies must be inlined into each clone: a call to an out-of-line
// helper would run the helper's baseline (SSE2) code in every clone.
#define MAQD_INLINE inline __attribute__((always_inline))

// Elements per parallel task: small tensors stay on the calling thread.
constexpr int64_t kGrain = 16384;

// e^x for x ≤ 0 in float, written so the compiler vectorizes it (std::exp
// does not vectorize without -ffast-math). Cody-Waite range reduction and
// Cephes' degree-6 polynomial: relative error below 2e-7 on [-87, 0].
MAQD_INLINE float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;  // a ternary, not std::max: GCC vectorizes it
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}
MAQD_INLINE double exp_nonpositive(double x) { return std::exp(x); }

// σ'_α(z)·α = σ(1 − σ) = e / (1 + e)² with e = exp(−|z|/α): symmetric and
// never overflows.
template <typename T>
MAQD_INLINE T sigmoid_slope(T z, T inv_alpha) {
  const T e = exp_nonpositive(-std::fabs(z) * inv_alpha);
  const T d = T(1) + e;
  return e / (d * d) * inv_alpha;
}

template <typename T>
MAQD_INLINE void round_clip_loop(const T* x, T* y, int64_t n, T pre, T delta, T lo, T hi) {
  for (int64_t i = 0; i < n; ++i) {
    const T r = std::nearbyint(delta * (pre * x[i]));
    y[i] = std::min(std::max(r / delta, lo), hi);
  }
}
MAQD_MULTIVERSION void round_clip_f32(const float* x, float* y, int64_t n, float pre, float delta,
                                      float lo, float hi) {
  round_clip_loop(x, y, n, pre, delta, lo, hi);
}
MAQD_MULTIVERSION void round_clip_f64(const double* x, double* y, int64_t n, double pre,
                                      double delta, double lo, double hi) {
  round_clip_loop(x, y, n, pre, delta, lo, hi);
}

template <typename T>
MAQD_INLINE void clipped_ste_loop(const T* dy, const T* x, T* dx, int64_t n, T pre, T lo, T hi, T gain) {
  for (int64_t i = 0; i < n; ++i) {
    const T z = pre * x[i];
    dx[i] = (z > lo && z < hi) ? dy[i] * gain : T(0);
  }
}
MAQD_MULTIVERSION void clipped_ste_f32(const float* dy, const float* x, float* dx, int64_t n,
                                       float pre, float lo, float hi, float gain) {
  clipped_ste_loop(dy, x, dx, n, pre, lo, hi, gain);
}
MAQD_MULTIVERSION void clipped_ste_f64(const double* dy, const double* x, double* dx, int64_t n,
                                       double pre, double lo, double hi, double gain) {
  clipped_ste_loop(dy, x, dx, n, pre, lo, hi, gain);
}

// Σ_m σ'(x − t_m) for one block of elements, thresholds as the outer loop so
// that the element loop is innermost and vectorizes; `__restrict` tells the
// compiler the block's sums never alias the input.
template <typename T>
MAQD_INLINE void sigmoid_slope_sums(const T* __restrict x, T* __restrict sum, int64_t len,
                                    int64_t levels, T inv_alpha) {
  const T inv_steps = T(1) / T(levels - 1);
  for (int64_t j = 0; j < len; ++j) sum[j] = T(0);
  for (int64_t m = 1; m < levels; ++m) {
    const T threshold = (T(m) - T(0.5)) * inv_steps;
    for (int64_t j = 0; j < len; ++j) sum[j] += sigmoid_slope(x[j] - threshold, inv_alpha);
  }
}

template <typename T>
MAQD_INLINE void sigmoid_surrogate_loop(const T* dy, const T* x, T* dx, int64_t n, int64_t levels,
                                        T inv_alpha, T step) {
  constexpr int64_t kBlock = 256;
  alignas(64) T sum[kBlock];
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t len = std::min(kBlock, n - begin);
    // A constant trip count for full blocks lets the compiler drop the
    // remainder handling from the hot loop.
    if (len == kBlock)
      sigmoid_slope_sums(x + begin, sum, kBlock, levels, inv_alpha);
    else
      sigmoid_slope_sums(x + begin, sum, len, levels, inv_alpha);
    for (int64_t j = 0; j < len; ++j) dx[begin + j] = dy[begin + j] * step * sum[j];
  }
}
MAQD_MULTIVERSION void sigmoid_surrogate_f32(const float* dy, const float* x, float* dx, int64_t n,
                                             int64_t levels, float inv_alpha, float step) {
  sigmoid_surrogate_loop(dy, x, dx, n, levels, inv_alpha, step);
}
MAQD_MULTIVERSION void sigmoid_surrogate_f64(const double* dy, const double* x, double* dx,
                                             int64_t n, int64_t levels, double inv_alpha,
                                             double step) {
  sigmoid_surrogate_loop(dy, x, dx, n, levels, inv_alpha, step);
}

// Runs `body(begin, end)` over [0, n) in parallel chunks.
template <typename Body>
void parallel_over(int64_t n, const Body& body) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) { body(begin, end); });
}

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
  if (x.scalar_type() == torch::kFloat) {
    const float* xp = x.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      round_clip_f32(xp + b, yp + b, e - b, float(pre_scale), float(delta), float(lo), float(hi));
    });
  } else {
    const double* xp = x.data_ptr<double>();
    double* yp = y.data_ptr<double>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      round_clip_f64(xp + b, yp + b, e - b, pre_scale, delta, lo, hi);
    });
  }
  return y;
}

torch::Tensor clipped_ste_backward(const torch::Tensor& grad, const torch::Tensor& input,
                                   double pre_scale, double lo, double hi, double grad_scale) {
  check_same_shape(grad, input, "clipped_ste_backward");
  const torch::Tensor x = input.contiguous();
  const torch::Tensor dy = grad.to(x.scalar_type()).contiguous();
  torch::Tensor dx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const int64_t n = x.numel();
  if (x.scalar_type() == torch::kFloat) {
    const float *xp = x.data_ptr<float>(), *gp = dy.data_ptr<float>();
    float* dp = dx.data_ptr<float>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      clipped_ste_f32(gp + b, xp + b, dp + b, e - b, float(pre_scale), float(lo), float(hi),
                      float(grad_scale));
    });
  } else {
    const double *xp = x.data_ptr<double>(), *gp = dy.data_ptr<double>();
    double* dp = dx.data_ptr<double>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      clipped_ste_f64(gp + b, xp + b, dp + b, e - b, pre_scale, lo, hi, grad_scale);
    });
  }
  return dx;
}

torch::Tensor sigmoid_surrogate_backward(const torch::Tensor& grad, const torch::Tensor& input,
                                         int64_t levels, double alpha, double step) {
  check_same_shape(grad, input, "sigmoid_surrogate_backward");
  const torch::Tensor x = input.contiguous();
  const torch::Tensor dy = grad.to(x.scalar_type()).contiguous();
  torch::Tensor dx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const int64_t n = x.numel();
  if (x.scalar_type() == torch::kFloat) {
    const float *xp = x.data_ptr<float>(), *gp = dy.data_ptr<float>();
    float* dp = dx.data_ptr<float>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      sigmoid_surrogate_f32(gp + b, xp + b, dp + b, e - b, levels, float(1.0 / alpha),
                            float(step));
    });
  } else {
    const double *xp = x.data_ptr<double>(), *gp = dy.data_ptr<double>();
    double* dp = dx.data_ptr<double>();
    parallel_over(n, [&](int64_t b, int64_t e) {
      sigmoid_surrogate_f64(gp + b, xp + b, dp + b, e - b, levels, 1.0 / alpha, step);
    });
  }
  return dx;
}

}  // namespace maqd::kernels
