// The training loop of docs/method.md §7: momentum SGD with weight decay on
// conv weights, cosine annealing per step, the loss of Eq. 9, evaluation and
// an atomic checkpoint after every epoch, one JSON line of metrics per epoch
// (metrics.jsonl in the run folder), and a clean stop on request (Ctrl-C)
// that saves where it stands so --resume continues to the same result.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/optim/sgd.h>

#include "maqd/train/config.h"
#include "maqd/train/distributed.h"
#include "maqd/train/metrics.h"

namespace maqd::train {

struct StepProgress {
  int64_t epoch = 0, epochs = 0;   // 1-based epoch
  int64_t batch = 0, batches = 0;  // 1-based batch within the epoch
  double loss = 0;                 // running mean over the epoch so far
  double images_per_second = 0;
  double eta_seconds = 0;          // for the whole run
};

struct EpochReport {
  nlohmann::json metrics;  // the line written to metrics.jsonl
  EvalResult test;
};

struct TrainCallbacks {
  std::function<void(const StepProgress&)> on_step;   // after every optimizer step
  std::function<void(const EpochReport&)> on_epoch;   // after each epoch's evaluation
  std::function<void(const std::string&)> on_message;  // one-line notes (data, resume)
};

struct TrainResult {
  bool interrupted = false;  // stopped by the stop flag; checkpoint saved
  int64_t epochs_done = 0;
  nlohmann::json summary;    // final metrics (also written to summary.json)
};

// Momentum SGD at the config's base rate; weight decay applies to conv weights
// only (docs/method.md §7), not to normalization parameters nor to biases.
torch::optim::SGD make_optimizer(Network& network, const TrainConfig& config);

// Throws maqd::Error unless config.precision can run here: bf16 needs the
// CPU device and oneDNN's native bf16 convolutions (AVX-512 BF16), since
// emulated bf16 is slower than float32 and defeats the option. The caller
// then sets network->set_conv_compute_dtype(torch::kBFloat16).
void check_precision_runs_here(const TrainConfig& config);

// One optimizer step on one batch (forward, the loss of Eq. 9, backward,
// update); returns the batch's mean loss. The training loop and the training
// benchmark both run exactly this.
// In a data-parallel run, `parallel` averages the gradients over the ranks
// during backward, and this rank's loss is weighted by `loss_weight` (its
// share of the global batch times the number of ranks), so that the average
// is the gradient of the global batch's mean loss.
double train_step(Network& network, torch::optim::SGD& optimizer, const torch::Tensor& images,
                  const torch::Tensor& labels, const LossOptions& loss_options,
                  DataParallel* parallel = nullptr, double loss_weight = 1.0);

// Paths inside a run folder.
std::string checkpoint_path(const std::string& out_dir);  // checkpoint.pt
std::string metrics_path(const std::string& out_dir);     // metrics.jsonl

// The options (to_json keys) a resumed run takes from the new request:
// where its files are and how fast it runs (an empty data_dir keeps the
// saved one). Every other option is the checkpoint's.
const std::vector<std::string>& options_a_resume_may_change();

// Runs (or with `resume`, continues from out_dir's checkpoint) the training
// the config describes. `stop` is polled after every step.
// With distributed.world_size > 1 this process is one rank of a
// data-parallel run (train/distributed.h): every rank passes the same
// config; each trains on its shard of every global batch of
// config.batch_size; rank 0 alone writes the run folder and calls the
// callbacks, whose figures are the whole run's; a stop requested on any
// rank stops all at the same step. Resuming works at any world size.
TrainResult run_training(const TrainConfig& config, bool resume, const TrainCallbacks& callbacks,
                         const std::atomic<bool>* stop = nullptr,
                         const DistributedOptions& distributed = {});

}  // namespace maqd::train
