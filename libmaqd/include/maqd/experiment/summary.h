// The results of a sweep folder (maqd sweep): every run folder below it
// (config.json + metrics.jsonl) read back, grouped by the settings that vary
// between runs, and averaged over seeds. The tables and plots are built from
// the run folders alone, so deleting them and running `maqd plot` again
// gives the same bytes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace maqd::experiment {

// One run folder as `maqd train` left it.
struct RunRecord {
  std::string folder;                  // relative to the sweep folder
  nlohmann::json config;               // config.json
  std::vector<nlohmann::json> epochs;  // metrics.jsonl, one object per epoch
  bool finished = false;               // summary.json exists
};

// Every folder under `sweep_dir` (any depth) holding a config.json, sorted by
// path. Throws maqd::Error naming the file for unreadable JSON.
std::vector<RunRecord> load_runs(const std::string& sweep_dir);

// Config fields whose values differ between runs, in config order; fields
// that describe where or how fast a run executes (out_dir, threads, workers,
// data_dir, device) never count.
std::vector<std::string> varied_fields(const std::vector<RunRecord>& runs);

struct Statistic {
  double mean = 0, sd = 0;  // sd: sample standard deviation (0 for one value)
  int count = 0;            // runs that report it
};

// Runs with equal settings except the seed.
struct SummaryRow {
  nlohmann::json key;   // varied field (without seed) → value
  std::vector<std::string> folders;
  int64_t epochs_done = 0, epochs = 0;  // the least finished run's
  Statistic test_accuracy, best_test_accuracy, train_loss, test_loss, rw, ra,
      images_per_second, peak_rss_bytes, training_memory_bytes,
      // Counted tensor memory (maqd/train/tensor_memory.h), the largest over
      // a run's epochs: the peak of live tensors, and the most one step adds.
      peak_tensor_bytes, step_tensor_bytes;
};

// `runs` grouped; rows sorted by their key values (numbers numerically).
// Runs with no finished epoch are left out.
std::vector<SummaryRow> summarize(const std::vector<RunRecord>& runs);

// The tables: CSV (one column per statistic, mean and sd) and Markdown.
std::string summary_csv(const std::vector<SummaryRow>& rows, const std::vector<std::string>& keys);
std::string summary_markdown(const std::vector<SummaryRow>& rows, const std::vector<std::string>& keys);

// Writes summary.csv and summary.md into `sweep_dir`; returns the rows.
std::vector<SummaryRow> write_summary(const std::string& sweep_dir);

// Draws PNGs into `out_dir` with gnuplot (one .dat and .gp file beside each
// PNG, so a reader can restyle it): training curves, each numeric varied
// setting against final accuracy/loss/memory, and per-layer R_a. Returns the
// PNG paths. Throws maqd::Error when gnuplot is missing or fails.
std::vector<std::string> plot_sweep(const std::string& sweep_dir, const std::string& out_dir);

}  // namespace maqd::experiment
