// What the fused CPU kernels share: the per-ISA compilation of a loop body
// (MAQD_VARIANTS), the choice among the variants, and the element-wise maths
// of the activations and their surrogate gradients.
//
// The files that include this are compiled with -fno-trapping-math
// (libmaqd/CMakeLists.txt): without it GCC if-converts the loops' compares
// only with AVX-512 masks, and the AVX2 and baseline variants stayed scalar
// (14x slower on an AVX2 EPYC, issue 13). FP exception flags are never read.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <ATen/Parallel.h>

#include "maqd/ops/kernel_isa.h"

namespace maqd::kernels {

// MAQD_VARIANTS(name, loop, (params), (args)) defines name_baseline,
// name_avx2 and name_avx512, each running `loop args` compiled for its whole
// ISA level (not single features: a bare "avx512f" variant left the sigmoid
// surrogate's loop scalar, 12x slower, measured). Elsewhere than x86-64 the
// three names are one baseline function.
#if defined(__x86_64__) && defined(__GNUC__)
#define MAQD_VARIANTS(name, loop, params, args)                                      \
  __attribute__((target("arch=x86-64-v4"))) void name##_avx512 params { loop args; } \
  __attribute__((target("arch=x86-64-v3"))) void name##_avx2 params { loop args; }   \
  void name##_baseline params { loop args; }
#else
#define MAQD_VARIANTS(name, loop, params, args)  \
  void name##_baseline params { loop args; }     \
  constexpr auto name##_avx2 = name##_baseline; \
  constexpr auto name##_avx512 = name##_baseline;
#endif
// Loop bodies and their helpers must be inlined into each variant: a call to
// an out-of-line helper would run the helper's baseline (SSE2) code in every
// variant.
#define MAQD_INLINE inline __attribute__((always_inline))

// The variant to run for one call of `kernel` (training_kernel_isa()); notes
// the choice for kernel_isas_used().
KernelIsa choose_variant(const char* kernel);

template <typename Fn>
Fn variant(KernelIsa isa, Fn baseline, Fn avx2, Fn avx512) {
  switch (isa) {
    case KernelIsa::kAvx512: return avx512;
    case KernelIsa::kAvx2: return avx2;
    case KernelIsa::kBaseline: break;
  }
  return baseline;
}

// One of two values by element type: the float one for T = float.
template <typename T, typename ForFloat, typename ForDouble>
auto by_element_type(ForFloat for_float, ForDouble for_double) {
  if constexpr (std::is_same_v<T, float>) {
    return for_float;
  } else {
    return for_double;
  }
}

// The variant that `isa` selects of the loop defined as name_f32 and
// name_f64 by MAQD_VARIANTS, for element type T (float or double).
#define MAQD_VARIANT_FOR(T, isa, name)                                                        \
  ::maqd::kernels::by_element_type<T>(                                                        \
      ::maqd::kernels::variant(isa, name##_f32_baseline, name##_f32_avx2, name##_f32_avx512), \
      ::maqd::kernels::variant(isa, name##_f64_baseline, name##_f64_avx2, name##_f64_avx512))

// Elements per parallel task: small tensors stay on the calling thread.
constexpr int64_t kGrain = 16384;

// Rounds half to even, like std::nearbyint in the default rounding mode, in
// plain arithmetic: baseline x86-64 has no round instruction (SSE4.1), and
// nearbyint there is a libm call that keeps the loop scalar. Adding 2^23
// (2^52) to |x| < 2^23 leaves no fraction bits, so the FPU rounds; larger
// values are integers already. Every variant uses it, so all agree exactly.
MAQD_INLINE float round_half_even(float x) {
  const float a = std::fabs(x);
  const float r = std::copysign((a + 8388608.0f) - 8388608.0f, x);
  return a < 8388608.0f ? r : x;
}
MAQD_INLINE double round_half_even(double x) {
  const double a = std::fabs(x);
  const double r = std::copysign((a + 4503599627370496.0) - 4503599627370496.0, x);
  return a < 4503599627370496.0 ? r : x;
}

// e^x for x ≤ 0 in float, written so the compiler vectorizes it (std::exp
// does not vectorize without -ffast-math). Cody-Waite range reduction and
// Cephes' degree-6 polynomial: relative error below 2e-7 on [-87, 0].
MAQD_INLINE float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;  // a ternary, not std::max: GCC vectorizes it
  // Round to nearest: x·log2(e) lies in [−126, 0], where adding and removing
  // 1.5·2^23 leaves no fraction bits (round_half_even's general case costs more).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
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

// Σ_{m=1}^{levels−1} σ'_α(x − b_m), b_m = (m − 1/2)/(levels − 1), for one
// block of elements, with σ'_α(z) = e/(1 + e)²/α, e = exp(−|z|/α) (symmetric,
// never overflows).
//
// The thresholds are equally spaced, so with t = (x − b_1)/α and
// c = 1/((levels − 1)α) the m-th term's exponent is −|t − (m−1)c|: along m,
// exp(−(t − (m−1)c)) grows by R = e^c and exp(t − (m−1)c) shrinks by 1/R.
// Two exps per element start the two sequences and every later term costs
// two multiplies instead of an exp (3x faster at M_a = 8 on AVX2). The
// sequences restart from fresh exps every kAnchor terms, so the rounding
// of the products stays below kAnchor float ulps (2e-6 relative).
//
// Thresholds are the outer loop so that the element loop is innermost and
// vectorizes; `__restrict`: the sums never alias the input.
constexpr int64_t kAnchor = 16;
// Elements per block of the blocked loops (at most): a block's sums stay in L1.
constexpr int64_t kBlock = 256;

// The constants of one surrogate, computed once per kernel call outside
// the variants (std::exp here would be a libm call inside every variant).
template <typename T>
struct SlopeSumPlan {
  int64_t levels = 2;
  T inv_alpha, first_threshold, c, grow, shrink, span, exp_span;
};

template <typename T>
SlopeSumPlan<T> make_slope_sum_plan(int64_t levels, double inv_alpha) {
  const double c = inv_alpha / double(levels - 1);
  // Within one anchor span the increasing sequence is used only where its
  // exponent is ≤ 0 and the decreasing one only where t − (m−1)c < 0, so
  // t − anchor·c < (terms in the span − 1)·c = span (≤ 4): clamping there
  // keeps both finite and loses nothing above float's smallest normal.
  const double span = double(std::min<int64_t>(kAnchor, levels - 1) - 1) * c;
  return {levels,          T(inv_alpha),  T(0.5 / double(levels - 1)), T(c), T(std::exp(c)),
          T(std::exp(-c)), T(span),       T(std::exp(span))};
}

template <typename T>
MAQD_INLINE void sigmoid_slope_sums(const T* __restrict x, T* __restrict sum, int64_t len,
                                    const SlopeSumPlan<T>& plan) {
  alignas(64) T t[kBlock], down[kBlock], up[kBlock];
  const int64_t levels = plan.levels;
  const T inv_alpha = plan.inv_alpha, first_threshold = plan.first_threshold;
  const T grow = plan.grow, shrink = plan.shrink, span = plan.span, exp_span = plan.exp_span;
  const double c = double(plan.c);
  for (int64_t j = 0; j < len; ++j) {
    sum[j] = T(0);
    t[j] = (x[j] - first_threshold) * inv_alpha;
  }
  for (int64_t m0 = 0; m0 < levels - 1; m0 += kAnchor) {
    const T offset = T(double(m0) * c);
    for (int64_t j = 0; j < len; ++j) {
      const T d = t[j] - offset;
      // exp(−d) where d ≥ 0 (used only there), exp(d) for d below span.
      const T dpos = d > T(0) ? d : T(0);
      const T dcap = d < span ? d : span;
      down[j] = exp_nonpositive(-dpos);
      up[j] = exp_nonpositive(dcap - span) * exp_span;
    }
    const int64_t end = std::min(levels - 1, m0 + kAnchor);
    for (int64_t m = m0; m < end; ++m) {
      const T threshold_offset = T(double(m) * c);
      for (int64_t j = 0; j < len; ++j) {
        const T d = t[j] - threshold_offset;
        const T e = d >= T(0) ? down[j] : up[j];
        const T one_plus = T(1) + e;
        sum[j] += e / (one_plus * one_plus);
        down[j] *= grow;
        up[j] *= shrink;
      }
    }
  }
  for (int64_t j = 0; j < len; ++j) sum[j] *= inv_alpha;
}

// Runs `body(begin, end)` over [0, n) in parallel chunks.
template <typename Body>
void parallel_over(int64_t n, const Body& body) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) { body(begin, end); });
}

}  // namespace maqd::kernels
