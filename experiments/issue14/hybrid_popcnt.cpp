// Is there throughput beside the AVX2 vpshufb table lookups? Register-only
// chains: scalar popcnt alone, vpshufb (table-lookup sequence) alone, and both
// in one loop (issue 14, round 5). Build and run:
//   g++ -O2 -mavx2 -mpopcnt experiments/issue14/hybrid_popcnt.cpp -o /tmp/hybrid_popcnt && /tmp/hybrid_popcnt
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdint>
static double now(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}
#define VSTEP(a) __asm__("vpshufb %[pl], %[x], %[p]\n\tvpshufb %[mi], %[x], %[m]\n\tvpsubb %[m], %[p], %[p]\n\tvpaddb %[p], %[x], %[x]" : [x] "+x"(a), [p] "=&x"(p), [m] "=&x"(m) : [pl] "x"(plus), [mi] "x"(minus));
#define SSTEP(s) __asm__("mov %[v], %[t]\n\tand %[P], %[t]\n\tpopcnt %[t], %[t]\n\tadd %[t], %[v]\n\tmov %[v], %[t]\n\tand %[M], %[t]\n\tpopcnt %[t], %[t]\n\tsub %[t], %[v]" : [v] "+r"(s), [t] "=&r"(t) : [P] "r"(P), [M] "r"(M));
template<int NV, int NS>
__attribute__((noinline)) uint64_t run(long iters){
  const __m256i plus=_mm256_set1_epi8(5), minus=_mm256_set1_epi8(10);
  const uint64_t P=0x0F0F0F0F0F0F0F0Full, M=0x3030303030303030ull;
  __m256i v[12]; uint64_t s[12];
  for(int i=0;i<12;i++){ v[i]=_mm256_set1_epi8(char(i+1)); s[i]=0x123456789ull*(i+1); }
  for(long it=0;it<iters;it++){
    __m256i p,m; uint64_t t;
    if constexpr(NV>0){VSTEP(v[0])} if constexpr(NS>0){SSTEP(s[0])}
    if constexpr(NV>1){VSTEP(v[1])} if constexpr(NS>1){SSTEP(s[1])}
    if constexpr(NV>2){VSTEP(v[2])} if constexpr(NS>2){SSTEP(s[2])}
    if constexpr(NV>3){VSTEP(v[3])} if constexpr(NS>3){SSTEP(s[3])}
    if constexpr(NV>4){VSTEP(v[4])} if constexpr(NS>4){SSTEP(s[4])}
    if constexpr(NV>5){VSTEP(v[5])} if constexpr(NS>5){SSTEP(s[5])}
    if constexpr(NV>6){VSTEP(v[6])} if constexpr(NS>6){SSTEP(s[6])}
    if constexpr(NV>7){VSTEP(v[7])} if constexpr(NS>7){SSTEP(s[7])}
    if constexpr(NV>8){VSTEP(v[8])}
    if constexpr(NV>9){VSTEP(v[9])}
    if constexpr(NV>10){VSTEP(v[10])}
    if constexpr(NV>11){VSTEP(v[11])}
  }
  uint64_t r=0; for(int i=0;i<12;i++) r+=_mm256_extract_epi64(v[i],0)+s[i]; return r;
}
template<int NV,int NS> void measure(){
  long it=20000000; double t0=now(); volatile uint64_t r=run<NV,NS>(it); double t=now()-t0; (void)r;
  double vm=double(it)*NV*128/t/1e9, sm=double(it)*NS*64/t/1e9;
  printf("vector chains %2d, scalar chains %d: vector %6.1f + scalar %6.1f = %6.1f GMAC/s\n",NV,NS,vm,sm,vm+sm);
}
int main(){ for(int r=0;r<2;r++){ measure<12,0>(); measure<0,8>(); measure<0,4>(); measure<12,4>(); measure<12,8>(); measure<8,8>(); measure<8,4>(); } }
