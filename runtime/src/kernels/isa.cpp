#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/internal.h"
#include "maqd_rt/error.hpp"

namespace maqd_rt::kernels {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
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
  return features;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = probe_cpu();
  return features;
}

static Isa best_cpu_isa() {
  const CpuFeatures& features = cpu_features();
  if (features.avx512) return Isa::kAvx512;
  if (features.avx2) return Isa::kAvx2;
  return Isa::kScalar;
}

// Read on every call (not cached) so that tests and embedding programs can
// change MAQD_ISA between loads.
Isa detect_isa() {
  const Isa best = best_cpu_isa();
  const char* requested = std::getenv("MAQD_ISA");
  if (requested == nullptr || requested[0] == '\0') return best;
  for (Isa cap : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (std::strcmp(requested, isa_name(cap)) == 0) return cap < best ? cap : best;
  }
  throw Error("environment variable MAQD_ISA is '" + std::string(requested) +
              "'; expected one of scalar, avx2, avx512");
}

std::vector<Isa> available_isas() {
  std::vector<Isa> isas{Isa::kScalar};
  const Isa best = best_cpu_isa();
  if (best >= Isa::kAvx2) isas.push_back(Isa::kAvx2);
  if (best >= Isa::kAvx512) isas.push_back(Isa::kAvx512);
  return isas;
}

}  // namespace maqd_rt::kernels
