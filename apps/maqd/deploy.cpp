// maqd export / run / bench: from a checkpoint to the integer runtime.
//   export CHECKPOINT -o MODEL.maqd   fold and pack (libmaqd/export)
//   run MODEL.maqd                    accuracy and images/s on a data set, or
//                                     the class of given images (PGM, PPM, PNG, JPEG)
//   bench MODEL.maqd --checkpoint CK  runtime vs onnxruntime (float, int8) and
//                                     LibTorch float, alternating rounds
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "maqd/data/dataset.h"
#include "maqd/data/image_file.h"
#include "maqd/data/transforms.h"
#include "maqd/error.h"
#include "maqd/export/export.h"
#include "maqd/export/onnx.h"
#include "maqd/files.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/trainer.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "onnxruntime.h"
#include "options.h"

namespace maqd::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string checkpoint_file(const std::string& path) {
  return std::filesystem::is_directory(path) ? train::checkpoint_path(path) : path;
}

// [N, C, H, W] u8 → [N, H, W, C] u8, the runtime's layout.
torch::Tensor channels_last(const torch::Tensor& images) {
  return images.permute({0, 2, 3, 1}).contiguous();
}

// A text key of the model ("" if it has none).
std::string model_text(const maqd_rt::Model& model, const std::string& key) {
  const auto found = model.text.find(key);
  return found != model.text.end() ? found->second : "";
}

// The data set the model was trained on, as export recorded it ("" if none).
std::string model_dataset(const maqd_rt::Model& model) { return model_text(model, "dataset"); }

// How the model's training images were scaled (text key resize, "" if
// they were not), checked: a size other than the input's would make
// pixels the engine cannot take.
std::string model_resize(const maqd_rt::Model& model) {
  const std::string text = model_text(model, "resize");
  if (text.empty()) return text;
  const data::ImageResize resize = data::parse_resize(text, "run: the model's resize");
  const maqd_rt::TensorDesc& in = model.input();
  check(resize.height == in.height && resize.width == in.width, "run", "the model's resize is '", text,
        "'; expected its input size, ", in.height, "x", in.width);
  return text;
}

// An image file's pixels for the model: scaled to its input size where its
// training images were (model_resize), else of that size already.
std::vector<uint8_t> image_for(const maqd_rt::Model& model, const std::string& path) {
  const std::string resize = model_resize(model);
  if (resize.empty()) return data::read_image_file(path, model.input());
  const maqd_rt::TensorDesc& in = model.input();
  data::ImageFile image = data::resize_image(data::read_image_file(path), data::parse_resize(resize, "run"));
  check(image.shape.channels == in.channels, path.c_str(), "image has ", image.shape.channels,
        " channel(s); the model expects ", in.channels);
  return std::move(image.pixels);
}

// The folder set's test split the model was trained with (0: none).
double model_test_split(const maqd_rt::Model& model) {
  const std::string text = model_text(model, "test_split");
  if (text.empty()) return 0;
  const nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  check(value.is_number(), "run", "the model's test_split is '", text, "'; expected a number");
  return value.get<double>();
}

// `given_split`: see test_set_options; the network's is the model's.
data::Dataset load_test_set(const maqd_rt::Model& model, const std::string& kind_arg,
                            const std::string& dir, int64_t limit, std::optional<double> given_split) {
  const std::string kind = !kind_arg.empty() ? kind_arg : model_dataset(model);
  check(!kind.empty(), "run", "the model names no data set; give one with --data");
  const data::Dataset test = data::load_dataset(kind, dir, /*train=*/false,
                                                test_set_options(kind, model.class_names(), limit, given_split,
                                                                 model_test_split(model), dir, model_resize(model)));
  const maqd_rt::TensorDesc& in = model.input();
  check(test.channels() == in.channels && test.height() == in.height && test.width() == in.width,
        test.name.c_str(), "images are ", test.channels(), "×", test.height(), "×", test.width(),
        "; the model expects ", in.channels, "×", in.height, "×", in.width);
  check_same_classes(data::label_meanings(model.class_names(), model_dataset(model), model.num_classes()), test,
                     "model");
  return test;
}

// The runtime's logits [N, classes] for u8 images [N, H, W, C], `batch` per call.
torch::Tensor runtime_logits(maqd_rt::Engine& engine, const torch::Tensor& raw, int64_t batch) {
  const int64_t n = raw.size(0), classes = engine.model().num_classes();
  const int64_t image_bytes = engine.model().input().elements();
  torch::Tensor logits = torch::empty({n, classes}, torch::kFloat);
  for (int64_t b = 0; b < n; b += batch)
    engine.run(raw.data_ptr<uint8_t>() + b * image_bytes, std::min(batch, n - b),
               logits.data_ptr<float>() + b * classes);
  return logits;
}

struct RunArgs {
  std::string model, dataset, data_dir, compare, onnx, reference = "float32";
  std::vector<std::string> images;
  int64_t limit = 0, batch = 100;
  size_t top = 0;  // --image: 0 prints the class alone
  std::optional<double> test_split;
  int threads = 1;
  bool threads_given = false;  // --compare: LibTorch keeps its own default otherwise
  bool json = false, profile = false;
};

// maqd run --profile: where the runtime's time went, op by op.
void print_profile(const maqd_rt::Engine& engine, int64_t images) {
  const maqd_rt::Model& model = engine.model();
  const std::vector<double> seconds = engine.op_seconds();
  double total = 0;
  for (double s : seconds) total += s;
  std::printf("\n%-4s %-10s %-10s %-17s %-34s %12s %7s\n", "op", "kind", "layer", "output",
              "kernel", "us/image", "share");
  for (size_t i = 0; i < model.ops.size(); ++i) {
    const maqd_rt::Op& op = model.ops[i];
    const maqd_rt::TensorDesc& out = model.tensors[op.output];
    char shape[32];
    std::snprintf(shape, sizeof shape, "%dx%dx%d", out.height, out.width, out.channels);
    if (op.kind == maqd_rt::OpKind::kConv) {
      const size_t used = std::strlen(shape);
      std::snprintf(shape + used, sizeof shape - used, " k%d", op.kernel);
    }
    std::printf("%-4zu %-10s %-10s %-17s %-34s %12.2f %6.1f%%\n", i, maqd_rt::op_kind_name(op.kind),
                maqd_rt::without_control_bytes(op.name).c_str(), shape, engine.op_kernel(i).c_str(),
                1e6 * seconds[i] / double(images), total > 0 ? 100 * seconds[i] / total : 0.0);
  }
  std::printf("(thread-seconds per image, summed over the %d threads; %.2f us per image in all)\n",
              engine.threads(), 1e6 * total / double(images));
}

// maqd run MODEL --compare CHECKPOINT: issue 5's agreement figures.
void compare_run(const RunArgs& a) {
  const maqd_rt::Model model = maqd_rt::load_model(a.model);
  train::Checkpoint checkpoint;
  Network network = train::load_network(checkpoint_file(a.compare), &checkpoint);
  const data::Dataset test = load_test_set(model, a.dataset, a.data_dir, a.limit, a.test_split);
  if (a.threads_given) torch::set_num_threads(a.threads);
  CompareOptions options;
  options.reference = a.reference == "float64" ? torch::kDouble : torch::kFloat;
  options.threads = a.threads;
  options.batch = a.batch;
  std::string isa;
  const Agreement r = compare_with_libtorch(network, checkpoint.stats, model, test.images, &isa, options);
  auto percent = [](int64_t part, int64_t whole) { return 100.0 * double(part) / double(whole); };
  if (a.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : r.layers)
      layers.push_back({{"name", l.name}, {"matching", l.matching}, {"total", l.total}});
    std::cout << nlohmann::json{{"images", r.images}, {"matching_predictions", r.matching_predictions},
                                {"isa", isa}, {"reference", a.reference}, {"threads", a.threads},
                                {"batch", a.batch}, {"layers", layers}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("%s vs LibTorch (%s) on %s (%lld images, %s kernels, %d thread%s, batch %lld)\n",
              a.model.c_str(), a.reference.c_str(), test.name.c_str(), (long long)r.images, isa.c_str(),
              a.threads, a.threads == 1 ? "" : "s", (long long)a.batch);
  std::printf("predictions equal: %.3f%% (%lld differ)\n", percent(r.matching_predictions, r.images),
              (long long)(r.images - r.matching_predictions));
  int64_t worst_matching = 1, worst_total = 1;
  for (const auto& l : r.layers) {
    std::printf("  %-28s codes equal %8.4f%% (%lld of %lld differ)\n",
                maqd_rt::without_control_bytes(l.name).c_str(),
                percent(l.matching, l.total), (long long)(l.total - l.matching), (long long)l.total);
    if (double(l.matching) / double(l.total) < double(worst_matching) / double(worst_total)) {
      worst_matching = l.matching;
      worst_total = l.total;
    }
  }
  std::printf("lowest layer agreement: %.4f%%\n", percent(worst_matching, worst_total));
}

// maqd run MODEL --onnx FILE: the ONNX export in onnxruntime against maqd-rt.
void onnx_run(const RunArgs& a) {
  maqd_rt::EngineOptions options;
  options.threads = a.threads;
  maqd_rt::Engine engine(maqd_rt::load_model(a.model), options);
  const maqd_rt::Model& model = engine.model();
  const data::Dataset test = load_test_set(model, a.dataset, a.data_dir, a.limit, a.test_split);
  const int64_t n = test.size(), classes = model.num_classes();
  const torch::Tensor logits = runtime_logits(engine, channels_last(test.images), a.batch);
  OnnxRuntime ort;
  ort.set_images(test.images);
  ort.load("model", a.onnx, a.threads);
  const torch::Tensor ort_logits = ort.predict("model", a.batch, classes);
  const torch::Tensor mine = logits.argmax(1), theirs = ort_logits.argmax(1);
  const int64_t equal = mine.eq(theirs).sum().item<int64_t>();
  const double accuracy = mine.eq(test.labels).to(torch::kDouble).mean().item<double>();
  const double ort_accuracy = theirs.eq(test.labels).to(torch::kDouble).mean().item<double>();
  const double largest_gap = (logits - ort_logits).abs().max().item<double>();
  if (a.json) {
    std::cout << nlohmann::json{{"images", n}, {"matching_predictions", equal},
                                {"accuracy", accuracy}, {"onnx_accuracy", ort_accuracy},
                                {"largest_logit_difference", largest_gap},
                                {"onnxruntime", ort.version()}, {"isa", engine.isa()}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("%s in onnxruntime %s vs %s (%s) on %s (%lld images)\n", a.onnx.c_str(),
              ort.version().c_str(), a.model.c_str(), engine.isa(), test.name.c_str(), (long long)n);
  std::printf("predictions equal: %.3f%% (%lld differ); accuracy %.2f%% (onnxruntime) vs %.2f%% "
              "(maqd-rt); largest logit difference %.3g\n",
              100.0 * double(equal) / double(n), (long long)(n - equal), 100 * ort_accuracy,
              100 * accuracy, largest_gap);
}

// Runs `step` repeatedly for at least `seconds`; returns images per second.
template <typename Step>
double images_per_second(int64_t images_per_step, double seconds, Step&& step) {
  step();  // warm-up
  int64_t steps = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds || steps < 3) {
    step();
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return double(steps * images_per_step) / elapsed;
}

void register_export(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("export", "Fold a MaQD checkpoint into an integer model file");
  struct Args {
    std::string checkpoint, output, format = "maqd", c_symbol = "maqd_model";
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("checkpoint", a->checkpoint, "checkpoint.pt of a run (or the run folder)")->required();
  cmd->add_option("-o,--output,--out", a->output,
                  "The file to write (.maqd, .onnx or .c; without --format its ending picks the format)")
      ->required();
  cmd->add_option("--format", a->format,
                  "maqd: the runtime's integer model; onnx: standard float operators computing the "
                  "same codes exactly; onnx-int8: int8 QDQ for onnxruntime's int8 kernels; "
                  "c-array: the .maqd bytes as a C source file, for firmware (docs/format.md); "
                  "default: onnx for a .onnx file, c-array for a .c file, else maqd")
      ->check(CLI::IsMember({"maqd", "onnx", "onnx-int8", "c-array"}));
  cmd->add_option("--c-symbol", a->c_symbol, "c-array: the array's name (its size is NAME_size)")
      ->check(CLI::Validator(
          [](std::string& symbol) -> std::string {
            try {  // the runtime's own rule, before the export's work
              maqd_rt::model_c_source({0}, symbol, "");
              return "";
            } catch (const maqd_rt::Error& e) {
              return e.what();
            }
          },
          "C identifier"))
      ->capture_default_str();
  cmd->callback([a, cmd] {
    // The file's ending and the format agree: a .onnx file holding a .maqd
    // model would fail only later, in another program.
    const std::string ending = std::filesystem::path(a->output).extension().string();
    const std::map<std::string, std::string> format_of_ending{{".maqd", "maqd"}, {".onnx", "onnx"}, {".c", "c-array"}};
    const auto known = format_of_ending.find(ending);
    if (cmd->count("--format") == 0 && known != format_of_ending.end()) a->format = known->second;
    const std::string expected = a->format == "maqd" ? ".maqd" : a->format == "c-array" ? ".c" : ".onnx";
    check(known == format_of_ending.end() || ending == expected, "export", "--format ", a->format,
          " writes a ", expected, " file; --output is '", a->output, "'");
    check(a->format == "c-array" || cmd->count("--c-symbol") == 0, "export",
          "--c-symbol names the array of --format c-array; the format is ", a->format,
          cmd->count("--format") ? "" : " (from --output's ending)");
    const std::string path = checkpoint_file(a->checkpoint);
    std::error_code unused;  // equivalent() is false, with an error, where either file is missing
    check(!std::filesystem::equivalent(path, a->output, unused), "export", "--output '", a->output,
          "' is the checkpoint being exported; expected another file (writing it would destroy the run)");
    train::Checkpoint checkpoint;
    Network network = train::load_network(path, &checkpoint);
    // A folder set's split goes with the model, so that `maqd run MODEL
    // --data-dir DIR` reads the same test part.
    std::map<std::string, std::string> metadata = {{"dataset", checkpoint.config.dataset}};
    if (checkpoint.config.test_split > 0)
      metadata["test_split"] = nlohmann::json(checkpoint.config.test_split).dump();
    if (!checkpoint.config.resize.empty()) metadata["resize"] = checkpoint.config.resize;
    const maqd_rt::Model model =
        export_model(network, checkpoint.stats, metadata, checkpoint.shape.class_names);
    if (a->format == "c-array") {
      const std::vector<uint8_t> bytes = maqd_rt::write_model(model);
      const std::string source =
          maqd_rt::model_c_source(bytes, a->c_symbol, "maqd export --format c-array " + path);
      write_file_atomically(a->output, source);
      std::printf("wrote %s: %s[%zu], the .maqd file as C data\n", a->output.c_str(),
                  a->c_symbol.c_str(), bytes.size());
      return;
    }
    if (a->format != "maqd") {
      save_onnx(model, a->format == "onnx" ? OnnxForm::kExact : OnnxForm::kInt8, a->output);
      std::printf("wrote %s: ONNX (%s form), %lld bytes\n", a->output.c_str(), a->format.c_str(),
                  (long long)std::filesystem::file_size(a->output));
      return;
    }
    maqd_rt::save_model(model, a->output);
    int64_t float_weight_bytes = 0;
    for (const auto& conv : network->hidden_convs()) float_weight_bytes += conv.conv->weight.numel() * 4;
    int64_t packed_bits = 0;
    for (const auto& op : model.ops)
      if (op.kind == maqd_rt::OpKind::kConv) packed_bits += int64_t(op.weights.size()) * op.weight_bits;
    const maqd_rt::Engine engine(model);
    std::printf("wrote %s: %zu ops, %lld bytes\n", a->output.c_str(), model.ops.size(),
                (long long)std::filesystem::file_size(a->output));
    std::printf("hidden conv weights: %lld bytes packed vs %lld bytes as float32 (1/%.1f)\n",
                (long long)((packed_bits + 7) / 8), (long long)float_weight_bytes,
                double(float_weight_bytes) / double((packed_bits + 7) / 8));
    std::printf("runtime arena (1 thread): %zu bytes; maqd info %s describes it\n",
                engine.arena_bytes(), a->output.c_str());
  });
}

void register_run(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("run", "Run a .maqd model with the integer runtime");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("model", a->model, "The model file (.maqd)")->required();
  cmd->add_option("--image", a->images, "Classify these images (PGM, PPM, PNG or JPEG; of the model's input size, or any size for a model trained with --resize)");
  cmd->add_option("--top", a->top,
                  "With --image: print each image's K most probable classes, most probable first, each "
                  "with the probability softmax gives its logit")
      ->check(CLI::Range(size_t(1), size_t(1) << 20))
      ->type_name("K");
  cmd->add_option("--data", a->dataset, "Data set to evaluate (default: the model's)");
  cmd->add_option("--data-dir", a->data_dir, "Folder of the data set's files");
  cmd->add_option("--limit", a->limit, "Use only the first N test images (0: all)");
  cmd->add_option("--test-split", a->test_split,
                  "Folder sets: the test part of --data-dir's class folders, this fraction of each "
                  "(default: 0 where --data-dir has a test/ folder, else the model's, as its run's "
                  "--test-split held it out; 0: --data-dir's test/)");
  cmd->add_option("--batch", a->batch, "Images per runtime call")
      ->check(whole_number(1, INT64_MAX))
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Runtime threads (with --compare, LibTorch's as well)")
      ->check(CLI::Range(1, maqd_rt::kMaxEngineThreads))
      ->capture_default_str();
  cmd->add_option("--compare", a->compare,
                  "Also compare predictions and every layer's codes with LibTorch's evaluation of "
                  "this checkpoint (the one the model was exported from)");
  cmd->add_option("--reference", a->reference,
                  "Precision of LibTorch's evaluation for --compare: float32 (as trained) or float64 "
                  "(no rounding of long sums; the exporter's thresholds are exact)")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();
  cmd->add_option("--onnx", a->onnx,
                  "Also run this ONNX export of the model (maqd export --format onnx|onnx-int8) in "
                  "onnxruntime and compare its predictions with the runtime's");
  cmd->add_flag("--json", a->json, "Print the result as one JSON object");
  cmd->add_flag("--profile", a->profile,
                "Time every op of the test-set run and print each op's kernel and share");
  cmd->callback([a, cmd] {
    a->threads_given = cmd->count("--threads") > 0;
    check(a->limit >= 0, "run", "--limit is ", a->limit, "; expected 0 (all) or a positive count");
    check(!a->profile || (a->compare.empty() && a->onnx.empty() && a->images.empty() && !a->json),
          "run", "--profile times a test-set run; it cannot be combined with --compare, --onnx, "
                 "--image or --json");
    check(a->top == 0 || !a->images.empty(), "run", "--top is for --image; a test-set run prints its accuracy");
    check(a->compare.empty() || a->onnx.empty(), "run", "--compare and --onnx are two runs; give one of them");
    check(!a->compare.empty() || cmd->count("--reference") == 0, "run",
          "--reference is the precision of --compare's evaluation; expected it with --compare");
    // These would be ignored beside --image: say so rather than drop them.
    for (const char* test_set_only :
         {"--compare", "--onnx", "--json", "--data", "--data-dir", "--limit", "--test-split", "--batch"})
      check(a->images.empty() || cmd->count(test_set_only) == 0, "run", "--image classifies image files; ",
            test_set_only, " is for a test-set run");
    if (!a->compare.empty()) {
      compare_run(*a);
      return;
    }
    if (!a->onnx.empty()) {
      onnx_run(*a);
      return;
    }
    maqd_rt::EngineOptions options;
    options.threads = a->threads;
    options.profile = a->profile;
    maqd_rt::Engine engine(maqd_rt::load_model(a->model), options);
    const maqd_rt::Model& model = engine.model();
    const int classes = model.num_classes();
    if (!a->images.empty()) {
      check(a->top <= size_t(classes), "run", "--top is ", a->top, "; the model has ", classes, " classes");
      std::vector<float> logits(classes);
      for (const std::string& path : a->images) {
        const std::vector<uint8_t> pixels = image_for(model, path);
        engine.run(pixels.data(), 1, logits.data());
        std::printf("%s: class %s\n", path.c_str(), model.prediction_text(logits.data(), a->top).c_str());
      }
      return;
    }
    const data::Dataset test = load_test_set(model, a->dataset, a->data_dir, a->limit, a->test_split);
    const torch::Tensor images = channels_last(test.images);
    const int64_t n = test.size();
    const auto start = Clock::now();
    const torch::Tensor logits = runtime_logits(engine, images, a->batch);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const torch::Tensor predicted = logits.argmax(1);
    const double accuracy = predicted.eq(test.labels).to(torch::kDouble).mean().item<double>();
    if (a->json) {
      std::cout << nlohmann::json{{"accuracy", accuracy}, {"images", n},
                                  {"images_per_second", double(n) / seconds},
                                  {"isa", engine.isa()}, {"threads", a->threads},
                                  {"arena_bytes", engine.arena_bytes()}}
                       .dump()
                << "\n";
      return;
    }
    std::printf("%s on %s (%lld images): accuracy %.2f%%, %.0f images/s (%s, %d thread%s)\n",
                a->model.c_str(), test.name.c_str(), (long long)n, 100 * accuracy,
                double(n) / seconds, engine.isa(), a->threads, a->threads > 1 ? "s" : "");
    if (a->profile) print_profile(engine, n);
  });
}

// Median and range of one contender's measurements.
struct Spread {
  std::vector<double> values;
  double median() const {
    std::vector<double> v = values;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  std::string text() const {
    if (values.empty()) return "-";
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.0f [%.0f-%.0f]", median(), *low, *high);
    return buffer;
  }
};

void register_bench(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time the runtime against onnxruntime (float and int8 ONNX of the same network) and "
      "LibTorch's float evaluation, in alternating rounds of one run");
  struct Args {
    std::string model, checkpoint, data_dir;
    std::vector<int64_t> batches{1, 100};
    std::vector<int> threads{1, 2};
    int rounds = 5;
    double seconds = 1.0;
    bool without_onnxruntime = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("model", a->model, "The model file (.maqd)")->required();
  cmd->add_option("--checkpoint", a->checkpoint, "The checkpoint it was exported from")->required();
  cmd->add_option("--batch", a->batches, "Batch sizes")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Thread counts (each contender gets the same)")
      ->check(CLI::Range(1, maqd_rt::kMaxEngineThreads))
      ->capture_default_str();
  cmd->add_option("--rounds", a->rounds, "Rounds; each times every contender once")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--seconds", a->seconds, "Minimum timing per measurement (above 0, at most 3600)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double value = 0;
            const bool number = CLI::detail::lexical_cast(text, value);
            return number && std::isfinite(value) && value > 0 && value <= 3600
                       ? ""
                       : "is '" + text + "'; expected seconds above 0, at most 3600";
          },
          "SECONDS"))
      ->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir, "Folder of the data set's files");
  cmd->add_flag("--without-onnxruntime", a->without_onnxruntime,
                "Leave out onnxruntime (when tools/onnxruntime is not installed)");
  cmd->callback([a] {
    for (int64_t batch : a->batches) check(batch >= 1, "bench", "--batch must be ≥ 1, got ", batch);
    const maqd_rt::Model model = maqd_rt::load_model(a->model);
    train::Checkpoint checkpoint;
    Network network = train::load_network(checkpoint_file(a->checkpoint), &checkpoint);
    // The float contenders are built from the checkpoint: another network's
    // would make every ratio compare two different architectures.
    const maqd_rt::Model exported = [&] {
      try {
        return export_model(network, checkpoint.stats);
      } catch (const Error& e) {
        throw Error("bench: --checkpoint " + a->checkpoint + " does not export (" + e.what() +
                    "); expected the checkpoint the model was exported from");
      }
    }();
    const auto shape_text = [](const maqd_rt::Model& m, size_t op) {
      const maqd_rt::TensorDesc& t = m.tensors[m.ops[op].output];
      return std::string(maqd_rt::op_kind_name(m.ops[op].kind)) + " " + std::to_string(t.height) + "×" +
             std::to_string(t.width) + "×" + std::to_string(t.channels);
    };
    for (size_t op = 0; op < std::max(model.ops.size(), exported.ops.size()); ++op) {
      const std::string in_model = op < model.ops.size() ? shape_text(model, op) : "nothing";
      const std::string in_checkpoint = op < exported.ops.size() ? shape_text(exported, op) : "nothing";
      check(in_model == in_checkpoint, "bench", "--checkpoint ", a->checkpoint, " is not the network of ", a->model,
            ": op ", op, " is ", in_checkpoint, " there, ", in_model, " in the model; expected the checkpoint the "
            "model was exported from");
    }
    // The float network of the same architecture (its weights do not change its speed).
    train::TrainConfig float_config = checkpoint.config;
    float_config.mw = float_config.ma = 0;
    const auto& shape = checkpoint.shape;
    Network float_net(train::network_options(float_config, shape.channels, shape.height,
                                             shape.width, shape.num_classes));
    float_net->eval();
    const int64_t largest = *std::max_element(a->batches.begin(), a->batches.end());
    const data::Dataset test = load_test_set(model, checkpoint.config.dataset,
                                             a->data_dir.empty() ? checkpoint.config.data_dir : a->data_dir,
                                             largest, std::nullopt);
    check(test.size() >= largest, "bench", "the data set has ", test.size(), " images; --batch ",
          largest, " needs that many");
    const torch::Tensor raw = channels_last(test.images);
    const torch::Tensor normalized = data::normalize(test.images, checkpoint.stats);
    std::vector<float> logits(size_t(largest) * model.num_classes());

    // onnxruntime: the float network of this architecture and this model in int8 QDQ.
    std::unique_ptr<OnnxRuntime> ort;
    std::string int8_note;
    if (!a->without_onnxruntime) {
      ort = std::make_unique<OnnxRuntime>();
      ort->set_images(test.images.slice(0, 0, largest));
      save_onnx(model, OnnxForm::kFloatBaseline, ort->scratch() + "/float.onnx");
      try {
        save_onnx(model, OnnxForm::kInt8, ort->scratch() + "/int8.onnx");
      } catch (const Error& e) {
        int8_note = e.what();
      }
    }
    const std::vector<std::string> names{"maqd-rt", "ort float", "ort int8", "libtorch float"};
    std::printf("%s vs onnxruntime %s (float: the same architecture in float; int8: this model's "
                "QDQ export) and LibTorch float, on %s; %d rounds of >= %g s each\n",
                a->model.c_str(), ort ? ort->version().c_str() : "(left out)", test.name.c_str(),
                a->rounds, a->seconds);
    if (!int8_note.empty()) std::printf("ort int8 left out: %s\n", int8_note.c_str());
    torch::NoGradGuard no_grad;
    for (int threads : a->threads) {
      torch::set_num_threads(threads);
      maqd_rt::EngineOptions options;
      options.threads = threads;
      maqd_rt::Engine engine(model, options);
      if (ort) {
        ort->load("float" + std::to_string(threads), ort->scratch() + "/float.onnx", threads);
        if (int8_note.empty())
          ort->load("int8" + std::to_string(threads), ort->scratch() + "/int8.onnx", threads);
      }
      for (int64_t batch : a->batches) {
        const torch::Tensor input = normalized.slice(0, 0, batch).contiguous();
        std::vector<Spread> spread(names.size());
        for (int round = 0; round < a->rounds; ++round) {
          spread[0].values.push_back(images_per_second(batch, a->seconds, [&] {
            engine.run(raw.data_ptr<uint8_t>(), batch, logits.data());
          }));
          if (ort) {
            spread[1].values.push_back(
                ort->images_per_second("float" + std::to_string(threads), batch, a->seconds));
            if (int8_note.empty())
              spread[2].values.push_back(
                  ort->images_per_second("int8" + std::to_string(threads), batch, a->seconds));
          }
          spread[3].values.push_back(
              images_per_second(batch, a->seconds, [&] { float_net->forward(input); }));
        }
        std::printf("\nthreads %d, batch %lld (%s kernels): images/s, median [min-max]\n", threads,
                    (long long)batch, engine.isa());
        for (size_t i = 0; i < names.size(); ++i) {
          std::printf("  %-15s %-24s", names[i].c_str(), spread[i].text().c_str());
          if (i > 0 && !spread[i].values.empty())
            std::printf(" maqd-rt is %.2fx", spread[0].median() / spread[i].median());
          std::printf("\n");
        }
      }
    }
  });
}

}  // namespace

void register_deploy(CLI::App& app) {
  register_export(app);
  register_run(app);
  register_bench(app);
}

}  // namespace maqd::cli
