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

// The chains start from distinct values, and each step is an asm statement
// (see limits_avx2.cpp).
template <typename Step>
[[gnu::noinline]] __m512i run_chains(int64_t iterations, Step&& step) {
  __m512i acc[kChains];
  unroll(std::make_integer_sequence<int, kChains>{}, [&](auto c) { acc[c] = _mm512_set1_epi8(char(c + 1)); });
  for (int64_t i = 0; i < iterations; ++i) {
    unroll(std::make_integer_sequence<int, kChains>{}, [&](auto c) { acc[c] = step(acc[c], int(c)); });
  }
  __m512i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_epi32(sum, acc[c]);
  return sum;
}

template <typename Step>
double timed(int64_t iterations, Step&& step) {
  const auto start = Clock::now();
  const __m512i sum = run_chains(iterations, step);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  volatile int sink = _mm512_reduce_add_epi32(sum);
  (void)sink;
  return seconds;
}
}  // namespace

double dpbusd_seconds(int64_t iterations, int64_t* macs) {
  const __m512i x = _mm512_set1_epi8(3), w = _mm512_set1_epi8(-1);
  *macs = iterations * kChains * 64;
  return timed(iterations, [&](__m512i a, int) {
    __asm__("vpdpbusd %[w], %[x], %[a]" : [a] "+v"(a) : [x] "v"(x), [w] "v"(w));
    return a;
  });
}

double dpwssd_seconds(int64_t iterations, int64_t* macs) {
  const __m512i x = _mm512_set1_epi16(3), w = _mm512_set1_epi16(-1);
  *macs = iterations * kChains * 32;
  return timed(iterations, [&](__m512i a, int) {
    __asm__("vpdpwssd %[w], %[x], %[a]" : [a] "+v"(a) : [x] "v"(x), [w] "v"(w));
    return a;
  });
}

double popcnt_ternary_seconds(int64_t iterations, int64_t* macs) {
  const __m512i plus = _mm512_set1_epi32(0x0F0F0F0F), minus = _mm512_set1_epi32(0x30303030);
  *macs = iterations * kChains * 512;
  // The kernel's ANDs take the input word; here the accumulator stands in
  // for it, so that nothing is loop-invariant.
  return timed(iterations, [&](__m512i a, int) {
    __m512i t;
    __asm__("vpandd %[plus], %[a], %[t]\n\tvpopcntd %[t], %[t]\n\tvpaddd %[t], %[a], %[a]\n\t"
            "vpandd %[minus], %[a], %[t]\n\tvpopcntd %[t], %[t]\n\tvpsubd %[t], %[a], %[a]"
            : [a] "+v"(a), [t] "=&v"(t) : [plus] "v"(plus), [minus] "v"(minus));
    return a;
  });
}

double shufb_ternary_seconds(int64_t iterations, int64_t* macs) {
  const __m512i plus = _mm512_set1_epi8(5), minus = _mm512_set1_epi8(10);
  *macs = iterations * kChains * 256;
  // As limits_avx2.cpp's: the accumulator stands in for the table.
  return timed(iterations, [&](__m512i a, int) {
    __m512i p, m;
    __asm__("vpshufb %[plus], %[a], %[p]\n\tvpshufb %[minus], %[a], %[m]\n\t"
            "vpsubb %[m], %[p], %[p]\n\tvpaddb %[p], %[a], %[a]"
            : [a] "+v"(a), [p] "=&v"(p), [m] "=&v"(m) : [plus] "v"(plus), [minus] "v"(minus));
    return a;
  });
}

}  // namespace maqd_bench::avx512
