// LibTorch's evaluation against the runtime's, image by image and layer by
// layer (issue 5's agreement criterion; used by tests and `maqd run --compare`).
#include <algorithm>
#include <cstring>

#include <torch/torch.h>

#include "maqd/error.h"
#include "maqd/export/export.h"
#include "maqd_rt/engine.hpp"

namespace maqd {

Agreement compare_with_libtorch(Network& network, const data::ChannelStats& stats,
                                const maqd_rt::Model& model, const torch::Tensor& images,
                                std::string* isa_used, const CompareOptions& options) {
  const torch::Dtype reference = options.reference;
  check(reference == torch::kFloat || reference == torch::kDouble, "compare",
        "the reference precision must be float32 or float64");
  check(options.threads >= 1 && options.threads <= maqd_rt::kMaxEngineThreads && options.batch >= 1,
        "compare", "threads is ", options.threads, " and batch ", options.batch, "; expected 1 to ",
        maqd_rt::kMaxEngineThreads, " threads and a batch of at least 1");
  check(images.dim() == 4 && images.scalar_type() == torch::kUInt8, "compare",
        "images must be u8 [N, C, H, W]");
  const maqd_rt::TensorDesc& in = model.input();
  check(images.size(1) == in.channels && images.size(2) == in.height && images.size(3) == in.width,
        "compare", "images are ", images.sizes(), "; the model expects ", in.channels, "×",
        in.height, "×", in.width);
  const int64_t levels = model.integers.count("ma") ? model.integers.at("ma") : 0;
  check(levels >= 2, "compare", "the model's metadata has no M_a ('ma')");

  Agreement result;
  std::vector<int32_t> code_tensors;
  for (const maqd_rt::Op& op : model.ops)
    if (model.tensors[op.output].dtype == maqd_rt::DType::kU8 && op.name.rfind("input", 0) != 0) {
      code_tensors.push_back(op.output);
      result.layers.push_back({op.name, 0, 0});
    }
  maqd_rt::EngineOptions one_op_at_a_time;
  one_op_at_a_time.keep_tensors = true;
  maqd_rt::Engine engine(model, one_op_at_a_time);
  if (isa_used) *isa_used = engine.isa();
  // keep_tensors runs each op on its own, one image at a time; the engine
  // users run may fuse a conv with its requant (Engine::op_kernel) and
  // split a batch over threads. Its logits must be the same bits, so the
  // codes checked here are the ones users get.
  const int64_t n = images.size(0), image_bytes = in.elements();
  const int classes = model.num_classes();
  const torch::Tensor nhwc = images.permute({0, 2, 3, 1}).contiguous();
  std::vector<float> deployed_logits(static_cast<size_t>(n * classes));
  {
    maqd_rt::EngineOptions deployed_options;
    deployed_options.threads = options.threads;
    maqd_rt::Engine deployed(model, deployed_options);
    for (int64_t b = 0; b < n; b += options.batch)
      deployed.run(nhwc.data_ptr<uint8_t>() + b * image_bytes, std::min(options.batch, n - b),
                   deployed_logits.data() + b * classes);
  }

  network->eval();
  // The network goes back to float32, without the hook, however this ends.
  std::vector<ConvImpl*> convs;
  for (const auto& module : network->modules(/*include_self=*/false))
    if (auto* conv = dynamic_cast<ConvImpl*>(module.get())) convs.push_back(conv);
  struct Restore {
    Network& network;
    std::vector<ConvImpl*>& convs;
    ~Restore() {
      network->clear_activation_hook();
      network->to(torch::kFloat);
      for (ConvImpl* conv : convs) conv->weight_override = torch::Tensor();
    }
  } restore{network, convs};
  if (reference != torch::kFloat) {
    torch::NoGradGuard no_grad;
    for (ConvImpl* conv : convs) conv->weight_override = conv->effective_weight().to(reference);
    network->to(reference);
  }
  std::vector<torch::Tensor> activations;
  network->set_activation_hook([&](size_t, const torch::Tensor& out) {
    // [N, C, H, W] values m/(M_a−1) → codes in the runtime's [N, H, W, C] order.
    activations.push_back(torch::round(out.detach() * double(levels - 1)).permute({0, 2, 3, 1})
                              .contiguous().to(torch::kInt));
  });
  std::vector<float> logits(static_cast<size_t>(classes));
  constexpr int64_t kChunk = 100;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t end = std::min(n, begin + kChunk);
    const torch::Tensor chunk = images.slice(0, begin, end);
    activations.clear();
    torch::Tensor expected_labels;
    {
      torch::NoGradGuard no_grad;
      expected_labels = network->forward(data::normalize(chunk, stats).to(reference)).argmax(1);
    }
    check(activations.size() == code_tensors.size(), "compare", "the network has ",
          activations.size(), " activation layers, the model ", code_tensors.size());
    for (int64_t i = 0; i < end - begin; ++i) {
      engine.run(nhwc.data_ptr<uint8_t>() + (begin + i) * image_bytes, 1, logits.data());
      check(std::equal(logits.begin(), logits.end(), deployed_logits.begin() + (begin + i) * classes,
                       [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }),
            "compare", "image ", begin + i, ": the runtime's logits differ between its engine (threads ",
            options.threads, ", batch ", options.batch,
            ") and keep_tensors (which runs every op on its own); expected the same bits");
      const int64_t label = std::max_element(logits.begin(), logits.end()) - logits.begin();
      result.matching_predictions += label == expected_labels[i].item<int64_t>();
      for (size_t l = 0; l < code_tensors.size(); ++l) {
        const int64_t count = model.tensors[code_tensors[l]].elements();
        check(activations[l][i].numel() == count, "compare", "layer ", result.layers[l].name,
              " has ", activations[l][i].numel(), " elements in LibTorch, ", count, " in the model");
        const auto* codes = static_cast<const uint8_t*>(engine.tensor_data(code_tensors[l]));
        const int32_t* want = activations[l][i].data_ptr<int32_t>();
        int64_t same = 0;
        for (int64_t k = 0; k < count; ++k) same += int32_t(codes[k]) == want[k];
        result.layers[l].matching += same;
        result.layers[l].total += count;
      }
    }
    result.images += end - begin;
  }
  return result;
}

}  // namespace maqd
