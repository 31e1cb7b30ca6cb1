// AVX2 limit loops (compiled with -mavx2; run only where the CPU has it).
#include <immintrin.h>

#include <chrono>
#include <utility>

#include "limits.h"

namespace maqd_bench::avx2 {
namespace {
constexpr int kChains = 12;  // independent accumulators: latency × throughput of vpmaddubsw
using Clock = std::chrono::steady_clock;

// Constant indices, so that the accumulators stay in registers.
template <typename F, int... I>
inline void unroll(std::integer_sequence<int, I...>, F&& f) {
  (f(std::integral_constant<int, I>{}), ...);
}

// The chains start from distinct values: chains the compiler can prove equal
// it computes once (until they did, every loop here ran one chain and was
// credited with twelve). Each step is an asm statement, so that the loop
// runs exactly the kernel's instructions, with no register copies between
// them (GCC copied every accumulator around intrinsics here); the CTest
// entry bench_limit_loops checks the generated loops.
template <typename Step>
[[gnu::noinline]] __m256i run_chains(int64_t iterations, Step&& step) {
  __m256i acc[kChains];
  unroll(std::make_integer_sequence<int, kChains>{}, [&](auto c) { acc[c] = _mm256_set1_epi8(char(c + 1)); });
  for (int64_t i = 0; i < iterations; ++i) {
    unroll(std::make_integer_sequence<int, kChains>{}, [&](auto c) { acc[c] = step(acc[c]); });
  }
  __m256i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_epi32(sum, acc[c]);
  return sum;
}

template <typename Step>
double timed(int64_t iterations, Step&& step) {
  const auto start = Clock::now();
  const __m256i sum = run_chains(iterations, step);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  volatile int sink = _mm256_extract_epi32(sum, 0);
  (void)sink;
  return seconds;
}
}  // namespace

double maddubs_seconds(int64_t iterations, int64_t* macs) {
  const __m256i w = _mm256_set1_epi8(-1);
  *macs = iterations * kChains * 32;
  // Each product reads its own accumulator, so none is loop-invariant.
  return timed(iterations, [&](__m256i a) {
    __m256i t;
    __asm__("vpmaddubsw %[w], %[a], %[t]\n\tvpaddw %[t], %[a], %[a]" : [a] "+x"(a), [t] "=&x"(t) : [w] "x"(w));
    return a;
  });
}

double maddwd_seconds(int64_t iterations, int64_t* macs) {
  const __m256i w = _mm256_set1_epi16(-1);
  *macs = iterations * kChains * 16;
  return timed(iterations, [&](__m256i a) {
    __m256i t;
    __asm__("vpmaddwd %[w], %[a], %[t]\n\tvpaddd %[t], %[a], %[a]" : [a] "+x"(a), [t] "=&x"(t) : [w] "x"(w));
    return a;
  });
}

double shufb_ternary_seconds(int64_t iterations, int64_t* macs) {
  const __m256i plus = _mm256_set1_epi8(5), minus = _mm256_set1_epi8(10);
  *macs = iterations * kChains * 128;
  // The table is the accumulator (as the kernel's is a fresh load), so
  // nothing is loop-invariant.
  return timed(iterations, [&](__m256i a) {
    __m256i p, m;
    __asm__("vpshufb %[plus], %[a], %[p]\n\tvpshufb %[minus], %[a], %[m]\n\t"
            "vpsubb %[m], %[p], %[p]\n\tvpaddb %[p], %[a], %[a]"
            : [a] "+x"(a), [p] "=&x"(p), [m] "=&x"(m) : [plus] "x"(plus), [minus] "x"(minus));
    return a;
  });
}

double shufb_binary_seconds(int64_t iterations, int64_t* macs) {
  const __m256i index = _mm256_set1_epi8(5);
  *macs = iterations * kChains * 128;
  // As above, the table is the accumulator, so nothing is loop-invariant.
  return timed(iterations, [&](__m256i a) {
    __m256i p;
    __asm__("vpshufb %[index], %[a], %[p]\n\tvpaddb %[p], %[a], %[a]"
            : [a] "+x"(a), [p] "=&x"(p) : [index] "x"(index));
    return a;
  });
}

}  // namespace maqd_bench::avx2
