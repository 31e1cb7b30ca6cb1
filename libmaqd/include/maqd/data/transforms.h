// Normalization and augmentation, fused into one uint8 -> float pass per
// batch: per-sample tensor ops cost more than the training step on 2 cores.
// Each output value goes through a 256-entry lookup table per channel, so
// normalizing costs no arithmetic per pixel.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "maqd/data/dataset.h"

namespace maqd::data {

// Per-channel mean and (population) standard deviation, in [0, 1] pixel units.
struct ChannelStats {
  std::vector<double> mean;
  std::vector<double> std;
};

// Exact (histogram) statistics of a training set; throws maqd::Error if a
// channel is constant, since it could not be normalized.
ChannelStats compute_channel_stats(const Dataset& data);

// The random crop and flip of the usual CIFAR recipe: pad by `pad` zero
// (black) pixels, crop back to H x W at a random offset, then mirror.
struct AugmentOptions {
  int64_t pad = 4;    // >= 0
  bool flip = true;   // horizontal flip with probability 1/2
  bool crop = true;   // random offset in 0..2*pad on each axis
};

// One sample's draw: the crop window's top-left corner in padded
// coordinates (pad, pad = no shift), and whether to mirror after cropping.
struct AugmentParams {
  int64_t dy = 0;
  int64_t dx = 0;
  bool flip = false;
};

// Gathers images[indices[i]] from a uint8 [N, C, H, W] tensor into a float
// [B, C, H, W] batch, normalized with `stats`. With `params` (one per index)
// each sample is cropped and flipped as described above; padding pixels are
// raw 0, so they normalize to -mean/std like a black border would.
torch::Tensor gather_normalize(const torch::Tensor& images, const std::vector<int64_t>& indices,
                               const ChannelStats& stats,
                               const std::vector<AugmentParams>* params = nullptr,
                               int64_t pad = 0);

// Whole-tensor normalization (eval, export checks): uint8 -> float.
torch::Tensor normalize(const torch::Tensor& images, const ChannelStats& stats);

}  // namespace maqd::data
