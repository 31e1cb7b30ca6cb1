#include "options.h"

#include <algorithm>
#include <cstdint>

#include "maqd/error.h"
#include "maqd_rt/engine.hpp"

namespace maqd::cli {

CLI::Validator whole_number(uint64_t low, uint64_t high) {
  return CLI::Validator(
      [low, high](std::string& text) -> std::string {
        uint64_t value = 0;
        bool fits = !text.empty() && text.size() <= 20;
        for (const char digit : text) {
          fits = fits && digit >= '0' && digit <= '9' && value <= (UINT64_MAX - uint64_t(digit - '0')) / 10;
          if (fits) value = value * 10 + uint64_t(digit - '0');
        }
        if (fits && value >= low && value <= high) return "";
        return "is '" + text + "'; expected a whole number from " + std::to_string(low) + " to " +
               std::to_string(high);
      },
      "N");
}

std::string expected_value(const CLI::Option& option) {
  const std::string type = option.get_type_name();  // "INT", "UINT:N", "FLOAT", ...
  if (type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0) return "a whole number";
  if (type.rfind("FLOAT", 0) == 0) return "a number";
  return "a value of type " + type + " (see --help)";
}

void add_train_options(CLI::App& cmd, train::TrainConfig& c) {
  const std::string data = "Data", net = "Network", opt = "Optimization", exec = "Execution";
  cmd.add_option("--data", c.dataset, "Data set: fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse, or folder: your own images (PNG, JPEG, PGM/PPM) in --data-dir's train/CLASS/ and test/CLASS/")
      ->capture_default_str()->group(data);
  cmd.add_option("--data-dir", c.data_dir, "Folder of the data set's files (default: Fashion-MNIST at Debian's path)")->group(data);
  cmd.add_option("--train-limit", c.train_limit, "Use only the first N training images (0: all)")->capture_default_str()->group(data);
  cmd.add_option("--test-limit", c.test_limit, "Use only the first N test images (0: all)")->capture_default_str()->group(data);
  cmd.add_option("--test-split", c.test_split, "Folder sets without test/: hold out this fraction of each class's images (evenly spaced by name) as the test set; the classes are --data-dir's folders")->capture_default_str()->group(data);
  cmd.add_option("--resize", c.resize, "Folder sets: scale every image to HEIGHTxWIDTH as it is read (e.g. 32x32; bilinear with antialiasing), so images of any sizes make one set; HEIGHTxWIDTH:crop keeps the aspect ratio, scaling the largest centred window of that shape; export records it, and maqd eval and run scale their images alike")->group(data);
  cmd.add_option("--augment", c.augment, "Random crop (4-pixel padding) and horizontal flip")->capture_default_str()->group(data);
  cmd.add_option("--workers", c.workers, "Background threads preparing batches")->capture_default_str()->group(data);

  cmd.add_option("--arch", c.arch, "vgg, preact-resnet, cnn9, or the paper's notation, e.g. \"(64C3)x2-AP-10C1-GAP\"")
      ->capture_default_str()->group(net);
  cmd.add_option("--width", c.width, "Channel multiplier of every hidden layer")->capture_default_str()->group(net);
  cmd.add_option("--norm", c.norm, "Normalization: lbn, bn, ln")->capture_default_str()->group(net);
  cmd.add_option("--lbn-shift-init", c.lbn_shift_init,
                 "LBN's per-channel shifts at the start: centered (each channel's pre-activation "
                 "centred on the first batch) or zero")
      ->check(CLI::IsMember({"centered", "zero"}))
      ->capture_default_str()
      ->group(net);
  cmd.add_option("--ws", c.weight_standardization, "Weight standardization on hidden convs")->capture_default_str()->group(net);
  cmd.add_option("--mw", c.mw, "M_w, weight levels (odd, 3 to 255; to 127 with --delta-w half); 0: float weights")->capture_default_str()->group(net);
  cmd.add_option("--ma", c.ma, "M_a, activation levels (2 to 256); 0: ReLU")->capture_default_str()->group(net);
  cmd.add_option("--delta-w", c.delta_w, "Delta_w: floor ((M_w-1)/2) or half (M_w/2)")->capture_default_str()->group(net);
  cmd.add_option("--surrogate", c.surrogate, "Activation gradient: sigmoid, literal (Eq. 11 as printed), ste")->capture_default_str()->group(net);
  cmd.add_option("--alpha", c.alpha, "Sigmoid surrogate's alpha")->capture_default_str()->group(net);

  cmd.add_option("--epochs", c.epochs, "Epochs")->capture_default_str()->group(opt);
  cmd.add_option("--batch-size", c.batch_size, "Mini-batch size")->capture_default_str()->group(opt);
  cmd.add_option("--lr", c.lr, "Learning rate (cosine-annealed to 0 over the run)")->capture_default_str()->group(opt);
  cmd.add_option("--lr-scale-batch", c.lr_scale_batch, "Scale lr by batch-size/N (the paper's rule uses N=128); 0: off")
      ->capture_default_str()->group(opt);
  cmd.add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str()->group(opt);
  cmd.add_option("--weight-decay", c.weight_decay, "Weight decay on conv weights")->capture_default_str()->group(opt);
  cmd.add_option("--gamma", c.gamma, "Eq. 9's weight of the MSE term")->capture_default_str()->group(opt);
  cmd.add_option("--mse-target", c.mse_target, "MSE on logits or probabilities")->capture_default_str()->group(opt);

  cmd.add_option("--seed", c.seed, "Random seed (initialization, shuffling, augmentation)")
      ->check(whole_number(0, UINT64_MAX))
      ->capture_default_str()
      ->group(exec);
  cmd.add_option("--threads", c.threads, "Compute threads (0: LibTorch's default)")
      ->check(CLI::Range(0, maqd_rt::kMaxEngineThreads))
      ->capture_default_str()
      ->group(exec);
  cmd.add_option("--device", c.device, "cpu or cuda")->capture_default_str()->group(exec);
  cmd.add_option("--precision", c.precision,
                 "float32, or bf16: the convolutions of each training step in bfloat16 with float32 "
                 "master weights (CPUs with AVX-512 BF16)")
      ->capture_default_str()
      ->group(exec);
  cmd.add_option("--trace-steps", c.trace_steps,
                 "Write per-layer gradient norms, R_w and R_a of the first N steps to trace.jsonl "
                 "(why does a run sit at chance?)")
      ->check(whole_number(0, INT64_MAX))
      ->capture_default_str()
      ->group(exec);
  cmd.add_option("--out", c.out_dir, "Run folder: config.json, metrics.jsonl, checkpoint.pt, summary.json")
      ->capture_default_str()->group(exec);
  // --resume compares each given option with the checkpoint's field of the
  // same key: an option without one would go unchecked.
  const nlohmann::json fields = train::to_json(train::TrainConfig{});
  for (const CLI::Option* option : cmd.get_options())
    if (option->get_group() == data || option->get_group() == net || option->get_group() == opt ||
        option->get_group() == exec)
      check(fields.contains(train_config_key(option->get_name())), "maqd train options",
            option->get_name(), " maps to no TrainConfig field ('", train_config_key(option->get_name()),
            "'); expected train_config_key to name its to_json key");
}

std::string train_config_key(const std::string& flag) {
  if (flag == "--data") return "dataset";
  if (flag == "--ws") return "weight_standardization";
  if (flag == "--out") return "out_dir";
  std::string key = flag.rfind("--", 0) == 0 ? flag.substr(2) : flag;
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

}  // namespace maqd::cli
