#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
alignas(64) uint8_t W[64 * 1024];
alignas(64) uint8_t X[128 * 1024];
template <int MODE, int OFF = 0, int STRIDE = 128>
__attribute__((noinline)) __m256i run(long iters, int steps) {
  __m256i acc[2][4];
  for (auto& a : acc) for (auto& b : a) b = _mm256_setzero_si256();
  for (long it = 0; it < iters; ++it) {
    const uint8_t* w = W; const uint8_t* x = X + OFF * (it & 1);
    for (int g = 0; g < steps; ++g, w += (MODE == 1 ? 128 : 64), x += STRIDE) {
      __m256i idx[2] = {_mm256_loadu_si256((const __m256i*)x), _mm256_loadu_si256((const __m256i*)(x + 32))};
      for (int c = 0; c < 4; ++c) {
        __m256i t;
        if (MODE == 0) t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)(w + 16 * c)));
        else if (MODE == 1) t = _mm256_load_si256((const __m256i*)(w + 32 * c));
        else t = _mm256_castsi128_si256(_mm_loadu_si128((const __m128i*)(w + 16 * c)));  // half only
        for (int b = 0; b < 2; ++b) acc[b][c] = _mm256_add_epi8(acc[b][c], _mm256_shuffle_epi8(t, idx[b]));
      }
    }
  }
  __m256i r = _mm256_setzero_si256();
  for (auto& a : acc) for (auto& b : a) r = _mm256_xor_si256(r, b);
  return r;
}
template <int MODE, int OFF, int STRIDE> void time(const char* name) {
  const int steps = 64; const long iters = 400000;
  auto t0 = std::chrono::steady_clock::now();
  __m256i r = run<MODE, OFF, STRIDE>(iters, steps);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile int sink = _mm256_extract_epi32(r, 0); (void)sink;
  double macs = double(iters) * steps * 8 * 128;
  std::printf("%-28s %6.1f GMAC/s  %.2f ns/step\n", name, macs / s / 1e9, s / (iters * steps) * 1e9);
}
int main() {
  for (int i = 0; i < sizeof W; ++i) { W[i] = rand() & 15; X[i] = rand() & 15; }
  for (int r = 0; r < 2; ++r) { time<0, 0, 96>("stride 96"); time<0, 7, 96>("stride 96 +7"); time<0, 0, 128>("stride 128"); time<0, 7, 128>("stride 128 +7"); time<0, 0, 256>("stride 256"); time<0, 7, 256>("stride 256 +7"); time<0, 0, 864>("stride 864"); time<0, 7, 864>("stride 864 +7"); time<0, 0, 160>("stride 160");}
}
