#include "maqd/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/record_function.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>
#include <torch/torch.h>

#include "maqd/data/image_folder.h"
#include "maqd/data/loader.h"
#include "maqd/error.h"
#include "maqd/text.h"
#include "maqd/files.h"
#include "maqd/ops/code_conv.h"
#include "maqd/process.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/core_share.h"
#include "maqd/train/step_trace.h"
#include "maqd/train/tensor_memory.h"

namespace maqd::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cuda") {
    check(torch::cuda::is_available(), "train config",
          "field device is 'cuda' but this LibTorch has no usable CUDA device; expected cpu, "
          "or build maqd against a CUDA LibTorch (README: Another LibTorch)");
    return torch::Device(torch::kCUDA);
  }
  return torch::Device(torch::kCPU);
}

void set_learning_rate(torch::optim::SGD& optimizer, double lr) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

// Cosine annealing from the base rate to 0 over all steps of the run.
double cosine_learning_rate(double base, int64_t step, int64_t total_steps) {
  return 0.5 * base * (1.0 + std::cos(M_PI * double(step) / double(total_steps)));
}

// Keeps the metrics of epochs ≤ `epochs_done`: a resumed run rewrites the rest.
void truncate_metrics(const std::string& path, int64_t epochs_done) {
  std::ifstream in(path);
  if (!in) return;
  std::vector<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.value("epoch", int64_t(0)) <= epochs_done) kept.push_back(line);
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : kept) out << line << "\n";
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  write_file_atomically(path, j.dump(2) + "\n");
}

// The run's training or test set, within its limit; a long read (a large
// folder set) notes its progress every few seconds.
data::Dataset load_limited(const TrainConfig& config, bool train,
                           const std::function<void(const std::string&)>& note) {
  data::LoadOptions options;
  options.limit = train ? config.train_limit : config.test_limit;
  options.test_split = config.test_split;
  options.resize = config.resize;
  options.progress =
      data::progress_notes(data::folder_part_name(config.data_dir, train, config.test_split), note);
  return data::load_dataset(config.dataset, config.data_dir, train, options);
}

// The last epoch's metrics plus the best test accuracy over all epochs.
nlohmann::json summarize_metrics(const std::string& path) {
  std::ifstream in(path);
  nlohmann::json last = nlohmann::json::object();
  double best = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) continue;
    last = j;
    best = std::max(best, j.value("test_accuracy", 0.0));
  }
  last["best_test_accuracy"] = best;
  return last;
}

// The options every rank must share: the run's maths, not where or how fast
// each process runs it.
std::string shared_options_text(const TrainConfig& config) {
  nlohmann::json j = to_json(config);
  for (const std::string& local : options_a_resume_may_change()) j.erase(local);
  return j.dump();
}

// Refuses a data-parallel run some rank would get no images in: every batch,
// the last one included, needs at least one image per rank.
void check_batches_fit_ranks(const TrainConfig& config, int64_t train_size, int64_t world_size) {
  const int64_t last = train_size % config.batch_size == 0 ? config.batch_size
                                                            : train_size % config.batch_size;
  check(std::min(config.batch_size, last) >= world_size, "distributed",
        "the training set's ", train_size, " images in batches of ", config.batch_size,
        " leave a last batch of ", last, " images for ", world_size,
        " ranks; expected at least one image per rank in every batch (change --batch-size or "
        "--train-limit)");
}

// One evaluation from every rank's share of the test set: the counts and
// the per-sample means, weighted by each share's samples, summed over the
// ranks (R_w is the same on every rank).
EvalResult evaluate_shared(DataParallel& parallel, Network& network, const data::Dataset& test_set,
                           const data::ChannelStats& stats, int64_t batch_size,
                           const LossOptions& loss, const torch::Device& device, int64_t workers) {
  const auto [begin, end] = data::shard_range(test_set.size(), parallel.rank(), parallel.world_size());
  EvalResult r = evaluate(network, test_set.range(begin, end), stats, batch_size, loss, device, workers);
  const double n = double(r.samples);
  std::vector<double> sums{n, r.loss * n, r.accuracy * n, r.activation_ratio * n};
  for (const LayerRatio& layer : r.activation_layers) sums.push_back(layer.ratio * n);
  torch::Tensor totals = torch::tensor(sums, torch::kDouble);
  parallel.all_reduce_sum(totals);
  const double all = totals[0].item<double>();
  r.samples = int64_t(all);
  r.loss = totals[1].item<double>() / all;
  r.accuracy = totals[2].item<double>() / all;
  r.activation_ratio = totals[3].item<double>() / all;
  for (size_t i = 0; i < r.activation_layers.size(); ++i)
    r.activation_layers[i].ratio = totals[4 + int64_t(i)].item<double>() / all;
  return r;
}

// The run to train: a new one, or the checkpoint's when resuming (whose
// maths win; where and how fast it runs may change between sessions).
struct RunStart {
  TrainConfig config;
  Checkpoint checkpoint;
  bool resuming = false;
};

RunStart open_run(const TrainConfig& requested, bool resume,
                  const std::function<void(const std::string&)>& note) {
  RunStart run{requested, {}, false};
  const std::string ckpt_path = checkpoint_path(requested.out_dir);
  run.resuming = resume && fs::exists(ckpt_path);
  if (run.resuming) {
    run.checkpoint = read_checkpoint(ckpt_path);
    nlohmann::json merged = to_json(run.checkpoint.config);
    const nlohmann::json wanted = to_json(requested);
    for (const std::string& key : options_a_resume_may_change())
      if (key != "data_dir" || !requested.data_dir.empty()) merged[key] = wanted[key];
    run.config = config_from_json(merged, ckpt_path);
  } else {
    check(!fs::exists(ckpt_path), ckpt_path.c_str(),
          "a checkpoint exists already; continue it with --resume, or choose another --out");
    if (resume) note("no checkpoint in " + requested.out_dir + ": starting a new run");
  }
  validate(run.config);
  return run;
}

// Joins the other ranks once the run and the data are known to fit them,
// and checks that every rank trains the same run from the same place.
std::unique_ptr<DataParallel> join_ranks(const RunStart& run, const DistributedOptions& distributed,
                                         int64_t train_size, int64_t test_size,
                                         const std::function<void(const std::string&)>& note) {
  check_batches_fit_ranks(run.config, train_size, distributed.world_size);
  check(test_size >= distributed.world_size, "distributed", "the test set's ", test_size,
        " images are fewer than the ", distributed.world_size,
        " ranks that share its evaluation; expected at least one each (--test-limit)");
  note("distributed: joining " + std::to_string(distributed.world_size) + " ranks at " +
       distributed.master_addr +
       (distributed.master_port == 0 ? " on a free port" : ":" + std::to_string(distributed.master_port)) +
       " (gloo" +
       (distributed.sync_norm ? ", norm statistics synchronized" : ", norm statistics per rank") + ")");
  auto parallel = std::make_unique<DataParallel>(distributed);
  parallel->check_same_everywhere("the training options", shared_options_text(run.config));
  parallel->check_same_everywhere(
      "the resumed position",
      run.resuming ? std::to_string(run.checkpoint.state.global_step) : "new run");
  return parallel;
}

// Every rank starts from rank 0's weights and statistics (the same seed
// gives the same ones; this makes it so whatever the build); from then on
// the gradients, and with sync_norm the norms' batch statistics, are summed
// over the ranks.
void share_network(DataParallel& parallel, Network& network, bool sync_norm) {
  std::vector<torch::Tensor> state_tensors;
  for (const auto& p : network->parameters()) state_tensors.push_back(p.detach());
  for (const auto& b : network->buffers()) state_tensors.push_back(b);
  {
    torch::NoGradGuard no_grad;
    parallel.broadcast_from_root(state_tensors);
  }
  parallel.reduce_gradients_of(network->parameters());
  if (sync_norm) {
    DataParallel* group = &parallel;
    for (const auto& module : network->modules())
      if (auto* norm = module->as<NormImpl>())
        norm->sum_statistics_across_processes([group](torch::Tensor& t) { group->all_reduce_sum(t); });
  }
}

// One step's outcome over all ranks: the global batch's images and mean
// loss, and whether any rank was asked to stop.
struct StepOutcome {
  int64_t images = 0;
  double loss = 0;
  bool stop = false;
};

StepOutcome shared_train_step(DataParallel& parallel, Network& network, torch::optim::SGD& optimizer,
                              const torch::Tensor& images, const torch::Tensor& labels,
                              const LossOptions& loss_options, double global_images,
                              bool stop_here) {
  const int64_t local_images = labels.size(0);
  try {
    // Each rank's mean loss weighted by its share of the global batch × N:
    // the Reducer's mean over ranks is then the global batch's gradient.
    const double share = double(local_images) * double(parallel.world_size()) / global_images;
    const double local = train_step(network, optimizer, images, labels, loss_options, &parallel, share);
    torch::Tensor totals = torch::tensor(
        {local * double(local_images), double(local_images), stop_here ? 1.0 : 0.0}, torch::kDouble);
    parallel.all_reduce_sum(totals);
    StepOutcome outcome;
    outcome.images = int64_t(totals[1].item<double>());
    outcome.loss = totals[0].item<double>() / double(outcome.images);
    outcome.stop = totals[2].item<double>() > 0;
    return outcome;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    parallel.fail(e);  // a collective inside backward (c10d's Reducer)
  }
}

}  // namespace

void check_precision_runs_here(const TrainConfig& config) {
  if (config.precision != "bf16") return;
  check(config.device == "cpu", "train config", "field precision is 'bf16' on device '",
        config.device, "'; expected float32 (bf16 is a CPU option in this version)");
  std::string isa;
  check(native_bf16_convolutions(&isa), "train config",
        "field precision is 'bf16' but oneDNN runs this CPU as ", isa,
        " (after any MAQD_ISA cap), without native bf16 convolutions; expected float32, or a CPU "
        "with AVX-512 BF16");
}

torch::optim::SGD make_optimizer(Network& network, const TrainConfig& config) {
  std::vector<torch::Tensor> decayed, plain;
  for (const auto& item : network->named_parameters()) {
    const bool conv_weight = item.value().dim() == 4;
    (conv_weight ? decayed : plain).push_back(item.value());
  }
  const double lr = base_learning_rate(config);
  auto options = [&](double decay) {
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(lr).momentum(config.momentum).weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, options(config.weight_decay));
  groups.emplace_back(plain, options(0.0));
  return torch::optim::SGD(std::move(groups), torch::optim::SGDOptions(lr));
}

double train_step(Network& network, torch::optim::SGD& optimizer, const torch::Tensor& images,
                  const torch::Tensor& labels, const LossOptions& loss_options,
                  DataParallel* parallel, double loss_weight) {
  const torch::Tensor logits = network->forward(images);
  torch::Tensor loss;
  {
    RECORD_FUNCTION("maqd::loss", std::vector<c10::IValue>());
    loss = maqd_loss(logits, labels, loss_options);
  }
  {
    RECORD_FUNCTION("maqd::optimizer", std::vector<c10::IValue>());
    optimizer.zero_grad();
  }
  if (parallel) {
    const torch::Tensor weighted = loss_weight == 1.0 ? loss : loss * loss_weight;
    parallel->prepare_for_backward(weighted);
    weighted.backward();
  } else {
    loss.backward();
  }
  {
    RECORD_FUNCTION("maqd::optimizer", std::vector<c10::IValue>());
    optimizer.step();
  }
  return loss.item<double>();
}

const std::vector<std::string>& options_a_resume_may_change() {
  static const std::vector<std::string> keys{"out_dir", "threads", "workers", "data_dir", "trace_steps"};
  return keys;
}

std::string checkpoint_path(const std::string& out_dir) { return (fs::path(out_dir) / "checkpoint.pt").string(); }
std::string metrics_path(const std::string& out_dir) { return (fs::path(out_dir) / "metrics.jsonl").string(); }

namespace {

// "3 classes (bag, sneaker, trouser) of 1×28×28 images".
std::string describe_data(int64_t num_classes, const std::vector<std::string>& names, int64_t channels,
                          int64_t height, int64_t width) {
  const std::string list = join(names, ", ");
  return std::to_string(num_classes) + " classes" + (list.empty() ? "" : " (" + list + ")") + " of " +
         std::to_string(channels) + "×" + std::to_string(height) + "×" + std::to_string(width) + " images";
}

// A resumed run must see the data it started with: --data-dir may change
// (the files moved), but a folder data set read from elsewhere could hold
// other classes, or the same number in another order, and every label
// would then mean another class than the network learnt.
void check_same_data(const Checkpoint& checkpoint, const data::Dataset& train_set, const TrainConfig& config) {
  const DataShape& was = checkpoint.shape;
  const bool same_names = was.class_names.empty() || was.class_names == train_set.class_names;
  check(same_names && was.num_classes == train_set.num_classes && was.channels == train_set.channels() &&
            was.height == train_set.height() && was.width == train_set.width(),
        (config.data_dir.empty() ? train_set.name : config.data_dir).c_str(), "holds ",
        describe_data(train_set.num_classes, train_set.class_names, train_set.channels(), train_set.height(),
                      train_set.width()),
        "; the run in ", config.out_dir, " started on ",
        describe_data(was.num_classes, was.class_names, was.channels, was.height, was.width),
        ": resume it with the data it started with");
}

}  // namespace

TrainResult run_training(const TrainConfig& requested, bool resume, const TrainCallbacks& callbacks,
                         const std::atomic<bool>* stop, const DistributedOptions& distributed) {
  validate(distributed);
  const bool root = distributed.rank == 0;
  auto note = [&](const std::string& text) {
    if (root && callbacks.on_message) callbacks.on_message(text);
  };
  const RunStart run = open_run(requested, resume, note);
  const TrainConfig& config = run.config;
  // Before the data set loads, not at the first write after it.
  check(!root || !fs::exists(config.out_dir) || fs::is_directory(config.out_dir), config.out_dir.c_str(),
        "is a file; expected a folder for the run (a new one, or a run's to resume) as --out");
  const bool resuming = run.resuming;
  const Checkpoint& checkpoint = run.checkpoint;
  const std::string ckpt_path = checkpoint_path(config.out_dir);
  if (config.threads > 0) torch::set_num_threads(int(config.threads));
  const torch::Device device = resolve_device(config.device);
  check_precision_runs_here(config);

  const data::Dataset train_set = load_limited(config, true, note);
  const data::Dataset test_set = load_limited(config, false, note);
  // A folder set's labels are the user's folders: show how they were read.
  const std::string classes = config.dataset == "folder" ? "; " + std::to_string(train_set.num_classes) +
                                                               " classes: " + join(train_set.class_names, ", ")
                                                         : "";
  note("data: " + train_set.name + " " + std::to_string(train_set.size()) + " training, " +
       test_set.name + " " + std::to_string(test_set.size()) + " test images" + classes);
  if (resuming) check_same_data(checkpoint, train_set, config);
  const data::ChannelStats stats = resuming ? checkpoint.stats : data::compute_channel_stats(train_set);

  std::unique_ptr<DataParallel> parallel;
  if (distributed.world_size > 1)
    parallel = join_ranks(run, distributed, train_set.size(), test_set.size(), note);
  // Tensor memory (train/tensor_memory.h) counts what is allocated from here
  // on: the network, its gradients and optimizer state, batches and
  // activations, not the data set.
  install_tensor_memory_counter();
  torch::manual_seed(config.seed);
  Network network(network_options(config, train_set.channels(), train_set.height(),
                                  train_set.width(), train_set.num_classes));
  network->to(device);
  if (config.precision == "bf16") network->set_conv_compute_dtype(torch::kBFloat16);
  torch::optim::SGD optimizer = make_optimizer(network, config);

  if (root) fs::create_directories(config.out_dir);
  TrainingState state;
  if (resuming) {
    load_checkpoint_weights(ckpt_path, network, &optimizer);
    state = checkpoint.state;
    if (root) truncate_metrics(metrics_path(config.out_dir), state.epochs_done);
    note("resuming " + config.out_dir + " after epoch " + std::to_string(state.epochs_done) +
         (state.batches_done ? " and " + std::to_string(state.batches_done) + " batches" : ""));
  } else {
    if (root) {
      std::ofstream(metrics_path(config.out_dir), std::ios::trunc);
      fs::remove(trace_path(config.out_dir));
    }
    if (config.lbn_shift_init == "centered")
      for (const auto& module : network->modules())
        if (auto* norm = module->as<NormImpl>()) norm->center_shift_on_next_batch();
  }
  if (root) write_json_file((fs::path(config.out_dir) / "config.json").string(), to_json(config));
  if (parallel) share_network(*parallel, network, distributed.sync_norm);

  Checkpoint current{config, state,
                     {train_set.channels(), train_set.height(), train_set.width(), train_set.num_classes,
                      train_set.class_names},
                     stats};
  const LossOptions loss_opts = loss_options(config);
  const int64_t batches = (train_set.size() + config.batch_size - 1) / config.batch_size;
  const int64_t total_steps = batches * config.epochs;
  const double base_lr = base_learning_rate(config);
  // Training's own memory: the peak from here on above the resident size
  // here (data and network loaded), apart from loading's transient peak.
  const int64_t loading_peak = peak_rss_bytes();
  const bool peak_was_reset = reset_peak_rss();
  const int64_t rss_start = current_rss_bytes();
  const auto run_start = Clock::now();
  const int64_t first_step = state.global_step;
  TrainResult result;
  EvalResult last_eval;
  CoreShare cores(torch::get_num_threads());
  std::unique_ptr<StepTrace> trace;
  if (root && state.global_step < config.trace_steps)
    trace = std::make_unique<StepTrace>(network, trace_path(config.out_dir));

  for (int64_t epoch = state.epochs_done + 1; epoch <= config.epochs; ++epoch) {
    network->train();
    data::LoaderOptions lo;
    lo.batch_size = config.batch_size;
    lo.shuffle = true;
    lo.augment = config.augment;
    lo.workers = config.workers;
    lo.seed = config.seed;
    lo.shard_index = distributed.rank;
    lo.shard_count = distributed.world_size;
    data::BatchLoader loader(train_set, stats, lo, epoch);
    // A run stopped mid-epoch skips the batches it had trained on; the
    // loader's batches depend only on (seed, epoch, index), so the rest match.
    for (int64_t skip = 0; skip < state.batches_done; ++skip) loader.next();
    const auto epoch_start = Clock::now();
    double lr = base_lr;
    reset_peak_tensor_bytes();
    int64_t epoch_peak_tensor_bytes = peak_tensor_bytes();
    int64_t step_tensor_bytes = 0;
    while (auto batch = loader.next()) {
      lr = cosine_learning_rate(base_lr, state.global_step, total_steps);
      set_learning_rate(optimizer, lr);
      const torch::Tensor images = batch->images.to(device);
      const torch::Tensor labels = batch->labels.to(device);
      cores.update();
      const int64_t live_before_step = live_tensor_bytes();
      reset_peak_tensor_bytes();
      const bool traced = trace && state.global_step < config.trace_steps;
      if (traced) trace->arm();
      // The global batch's images and mean loss, and a stop asked for on any rank.
      StepOutcome step;
      if (!parallel) {
        step.images = labels.size(0);
        step.loss = train_step(network, optimizer, images, labels, loss_opts);
        step.stop = stop && stop->load();
      } else {
        const double global_images = double(std::min<int64_t>(
            config.batch_size, train_set.size() - state.batches_done * config.batch_size));
        step = shared_train_step(*parallel, network, optimizer, images, labels, loss_opts,
                                 global_images, stop && stop->load());
      }
      if (traced) trace->record(state.global_step + 1, step.loss, lr);
      epoch_peak_tensor_bytes = std::max(epoch_peak_tensor_bytes, peak_tensor_bytes());
      // The session's first step also creates the gradients and the
      // optimizer's momentum, which live on: it is left out.
      if (state.global_step > first_step)
        step_tensor_bytes = std::max(step_tensor_bytes, peak_tensor_bytes() - live_before_step);
      check(std::isfinite(step.loss), "training", "the loss became ", step.loss, " at epoch ",
            epoch, " batch ", state.batches_done + 1, "; expected a finite number (lower --lr?)");
      ++state.global_step;
      ++state.batches_done;
      state.epoch_loss_sum += step.loss * double(step.images);
      state.epoch_samples += step.images;
      if (root && callbacks.on_step) {
        const double elapsed = state.epoch_seconds + seconds_since(epoch_start);
        const double run_elapsed = seconds_since(run_start);
        const int64_t steps_here = state.global_step - first_step;
        StepProgress p{epoch, config.epochs, state.batches_done, batches,
                       state.epoch_loss_sum / double(state.epoch_samples),
                       double(state.epoch_samples) / std::max(elapsed, 1e-9),
                       run_elapsed / double(steps_here) * double(total_steps - state.global_step)};
        callbacks.on_step(p);
      }
      if (step.stop) {
        state.epoch_seconds += seconds_since(epoch_start);
        current.state = state;
        if (root) save_checkpoint(ckpt_path, current, network, &optimizer);
        result.interrupted = true;
        result.epochs_done = state.epochs_done;
        return result;
      }
    }
    const double train_seconds = state.epoch_seconds + seconds_since(epoch_start);
    const auto eval_start = Clock::now();
    const int64_t eval_batch = std::max<int64_t>(config.batch_size, 100);
    last_eval = parallel ? evaluate_shared(*parallel, network, test_set, stats, eval_batch,
                                           loss_opts, device, config.workers)
                         : evaluate(network, test_set, stats, eval_batch, loss_opts, device,
                                    config.workers);
    nlohmann::json line = {
        {"epoch", epoch},
        {"train_loss", state.epoch_loss_sum / double(std::max<int64_t>(state.epoch_samples, 1))},
        {"test_loss", last_eval.loss},
        {"test_accuracy", last_eval.accuracy},
        {"rw", last_eval.weights.overall},
        {"ra", last_eval.activation_ratio},
        {"lr", lr},
        {"seconds", train_seconds},
        {"eval_seconds", seconds_since(eval_start)},
        {"images_per_second", double(state.epoch_samples) / std::max(train_seconds, 1e-9)},
        {"peak_rss_bytes", std::max(loading_peak, peak_rss_bytes())},
        {"training_peak_rss_bytes", peak_rss_bytes()},
        {"rss_start_bytes", peak_was_reset ? rss_start : int64_t(0)},
    };
    // The counter sees CPU tensors only; a CUDA run's would be its host side.
    if (device.is_cpu()) {
      line["peak_tensor_bytes"] = epoch_peak_tensor_bytes;
      line["step_tensor_bytes"] = step_tensor_bytes;
    }
    const nlohmann::json layers = to_json(last_eval);
    line["rw_layers"] = layers["rw_layers"];
    line["ra_layers"] = layers["ra_layers"];
    if (parallel) line["world_size"] = distributed.world_size;
    if (root) {
      std::ofstream out(metrics_path(config.out_dir), std::ios::app);
      out << line.dump() << "\n";
    }
    state.epochs_done = epoch;
    state.batches_done = 0;
    state.epoch_loss_sum = 0;
    state.epoch_samples = 0;
    state.epoch_seconds = 0;
    current.state = state;
    if (root) save_checkpoint(ckpt_path, current, network, &optimizer);
    if (root && callbacks.on_epoch) callbacks.on_epoch({line, last_eval});
  }
  result.epochs_done = state.epochs_done;
  if (!root) return result;
  result.summary = summarize_metrics(metrics_path(config.out_dir));
  result.summary["config"] = to_json(config);
  write_json_file((fs::path(config.out_dir) / "summary.json").string(), result.summary);
  return result;
}

}  // namespace maqd::train
