// Which x86 variant the fused training kernels run, and how to cap it.
//
// Every fused kernel (the quantizers, the fused normalization + activation)
// is compiled three times: baseline x86-64 (SSE2), x86-64-v3 (AVX2, FMA) and
// x86-64-v4 (AVX-512 F/BW/CD/DQ/VL). The best one the CPU runs is chosen on
// each call, capped by the environment variable MAQD_ISA — the runtime's
// variable, read by the runtime (maqd_rt::isa_cap_level) — so that one
// machine can measure another's path:
//   MAQD_ISA=scalar   baseline x86-64
//   MAQD_ISA=avx2     x86-64-v3 (neon, the runtime's Arm name of that level, too)
//   MAQD_ISA=avx512   x86-64-v4 (neondot too; the default where the CPU has it)
// On other architectures there is one variant, "baseline".
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace maqd {

enum class KernelIsa { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// "x86-64", "x86-64-v3 (AVX2)", "x86-64-v4 (AVX-512)".
const char* to_string(KernelIsa isa);

// The variant the kernels run now: the CPU's best, capped by MAQD_ISA.
// Throws maqd::Error naming MAQD_ISA and the allowed values for any other
// value. Read on every call, so a test may change MAQD_ISA in between.
KernelIsa training_kernel_isa();

// Every variant this CPU can run, baseline first (for tests).
std::vector<KernelIsa> available_kernel_isas();

// Each fused kernel called so far in this process and the variant its
// latest call ran, in order of first call (benchmarks print it).
std::vector<std::pair<std::string, KernelIsa>> kernel_isas_used();

// How many threads the fused kernels split their work over: LibTorch's
// intra-op thread count (torch::set_num_threads), or 1 where libmaqd was
// built without OpenMP, which leaves at::parallel_for serial.
int training_kernel_threads();

// Applies a MAQD_ISA cap to LibTorch's own CPU code as well: oneDNN's
// convolutions (ONEDNN_MAX_CPU_ISA) and ATen's vectorized kernels
// (ATEN_CPU_CAPABILITY), unless those variables are already set, so that the
// whole training step takes the capped machine's path. Call at start-up,
// before the first tensor operation; child processes inherit the settings.
// Returns a one-line description of what was set ("" when MAQD_ISA is unset).
std::string cap_libtorch_isa_from_environment();

}  // namespace maqd
