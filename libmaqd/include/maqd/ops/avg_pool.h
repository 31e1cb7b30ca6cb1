// The 2×2, stride-2 average pooling of AP and of stride-2 residual blocks
// (floor: an odd last row or column is dropped, like torch::avg_pool2d).
// On contiguous float32/float64 CPU tensors forward and backward are each one
// pass (ops/avg_pool.cpp, per-ISA loops like the quantizers'); elsewhere it
// is torch::avg_pool2d. Both give the same values: each output is
// ((a + b) + c + d) / 4 in the order ATen sums them.
#pragma once

#include <torch/types.h>

namespace maqd {

// x: [N, C, H, W] with H, W ≥ 2; returns [N, C, H/2, W/2].
torch::Tensor avg_pool_2x2(const torch::Tensor& x);

}  // namespace maqd
