// Fused CPU kernels of a normalization (LBN or BN, training mode) followed
// by the activation (Q_a with its surrogate gradient, or ReLU). Each works on
// a contiguous NCHW float32/float64 tensor, one (n, c) plane at a time,
// threaded over planes and compiled per ISA (kernel_variants.h).
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace maqd::kernels {

// What follows the affine map u = scale_c·x + shift_c.
struct ActivationSpec {
  int64_t levels = 0;         // M_a; 0: ReLU
  bool ste = false;           // backward 1_{0<u<1} instead of the sigmoid sum
  double inv_alpha = 4.0;     // 1/α of the sigmoid surrogate
  double step = 1.0;          // the surrogate's factor (1/(M_a−1) or 1)
};

// Per-plane sums of (x − shift_c) and (x − shift_c)², shift_c = x[0, c, 0, 0]
// (shifted data keeps E[x²] − E[x]² from cancelling); [N·C] each, float64.
void plane_moments(const torch::Tensor& x, torch::Tensor& sum, torch::Tensor& sum_squares,
                   torch::Tensor& shift);

// y = act(scale_c·x + shift_c); scale, shift: [C] in x's dtype.
torch::Tensor affine_activation_forward(const torch::Tensor& x, const torch::Tensor& scale,
                                        const torch::Tensor& shift, const ActivationSpec& act);

// The backward pass of y = act(γ_c·(x − μ_c)·r_c + β_c), μ_c and r_c being
// the batch statistics (all channels equal for LBN). Returns dx and the
// per-plane sums S1 = Σ dq and S2 = Σ dq·(x − μ_c) (dq = dy·act'(u)), from
// which the caller forms dγ and dβ and the coefficients of
//   dx = a_c·dq + k1_c·x + k0_c,
// computed in a second pass (affine_backward_second_pass).
void activation_backward_first_pass(const torch::Tensor& dy, const torch::Tensor& x,
                                    const torch::Tensor& scale, const torch::Tensor& shift,
                                    const torch::Tensor& mean, const ActivationSpec& act,
                                    torch::Tensor& dq, torch::Tensor& s1, torch::Tensor& s2);
// dq ← a_c·dq + k1_c·x + k0_c in place; a, k1, k0: [C] in x's dtype.
void affine_backward_second_pass(torch::Tensor& dq, const torch::Tensor& x, const torch::Tensor& a,
                                 const torch::Tensor& k1, const torch::Tensor& k0);

}  // namespace maqd::kernels
