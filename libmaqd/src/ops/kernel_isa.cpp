#include "maqd/ops/kernel_isa.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>

#include <ATen/Parallel.h>

#include "maqd/error.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "ops/kernel_variants.h"

namespace maqd {
namespace {

KernelIsa best_cpu_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const KernelIsa best = [] {
    __builtin_cpu_init();
    // The feature lists of x86-64-v3 and -v4 (the psABI's micro-architecture levels).
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                    __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe") &&
                    __builtin_cpu_supports("lzcnt");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
    return v4 ? KernelIsa::kAvx512 : v3 ? KernelIsa::kAvx2 : KernelIsa::kBaseline;
  }();
  return best;
#else
  return KernelIsa::kBaseline;
#endif
}

// The runtime's reading of MAQD_ISA (its values and levels), or nullopt
// where it is unset or empty.
std::optional<KernelIsa> isa_cap() {
  try {
    const int level = maqd_rt::isa_cap_level();
    if (level < 0) return std::nullopt;
    return KernelIsa(level);
  } catch (const maqd_rt::Error& e) {
    throw Error(e.what());
  }
}

std::mutex used_mutex;
std::vector<std::pair<std::string, KernelIsa>> used;

}  // namespace

const char* to_string(KernelIsa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case KernelIsa::kBaseline: return "x86-64";
#else
    case KernelIsa::kBaseline: return "baseline";
#endif
    case KernelIsa::kAvx2: return "x86-64-v3 (AVX2)";
    case KernelIsa::kAvx512: return "x86-64-v4 (AVX-512)";
  }
  return "unknown";
}

KernelIsa training_kernel_isa() {
  const KernelIsa best = best_cpu_isa();
  const std::optional<KernelIsa> cap = isa_cap();
  return cap ? std::min(*cap, best) : best;
}

std::vector<KernelIsa> available_kernel_isas() {
  std::vector<KernelIsa> isas;
  for (KernelIsa isa : {KernelIsa::kBaseline, KernelIsa::kAvx2, KernelIsa::kAvx512})
    if (isa <= best_cpu_isa()) isas.push_back(isa);
  return isas;
}

std::vector<std::pair<std::string, KernelIsa>> kernel_isas_used() {
  std::lock_guard<std::mutex> lock(used_mutex);
  return used;
}

int training_kernel_threads() {
  // Asked of at::parallel_for itself, compiled with the kernels' flags: a
  // build without OpenMP answers 1 however many threads LibTorch has.
  const int threads = at::get_num_threads();
  std::vector<std::atomic<bool>> ran(static_cast<size_t>(threads));
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    ran[static_cast<size_t>(at::get_thread_num())] = true;
  });
  int used = 0;
  for (const auto& flag : ran) used += flag ? 1 : 0;
  return used;
}

std::string cap_libtorch_isa_from_environment() {
  const std::optional<KernelIsa> cap = isa_cap();
  if (!cap) return "";
  const std::string value = std::getenv("MAQD_ISA");
  if (*cap == KernelIsa::kAvx512) return "MAQD_ISA=" + value + ": no cap below the CPU's best";
  // oneDNN's names (its minimum is SSE4.1) and ATen's dispatch levels.
  const char* onednn = *cap == KernelIsa::kAvx2 ? "AVX2" : "SSE41";
  const char* aten = *cap == KernelIsa::kAvx2 ? "avx2" : "default";
  std::string description = "MAQD_ISA=" + value + ":";
  // oneDNN 2.x reads either name; older releases only DNNL_.
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    if (!std::getenv(name)) setenv(name, onednn, 0);
    description += std::string(" ") + name + "=" + std::getenv(name);
  }
  if (!std::getenv("ATEN_CPU_CAPABILITY")) setenv("ATEN_CPU_CAPABILITY", aten, 0);
  description += std::string(" ATEN_CPU_CAPABILITY=") + std::getenv("ATEN_CPU_CAPABILITY");
  return description;
}

namespace kernels {

KernelIsa choose_variant(const char* kernel) {
  const KernelIsa isa = training_kernel_isa();
  std::lock_guard<std::mutex> lock(used_mutex);
  for (auto& [name, last] : used)
    if (name == kernel) {
      last = isa;
      return isa;
    }
  used.emplace_back(kernel, isa);
  return isa;
}

}  // namespace kernels
}  // namespace maqd
