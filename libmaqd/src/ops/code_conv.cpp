#include "maqd/ops/code_conv.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "maqd/error.h"
#include "ops/kernel_variants.h"

#ifdef MAQD_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace maqd {
namespace kernels {
namespace {

// The codes of values that should be m / d with lo ≤ m ≤ hi, checking that
// claim on the way: *ok becomes 0 where a value is off the grid by more than
// 1 % of a step, out of range, or not finite. Plain arithmetic so that every
// ISA variant vectorizes (kernel_variants.h; tests/ops/codegen_test.sh).
template <typename Code>
MAQD_INLINE void codes_loop(const float* x, Code* out, int64_t n, float scale, float lo, float hi,
                            int* ok) {
  int all = 1;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] * scale;
    const float r = (v + 12582912.0f) - 12582912.0f;  // nearest integer where |v| < 2^22
    const float off = v - r;
    all &= (off <= 0.01f) & (off >= -0.01f) & (r >= lo) & (r <= hi);
    out[i] = Code(int32_t(r));
  }
  *ok = all;
}
MAQD_INLINE void input_codes_loop(const float* x, uint8_t* out, int64_t n, float scale, float lo,
                                  float hi, int* ok) {
  codes_loop(x, out, n, scale, lo, hi, ok);
}
MAQD_INLINE void weight_codes_loop(const float* x, int8_t* out, int64_t n, float scale, float lo,
                                   float hi, int* ok) {
  codes_loop(x, out, n, scale, lo, hi, ok);
}
MAQD_VARIANTS(input_codes_f32, input_codes_loop,
              (const float* x, uint8_t* out, int64_t n, float scale, float lo, float hi, int* ok),
              (x, out, n, scale, lo, hi, ok))
MAQD_VARIANTS(weight_codes_f32, weight_codes_loop,
              (const float* x, int8_t* out, int64_t n, float scale, float lo, float hi, int* ok),
              (x, out, n, scale, lo, hi, ok))

}  // namespace

// Fills `codes` (uint8 or int8, the shape of `values`) and throws naming
// `what` when a value is not m / denominator with lo ≤ m ≤ hi.
void to_codes(const torch::Tensor& values, torch::Tensor& codes, int64_t denominator, int64_t lo,
              int64_t hi, const char* what) {
  const KernelIsa isa = choose_variant("code_conv_codes");
  const float* x = values.data_ptr<float>();
  const float scale = float(denominator), flo = float(lo), fhi = float(hi);
  std::atomic<bool> all_ok{true};
  parallel_over(values.numel(), [&](int64_t begin, int64_t end) {
    int ok = 1;
    if (codes.scalar_type() == torch::kUInt8)
      variant(isa, input_codes_f32_baseline, input_codes_f32_avx2, input_codes_f32_avx512)(
          x + begin, codes.data_ptr<uint8_t>() + begin, end - begin, scale, flo, fhi, &ok);
    else
      variant(isa, weight_codes_f32_baseline, weight_codes_f32_avx2, weight_codes_f32_avx512)(
          x + begin, codes.data_ptr<int8_t>() + begin, end - begin, scale, flo, fhi, &ok);
    if (!ok) all_ok = false;
  });
  check(all_ok.load(), "code_conv", what, " has a value that is not m/", denominator,
        " with integer m in [", lo, ", ", hi, "]; expected the output of a quantizer");
}

}  // namespace kernels

namespace {

using kernels::to_codes;

bool disabled_by_environment() {
  static const bool disabled = [] {
    const char* value = std::getenv("MAQD_CODE_CONV");
    return value != nullptr && std::strcmp(value, "0") == 0;
  }();
  return disabled;
}

#ifdef MAQD_HAVE_DNNL

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One problem's primitive, kept for the life of the process: a network has a
// handful of conv shapes, and building a primitive descriptor costs more
// than a small conv.
struct CodeConvPlan {
  memory::desc user_src, user_weights, user_dst;
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward conv;
  std::string kernel;    // oneDNN's implementation name
  bool usable = false;  // false: oneDNN has only its reference int8 kernel here
};

// The thread count is part of the key: a oneDNN primitive splits its work
// for the threads it was created with (training may change the count,
// train/core_share.h).
using PlanKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           float, int>;

std::mutex plans_mutex;
std::map<PlanKey, CodeConvPlan> plans;

const CodeConvPlan& plan_for(const PlanKey& key) {
  std::lock_guard<std::mutex> lock(plans_mutex);
  auto found = plans.find(key);
  if (found != plans.end()) return found->second;

  const auto [n, c, h, w, oc, k, stride, padding, scale, threads] = key;
  (void)threads;
  const int64_t oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1;
  CodeConvPlan plan;
  plan.user_src = memory::desc({n, c, h, w}, Type::u8, Tag::nchw);
  plan.user_weights = memory::desc({oc, c, k, k}, Type::s8, Tag::oihw);
  plan.user_dst = memory::desc({n, oc, oh, ow}, Type::f32, Tag::nchw);
  const memory::desc any_src({n, c, h, w}, Type::u8, Tag::any);
  const memory::desc any_weights({oc, c, k, k}, Type::s8, Tag::any);
  const memory::desc any_dst({n, oc, oh, ow}, Type::f32, Tag::any);
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any_src,
      any_weights, any_dst, {stride, stride}, {padding, padding}, {padding, padding});
  dnnl::primitive_attr attr;
  attr.set_output_scales(0, {scale});
  plan.pd = dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
  plan.kernel = plan.pd.impl_info_str();
  plan.usable = plan.kernel.rfind("ref", 0) != 0;
  if (plan.usable) plan.conv = dnnl::convolution_forward(plan.pd);
  return plans.emplace(key, std::move(plan)).first->second;
}

// Runs `from` into `to`'s layout when they differ; returns the memory to use.
memory in_layout(dnnl::stream& stream, memory from, const memory::desc& layout,
                 torch::Tensor& storage) {
  if (from.get_desc() == layout) return from;
  storage = torch::empty({int64_t(layout.get_size())}, torch::kUInt8);
  memory to(layout, cpu_engine(), storage.data_ptr());
  dnnl::reorder(from, to).execute(stream, from, to);
  return to;
}

torch::Tensor run_code_conv(const torch::Tensor& input, const torch::Tensor& weight,
                            int64_t input_denominator, int64_t weight_denominator, int64_t stride,
                            int64_t padding) {
  const torch::Tensor x = input.contiguous(), wt = weight.contiguous();
  const float scale = float(1.0 / (double(input_denominator) * double(weight_denominator)));
  const PlanKey key{x.size(0), x.size(1), x.size(2),  x.size(3), wt.size(0),
                    wt.size(2), stride,    padding,   scale,     at::get_num_threads()};
  const CodeConvPlan& plan = plan_for(key);
  if (!plan.usable)
    return torch::conv2d(input, weight, /*bias=*/{}, stride, padding);

  torch::Tensor src_codes = torch::empty(x.sizes(), torch::kUInt8);
  torch::Tensor weight_codes = torch::empty(wt.sizes(), torch::kInt8);
  to_codes(x, src_codes, input_denominator, 0, input_denominator, "input");
  to_codes(wt, weight_codes, weight_denominator, -weight_denominator, weight_denominator,
                   "weight");

  const auto dst_dims = plan.user_dst.dims();
  torch::Tensor out = torch::empty({dst_dims[0], dst_dims[1], dst_dims[2], dst_dims[3]});
  dnnl::stream stream(cpu_engine());
  torch::Tensor src_storage, weight_storage, dst_storage;
  memory src = in_layout(stream, memory(plan.user_src, cpu_engine(), src_codes.data_ptr()),
                               plan.pd.src_desc(), src_storage);
  memory weights =
      in_layout(stream, memory(plan.user_weights, cpu_engine(), weight_codes.data_ptr()),
                plan.pd.weights_desc(), weight_storage);
  memory user_dst(plan.user_dst, cpu_engine(), out.data_ptr());
  memory dst = user_dst;
  if (plan.pd.dst_desc() != plan.user_dst) {
    dst_storage = torch::empty({int64_t(plan.pd.dst_desc().get_size())}, torch::kUInt8);
    dst = memory(plan.pd.dst_desc(), cpu_engine(), dst_storage.data_ptr());
  }
  plan.conv.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  if (dst_storage.defined()) dnnl::reorder(dst, user_dst).execute(stream, dst, user_dst);
  stream.wait();
  return out;
}

#else

torch::Tensor run_code_conv(const torch::Tensor& input, const torch::Tensor& weight, int64_t,
                            int64_t, int64_t stride, int64_t padding) {
  return torch::conv2d(input, weight, /*bias=*/{}, stride, padding);
}

#endif

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class CodeConvFunction : public torch::autograd::Function<CodeConvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, int64_t input_denominator,
                               int64_t weight_denominator, int64_t stride, int64_t padding,
                               torch::ScalarType backward_dtype) {
    ctx->save_for_backward({input, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["backward_dtype"] = static_cast<int64_t>(backward_dtype);
    return run_code_conv(input, weight, input_denominator, weight_denominator, stride, padding);
  }

  // The float convolution's own backward (oneDNN through ATen), on the same
  // float input and weight that torch::conv2d would have saved, in
  // backward_dtype; the gradients return as float32.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const int64_t stride = ctx->saved_data["stride"].toInt();
    const int64_t padding = ctx->saved_data["padding"].toInt();
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["backward_dtype"].toInt());
    auto [grad_input, grad_weight, grad_bias] = at::convolution_backward(
        grads[0].to(dtype), saved[0].to(dtype), saved[1].to(dtype), /*bias_sizes=*/c10::nullopt,
        {stride, stride},
        {padding, padding}, /*dilation=*/{1, 1}, /*transposed=*/false, /*output_padding=*/{0, 0},
        /*groups=*/1, {ctx->needs_input_grad(0), ctx->needs_input_grad(1), false});
    const auto to_input_dtype = [&](const torch::Tensor& g, const torch::Tensor& like) {
      return g.defined() ? g.to(like.scalar_type()) : g;
    };
    return {to_input_dtype(grad_input, saved[0]), to_input_dtype(grad_weight, saved[1]),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool code_conv_available(const torch::Tensor& input, const torch::Tensor& weight,
                         int64_t input_denominator, int64_t weight_denominator) {
#ifdef MAQD_HAVE_DNNL
  // Without VNNI, u8 × s8 products are summed in pairs into int16 (vpmaddubsw).
  const bool fits = input_denominator >= 1 && input_denominator <= 255 &&
                    weight_denominator >= 1 && weight_denominator <= 127 &&
                    2 * input_denominator * weight_denominator <= 32767;
  return fits && !disabled_by_environment() && input.device().is_cpu() &&
         input.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat &&
         input.dim() == 4 && weight.dim() == 4 && weight.size(2) == weight.size(3);
#else
  (void)input, (void)weight, (void)input_denominator, (void)weight_denominator;
  return false;
#endif
}

torch::Tensor code_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                          int64_t input_denominator, int64_t weight_denominator, int64_t stride,
                          int64_t padding, torch::ScalarType backward_dtype) {
  RECORD_FUNCTION("maqd::code_conv", std::vector<c10::IValue>());
  check(code_conv_available(input, weight, input_denominator, weight_denominator), "code_conv",
        "input denominator ", input_denominator, ", weight denominator ", weight_denominator,
        ", input ", input.scalar_type(), " on ", input.device(),
        "; expected float32 CPU tensors, 1 ≤ d ≤ 255, 1 ≤ D ≤ 127, 2·d·D ≤ 32767 and a build with oneDNN");
  check(backward_dtype == torch::kFloat || backward_dtype == torch::kBFloat16, "code_conv",
        "backward dtype is ", backward_dtype, "; expected float32 or bfloat16");
  return CodeConvFunction::apply(input, weight, input_denominator, weight_denominator, stride,
                                 padding, backward_dtype);
}

bool native_bf16_convolutions(std::string* isa_name) {
#ifdef MAQD_HAVE_DNNL
  using dnnl::cpu_isa;
  const cpu_isa isa = dnnl::get_effective_cpu_isa();
  if (isa_name) {
    switch (isa) {
      case cpu_isa::sse41: *isa_name = "sse41"; break;
      case cpu_isa::avx: *isa_name = "avx"; break;
      case cpu_isa::avx2: *isa_name = "avx2"; break;
      case cpu_isa::avx2_vnni: *isa_name = "avx2_vnni"; break;
      case cpu_isa::avx512_core: *isa_name = "avx512_core"; break;
      case cpu_isa::avx512_core_vnni: *isa_name = "avx512_core_vnni"; break;
      case cpu_isa::avx512_core_bf16: *isa_name = "avx512_core_bf16"; break;
      case cpu_isa::avx512_core_amx: *isa_name = "avx512_core_amx"; break;
      default: *isa_name = "isa " + std::to_string(static_cast<int>(isa));
    }
  }
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
#else
  if (isa_name) *isa_name = "none (built without oneDNN)";
  return false;
#endif
}

std::vector<std::string> code_conv_kernels_used() {
  std::vector<std::string> names;
#ifdef MAQD_HAVE_DNNL
  std::lock_guard<std::mutex> lock(plans_mutex);
  for (const auto& [key, plan] : plans) {
    const std::string name =
        plan.usable ? plan.kernel : plan.kernel + " (not used: float conv instead)";
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
#endif
  return names;
}

}  // namespace maqd
