#include "maqd_rt/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "kernels/kernels.h"
#include "plan.h"
#include "maqd_rt/error.hpp"
#include "thread_pool.h"

namespace maqd_rt {
namespace {

constexpr size_t kAlign = 64;

// A conv whose kernel reads more prepared weights per image
// (kernels::weight_bytes_read) than half a core's L2 (512 KiB on a Zen 3,
// 1 MiB on a Zen 5) streams them from L3 once per worker when the workers
// split its rows; split by channels, each streams its share once. (Where
// the weights stay in L2, rows split better: measured on VGG 1/4's 14x14
// layers, 147 KiB; its 7x7 binary layers, 576 KiB, took ~10 % fewer
// thread-seconds split by channels on a Zen 3.)
constexpr size_t kChannelSplitWeightBytes = size_t(256) << 10;

size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Op i is a conv whose output the next op, a requant, reads: the pair that
// run_image_split may run in one parallel loop, and so the pair whose
// conv input the planner keeps alive through the requant.
bool requant_follows(const Model& model, size_t i) {
  return model.ops[i].kind == OpKind::kConv && i + 1 < model.ops.size() &&
         model.ops[i + 1].kind == OpKind::kRequant && model.ops[i + 1].inputs[0] == model.ops[i].output;
}

}  // namespace

struct Engine::Impl {
  Model model;
  EngineOptions options;
  kernels::Isa isa = kernels::Isa::kScalar;
  std::vector<kernels::PreparedConv> convs;  // per op (empty shape unless kConv)
  // Per op: a one-input requant's thresholds on its input (levels 0 where
  // it runs the general int64 kernel).
  std::vector<kernels::InputThresholds> input_thresholds;
  // Per op: a conv whose kernel also runs the requant after it
  // (kernels::conv_requant), so the requant op itself does nothing. Not
  // with keep_tensors, which shows the conv's int32 sums.
  std::vector<bool> fused;
  std::vector<Placement> buffers;            // per tensor (0 and the logits unused)
  size_t slot_bytes = 0, scratch_bytes = 0, arena_size = 0;
  size_t head_offset = 0;  // in each slot: the output layer's float features
  std::unique_ptr<uint8_t, FreeDeleter> arena;
  std::optional<ThreadPool> pool;  // started last, once the model is known to fit
  const uint8_t* last_slot0 = nullptr;
  // With options.profile: seconds per op, one row per worker (no sharing).
  std::vector<std::vector<double>> op_seconds;

  Impl(Model m, EngineOptions o) : model(std::move(m)), options(o) {
    // The values each tensor can hold (validate), so a conv can pick its
    // path: kernels take inputs in [0, input_max]; a tensor that can be
    // negative gets the i16 bound, which no kernel narrows.
    const std::vector<ValueRange> ranges = validate(model);
    isa = kernels::detect_isa();
    const size_t n_tensors = model.tensors.size();
    const size_t n_ops = model.ops.size();

    convs.resize(n_ops);
    input_thresholds.resize(n_ops);
    for (size_t i = 0; i < n_ops; ++i) {
      const Op& op = model.ops[i];
      if (op.kind == OpKind::kRequant && op.inputs.size() == 1) {
        kernels::prepare_input_thresholds(op.multipliers.data(), op.thresholds.data(), op.levels,
                                          model.tensors[op.output].channels, &input_thresholds[i]);
      }
      if (op.kind != OpKind::kConv) continue;
      const TensorDesc& in = model.tensors[op.inputs[0]];
      const TensorDesc& out = model.tensors[op.output];
      kernels::ConvShape shape{in.height, in.width, in.channels, out.channels, op.kernel};
      const ValueRange& input = ranges[size_t(op.inputs[0])];
      const int32_t input_max = input.low < 0 ? 32767 : int32_t(std::min<int64_t>(input.high, 32767));
      convs[i] = kernels::prepare_conv(shape, op.weights.data(), input_max, isa);
      scratch_bytes = std::max(scratch_bytes, aligned(kernels::conv_scratch_bytes(convs[i])));
    }
    fused.assign(n_ops, false);
    for (size_t i = 0; i + 1 < n_ops; ++i) {
      fused[i] = !options.keep_tensors && requant_follows(model, i) &&
                 kernels::fuses_requant(convs[i], model.tensors[model.ops[i].inputs[0]].dtype != DType::kU8,
                                        input_thresholds[i + 1]);
    }

    // Lifetimes: from the producing op to the last op that reads the tensor.
    buffers.resize(n_tensors);
    std::vector<int32_t> order;
    for (size_t i = 0; i < n_ops; ++i) {
      const Op& op = model.ops[i];
      Placement& p = buffers[op.output];
      p.first = p.last = int32_t(i);
      // A conv whose output a requant reads next may run in one parallel
      // loop with it (run_image_split), or as one kernel (fused): a worker's
      // requant rows are written while another worker's conv still reads
      // the conv's input rows around its own, so the conv's input lives
      // through the requant.
      const bool one_loop = requant_follows(model, i);
      for (int32_t t : op.inputs) buffers[t].last = std::max(buffers[t].last, int32_t(i) + (one_loop ? 1 : 0));
    }
    for (size_t i = 0; i + 1 < n_ops; ++i) {  // the input and the logits live outside
      const int32_t t = model.ops[i].output;
      buffers[t].bytes = aligned(size_t(model.tensors[t].elements()) * dtype_size(model.tensors[t].dtype));
      if (options.keep_tensors) buffers[t].last = int32_t(n_ops);
      order.push_back(t);
    }
    head_offset = size_t(plan_placements(buffers.data(), order.size(), [&](size_t k) { return order[k]; }, kAlign));
    const Op& head = model.ops.back();
    slot_bytes = head_offset + aligned(size_t(model.tensors[head.inputs[0]].channels) * sizeof(float));
    // Tensors are capped at 2^31 elements (validate), so none of these sums
    // can overflow: the limit is checked before anything that large exists.
    const size_t slots = size_t(options.threads);
    arena_size = slots * slot_bytes + slots * scratch_bytes;
    if (arena_size > options.max_arena_bytes) refuse_arena(order);
    arena.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlign, std::max(arena_size, kAlign))));
    if (!arena) {
      throw Error("maqd-rt: cannot allocate the arena of " + std::to_string(arena_size) + " bytes",
                  Status::kOutOfMemory);
    }
    if (options.profile) op_seconds.assign(slots, std::vector<double>(n_ops, 0.0));
    pool.emplace(options.threads);
  }

  [[noreturn]] void refuse_arena(const std::vector<int32_t>& planned) const {
    int32_t largest = planned.empty() ? 0 : planned.front();
    for (int32_t t : planned)
      if (buffers[t].bytes > buffers[largest].bytes) largest = t;
    std::string what = "working memory for " + std::to_string(options.threads) + " thread" +
                       (options.threads == 1 ? "" : "s") + ": " + std::to_string(slot_bytes) +
                       " bytes of tensors and " + std::to_string(scratch_bytes) + " of conv scratch each";
    if (!planned.empty()) {
      const TensorDesc& d = model.tensors[size_t(largest)];
      size_t producer = 0;
      while (model.ops[producer].output != largest) ++producer;
      what += "; the largest tensor is " + std::to_string(largest) + " (output of op " + std::to_string(producer) +
              " '" + printable(model.ops[producer].name) + "', " + dtype_name(d.dtype) + " " +
              std::to_string(d.height) + "x" + std::to_string(d.width) + "x" + std::to_string(d.channels) + ", " +
              std::to_string(buffers[size_t(largest)].bytes) + " bytes)";
    }
    throw Error("maqd-rt: the model needs " + std::to_string(arena_size) + " bytes of " + what +
                    "; expected at most " + std::to_string(options.max_arena_bytes) +
                    " (EngineOptions::max_arena_bytes)",
                Status::kLimitExceeded);
  }

  // Runs step() and, when profiling, charges its time to op i of `worker`.
  template <typename Step>
  void timed(size_t i, int worker, Step&& step) {
    if (!options.profile) return step();
    const auto start = std::chrono::steady_clock::now();
    step();
    op_seconds[size_t(worker)][i] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  uint8_t* slot(int worker) { return arena.get() + size_t(worker) * slot_bytes; }
  void* scratch(int worker) {
    return arena.get() + size_t(pool->size()) * slot_bytes + size_t(worker) * scratch_bytes;
  }

  template <typename T>
  T* at(uint8_t* base, int32_t tensor) {
    return reinterpret_cast<T*>(base + buffers[tensor].offset);
  }

  // Runs op i of one image. A conv covers output rows [row_begin, row_end)
  // and channels [oc_begin, oc_end), a requant rows [row_begin, row_end)
  // (the caller runs the other ranges elsewhere); other ops run whole.
  void run_op(size_t i, uint8_t* base, const uint8_t* image, float* logits, int worker,
              int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end) {
    const Op& op = model.ops[i];
    const TensorDesc& in = model.tensors[op.inputs[0]];
    const TensorDesc& out = model.tensors[op.output];
    auto input_u8 = [&](int32_t t) { return t == 0 ? image : at<uint8_t>(base, t); };
    switch (op.kind) {
      case OpKind::kInputLut:
        if (out.dtype == DType::kU8)
          kernels::input_lut_u8(input_u8(op.inputs[0]), op.lut.data(), in.elements(), in.channels,
                                at<uint8_t>(base, op.output));
        else
          kernels::input_lut_i16(input_u8(op.inputs[0]), op.lut.data(), in.elements(), in.channels,
                                 at<int16_t>(base, op.output));
        break;
      case OpKind::kConv:
        if (fused[i]) {
          const Op& requant = model.ops[i + 1];
          const void* input = in.dtype == DType::kU8 ? static_cast<const void*>(input_u8(op.inputs[0]))
                                                     : at<int16_t>(base, op.inputs[0]);
          kernels::conv_requant(convs[i], input, in.dtype != DType::kU8, input_thresholds[i + 1],
                                at<uint8_t>(base, requant.output), row_begin, row_end, oc_begin, oc_end,
                                scratch(worker));
        } else if (in.dtype == DType::kU8)
          kernels::conv_u8(convs[i], input_u8(op.inputs[0]), at<int32_t>(base, op.output), row_begin,
                           row_end, oc_begin, oc_end, scratch(worker));
        else
          kernels::conv_i16(convs[i], at<int16_t>(base, op.inputs[0]), at<int32_t>(base, op.output),
                            row_begin, row_end, oc_begin, oc_end, scratch(worker));
        break;
      case OpKind::kPoolSum:
        if (in.dtype == DType::kU8)
          kernels::pool_sum_u8(input_u8(op.inputs[0]), at<int16_t>(base, op.output), in.height,
                               in.width, in.channels, isa);
        else if (in.dtype == DType::kI16)
          kernels::pool_sum_i16(at<int16_t>(base, op.inputs[0]), at<int32_t>(base, op.output),
                                in.height, in.width, in.channels, isa);
        else
          kernels::pool_sum_i32(at<int32_t>(base, op.inputs[0]), at<int32_t>(base, op.output),
                                in.height, in.width, in.channels, isa);
        break;
      case OpKind::kRequant: {
        const int64_t first = int64_t(row_begin) * in.width * in.channels;
        if (input_thresholds[i].levels > 0) {
          kernels::requant_input(input_thresholds[i], at<int32_t>(base, op.inputs[0]) + first,
                                 int64_t(row_end - row_begin) * in.width,
                                 at<uint8_t>(base, op.output) + first, isa);
          break;
        }
        const int32_t* inputs[2] = {
            at<int32_t>(base, op.inputs[0]) + first,
            op.inputs.size() > 1 ? at<int32_t>(base, op.inputs[1]) + first : nullptr};
        kernels::requant(inputs, int32_t(op.inputs.size()), op.multipliers.data(),
                         op.thresholds.data(), op.levels, int64_t(row_end - row_begin) * in.width,
                         in.channels, at<uint8_t>(base, op.output) + first, isa);
        break;
      }
      case OpKind::kGapLinear: gap_linear(op, base, image, logits); break;
    }
  }

  // The float output layer (kernels::gap_linear, the core's definition).
  void gap_linear(const Op& op, uint8_t* base, const uint8_t* image, float* logits) {
    const TensorDesc& in = model.tensors[op.inputs[0]];
    kernels::GapInput inputs[2];
    for (size_t j = 0; j < op.inputs.size(); ++j) {
      const int32_t t = op.inputs[j];
      inputs[j] = {model.tensors[t].dtype, t == 0 ? static_cast<const void*>(image) : at<uint8_t>(base, t)};
    }
    kernels::gap_linear(inputs, int32_t(op.inputs.size()), int64_t(in.height) * in.width, in.channels,
                        op.scale.data(), op.offset.data(), op.weight.data(), op.bias.data(),
                        int32_t(op.bias.size()), reinterpret_cast<float*>(base + head_offset), logits);
  }

  void run_image(uint8_t* base, const uint8_t* image, float* logits, int worker) {
    for (size_t i = 0; i < model.ops.size(); ++i) {
      const TensorDesc& out = model.tensors[model.ops[i].output];
      timed(i, worker, [&] { run_op(i, base, image, logits, worker, 0, out.height, 0, out.channels); });
      if (fused[i]) ++i;  // (its requant ran in the conv)
    }
  }

  // One image, its convs and requants split over the workers. A conv splits
  // by output rows where every worker gets at least two (each then packs
  // only the input rows its window reads, and the requant after it runs
  // on the same rows in the same parallel loop, one wait fewer) and its
  // weights are small (kChannelSplitWeightBytes), else by output channels
  // in multiples of 16 (the SIMD kernels' width) where there are enough,
  // else by rows. A requant on its own splits by rows.
  void run_image_split(const uint8_t* image, float* logits) {
    uint8_t* base = slot(0);
    const int workers = pool->size();
    for (size_t i = 0; i < model.ops.size(); ++i) {
      const Op& op = model.ops[i];
      const TensorDesc& out = model.tensors[op.output];
      if (op.kind != OpKind::kConv && op.kind != OpKind::kRequant) {
        timed(i, 0, [&] { run_op(i, base, image, logits, 0, 0, out.height, 0, out.channels); });
        continue;
      }
      const int32_t groups = (out.channels + 15) / 16;
      const bool by_channels = op.kind == OpKind::kConv && groups >= workers &&
                               (out.height < 2 * workers ||
                                kernels::weight_bytes_read(convs[i], model.tensors[op.inputs[0]].dtype != DType::kU8) >
                                    kChannelSplitWeightBytes);
      const bool with_requant = !by_channels && !fused[i] && requant_follows(model, i);
      pool->run([&](int worker) {
        auto share = [&](int32_t n) {
          return std::make_pair(int32_t(int64_t(n) * worker / workers),
                                int32_t(int64_t(n) * (worker + 1) / workers));
        };
        if (by_channels) {
          const auto [g0, g1] = share(groups);
          const int32_t begin = std::min(out.channels, g0 * 16), end = std::min(out.channels, g1 * 16);
          if (begin < end) {
            timed(i, worker, [&] { run_op(i, base, image, logits, worker, 0, out.height, begin, end); });
          }
        } else {
          // (Not a structured binding: C++17 lambdas cannot capture one.)
          const std::pair<int32_t, int32_t> rows = share(out.height);
          const int32_t r0 = rows.first, r1 = rows.second;
          if (r0 >= r1) return;
          timed(i, worker, [&] { run_op(i, base, image, logits, worker, r0, r1, 0, out.channels); });
          if (with_requant) {
            timed(i + 1, worker, [&] { run_op(i + 1, base, image, logits, worker, r0, r1, 0, out.channels); });
          }
        }
      });
      if (with_requant || fused[i]) ++i;
    }
  }
};

namespace {
EngineOptions checked(EngineOptions options) {
  if (options.threads < 1 || options.threads > kMaxEngineThreads)
    throw Error("maqd-rt: threads is " + std::to_string(options.threads) + "; expected 1 to " +
                    std::to_string(kMaxEngineThreads),
                Status::kBadArgument);
  return options;
}
}  // namespace

Engine::Engine(Model model, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), checked(options))) {}
Engine::~Engine() = default;

void Engine::run(const uint8_t* images, int64_t batch, float* logits) {
  Impl& m = *impl_;
  if (batch < 0) {
    throw Error("maqd-rt: run: batch is " + std::to_string(batch) + "; expected ≥ 0", Status::kBadArgument);
  }
  const size_t image_bytes = size_t(m.model.input().elements());
  const size_t classes = size_t(m.model.num_classes());
  const int workers = m.pool->size();
  if (batch < workers) {
    for (int64_t b = 0; b < batch; ++b) m.run_image_split(images + b * image_bytes, logits + b * classes);
    return;
  }
  m.pool->run([&](int worker) {
    const int64_t begin = batch * worker / workers, end = batch * (worker + 1) / workers;
    for (int64_t b = begin; b < end; ++b)
      m.run_image(m.slot(worker), images + b * image_bytes, logits + b * classes, worker);
  });
}

const void* Engine::tensor_data(int32_t tensor) const {
  const Impl& m = *impl_;
  if (!m.options.keep_tensors)
    throw Error("maqd-rt: tensor_data needs an Engine built with keep_tensors");
  if (tensor <= 0 || size_t(tensor) >= m.model.tensors.size() || tensor == m.model.ops.back().output)
    throw Error("maqd-rt: tensor_data: tensor " + std::to_string(tensor) +
                " is not an intermediate tensor of this model");
  return m.arena.get() + m.buffers[tensor].offset;
}

std::vector<double> Engine::op_seconds() const {
  const Impl& m = *impl_;
  if (!m.options.profile) throw Error("maqd-rt: op_seconds needs an Engine built with profile");
  std::vector<double> total(m.model.ops.size(), 0.0);
  for (const auto& row : m.op_seconds)
    for (size_t i = 0; i < total.size(); ++i) total[i] += row[i];
  return total;
}

std::string Engine::op_kernel(size_t op) const {
  const Impl& m = *impl_;
  if (op >= m.model.ops.size())
    throw Error("maqd-rt: op_kernel: op " + std::to_string(op) + " of a model with " +
                std::to_string(m.model.ops.size()) + " ops");
  if (op > 0 && m.fused[op - 1]) return "in the conv before";
  if (m.model.ops[op].kind != OpKind::kConv) return "";
  const bool i16 = m.model.tensors[m.model.ops[op].inputs[0]].dtype != DType::kU8;
  const kernels::PreparedConv& conv = m.convs[op];
  return std::string((i16 ? conv.i16_kernel : conv.u8_kernel)->name) + (m.fused[op] ? ", requant" : "");
}

const Model& Engine::model() const { return impl_->model; }
size_t Engine::arena_bytes() const { return impl_->arena_size; }
size_t Engine::prepared_weight_bytes() const {
  size_t bytes = 0;
  for (const kernels::PreparedConv& c : impl_->convs)
    bytes += c.codes.size() + c.packed.size() + c.channel_info.size() * sizeof(int32_t);
  return bytes;
}
const char* Engine::isa() const { return kernels::isa_name(impl_->isa); }
int Engine::threads() const { return impl_->pool->size(); }

}  // namespace maqd_rt
