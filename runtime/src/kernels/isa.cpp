#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/internal.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"

#if MAQD_RT_NEON_KERNELS && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace maqd_rt::kernels {

namespace {
constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot};
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
    case Isa::kNeonDot: return "neondot";
  }
  return "unknown";
}

int isa_level(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return 0;
    case Isa::kAvx2:
    case Isa::kNeon: return 1;
    case Isa::kAvx512:
    case Isa::kNeonDot: return 2;
  }
  return 0;
}

static CpuFeatures probe_cpu() {
  CpuFeatures features;
#if MAQD_RT_X86_KERNELS
  __builtin_cpu_init();
  features.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  features.avx512 = features.avx2 && __builtin_cpu_supports("avx512f") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  features.vpopcntdq = features.avx512 && __builtin_cpu_supports("avx512vpopcntdq");
#endif
#if MAQD_RT_NEON_KERNELS
  features.neon = true;  // (AArch64 has Advanced SIMD by definition)
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
  features.neon_dot = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
#endif
  return features;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = probe_cpu();
  return features;
}

// This CPU's ISAs by level (scalar, then its family's); index = level.
static int cpu_isas(Isa (&isas)[3]) {
  const CpuFeatures& cpu = cpu_features();
  int count = 0;
  isas[count++] = Isa::kScalar;
  if (cpu.avx2) isas[count++] = Isa::kAvx2;
  if (cpu.avx512) isas[count++] = Isa::kAvx512;
  if (cpu.neon) isas[count++] = Isa::kNeon;
  if (cpu.neon_dot) isas[count++] = Isa::kNeonDot;
  return count;
}

std::vector<Isa> available_isas() {
  Isa isas[3];
  const int count = cpu_isas(isas);
  return std::vector<Isa>(isas, isas + count);
}

// The CPU's best ISA at `level` or below. (Called per layer by requant: no
// allocation.)
static Isa usable_at_level(int level) {
  Isa isas[3];
  const int count = cpu_isas(isas);
  return isas[level < count ? level : count - 1];
}

Isa usable_isa(Isa isa) { return usable_at_level(isa_level(isa)); }

// Read on every call (not cached) so that tests and embedding programs can
// change MAQD_ISA between loads.
Isa detect_isa() {
  const int cap = isa_cap_level();
  return usable_at_level(cap < 0 ? 2 : cap);  // (unset: the top level, the CPU's best)
}

}  // namespace maqd_rt::kernels

namespace maqd_rt {

int isa_cap_level() {
  const char* requested = std::getenv("MAQD_ISA");
  if (requested == nullptr || requested[0] == '\0') return -1;
  for (kernels::Isa cap : kernels::kAllIsas) {
    if (std::strcmp(requested, kernels::isa_name(cap)) == 0) return kernels::isa_level(cap);
  }
  throw Error("environment variable MAQD_ISA is '" + std::string(requested) +
              "'; expected one of scalar, avx2, avx512, neon, neondot");
}

}  // namespace maqd_rt
