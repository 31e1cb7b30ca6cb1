// Export: folds a trained MaQD network into the runtime's integer graph
// (maqd_rt::Model; docs/method.md §9 has the maths, docs/format.md the file).
//
// Every normalization + quantized activation becomes M_a − 1 integer
// thresholds per channel on the conv's integer accumulator; the input
// normalization becomes a per-channel table on the raw 8-bit pixel; average
// pools become integer sums whose 1/4 moves into the next thresholds; a
// residual sum becomes two accumulators with per-channel fixed-point
// multipliers. Only the float output layer stays float.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "maqd/data/transforms.h"
#include "maqd/nn/network.h"
#include "maqd_rt/model.hpp"

namespace maqd {

// What the runtime holds: 8-bit weight codes and at most 256 activation
// levels (the paper's range, M_w ≤ 255 and M_a ≤ 8, is within). Training
// keeps to it too, so every run exports.
inline constexpr int64_t kMaxWeightCode = 127;
inline constexpr int64_t kMaxActivationLevels = 256;

// The largest |weight code| the exporter writes for these options:
// (M_w − 1)/2 with delta_w floor, M_w with delta_w half.
int64_t max_weight_code(const WeightQuantOptions& q);
// Bits per weight code in the model file: 2 (|code| ≤ 1), 4 (≤ 7), else 8.
// `maqd info` reports the same figure from this one rule.
int32_t packed_weight_bits(const WeightQuantOptions& q);

// `network` must quantize weights and activations (--mw and --ma) and use
// LBN or BN; anything that does not fold throws maqd::Error naming the layer
// and the reason. `stats` is the training set's input normalization;
// `metadata` is copied into the model's text metadata (e.g. dataset).
// `class_names` (one per class; the checkpoint's) are recorded as the
// text key class_names; without them, those of a known dataset.
maqd_rt::Model export_model(Network& network, const data::ChannelStats& stats,
                            const std::map<std::string, std::string>& metadata = {},
                            const std::vector<std::string>& class_names = {});

// How far the runtime agrees with LibTorch's evaluation of the network it
// was exported from: predictions, and the codes of every activation layer
// (the runtime's u8 activation tensors in op order are the network's
// activations in forward order).
struct LayerAgreement {
  std::string name;  // the runtime op, e.g. "norm3", "block2.branch.norm1"
  int64_t matching = 0, total = 0;
};
struct Agreement {
  int64_t images = 0, matching_predictions = 0;
  std::vector<LayerAgreement> layers;
};

struct CompareOptions {
  // The precision LibTorch evaluates in: kFloat is how the network trains;
  // kDouble removes float32's rounding of long conv sums, which flips codes
  // whose exact value lies within ~1e-6 of a threshold (the exporter's
  // thresholds are exact, found in double).
  torch::Dtype reference = torch::kFloat;
  // The codes come from an engine that runs one op at a time (keep_tensors);
  // an engine as users run it, on `threads` threads and `batch` images per
  // call, must give its logits bit for bit, or the comparison throws.
  int threads = 1;
  int64_t batch = 1;
};

// images: u8 [N, C, H, W] as the data set stores them. The runtime uses the
// ISA detect_isa() picks (MAQD_ISA caps it); isa_used receives its name.
// LibTorch runs on its own thread setting (torch::set_num_threads).
Agreement compare_with_libtorch(Network& network, const data::ChannelStats& stats,
                                const maqd_rt::Model& model, const torch::Tensor& images,
                                std::string* isa_used = nullptr, const CompareOptions& options = {});

}  // namespace maqd
