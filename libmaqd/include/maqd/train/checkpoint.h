// Checkpoints: the network, the optimizer's state, the resolved config and
// where in training the run stands. Written atomically (a temporary file in
// the same folder, then rename), so a crash mid-write leaves the previous
// checkpoint intact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/optim/sgd.h>

#include "maqd/data/transforms.h"
#include "maqd/nn/network.h"
#include "maqd/train/config.h"

namespace maqd::train {

struct TrainingState {
  int64_t epochs_done = 0;     // completed epochs
  int64_t batches_done = 0;    // batches of epoch epochs_done + 1 already trained (Ctrl-C)
  int64_t global_step = 0;     // optimizer steps so far (drives the cosine schedule)
  double epoch_loss_sum = 0;   // Σ loss·batch over the batches_done of the epoch
  int64_t epoch_samples = 0;
  double epoch_seconds = 0;    // time spent in the unfinished epoch so far
};

// What the network was built for: the training set's image shape and classes.
struct DataShape {
  int64_t channels = 0, height = 0, width = 0, num_classes = 0;
  std::vector<std::string> class_names;  // where the data set names them (absent before 0.2)
};

struct Checkpoint {
  TrainConfig config;
  TrainingState state;
  DataShape shape;
  data::ChannelStats stats;  // input normalization of the training set
};

// Saves to `path` atomically. `optimizer` may be null (a model-only file).
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, const Network& network,
                     const torch::optim::SGD* optimizer);

// Reads the config, state and stats only (no tensors).
Checkpoint read_checkpoint(const std::string& path);

// Rebuilds the network from the checkpoint's config and loads its weights;
// loads the optimizer state too when `optimizer` is given.
void load_checkpoint_weights(const std::string& path, Network& network,
                             torch::optim::SGD* optimizer);

// The network the checkpoint describes (its dataset's shape comes from the
// checkpoint), with the trained weights, in eval mode.
Network load_network(const std::string& path, Checkpoint* checkpoint = nullptr);

}  // namespace maqd::train
