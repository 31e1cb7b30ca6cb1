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

template <typename Step>
double timed(int64_t iterations, Step&& step, __m256i (&acc)[kChains]) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    unroll(std::make_integer_sequence<int, kChains>{}, [&](auto c) { acc[c] = step(acc[c]); });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  __m256i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_epi32(sum, acc[c]);
  volatile int sink = _mm256_extract_epi32(sum, 0);
  (void)sink;
  return seconds;
}
}  // namespace

double maddubs_seconds(int64_t iterations, int64_t* macs) {
  __m256i acc[kChains] = {};
  const __m256i w = _mm256_set1_epi8(-1);
  *macs = iterations * kChains * 32;
  // Each product reads its own accumulator, so none is loop-invariant.
  return timed(iterations, [&](__m256i a) { return _mm256_add_epi16(a, _mm256_maddubs_epi16(a, w)); }, acc);
}

double maddwd_seconds(int64_t iterations, int64_t* macs) {
  __m256i acc[kChains] = {};
  const __m256i w = _mm256_set1_epi16(-1);
  *macs = iterations * kChains * 16;
  return timed(iterations, [&](__m256i a) { return _mm256_add_epi32(a, _mm256_madd_epi16(a, w)); }, acc);
}

double shufb_ternary_seconds(int64_t iterations, int64_t* macs) {
  __m256i acc[kChains] = {};
  const __m256i plus = _mm256_set1_epi8(5), minus = _mm256_set1_epi8(10);
  *macs = iterations * kChains * 128;
  // The table is the accumulator (as the kernel's is a fresh load), so
  // nothing is loop-invariant.
  return timed(iterations, [&](__m256i a) {
    return _mm256_add_epi8(a, _mm256_sub_epi8(_mm256_shuffle_epi8(a, plus), _mm256_shuffle_epi8(a, minus)));
  }, acc);
}

}  // namespace maqd_bench::avx2
