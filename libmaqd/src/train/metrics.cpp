#include "maqd/train/metrics.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "maqd/data/loader.h"

namespace maqd::train {

WeightRatios weight_nonzero_ratios(const Network& network) {
  torch::NoGradGuard no_grad;
  WeightRatios result;
  int64_t nonzero_total = 0, total = 0;
  for (const NamedConv& named : network->hidden_convs()) {
    const ConvImpl& conv = *named.conv;
    const auto& quant = conv.options().quant;
    const torch::Tensor values =
        quant ? weight_codes(conv.standardized_weight(), *quant) : conv.effective_weight();
    const int64_t nonzero = values.ne(0).sum().item<int64_t>();
    result.layers.push_back({named.name, double(nonzero) / double(values.numel()), values.numel()});
    nonzero_total += nonzero;
    total += values.numel();
  }
  result.overall = total > 0 ? double(nonzero_total) / double(total) : 0.0;
  return result;
}

EvalResult evaluate(Network& network, const data::Dataset& dataset,
                    const data::ChannelStats& stats, int64_t batch_size, const LossOptions& loss,
                    const torch::Device& device, int64_t workers) {
  // Inference mode: no autograd bookkeeping at all (no version counters,
  // no views tracked), and the normalizations folded into the convs.
  c10::InferenceMode inference;
  const bool was_training = network->is_training();
  network->eval();
  network->fold_normalization();

  const size_t num_activations = network->activations().size();
  std::vector<double> layer_ratio_sum(num_activations, 0.0);
  std::vector<int64_t> layer_count(num_activations, 0);
  torch::Tensor sample_nonzero;  // [B] non-zeros over all activation layers
  int64_t sample_elements = 0;   // outputs per sample over all activation layers
  network->set_activation_hook([&](size_t index, const torch::Tensor& out) {
    const int64_t per_sample = out[0].numel();
    const torch::Tensor nonzero = out.ne(0).reshape({out.size(0), -1}).sum(1).to(torch::kDouble).cpu();
    layer_ratio_sum[index] += (nonzero / double(per_sample)).sum().item<double>();
    layer_count[index] = per_sample;
    sample_nonzero = sample_nonzero.defined() ? sample_nonzero + nonzero : nonzero;
    sample_elements += per_sample;
  });

  EvalResult result;
  double loss_sum = 0, ratio_sum = 0;
  int64_t correct = 0;
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = false;
  options.workers = workers;
  data::BatchLoader loader(dataset, stats, options, /*epoch=*/0);
  try {
    while (auto batch = loader.next()) {
      sample_nonzero = torch::Tensor();
      sample_elements = 0;
      const torch::Tensor images = batch->images.to(device);
      const torch::Tensor labels = batch->labels.to(device);
      const torch::Tensor logits = network->forward(images);
      const int64_t n = labels.size(0);
      loss_sum += maqd_loss(logits, labels, loss).item<double>() * double(n);
      correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
      if (sample_elements > 0) ratio_sum += (sample_nonzero / double(sample_elements)).sum().item<double>();
      result.samples += n;
    }
  } catch (...) {
    network->clear_activation_hook();
    network->unfold_normalization();
    network->train(was_training);
    throw;
  }
  network->clear_activation_hook();
  network->unfold_normalization();
  network->train(was_training);

  const double samples = double(std::max<int64_t>(result.samples, 1));
  result.loss = loss_sum / samples;
  result.accuracy = double(correct) / samples;
  result.activation_ratio = ratio_sum / samples;
  const auto activations = network->activations();
  for (size_t i = 0; i < num_activations; ++i)
    result.activation_layers.push_back(
        {activations[i].name, layer_ratio_sum[i] / samples, layer_count[i]});
  result.weights = weight_nonzero_ratios(network);
  return result;
}

namespace {
nlohmann::json layers_json(const std::vector<LayerRatio>& layers) {
  nlohmann::json out = nlohmann::json::array();
  for (const LayerRatio& l : layers) out.push_back({{"name", l.name}, {"ratio", l.ratio}, {"count", l.count}});
  return out;
}
}  // namespace

nlohmann::json to_json(const EvalResult& r) {
  return {{"samples", r.samples},
          {"loss", r.loss},
          {"accuracy", r.accuracy},
          {"rw", r.weights.overall},
          {"rw_layers", layers_json(r.weights.layers)},
          {"ra", r.activation_ratio},
          {"ra_layers", layers_json(r.activation_layers)}};
}

}  // namespace maqd::train
