#include "ops/norm_activation_kernels.h"

#include <ATen/Dispatch.h>

#include "ops/kernel_variants.h"

namespace maqd::kernels {
namespace {

// Reductions use kLanes independent float partial sums, flushed into double
// every kFlush elements: GCC does not vectorize a plain floating-point sum
// (it may not reorder additions), but it does vectorize lane-wise updates.
constexpr int kLanes = 16;
constexpr int64_t kFlush = 1024;

template <typename T>
struct Act {
  int64_t levels;  // 0: ReLU
  bool ste;
  T steps, step;
  SlopeSumPlan<T> slopes;
};

template <typename T>
Act<T> act_of(const ActivationSpec& spec) {
  return {spec.levels, spec.ste, T(spec.levels > 0 ? spec.levels - 1 : 1), T(spec.step),
          make_slope_sum_plan<T>(std::max<int64_t>(spec.levels, 2), spec.inv_alpha)};
}

// Σ (x − shift) and Σ (x − shift)² over one plane.
template <typename T>
MAQD_INLINE void moments_loop(const T* x, int64_t len, T shift, double* s1, double* s2) {
  double total1 = 0, total2 = 0;
  for (int64_t begin = 0; begin < len; begin += kFlush) {
    const int64_t end = std::min(len, begin + kFlush);
    T a[kLanes] = {}, b[kLanes] = {};
    int64_t j = begin;
    for (; j + kLanes <= end; j += kLanes)
      for (int k = 0; k < kLanes; ++k) {
        const T d = x[j + k] - shift;
        a[k] += d;
        b[k] += d * d;
      }
    for (int k = 0; k < kLanes; ++k) {
      total1 += a[k];
      total2 += b[k];
    }
    for (; j < end; ++j) {
      const double d = double(x[j] - shift);
      total1 += d;
      total2 += d * d;
    }
  }
  *s1 = total1;
  *s2 = total2;
}
MAQD_VARIANTS(moments_f32, moments_loop,
              (const float* x, int64_t len, float shift, double* s1, double* s2),
              (x, len, shift, s1, s2))
MAQD_VARIANTS(moments_f64, moments_loop,
              (const double* x, int64_t len, double shift, double* s1, double* s2),
              (x, len, shift, s1, s2))

// y = act(scale·x + shift) over one plane; the quantizer is Q_a of Eq. 8,
// computed exactly as round_clip_forward computes it.
template <typename T>
MAQD_INLINE void affine_act_loop(const T* __restrict x, T* __restrict y, int64_t len, T scale,
                                 T shift, const Act<T>& act) {
  if (act.levels == 0) {
    for (int64_t j = 0; j < len; ++j) {
      const T u = x[j] * scale + shift;
      y[j] = u > T(0) ? u : T(0);
    }
    return;
  }
  for (int64_t j = 0; j < len; ++j) {
    const T u = x[j] * scale + shift;
    const T r = round_half_even(act.steps * u);
    y[j] = std::min(std::max(r / act.steps, T(0)), T(1));
  }
}
MAQD_VARIANTS(affine_act_f32, affine_act_loop,
              (const float* x, float* y, int64_t len, float scale, float shift, const Act<float>& act),
              (x, y, len, scale, shift, act))
MAQD_VARIANTS(affine_act_f64, affine_act_loop,
              (const double* x, double* y, int64_t len, double scale, double shift,
               const Act<double>& act),
              (x, y, len, scale, shift, act))

// dq = dy·act'(scale·x + shift) over one plane, with Σ dq and Σ dq·(x − mean).
template <typename T>
MAQD_INLINE void backward_first_loop(const T* __restrict dy, const T* __restrict x,
                                     T* __restrict dq, int64_t len, T scale, T shift, T mean,
                                     const Act<T>& act, double* s1, double* s2) {
  alignas(64) T u[kBlock];
  alignas(64) T slope[kBlock];
  double total1 = 0, total2 = 0;
  for (int64_t begin = 0; begin < len; begin += kBlock) {
    const int64_t n = std::min(kBlock, len - begin);
    const T* xb = x + begin;
    const T* gb = dy + begin;
    T* qb = dq + begin;
    for (int64_t j = 0; j < n; ++j) u[j] = xb[j] * scale + shift;
    // Selects with unconditional loads: no masked loads needed (SSE2 has none).
    if (act.levels == 0) {
      for (int64_t j = 0; j < n; ++j) {
        const T g = gb[j];
        qb[j] = u[j] > T(0) ? g : T(0);
      }
    } else if (act.ste) {
      for (int64_t j = 0; j < n; ++j) {
        const T g = gb[j];
        qb[j] = ((u[j] > T(0)) & (u[j] < T(1))) ? g : T(0);
      }
    } else {
      // A constant trip count for full blocks drops the remainder handling.
      if (n == kBlock)
        sigmoid_slope_sums(u, slope, kBlock, act.slopes);
      else
        sigmoid_slope_sums(u, slope, n, act.slopes);
      for (int64_t j = 0; j < n; ++j) qb[j] = gb[j] * act.step * slope[j];
    }
    T a[kLanes] = {}, b[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
      for (int k = 0; k < kLanes; ++k) {
        a[k] += qb[j + k];
        b[k] += qb[j + k] * (xb[j + k] - mean);
      }
    for (int k = 0; k < kLanes; ++k) {
      total1 += a[k];
      total2 += b[k];
    }
    for (; j < n; ++j) {
      total1 += qb[j];
      total2 += double(qb[j] * (xb[j] - mean));
    }
  }
  *s1 = total1;
  *s2 = total2;
}
MAQD_VARIANTS(backward_first_f32, backward_first_loop,
              (const float* dy, const float* x, float* dq, int64_t len, float scale, float shift,
               float mean, const Act<float>& act, double* s1, double* s2),
              (dy, x, dq, len, scale, shift, mean, act, s1, s2))
MAQD_VARIANTS(backward_first_f64, backward_first_loop,
              (const double* dy, const double* x, double* dq, int64_t len, double scale,
               double shift, double mean, const Act<double>& act, double* s1, double* s2),
              (dy, x, dq, len, scale, shift, mean, act, s1, s2))

template <typename T>
MAQD_INLINE void backward_second_loop(T* __restrict dq, const T* __restrict x, int64_t len, T a,
                                      T k1, T k0) {
  for (int64_t j = 0; j < len; ++j) dq[j] = a * dq[j] + (k1 * x[j] + k0);
}
MAQD_VARIANTS(backward_second_f32, backward_second_loop,
              (float* dq, const float* x, int64_t len, float a, float k1, float k0),
              (dq, x, len, a, k1, k0))
MAQD_VARIANTS(backward_second_f64, backward_second_loop,
              (double* dq, const double* x, int64_t len, double a, double k1, double k0),
              (dq, x, len, a, k1, k0))

// Runs body(plane) for every (n, c) plane of an [N, C, H, W] tensor, in
// parallel chunks of whole planes.
template <typename Body>
void for_each_plane(const torch::Tensor& x, const Body& body) {
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t plane_size = x.numel() / std::max<int64_t>(planes, 1);
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(plane_size, 1));
  at::parallel_for(0, planes, grain, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) body(p, plane_size);
  });
}

void check_nchw(const torch::Tensor& x, const char* op) {
  TORCH_CHECK(x.dim() == 4 && x.is_contiguous() && x.device().is_cpu() &&
                  (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble),
              op, ": expected a contiguous float32/float64 CPU tensor [N, C, H, W], got ",
              x.sizes(), " ", x.scalar_type());
}

}  // namespace

void plane_moments(const torch::Tensor& x, torch::Tensor& sum, torch::Tensor& sum_squares,
                   torch::Tensor& shift) {
  check_nchw(x, "plane_moments");
  const int64_t channels = x.size(1);
  const auto f64 = x.options().dtype(torch::kDouble);
  sum = torch::empty({x.size(0) * channels}, f64);
  sum_squares = torch::empty_like(sum);
  // The first element of each channel: close to the channel's mean, far
  // closer than 0 can be, which is all shifted data needs.
  shift = x.select(0, 0).reshape({channels, -1}).select(1, 0).contiguous();
  double* s1 = sum.data_ptr<double>();
  double* s2 = sum_squares.data_ptr<double>();
  const KernelIsa isa = choose_variant("norm_activation_moments");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "plane_moments", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, moments);
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* sp = shift.data_ptr<scalar_t>();
    for_each_plane(x, [&](int64_t p, int64_t len) {
      run(xp + p * len, len, sp[p % channels], s1 + p, s2 + p);
    });
  });
}

torch::Tensor affine_activation_forward(const torch::Tensor& x, const torch::Tensor& scale,
                                        const torch::Tensor& shift, const ActivationSpec& spec) {
  check_nchw(x, "affine_activation_forward");
  const int64_t channels = x.size(1);
  torch::Tensor y = torch::empty_like(x);
  const torch::Tensor sc = scale.to(x.scalar_type()).contiguous();
  const torch::Tensor sh = shift.to(x.scalar_type()).contiguous();
  const KernelIsa isa = choose_variant("norm_activation_forward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "affine_activation_forward", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, affine_act);
    const scalar_t *xp = x.data_ptr<scalar_t>(), *scp = sc.data_ptr<scalar_t>(),
                   *shp = sh.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    const Act<scalar_t> act = act_of<scalar_t>(spec);
    for_each_plane(x, [&](int64_t p, int64_t len) {
      const int64_t c = p % channels;
      run(xp + p * len, yp + p * len, len, scp[c], shp[c], act);
    });
  });
  return y;
}

void activation_backward_first_pass(const torch::Tensor& dy_in, const torch::Tensor& x,
                                    const torch::Tensor& scale, const torch::Tensor& shift,
                                    const torch::Tensor& mean, const ActivationSpec& spec,
                                    torch::Tensor& dq, torch::Tensor& s1, torch::Tensor& s2) {
  check_nchw(x, "activation_backward_first_pass");
  TORCH_CHECK(dy_in.sizes() == x.sizes(), "activation_backward_first_pass: gradient shape ",
              dy_in.sizes(), " differs from input shape ", x.sizes());
  const torch::Tensor dy = dy_in.to(x.scalar_type()).contiguous();
  const int64_t channels = x.size(1);
  dq = torch::empty_like(x);
  const auto f64 = x.options().dtype(torch::kDouble);
  s1 = torch::empty({x.size(0) * channels}, f64);
  s2 = torch::empty_like(s1);
  double* s1p = s1.data_ptr<double>();
  double* s2p = s2.data_ptr<double>();
  const torch::Tensor sc = scale.to(x.scalar_type()).contiguous();
  const torch::Tensor sh = shift.to(x.scalar_type()).contiguous();
  const torch::Tensor mu = mean.to(x.scalar_type()).expand({channels}).contiguous();
  const KernelIsa isa = choose_variant("norm_activation_backward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "activation_backward_first_pass", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, backward_first);
    const scalar_t *gp = dy.data_ptr<scalar_t>(), *xp = x.data_ptr<scalar_t>();
    const scalar_t *scp = sc.data_ptr<scalar_t>(), *shp = sh.data_ptr<scalar_t>(),
                   *mp = mu.data_ptr<scalar_t>();
    scalar_t* qp = dq.data_ptr<scalar_t>();
    const Act<scalar_t> act = act_of<scalar_t>(spec);
    for_each_plane(x, [&](int64_t p, int64_t len) {
      const int64_t c = p % channels;
      run(gp + p * len, xp + p * len, qp + p * len, len, scp[c], shp[c], mp[c], act, s1p + p,
          s2p + p);
    });
  });
}

void affine_backward_second_pass(torch::Tensor& dq, const torch::Tensor& x, const torch::Tensor& a,
                                 const torch::Tensor& k1, const torch::Tensor& k0) {
  check_nchw(x, "affine_backward_second_pass");
  const int64_t channels = x.size(1);
  const torch::Tensor ac = a.to(x.scalar_type()).contiguous();
  const torch::Tensor k1c = k1.to(x.scalar_type()).contiguous();
  const torch::Tensor k0c = k0.to(x.scalar_type()).contiguous();
  const KernelIsa isa = choose_variant("norm_activation_backward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "affine_backward_second_pass", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, backward_second);
    const scalar_t *xp = x.data_ptr<scalar_t>(), *ap = ac.data_ptr<scalar_t>();
    const scalar_t *k1p = k1c.data_ptr<scalar_t>(), *k0p = k0c.data_ptr<scalar_t>();
    scalar_t* qp = dq.data_ptr<scalar_t>();
    for_each_plane(x, [&](int64_t p, int64_t len) {
      const int64_t c = p % channels;
      run(qp + p * len, xp + p * len, len, ap[c], k1p[c], k0p[c]);
    });
  });
}

}  // namespace maqd::kernels
