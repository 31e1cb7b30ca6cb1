// Everything that defines a training run. The CLI binds its flags (and the
// TOML file of --config) to these fields; a run saves the resolved config in
// every checkpoint and as config.json in its folder, so eval, export and
// --resume rebuild exactly the same network and data pipeline.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "maqd/nn/network.h"
#include "maqd/ops/loss.h"

namespace maqd::train {

struct TrainConfig {
  // Data
  std::string dataset = "fashion-mnist";  // fashion-mnist | mnist | cifar10 | cifar100 | cifar100-coarse | folder
  std::string data_dir;                   // empty: the data set's default location
  int64_t train_limit = 0;                // > 0: use the first N training samples
  int64_t test_limit = 0;                 // > 0: use the first N test samples
  // folder sets without a test/ folder: this fraction of every class's
  // images (evenly spaced by file name) is the test set, the rest the
  // training set; 0: DIR/train and DIR/test (maqd/data/image_folder.h)
  double test_split = 0;
  // folder sets: "HxW" scales every image to that size as it is read,
  // "HxW:crop" keeps the aspect ratio and crops (data::parse_resize,
  // data::resize_image); empty: the images are used as they are
  std::string resize;
  bool augment = true;                    // random crop (pad 4) + horizontal flip
  int64_t workers = 1;                    // background batch-preparation threads

  // Network
  std::string arch = "vgg";
  double width = 1.0;
  std::string norm = "lbn";  // lbn | bn | ln
  // centered: LBN's per-channel shifts start so that every channel's
  // pre-activation is centred on the first batch (NormImpl::
  // center_shift_on_next_batch); zero: b_c = 0 (before this option existed).
  std::string lbn_shift_init = "centered";
  bool weight_standardization = true;
  int64_t mw = 0;                  // M_w; 0: float weights
  int64_t ma = 0;                  // M_a; 0: ReLU
  std::string delta_w = "floor";   // floor: (M_w−1)/2 | half: M_w/2
  std::string surrogate = "sigmoid";  // sigmoid | literal | ste
  double alpha = 0.25;

  // Optimization (SPEC §7 / docs/method.md §7)
  int64_t epochs = 5;
  int64_t batch_size = 100;
  double lr = 0.01;
  int64_t lr_scale_batch = 0;  // > 0: lr × batch_size / lr_scale_batch
  double momentum = 0.9;
  double weight_decay = 5e-4;  // on conv weights only
  double gamma = 0.05;         // Eq. 9
  std::string mse_target = "logits";  // logits | probabilities

  // Execution
  uint64_t seed = 0;
  int64_t threads = 0;        // 0: LibTorch's default
  std::string device = "cpu";  // cpu | cuda
  // float32 | bf16: the convolutions of the training step compute in
  // bfloat16 (forward where not on integer codes, and backward), with
  // float32 master weights, normalizations and quantizers; evaluation stays
  // float32. Needs a CPU whose oneDNN has native bf16 (AVX-512 BF16).
  std::string precision = "float32";
  int64_t trace_steps = 0;     // > 0: per-layer diagnostics of the first N steps (train/step_trace.h)
  std::string out_dir = "runs/latest";
};

// Throws maqd::Error naming the field, its value and what is allowed.
void validate(const TrainConfig& config);
// validate()'s rule for test_split, for the test sets of eval and run too:
// 0, or a fraction between 0 and 1 of a folder set's images.
bool valid_test_split(const std::string& dataset, double test_split);

// The learning rate actually used at step 0 (after --lr-scale-batch).
double base_learning_rate(const TrainConfig& config);

// The network the config describes, for images of the given shape.
NetworkOptions network_options(const TrainConfig& config, int64_t in_channels,
                               int64_t image_height, int64_t image_width, int64_t num_classes);
LossOptions loss_options(const TrainConfig& config);

nlohmann::json to_json(const TrainConfig& config);
// Unknown keys are an error naming the key; missing keys keep their defaults.
TrainConfig config_from_json(const nlohmann::json& json, const std::string& source);

}  // namespace maqd::train
