#include "maqd/train/config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "maqd/data/image_file.h"
#include "maqd/error.h"
#include "maqd/export/export.h"
#include "maqd/nn/arch.h"
#include "maqd_rt/engine.hpp"

namespace maqd::train {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    TrainConfig, dataset, data_dir, train_limit, test_limit, test_split, resize, augment, workers, arch, width, norm, lbn_shift_init,
    weight_standardization, mw, ma, delta_w, surrogate, alpha, epochs, batch_size, lr,
    lr_scale_batch, momentum, weight_decay, gamma, mse_target, seed, threads, device, precision, trace_steps, out_dir)

void validate(const TrainConfig& c) {
  const char* where = "train config";
  check(c.epochs >= 1, where, "field epochs is ", c.epochs, "; expected an integer ≥ 1");
  check(c.batch_size >= 1, where, "field batch_size is ", c.batch_size,
        "; expected an integer ≥ 1");
  check(std::isfinite(c.lr) && c.lr > 0, where, "field lr is ", c.lr, "; expected a number > 0");
  check(c.lr_scale_batch >= 0, where, "field lr_scale_batch is ", c.lr_scale_batch,
        "; expected 0 (off) or the batch size the lr is given for");
  check(std::isfinite(c.momentum) && c.momentum >= 0 && c.momentum < 1, where,
        "field momentum is ", c.momentum, "; expected a number in [0, 1)");
  check(std::isfinite(c.weight_decay) && c.weight_decay >= 0, where, "field weight_decay is ",
        c.weight_decay, "; expected a number ≥ 0");
  check(c.train_limit >= 0 && c.test_limit >= 0, where, "fields train_limit/test_limit are ",
        c.train_limit, "/", c.test_limit, "; expected 0 (all) or a positive count");
  check(valid_test_split(c.dataset, c.test_split), where,
        "field test_split is ", c.test_split, " with data set ", c.dataset,
        "; expected 0, or a fraction between 0 and 1 with the folder data set");
  if (!c.resize.empty()) {
    check(c.dataset == "folder", where, "field resize is '", c.resize, "' with data set ", c.dataset,
          "; expected it empty, or the folder data set");
    data::parse_resize(c.resize, std::string(where) + ": field resize");
  }
  check(c.trace_steps >= 0, where, "field trace_steps is ", c.trace_steps,
        "; expected 0 (off) or a number of steps");
  check(c.workers >= 1, where, "field workers is ", c.workers, "; expected an integer ≥ 1");
  check(c.threads >= 0 && c.threads <= maqd_rt::kMaxEngineThreads, where, "field threads is ",
        c.threads, "; expected 0 (default) or 1 to ", maqd_rt::kMaxEngineThreads);
  // Checked here, before any data set is loaded, rather than when the
  // network is built.
  check(std::isfinite(c.width) && c.width > 0, where, "field width is ", c.width,
        "; expected a number > 0");
  // Capped at what the runtime holds: beyond it a run would not export,
  // and the surrogate gradient sums over every level, so a huge count
  // makes one step last for ever.
  const WeightDelta delta = parse_weight_delta(c.delta_w);
  check(c.mw == 0 || (c.mw >= 3 && c.mw % 2 == 1 && max_weight_code({c.mw, delta}) <= kMaxWeightCode), where,
        "field mw (M_w) is ", c.mw, "; expected 0 (float weights) or an odd integer from 3 to ",
        delta == WeightDelta::kFloor ? 2 * kMaxWeightCode + 1 : kMaxWeightCode,
        " (weight codes of 8 bits with delta_w ", c.delta_w, ")");
  check(c.ma == 0 || (c.ma >= 2 && c.ma <= kMaxActivationLevels), where, "field ma (M_a) is ", c.ma,
        "; expected 0 (ReLU) or an integer from 2 to ", kMaxActivationLevels, " (activation codes of 8 bits)");
  check(c.device == "cpu" || c.device == "cuda", where, "field device is '", c.device,
        "'; expected cpu or cuda");
  check(c.precision == "float32" || c.precision == "bf16", where, "field precision is '",
        c.precision, "'; expected float32 or bf16");
  check(c.mse_target == "logits" || c.mse_target == "probabilities", where,
        "field mse_target is '", c.mse_target, "'; expected logits or probabilities");
  check(!c.out_dir.empty(), where, "field out_dir is empty; expected a folder path");
  parse_norm_kind(c.norm);
  check(c.lbn_shift_init == "centered" || c.lbn_shift_init == "zero", where,
        "field lbn_shift_init is '", c.lbn_shift_init, "'; expected centered or zero");
  parse_surrogate(c.surrogate);
  check(c.ma == 0 || (std::isfinite(c.alpha) && c.alpha > 0), where, "field alpha is ", c.alpha,
        "; expected a positive number (the surrogate's sharpness α)");
  parse_arch(c.arch);
  validate(LossOptions{c.gamma});
}

double base_learning_rate(const TrainConfig& c) {
  return c.lr_scale_batch > 0 ? c.lr * double(c.batch_size) / double(c.lr_scale_batch) : c.lr;
}

NetworkOptions network_options(const TrainConfig& c, int64_t in_channels, int64_t image_height,
                               int64_t image_width, int64_t num_classes) {
  NetworkOptions o;
  o.arch = c.arch;
  o.width = c.width;
  o.in_channels = in_channels;
  o.num_classes = num_classes;
  o.image_height = image_height;
  o.image_width = image_width;
  o.norm = parse_norm_kind(c.norm);
  o.weight_standardization = c.weight_standardization;
  if (c.mw > 0) o.weight_quant = WeightQuantOptions{c.mw, parse_weight_delta(c.delta_w)};
  if (c.ma > 0) o.act_quant = ActivationQuantOptions{c.ma, parse_surrogate(c.surrogate), c.alpha};
  return o;
}

LossOptions loss_options(const TrainConfig& c) {
  return {c.gamma, c.mse_target == "logits" ? MseTarget::kLogits : MseTarget::kProbabilities};
}

nlohmann::json to_json(const TrainConfig& config) {
  nlohmann::json j = config;
  return j;
}

bool valid_test_split(const std::string& dataset, double test_split) {
  return test_split == 0 || (dataset == "folder" && test_split > 0 && test_split < 1);
}

TrainConfig config_from_json(const nlohmann::json& json, const std::string& source) {
  check(json.is_object(), source.c_str(), "the configuration is not a JSON object");
  nlohmann::json merged = to_json(TrainConfig{});
  for (const auto& [key, value] : json.items()) {
    check(merged.contains(key), source.c_str(), "unknown field '", key, "'");
    const auto expected = merged[key].type();
    const bool numbers = merged[key].is_number() && value.is_number();
    check(value.type() == expected || numbers, source.c_str(), "field ", key, " is ",
          value.dump(), "; expected a ", merged[key].type_name());
    merged[key] = value;
  }
  // Saved before the field existed: those runs started their LBN shifts at 0.
  if (!json.contains("lbn_shift_init")) merged["lbn_shift_init"] = "zero";
  TrainConfig config = merged.get<TrainConfig>();
  validate(config);
  return config;
}

}  // namespace maqd::train
