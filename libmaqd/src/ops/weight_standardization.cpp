#include "maqd/ops/weight_standardization.h"

#include <cmath>

#include <ATen/record_function.h>

#include "maqd/error.h"

namespace maqd {

torch::Tensor standardize_weight(const torch::Tensor& weight, double eps) {
  // Profiler scopes (bench_training --profile) cost nothing when it is off.
  RECORD_FUNCTION("maqd::weight_standardization", std::vector<c10::IValue>());
  check(weight.dim() >= 2, "standardize_weight",
        "weight has ", weight.dim(), " dimensions; expected ≥ 2 ([out, fan-in...])");
  check(std::isfinite(eps) && eps > 0, "standardize_weight", "parameter eps is ", eps,
        "; allowed: a finite number > 0");
  const torch::Tensor flat = weight.reshape({weight.size(0), -1});
  // Biased variance: Ŵ has unit variance over each output channel's fan-in.
  const auto [var, mean] = torch::var_mean(flat, /*dim=*/{1}, /*unbiased=*/false, /*keepdim=*/true);
  return ((flat - mean) * torch::rsqrt(var + eps)).view_as(weight);
}

}  // namespace maqd
