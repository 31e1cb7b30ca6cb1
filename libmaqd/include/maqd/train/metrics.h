// The paper's metrics (docs/method.md §8): accuracy, test loss, and the
// non-zero ratios R_w (quantized weight codes) and R_a (activation outputs,
// per test sample, averaged over samples), overall and per layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include "maqd/data/dataset.h"
#include "maqd/data/transforms.h"
#include "maqd/nn/network.h"
#include "maqd/ops/loss.h"

namespace maqd::train {

struct LayerRatio {
  std::string name;   // module path, e.g. "conv3", "block2.branch.act1"
  double ratio = 0;   // share of non-zeros in [0, 1]
  int64_t count = 0;  // weights of the layer, or outputs per sample
};

struct WeightRatios {
  double overall = 0;  // over all hidden convs (quantized codes; float weights ≠ 0)
  std::vector<LayerRatio> layers;
};

struct EvalResult {
  int64_t samples = 0;
  double loss = 0;      // Eq. 9, mean over samples
  double accuracy = 0;  // top-1, in [0, 1]
  WeightRatios weights;
  double activation_ratio = 0;  // R_a over all activation layers
  std::vector<LayerRatio> activation_layers;
};

// R_w of the network's hidden convs.
WeightRatios weight_nonzero_ratios(const Network& network);

// Evaluates in eval mode (running statistics), restoring the previous mode.
EvalResult evaluate(Network& network, const data::Dataset& dataset,
                    const data::ChannelStats& stats, int64_t batch_size,
                    const LossOptions& loss, const torch::Device& device, int64_t workers = 1);

nlohmann::json to_json(const EvalResult& result);

}  // namespace maqd::train
