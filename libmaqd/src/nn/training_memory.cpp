#include "maqd/nn/training_memory.h"

#include <algorithm>
#include <map>

#include "maqd/error.h"

namespace maqd {
namespace {

// One step as a list of ops over tensors, forward in order, then backward in
// reverse. A tensor lives while a later op still reads it in forward, while
// an op holds it for backward, or, for a gradient, until the op that
// consumes it has run.
class StepSimulation {
 public:
  // A tensor that lived before the step (the batch, the parameters): neither
  // counted nor given a gradient.
  static constexpr int kOutside = -1;

  int tensor(int64_t bytes, const std::string& layer, bool per_batch) {
    tensors_.push_back({bytes, layer, per_batch});
    return int(tensors_.size()) - 1;
  }
  // An op of `layer` reading `inputs` (kOutside entries allowed) and writing
  // `output`; it holds `saved` (ids among its inputs, its output, or tensors
  // of its own such as statistics) for backward. `parameter_bytes`: the
  // gradient it computes for parameters it reads directly, added into their
  // gradients (a transient of that size).
  // `scratch`: buffers its backward allocates and frees (oneDNN's reorders).
  void op(const std::string& layer, std::vector<int> inputs, int output, std::vector<int> saved,
          int64_t parameter_bytes = 0, int64_t scratch = 0) {
    saved.erase(std::remove(saved.begin(), saved.end(), kOutside), saved.end());
    ops_.push_back({layer, std::move(inputs), output, std::move(saved), parameter_bytes, scratch});
  }

  struct Result {
    int64_t peak = 0, kept = 0;
    std::string peak_at;
    std::map<std::string, std::pair<int64_t, int64_t>> kept_by_layer;  // bytes, batch bytes
  };

  Result run() {
    std::vector<int> reads(tensors_.size(), 0), holders(tensors_.size(), 0);
    std::vector<bool> alive(tensors_.size(), false), has_grad(tensors_.size(), false);
    for (const Op& o : ops_)
      for (int t : o.inputs)
        if (t != kOutside) ++reads[size_t(t)];
    int64_t live = 0;
    Result r;
    auto note = [&](const std::string& where) {
      if (live > r.peak) {
        r.peak = live;
        r.peak_at = where;
      }
    };
    auto alloc = [&](int t) {
      if (t == kOutside || alive[size_t(t)]) return;
      alive[size_t(t)] = true;
      live += tensors_[size_t(t)].bytes;
    };
    auto release_if_unused = [&](int t) {
      if (t == kOutside || !alive[size_t(t)] || reads[size_t(t)] > 0 || holders[size_t(t)] > 0) return;
      alive[size_t(t)] = false;
      live -= tensors_[size_t(t)].bytes;
    };
    for (const Op& o : ops_) {
      alloc(o.output);
      for (int t : o.saved) {
        alloc(t);
        ++holders[size_t(t)];
      }
      note("forward");
      for (int t : o.inputs)
        if (t != kOutside) --reads[size_t(t)];
      for (int t : o.inputs) release_if_unused(t);
    }
    r.kept = live;
    for (size_t t = 0; t < tensors_.size(); ++t)
      if (alive[t]) {
        auto& [bytes, batch_bytes] = r.kept_by_layer[tensors_[t].layer];
        bytes += tensors_[t].bytes;
        if (tensors_[t].per_batch) batch_bytes += tensors_[t].bytes;
      }
    // Backward: the last op's output gets its gradient from the loss.
    if (!ops_.empty() && ops_.back().output != kOutside) {
      live += tensors_[size_t(ops_.back().output)].bytes;
      has_grad[size_t(ops_.back().output)] = true;
    }
    for (auto o = ops_.rbegin(); o != ops_.rend(); ++o) {
      int64_t transient = o->parameter_bytes + o->scratch;
      for (int t : o->inputs) {
        if (t == kOutside) continue;
        // A second reader's gradient is computed, then added into the first's.
        if (has_grad[size_t(t)]) transient += tensors_[size_t(t)].bytes;
        else {
          has_grad[size_t(t)] = true;
          live += tensors_[size_t(t)].bytes;
        }
      }
      live += transient;
      note(o->layer);
      live -= transient;
      for (int t : o->saved) {
        --holders[size_t(t)];
        release_if_unused(t);
      }
      if (o->output != kOutside && has_grad[size_t(o->output)]) {
        has_grad[size_t(o->output)] = false;
        live -= tensors_[size_t(o->output)].bytes;
      }
    }
    return r;
  }

 private:
  struct Tensor {
    int64_t bytes;
    std::string layer;
    bool per_batch;
  };
  struct Op {
    std::string layer;
    std::vector<int> inputs;
    int output;
    std::vector<int> saved;
    int64_t parameter_bytes;
    int64_t scratch;
  };
  std::vector<Tensor> tensors_;
  std::vector<Op> ops_;
};

class StepBuilder {
 public:
  StepBuilder(int64_t batch, int64_t element_bytes) : batch_(batch), element_(element_bytes) {}

  StepSimulation& simulation() { return sim_; }

  // A feature map [batch, c, h, w] made by `layer`.
  int map(const std::string& layer, int64_t c, int64_t h, int64_t w) {
    return sim_.tensor(batch_ * c * h * w * element_, layer, true);
  }
  int small(const std::string& layer, int64_t elements) {
    return sim_.tensor(elements * element_, layer, false);
  }

  // Conv (WS → Q_w → conv) on x [c_in, h, w]: returns the conv's output.
  int conv(const std::string& layer, const Conv& conv, int x, int64_t h, int64_t w) {
    const ConvOptions& o = conv->options();
    const int64_t weight_bytes = conv->weight.numel() * element_;
    int weight = StepSimulation::kOutside;  // the parameter itself
    int64_t parameter_grad = weight_bytes;
    if (o.weight_standardization) {
      const int standardized = sim_.tensor(weight_bytes, layer, false);
      sim_.op(layer, {weight}, standardized, {standardized, small(layer, o.out_channels)},
              parameter_grad);
      weight = standardized;
      parameter_grad = 0;
    }
    if (o.quant) {
      const int quantized = sim_.tensor(weight_bytes, layer, false);
      std::vector<int> saved;
      if (weight != StepSimulation::kOutside) saved.push_back(weight);
      sim_.op(layer, {weight}, quantized, saved, parameter_grad);
      weight = quantized;
      parameter_grad = 0;
    }
    if (o.bias) parameter_grad += o.out_channels * element_;
    const int64_t out_h = (h + 2 * o.padding - o.kernel_size) / o.stride + 1;
    const int64_t out_w = (w + 2 * o.padding - o.kernel_size) / o.stride + 1;
    const int out = map(layer, o.out_channels, out_h, out_w);
    std::vector<int> saved{x};
    if (weight != StepSimulation::kOutside) saved.push_back(weight);
    // oneDNN's backward reorders its output gradient and its input into
    // blocked layouts (ONEDNN_VERBOSE shows one reorder of each per call).
    const int64_t scratch = batch_ * (o.out_channels * out_h * out_w + o.in_channels * h * w) * element_;
    sim_.op(layer, {x, weight}, out, saved, parameter_grad, scratch);
    return out;
  }

  // Norm → activation on x [c, h, w] (NormImpl::forward_activated in training).
  int norm_activation(const std::string& layer, const Norm& norm,
                      const std::optional<ActivationQuantOptions>& quant, int x, int64_t c,
                      int64_t h, int64_t w) {
    const int out = map(layer, c, h, w);
    if (norm->options().kind != NormKind::kLayer) {
      // Fused: saves its input, and mean, 1/σ, scale and shift per channel.
      sim_.op(layer, {x}, out, {x, small(layer, 4 * c)}, 2 * c * element_);
      return out;
    }
    // LayerNorm saves its input and a mean and 1/σ per image; then Q_a saves
    // LN's output, or ReLU its own.
    const int normalized = map(layer, c, h, w);
    sim_.op(layer, {x}, normalized, {x, small(layer, 2 * batch_)}, 2 * c * h * w * element_);
    if (quant) sim_.op(layer, {normalized}, out, {normalized});
    else sim_.op(layer, {normalized}, out, {out});
    return out;
  }

  // The unfused norm that ends a residual path: saves its input.
  int norm(const std::string& layer, const Norm& norm, int x, int64_t c, int64_t h, int64_t w) {
    const int out = map(layer, c, h, w);
    const NormKind kind = norm->options().kind;
    const int64_t stats = kind == NormKind::kLayer ? 2 * batch_ : 2 * c;
    const int64_t affine = kind == NormKind::kLayer ? 2 * c * h * w : 2 * c;
    sim_.op(layer, {x}, out, {x, small(layer, stats)}, affine * element_);
    return out;
  }

  int path(const std::string& layer, const PreActPath& path, int x, int64_t h, int64_t w) {
    const auto& o = path->options();
    int64_t c = o.in_channels;
    for (size_t i = 0; i < path->convs().size(); ++i) {
      x = norm_activation(layer, path->norms()[i], path->activations()[i]->quant(), x, c, h, w);
      x = conv(layer, path->convs()[i], x, h, w);
      c = o.out_channels;
    }
    return norm(layer, path->norms().back(), x, c, h, w);
  }

 private:
  int64_t batch_, element_;
  StepSimulation sim_;
};

}  // namespace

TrainingMemoryCount count_training_memory(const Network& network, int64_t batch) {
  check(batch >= 1, "training memory", "batch is ", batch, "; expected an integer ≥ 1");
  const auto parameters = network->parameters();
  const int64_t element = parameters.empty() ? 4 : int64_t(parameters.front().element_size());
  StepBuilder step(batch, element);
  StepSimulation& sim = step.simulation();
  std::vector<std::string> order;
  int x = StepSimulation::kOutside;  // the batch of images
  for (const LayerInfo& l : network->layers()) {
    order.push_back(l.name);
    switch (l.kind) {
      case ArchLayerKind::kConv:
        x = step.conv(l.name, l.conv, x, l.in_height, l.in_width);
        if (!l.is_output)
          x = step.norm_activation(l.name, l.norm, l.activation->quant(), x, l.out_channels,
                                   l.out_height, l.out_width);
        break;
      case ArchLayerKind::kAvgPool:
      case ArchLayerKind::kGlobalAvgPool: {
        const int out = step.map(l.name, l.out_channels, l.out_height, l.out_width);
        sim.op(l.name, {x}, out, {});
        x = out;
        break;
      }
      case ArchLayerKind::kResidualBlock: {
        if (l.pools) {
          const int pooled = step.map(l.name, l.in_channels, l.out_height, l.out_width);
          sim.op(l.name, {x}, pooled, {});
          x = pooled;
        }
        const int s = step.path(l.name, l.block->branch(), x, l.out_height, l.out_width);
        const int f = step.path(l.name, l.block->shortcut(), x, l.out_height, l.out_width);
        const int sum = step.map(l.name, l.out_channels, l.out_height, l.out_width);
        sim.op(l.name, {s, f}, sum, {});
        x = sum;
        break;
      }
    }
  }
  // The loss keeps the logits it was given.
  order.push_back("loss");
  sim.op("loss", {x}, step.small("loss", 1), {x});

  const StepSimulation::Result r = sim.run();
  TrainingMemoryCount count;
  count.batch = batch;
  for (const std::string& name : order) {
    const auto it = r.kept_by_layer.find(name);
    LayerTrainingMemory layer{name, 0, 0};
    if (it != r.kept_by_layer.end()) std::tie(layer.saved_bytes, layer.saved_batch_bytes) = it->second;
    count.layers.push_back(layer);
  }
  count.saved_bytes = r.kept;
  count.peak_bytes = r.peak;
  count.peak_at = r.peak_at;
  for (const auto& p : parameters) count.parameter_bytes += p.numel() * p.element_size();
  return count;
}

}  // namespace maqd
