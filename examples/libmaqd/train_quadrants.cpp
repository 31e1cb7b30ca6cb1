// libmaqd in a program of one's own: a MaQD network with 15-level weights
// and 8-level activations, trained with the library's step on images made
// here (no data set files), then exported to the integer runtime's model
// and run there on the same test images.
//
// The task: 12×12 grey images with a bright 4×4 square on a noisy
// background; the class is the quadrant the square lies in.
//
// Usage: train_quadrants [MODEL.maqd]  (writes the exported model there)
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "maqd/data/dataset.h"
#include "maqd/data/transforms.h"
#include "maqd/export/export.h"
#include "maqd/nn/network.h"
#include "maqd/train/trainer.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"

namespace {

constexpr int64_t kSide = 12, kSquare = 4;
const std::vector<std::string> kQuadrants = {"top-left", "top-right", "bottom-left", "bottom-right"};

maqd::data::Dataset make_images(int64_t count, torch::Generator& generator) {
  maqd::data::Dataset set;
  set.name = "quadrants";
  set.num_classes = int64_t(kQuadrants.size());
  set.class_names = kQuadrants;
  set.labels = torch::randint(set.num_classes, {count}, generator, torch::kLong);
  auto images = torch::randint(0, 96, {count, 1, kSide, kSide}, generator, torch::kLong);
  const auto corners = torch::randint(0, kSide / 2 - kSquare + 1, {count, 2}, generator, torch::kLong);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t label = set.labels[i].item<int64_t>();
    const int64_t top = corners[i][0].item<int64_t>() + (label / 2) * kSide / 2;
    const int64_t left = corners[i][1].item<int64_t>() + (label % 2) * kSide / 2;
    images[i].slice(1, top, top + kSquare).slice(2, left, left + kSquare).fill_(224);
  }
  set.images = images.to(torch::kUInt8).contiguous();
  return set;
}

double percent(int64_t part, int64_t whole) { return 100.0 * double(part) / double(whole); }

}  // namespace

int main(int argc, char** argv) try {
  const std::string model_path = argc > 1 ? argv[1] : "quadrants.maqd";
  torch::manual_seed(0);
  torch::Generator generator = at::detail::createCPUGenerator(1);
  const maqd::data::Dataset train = make_images(4000, generator), test = make_images(500, generator);
  const maqd::data::ChannelStats stats = maqd::data::compute_channel_stats(train);

  // The network: an architecture in the paper's notation, with the MaQD
  // quantizers on every hidden layer (weights standardized, LBN).
  maqd::train::TrainConfig config;
  config.arch = "16C3-AP-32C3-AP-4C1-GAP";
  config.width = 1.0;
  config.mw = 15;
  config.ma = 8;
  config.lr = 0.05;
  maqd::Network network(maqd::train::network_options(config, 1, kSide, kSide, train.num_classes));
  torch::optim::SGD optimizer = maqd::train::make_optimizer(network, config);

  // Three epochs of the library's training step (forward, Eq. 9's loss,
  // backward with the surrogate gradients, update) on shuffled batches.
  network->train();
  for (int epoch = 1; epoch <= 3; ++epoch) {
    const auto order = torch::randperm(train.size(), generator, torch::kLong);
    double loss = 0;
    int64_t batches = 0;
    for (int64_t begin = 0; begin < train.size(); begin += config.batch_size, ++batches) {
      const auto slice = order.slice(0, begin, std::min(begin + config.batch_size, train.size()));
      const std::vector<int64_t> indices(slice.data_ptr<int64_t>(), slice.data_ptr<int64_t>() + slice.numel());
      const auto images = maqd::data::gather_normalize(train.images, indices, stats);
      loss += maqd::train::train_step(network, optimizer, images, train.labels.index_select(0, slice),
                                      maqd::train::loss_options(config));
    }
    std::printf("epoch %d: mean loss %.4f\n", epoch, loss / double(batches));
  }

  // LibTorch's evaluation of the trained network.
  network->eval();
  int64_t libtorch_correct = 0;
  {
    torch::NoGradGuard no_grad;
    const auto predicted = network->forward(maqd::data::normalize(test.images, stats)).argmax(1);
    libtorch_correct = predicted.eq(test.labels).sum().item<int64_t>();
  }

  // Export: norms and quantizers fold into integer thresholds; the model
  // file is what maqd-rt, the C API and the firmware read.
  const maqd_rt::Model model = maqd::export_model(network, stats, {{"dataset", "quadrants"}}, kQuadrants);
  maqd_rt::save_model(model, model_path);

  // The integer runtime on the same images (it reads height × width ×
  // channels bytes per image).
  maqd_rt::Engine engine(maqd_rt::load_model(model_path));
  const auto pixels = test.images.permute({0, 2, 3, 1}).contiguous();
  std::vector<float> logits(size_t(test.size() * test.num_classes));
  engine.run(pixels.data_ptr<uint8_t>(), test.size(), logits.data());
  const auto runtime_predicted =
      torch::from_blob(logits.data(), {test.size(), test.num_classes}, torch::kFloat).argmax(1);
  const int64_t runtime_correct = runtime_predicted.eq(test.labels).sum().item<int64_t>();
  const maqd::Agreement agreement = maqd::compare_with_libtorch(network, stats, model, test.images);

  std::printf("test accuracy: LibTorch %.2f %%, runtime (%s) %.2f %%\n", percent(libtorch_correct, test.size()),
              engine.isa(), percent(runtime_correct, test.size()));
  std::printf("runtime and LibTorch agree on %lld of %lld predictions\n",
              static_cast<long long>(agreement.matching_predictions), static_cast<long long>(agreement.images));
  std::printf("model written to %s\n", model_path.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_quadrants: error: %s\n", e.what());
  return 1;
}
