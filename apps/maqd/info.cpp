// maqd info CHECKPOINT: the network layer by layer (shapes, parameters,
// weight levels and bits) and its size as trained (float32) and as it would
// be packed for the integer runtime.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "commands.h"
#include "maqd/export/export.h"
#include "maqd/nn/training_memory.h"
#include "maqd/text.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/trainer.h"
#include "maqd_rt/describe.hpp"
#include "maqd_rt/format.hpp"
#include "options.h"

namespace maqd::cli {
namespace {

int64_t distinct_levels(const WeightQuantOptions& q) {
  // Floor mode: M_w codes; half mode: the grid 1/M_w keeps M_w + 2 values.
  return q.delta == WeightDelta::kFloor ? q.levels : q.levels + 2;
}

double mib(int64_t bytes) { return double(bytes) / (1 << 20); }

// --training-memory BATCH: the counted memory of one training step
// (nn/training_memory.h) layer by layer, then for each normalization.
void print_training_memory(const Network& network, const train::Checkpoint& checkpoint,
                           int64_t batch) {
  const TrainingMemoryCount count = count_training_memory(network, batch);
  std::printf("\ntraining memory at batch %lld (counted; train/tensor_memory.h measures it):\n",
              (long long)batch);
  std::printf("%-26s %14s %14s\n", "layer", "saved MiB", "of it ∝ batch");
  for (const LayerTrainingMemory& l : count.layers)
    if (l.saved_bytes)
      std::printf("%-26s %14.3f %14.3f\n", l.name.c_str(), mib(l.saved_bytes), mib(l.saved_batch_bytes));
  std::printf("saved for backward %.3f MiB; step peak %.3f MiB (at %s); parameters %.3f MiB, "
              "their gradients and momentum as much again each\n",
              mib(count.saved_bytes), mib(count.peak_bytes), count.peak_at.c_str(),
              mib(count.parameter_bytes));
  std::printf("\nthe same network with each normalization, step peak MiB at batch %lld:\n",
              (long long)batch);
  const auto& shape = checkpoint.shape;
  for (const char* norm : {"bn", "lbn", "ln"})
    for (bool ws : {false, true}) {
      train::TrainConfig config = checkpoint.config;
      config.norm = norm;
      config.weight_standardization = ws;
      const Network other(train::network_options(config, shape.channels, shape.height, shape.width,
                                                 shape.num_classes));
      const TrainingMemoryCount c = count_training_memory(other, batch);
      std::printf("  %-8s %10.3f  (saved %.3f)\n", (std::string(norm) + (ws ? "+WS" : "")).c_str(),
                  mib(c.peak_bytes), mib(c.saved_bytes));
    }
}

}  // namespace

void register_info(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "info", "Describe a checkpoint or a model file: layers, parameters, sizes, arena");
  auto path = std::make_shared<std::string>();
  cmd->add_option("checkpoint", *path, "checkpoint.pt of a run (or the run folder), or a .maqd model")
      ->required();
  auto memory_batch = std::make_shared<int64_t>(0);
  cmd->add_option("--training-memory", *memory_batch,
                  "Also count one training step's tensor memory at this batch size, layer by layer "
                  "and for each normalization (at most a million images: the byte counts stay exact)")
      ->check(whole_number(1, 1000000));
  cmd->callback([path, memory_batch] {
    // By content, so a model under another name is one; a damaged one
    // named .maqd gets the model reader's error rather than the
    // checkpoint reader's.
    if (maqd_rt::starts_like_a_model(*path) || std::filesystem::path(*path).extension() == ".maqd") {
      check(*memory_batch == 0, path->c_str(),
            "--training-memory counts a network as trained; expected a checkpoint or run folder, "
            "not a .maqd model");
      std::fputs(maqd_rt::describe_model_file(*path).c_str(), stdout);
      return;
    }
    std::string file = *path;
    if (std::filesystem::is_directory(file)) file = train::checkpoint_path(file);
    train::Checkpoint checkpoint;
    Network network = train::load_network(file, &checkpoint);
    const auto& c = checkpoint.config;
    std::printf("%s: %s, width %g, %s%s, M_w %s, M_a %s, trained %lld/%lld epochs on %s\n",
                file.c_str(), c.arch.c_str(), c.width, c.norm.c_str(),
                c.weight_standardization ? "+WS" : "", c.mw ? std::to_string(c.mw).c_str() : "float",
                c.ma ? std::to_string(c.ma).c_str() : "ReLU",
                (long long)checkpoint.state.epochs_done, (long long)c.epochs, c.dataset.c_str());
    const std::string names = join(checkpoint.shape.class_names, ", ");  // where the checkpoint records them
    std::printf("input %lld×%lld×%lld, %lld classes%s\n\n", (long long)checkpoint.shape.channels,
                (long long)checkpoint.shape.height, (long long)checkpoint.shape.width,
                (long long)checkpoint.shape.num_classes, names.empty() ? "" : (" (" + names + ")").c_str());
    std::printf("%-26s %-8s %-16s %-14s %10s %7s %5s\n", "layer", "token", "out shape", "weight",
                "params", "levels", "bits");
    int64_t params_total = 0;
    double packed_bytes = 0;
    for (const LayerInfo& l : network->layers()) {
      char shape[32];
      std::snprintf(shape, sizeof shape, "%lld×%lld×%lld", (long long)l.out_channels,
                    (long long)l.out_height, (long long)l.out_width);
      std::string weight = "-", levels = "-", bits = "-";
      int64_t params = 0;
      if (l.conv) {
        const auto& o = l.conv->options();
        weight = std::to_string(o.out_channels) + "×" + std::to_string(o.in_channels) + "×" +
                 std::to_string(o.kernel_size) + "×" + std::to_string(o.kernel_size);
        const int64_t weights = l.conv->weight.numel();
        const int64_t channel_params = o.bias ? o.out_channels : 2 * o.out_channels;
        params = weights + channel_params;  // + bias, or the norm's affine pair
        if (o.quant) {
          const int64_t n = distinct_levels(*o.quant);
          levels = std::to_string(n);
          bits = std::to_string(packed_weight_bits(*o.quant));
        } else {
          levels = "float";
          bits = "32";
        }
      }
      if (l.block) {
        for (const auto& p : l.block->parameters()) params += p.numel();
        weight = "residual block";
      }
      params_total += params;
      std::printf("%-26s %-8s %s %s %10lld %7s %5s\n", l.name.c_str(), l.token.c_str(),
                  maqd_rt::pad_columns(shape, 16).c_str(), maqd_rt::pad_columns(weight, 14).c_str(),
                  (long long)params, levels.c_str(), bits.c_str());
    }
    // Packed: quantized codes at the exporter's bits, float convs at 32 bits, and two
    // float32 per channel for the folded normalization (or the bias).
    std::vector<NamedConv> convs = network->hidden_convs();
    convs.push_back({"output", network->output_conv()});
    for (const NamedConv& named : convs) {
      const auto& o = named.conv->options();
      const double weights = double(named.conv->weight.numel());
      packed_bytes += o.quant ? weights * packed_weight_bits(*o.quant) / 8.0 : weights * 4;
      packed_bytes += double(o.out_channels) * (o.bias ? 4 : 8);
    }
    int64_t float_bytes = 0;
    for (const auto& p : network->parameters()) float_bytes += p.numel() * 4;
    std::printf("\nparameters %lld; as trained (float32) %.1f KiB", (long long)params_total,
                float_bytes / 1024.0);
    if (packed_bytes > 0)
      std::printf("; packed hidden-conv weights + float32 per-channel terms %.1f KiB (%.1f× smaller)",
                  packed_bytes / 1024.0, float_bytes / packed_bytes);
    std::printf("\n");
    if (*memory_batch > 0) print_training_memory(network, checkpoint, *memory_batch);
  });
}

}  // namespace maqd::cli
