#include "maqd/ops/avg_pool.h"

#include <ATen/Dispatch.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "maqd/error.h"
#include "ops/kernel_variants.h"
#include "ops/quant_kernels.h"

namespace maqd {
namespace kernels {
namespace {

// One output row of each plane in [begin, end) of the flattened (plane,
// output row) index; ATen's order of the four additions, then / 4 (exact).
template <typename T>
MAQD_INLINE void avg_pool_forward_loop(const T* x, T* y, int64_t begin, int64_t end, int64_t h,
                                       int64_t w, int64_t oh, int64_t ow) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t plane = r / oh, i = r % oh;
    const T* top = x + (plane * h + 2 * i) * w;
    const T* bottom = top + w;
    T* out = y + r * ow;
    for (int64_t j = 0; j < ow; ++j)
      out[j] = (((top[2 * j] + top[2 * j + 1]) + bottom[2 * j]) + bottom[2 * j + 1]) * T(0.25);
  }
}
MAQD_VARIANTS(avg_pool_forward_f32, avg_pool_forward_loop,
              (const float* x, float* y, int64_t begin, int64_t end, int64_t h, int64_t w,
               int64_t oh, int64_t ow),
              (x, y, begin, end, h, w, oh, ow))
MAQD_VARIANTS(avg_pool_forward_f64, avg_pool_forward_loop,
              (const double* x, double* y, int64_t begin, int64_t end, int64_t h, int64_t w,
               int64_t oh, int64_t ow),
              (x, y, begin, end, h, w, oh, ow))

// The input rows 2i and 2i + 1 of each output row i get a quarter of its
// gradient. The caller zeroes a dropped last row or column (odd h or w): a
// zeroing loop here would become a call to memset.
template <typename T>
MAQD_INLINE void avg_pool_backward_loop(const T* dy, T* dx, int64_t begin, int64_t end, int64_t h,
                                        int64_t w, int64_t oh, int64_t ow) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t plane = r / oh, i = r % oh;
    T* top = dx + (plane * h + 2 * i) * w;
    T* bottom = top + w;
    const T* g = dy + r * ow;
    for (int64_t j = 0; j < ow; ++j) {
      const T quarter = g[j] * T(0.25);
      top[2 * j] = quarter;
      top[2 * j + 1] = quarter;
      bottom[2 * j] = quarter;
      bottom[2 * j + 1] = quarter;
    }
  }
}
MAQD_VARIANTS(avg_pool_backward_f32, avg_pool_backward_loop,
              (const float* dy, float* dx, int64_t begin, int64_t end, int64_t h, int64_t w,
               int64_t oh, int64_t ow),
              (dy, dx, begin, end, h, w, oh, ow))
MAQD_VARIANTS(avg_pool_backward_f64, avg_pool_backward_loop,
              (const double* dy, double* dx, int64_t begin, int64_t end, int64_t h, int64_t w,
               int64_t oh, int64_t ow),
              (dy, dx, begin, end, h, w, oh, ow))

// Parallel over output rows, about kGrain input elements per task.
template <typename Body>
void over_output_rows(int64_t rows, int64_t row_inputs, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, row_inputs));
  at::parallel_for(0, rows, grain, body);
}

}  // namespace

torch::Tensor avg_pool_forward(const torch::Tensor& input) {
  const torch::Tensor x = input.contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = h / 2, ow = w / 2;
  torch::Tensor y = torch::empty({n, c, oh, ow}, x.options());
  const KernelIsa isa = choose_variant("avg_pool_forward");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "avg_pool_forward", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, avg_pool_forward);
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    over_output_rows(n * c * oh, 2 * w, [&](int64_t b, int64_t e) { run(xp, yp, b, e, h, w, oh, ow); });
  });
  return y;
}

torch::Tensor avg_pool_backward(const torch::Tensor& grad, int64_t h, int64_t w) {
  const torch::Tensor dy = grad.contiguous();
  const int64_t n = dy.size(0), c = dy.size(1), oh = dy.size(2), ow = dy.size(3);
  torch::Tensor dx = torch::empty({n, c, h, w}, dy.options());
  const KernelIsa isa = choose_variant("avg_pool_backward");
  AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "avg_pool_backward", [&] {
    const auto run = MAQD_VARIANT_FOR(scalar_t, isa, avg_pool_backward);
    const scalar_t* gp = dy.data_ptr<scalar_t>();
    scalar_t* dp = dx.data_ptr<scalar_t>();
    over_output_rows(n * c * oh, 2 * w, [&](int64_t b, int64_t e) { run(gp, dp, b, e, h, w, oh, ow); });
  });
  if (h % 2) dx.select(2, h - 1).zero_();
  if (w % 2) dx.select(3, w - 1).zero_();
  return dx;
}

}  // namespace kernels

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class AvgPoolFunction : public torch::autograd::Function<AvgPoolFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input) {
    ctx->saved_data["height"] = input.size(2);
    ctx->saved_data["width"] = input.size(3);
    return kernels::avg_pool_forward(input);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {kernels::avg_pool_backward(grads[0], ctx->saved_data["height"].toInt(),
                                       ctx->saved_data["width"].toInt())};
  }
};

}  // namespace

torch::Tensor avg_pool_2x2(const torch::Tensor& x) {
  RECORD_FUNCTION("maqd::avg_pool", std::vector<c10::IValue>());
  check(x.dim() == 4 && x.size(2) >= 2 && x.size(3) >= 2, "avg_pool", "input has shape ",
        x.sizes(), "; expected [N, C, H, W] with H, W ≥ 2");
  if (!kernels::fused_supported(x))
    return torch::avg_pool2d(x, /*kernel_size=*/{2, 2}, /*stride=*/{2, 2});
  return AvgPoolFunction::apply(x);
}

}  // namespace maqd
