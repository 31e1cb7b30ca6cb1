// The arithmetic limit of one core for each instruction sequence the
// runtime's conv kernels are built on: multiply-adds per second of a loop
// that runs only that sequence, on registers, with enough independent
// accumulators to hide its latency. A kernel's share of its limit is what
// bench_runtime_kernels prints; no kernel can exceed it without a
// different instruction.
#pragma once

#include <cstdint>

namespace maqd_bench {

enum class Instruction {
  kAvx2Maddubs,        // vpmaddubsw + vpaddw: 32 multiply-adds per pair (u8 x s8)
  kAvx2Maddwd,         // vpmaddwd + vpaddd: 16 (i16 x i16)
  kAvx2ShufbTernary,   // 2x vpshufb, vpsubb, vpaddb: 128 (4-channel tables x ternary masks)
  kAvx2ShufbBinary,    // vpshufb, vpaddb: 128 (weight tables x 4 binary inputs, 32 positions)
  kAvx512Dpbusd,       // vpdpbusd: 64 (u8 x s8)
  kAvx512Dpwssd,       // vpdpwssd: 32 (i16 x i16)
  kAvx512PopcntTernary, // 2x (vpandd, vpopcntd), vpaddd, vpsubd: 512 (binary x ternary)
  kAvx512ShufbTernary    // 2x vpshufb, vpsubb, vpaddb on zmm: 256 (4-channel tables x ternary masks)
};
const char* instruction_name(Instruction instruction);

// Multiply-adds per second on the calling thread, timed over `iterations`
// loop trips (each a fixed number of instructions).
double limit_macs_per_second(Instruction instruction, int64_t iterations);

namespace avx2 {
double maddubs_seconds(int64_t iterations, int64_t* macs);
double maddwd_seconds(int64_t iterations, int64_t* macs);
double shufb_ternary_seconds(int64_t iterations, int64_t* macs);
double shufb_binary_seconds(int64_t iterations, int64_t* macs);
}  // namespace avx2
namespace avx512 {
double dpbusd_seconds(int64_t iterations, int64_t* macs);
double dpwssd_seconds(int64_t iterations, int64_t* macs);
double popcnt_ternary_seconds(int64_t iterations, int64_t* macs);
double shufb_ternary_seconds(int64_t iterations, int64_t* macs);
}  // namespace avx512

}  // namespace maqd_bench
