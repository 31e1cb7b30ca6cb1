// maqd eval CHECKPOINT: accuracy, test loss, R_w and R_a overall and per
// layer, on the checkpoint's data set or another with the same image shape.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "maqd/data/dataset.h"
#include "maqd/data/image_folder.h"
#include "maqd/error.h"
#include "maqd/text.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/metrics.h"
#include "maqd/train/trainer.h"
#include "maqd_rt/engine.hpp"

namespace maqd::cli {

data::LoadOptions test_set_options(const std::string& kind, const std::vector<std::string>& classes, int64_t limit,
                                   std::optional<double> given_split, double trained_split,
                                   const std::string& dir, const std::string& trained_resize) {
  check(!given_split || train::valid_test_split(kind, *given_split), "--test-split", "is ", given_split.value_or(0),
        " with data set ", kind, "; expected 0, or a fraction between 0 and 1 with the folder data set");
  data::LoadOptions options;
  options.classes = classes;
  options.limit = limit;
  options.resize = trained_resize;
  const bool test_folder = !dir.empty() && std::filesystem::is_directory(std::filesystem::path(dir) / "test");
  options.test_split = given_split ? *given_split : test_folder ? 0 : trained_split;
  auto on_stderr = [](const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); };
  options.progress = data::progress_notes(data::folder_part_name(dir, false, options.test_split), on_stderr);
  return options;
}

void check_same_classes(const std::vector<std::string>& trained, const data::Dataset& test,
                        const std::string& network) {
  const std::vector<std::string> tested = data::label_meanings(test.class_names, "", test.num_classes);
  auto describe = [](const std::vector<std::string>& names) {
    const size_t shown = std::min<size_t>(names.size(), 10);
    const std::vector<std::string> first(names.begin(), names.begin() + long(shown));
    return std::to_string(names.size()) + " classes (" + join(first, ", ") + (shown < names.size() ? ", …" : "") +
           ")";
  };
  check(tested == trained, test.name.c_str(), "labels ", describe(tested), "; the ", network,
        " was trained on ", describe(trained), ": expected a data set of the same classes (--data)");
}

void register_eval(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a checkpoint: accuracy, loss, R_w, R_a");
  struct Args {
    std::string checkpoint, dataset, data_dir;
    int64_t test_limit = 0, batch_size = 100, threads = 0;
    std::optional<double> test_split;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("checkpoint", a->checkpoint, "checkpoint.pt of a run (or the run folder)")->required();
  cmd->add_option("--data", a->dataset, "Data set (default: the checkpoint's)");
  cmd->add_option("--data-dir", a->data_dir,
                  "Folder of the data set's files (default: the checkpoint's; with another --data, that set's)");
  cmd->add_option("--test-limit", a->test_limit,
                  "Use only the first N test images (0: all; default: the checkpoint's --test-limit)");
  cmd->add_option("--test-split", a->test_split,
                  "Folder sets: the test part of --data-dir's class folders, this fraction of each "
                  "(default: 0 where --data-dir has a test/ folder, else the checkpoint's; 0: --data-dir's test/)");
  cmd->add_option("--batch-size", a->batch_size, "Evaluation batch size")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Compute threads (0: LibTorch's default)")
      ->check(CLI::Range(0, maqd_rt::kMaxEngineThreads));
  cmd->add_flag("--json", a->json, "Print the result as one JSON object");
  cmd->callback([a, cmd] {
    check(a->test_limit >= 0, "eval", "--test-limit is ", a->test_limit,
          "; expected 0 (all) or a positive count");
    check(a->batch_size >= 1, "eval", "--batch-size is ", a->batch_size, "; expected ≥ 1");
    std::string path = a->checkpoint;
    if (std::filesystem::is_directory(path)) path = train::checkpoint_path(path);
    if (a->threads > 0) torch::set_num_threads(int(a->threads));
    train::Checkpoint checkpoint;
    Network network = train::load_network(path, &checkpoint);
    const std::string kind = a->dataset.empty() ? checkpoint.config.dataset : a->dataset;
    // The checkpoint's folder unless another is named: another kind reads
    // from its own default folder.
    const std::string dir = !a->data_dir.empty()                  ? a->data_dir
                            : kind == checkpoint.config.dataset ? checkpoint.config.data_dir
                                                                : "";
    const int64_t limit = cmd->count("--test-limit") > 0 ? a->test_limit : checkpoint.config.test_limit;
    const data::Dataset test = data::load_dataset(
        kind, dir, /*train=*/false,
        test_set_options(kind, checkpoint.shape.class_names, limit, a->test_split, checkpoint.config.test_split, dir,
                         checkpoint.config.resize));
    const auto& shape = checkpoint.shape;
    check(test.channels() == shape.channels && test.height() == shape.height && test.width() == shape.width,
          test.name.c_str(), "images are ", test.channels(), "×", test.height(), "×", test.width(),
          "; the checkpoint expects ", shape.channels, "×", shape.height, "×", shape.width);
    check_same_classes(data::label_meanings(shape.class_names, checkpoint.config.dataset, shape.num_classes),
                       test, "checkpoint");
    const train::EvalResult r = train::evaluate(network, test, checkpoint.stats, a->batch_size,
                                                train::loss_options(checkpoint.config),
                                                torch::Device(torch::kCPU));
    if (a->json) {
      std::cout << train::to_json(r).dump() << "\n";
      return;
    }
    std::printf("%s on %s (%lld images)\n", path.c_str(), test.name.c_str(), (long long)r.samples);
    std::printf("accuracy %.2f%%  loss %.4f  R_w %.2f%%  R_a %.2f%%\n", 100 * r.accuracy, r.loss,
                100 * r.weights.overall, 100 * r.activation_ratio);
    std::printf("\n%-28s %10s %12s\n", "weights (R_w)", "non-zero", "weights");
    for (const auto& l : r.weights.layers)
      std::printf("%-28s %9.2f%% %12lld\n", l.name.c_str(), 100 * l.ratio, (long long)l.count);
    std::printf("\n%-28s %10s %12s\n", "activations (R_a)", "non-zero", "per sample");
    for (const auto& l : r.activation_layers)
      std::printf("%-28s %9.2f%% %12lld\n", l.name.c_str(), 100 * l.ratio, (long long)l.count);
  });
}

}  // namespace maqd::cli
