// AVX-512 limit loops (compiled with -mavx512f/bw/vnni/vpopcntdq; run only
// where the CPU has them).
#include <immintrin.h>

#include <chrono>
#include <utility>

#include "limits.h"

namespace maqd_bench::avx512 {
namespace {
constexpr int kChains = 12;
using Clock = std::chrono::steady_clock;

// Constant indices, so that the accumulators stay in registers.
template <typename F, int... I>
inline void unroll(std::integer_sequence<int, I...>, F&& f) {
  (f(std::integral_constant<int, I>{}), ...);
}

template <typename Step>
double timed(int64_t iterations, Step&& step, __m512i (&acc)[kChains]) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    unroll(std::make_integer_sequence<int, kChains>{}, [&](auto c) { acc[c] = step(acc[c], int(c)); });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  __m512i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_epi32(sum, acc[c]);
  volatile int sink = _mm512_reduce_add_epi32(sum);
  (void)sink;
  return seconds;
}
}  // namespace

double dpbusd_seconds(int64_t iterations, int64_t* macs) {
  __m512i acc[kChains] = {};
  const __m512i x = _mm512_set1_epi8(3), w = _mm512_set1_epi8(-1);
  *macs = iterations * kChains * 64;
  return timed(iterations, [&](__m512i a, int) { return _mm512_dpbusd_epi32(a, x, w); }, acc);
}

double dpwssd_seconds(int64_t iterations, int64_t* macs) {
  __m512i acc[kChains] = {};
  const __m512i x = _mm512_set1_epi16(3), w = _mm512_set1_epi16(-1);
  *macs = iterations * kChains * 32;
  return timed(iterations, [&](__m512i a, int) { return _mm512_dpwssd_epi32(a, x, w); }, acc);
}

double popcnt_ternary_seconds(int64_t iterations, int64_t* macs) {
  __m512i acc[kChains] = {};
  const __m512i plus = _mm512_set1_epi32(0x0F0F0F0F), minus = _mm512_set1_epi32(0x30303030);
  *macs = iterations * kChains * 512;
  // The kernel's ANDs take the input word; here the accumulator stands in
  // for it, so that nothing is loop-invariant.
  return timed(iterations, [&](__m512i a, int) {
    a = _mm512_add_epi32(a, _mm512_popcnt_epi32(_mm512_and_si512(a, plus)));
    return _mm512_sub_epi32(a, _mm512_popcnt_epi32(_mm512_and_si512(a, minus)));
  }, acc);
}

}  // namespace maqd_bench::avx512
