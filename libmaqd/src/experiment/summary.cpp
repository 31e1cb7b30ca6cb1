#include "maqd/experiment/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "maqd/error.h"
#include "maqd/files.h"
#include "maqd/train/config.h"

namespace maqd::experiment {
namespace {

namespace fs = std::filesystem;

// Where or how fast a run executes: never a setting that tells runs apart.
bool is_execution_field(const std::string& field) {
  return field == "out_dir" || field == "threads" || field == "workers" || field == "data_dir" ||
         field == "device";
}

// Display order of the settings: data, network, optimization, seed; any
// field not listed follows in alphabetical order.
int field_rank(const std::string& field) {
  static const char* const kOrder[] = {
      "dataset", "train_limit", "test_limit", "test_split", "augment", "arch", "width", "norm",
      "weight_standardization", "mw", "ma", "delta_w", "surrogate", "alpha", "epochs",
      "batch_size", "lr", "lr_scale_batch", "momentum", "weight_decay", "gamma", "mse_target",
      "seed"};
  for (size_t i = 0; i < std::size(kOrder); ++i)
    if (field == kOrder[i]) return int(i);
  return int(std::size(kOrder));
}

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  check(bool(in), path.string().c_str(), "cannot read the file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not valid JSON: " + e.what());
  }
}

// Orders JSON scalars: numbers numerically, then booleans, then strings.
int compare_values(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const std::string x = a.dump(), y = b.dump();
  return x < y ? -1 : (x > y ? 1 : 0);
}

Statistic statistic(const std::vector<double>& values) {
  Statistic s;
  s.count = int(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / double(values.size() - 1));
  }
  return s;
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// "92.50 ± 0.12" (or "92.50" for one run, "–" for none), value × scale.
std::string cell(const Statistic& s, const char* pattern, double scale = 1) {
  if (s.count == 0) return "–";
  std::string text = format(pattern, s.mean * scale);
  if (s.count > 1) text += " ± " + format(pattern, s.sd * scale);
  return text;
}

std::string value_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string csv_escape(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

struct Column {
  const char* csv_name;
  const char* title;
  Statistic SummaryRow::*field;
  const char* pattern;
  double scale;
};
const Column kColumns[] = {
    {"test_accuracy", "test acc. %", &SummaryRow::test_accuracy, "%.2f", 100},
    {"best_test_accuracy", "best test acc. %", &SummaryRow::best_test_accuracy, "%.2f", 100},
    {"train_loss", "train loss", &SummaryRow::train_loss, "%.4f", 1},
    {"test_loss", "test loss", &SummaryRow::test_loss, "%.4f", 1},
    {"rw", "R_w %", &SummaryRow::rw, "%.2f", 100},
    {"ra", "R_a %", &SummaryRow::ra, "%.2f", 100},
    {"images_per_second", "img/s", &SummaryRow::images_per_second, "%.0f", 1},
    {"peak_rss_mib", "peak RSS MiB", &SummaryRow::peak_rss_bytes, "%.0f", 1.0 / (1 << 20)},
    {"training_memory_mib", "training MiB", &SummaryRow::training_memory_bytes, "%.0f",
     1.0 / (1 << 20)},
    {"peak_tensor_mib", "peak tensors MiB", &SummaryRow::peak_tensor_bytes, "%.1f", 1.0 / (1 << 20)},
    {"step_tensor_mib", "step tensors MiB", &SummaryRow::step_tensor_bytes, "%.1f", 1.0 / (1 << 20)},
};

}  // namespace

std::vector<RunRecord> load_runs(const std::string& sweep_dir) {
  check(fs::is_directory(sweep_dir), sweep_dir.c_str(), "not a folder; expected a sweep's output folder");
  std::vector<RunRecord> runs;
  const nlohmann::json defaults = train::to_json(train::TrainConfig{});
  for (const auto& entry : fs::recursive_directory_iterator(sweep_dir)) {
    if (!entry.is_regular_file() || entry.path().filename() != "config.json") continue;
    const fs::path folder = entry.path().parent_path();
    RunRecord run;
    run.folder = fs::relative(folder, sweep_dir).generic_string();
    run.config = read_json_file(entry.path());
    check(run.config.is_object(), entry.path().string().c_str(), "expected a JSON object");
    // A field a run's version did not write yet had its default then: a
    // sweep resumed by a newer maqd must not count it as a setting that varies.
    for (const auto& [field, value] : defaults.items())
      if (!run.config.contains(field)) run.config[field] = value;
    run.finished = fs::exists(folder / "summary.json");
    std::ifstream metrics(folder / "metrics.jsonl");
    int line_number = 0;
    for (std::string line; std::getline(metrics, line);) {
      ++line_number;
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      check(!j.is_discarded() && j.is_object(), (folder / "metrics.jsonl").string().c_str(),
            "line ", line_number, " is not a JSON object");
      run.epochs.push_back(j);
    }
    runs.push_back(std::move(run));
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunRecord& a, const RunRecord& b) { return a.folder < b.folder; });
  return runs;
}

std::vector<std::string> varied_fields(const std::vector<RunRecord>& runs) {
  std::vector<std::string> fields;
  if (runs.empty()) return fields;
  std::map<std::string, bool> seen;
  for (const RunRecord& run : runs)
    for (const auto& [field, value] : run.config.items()) seen[field] = true;
  for (const auto& [field, unused] : seen) {
    if (is_execution_field(field)) continue;
    const nlohmann::json first = runs[0].config.value(field, nlohmann::json());
    for (const RunRecord& run : runs)
      if (run.config.value(field, nlohmann::json()) != first) {
        fields.push_back(field);
        break;
      }
  }
  std::stable_sort(fields.begin(), fields.end(), [](const std::string& a, const std::string& b) {
    return field_rank(a) < field_rank(b);
  });
  return fields;
}

std::vector<SummaryRow> summarize(const std::vector<RunRecord>& runs) {
  std::vector<std::string> keys = varied_fields(runs);
  keys.erase(std::remove(keys.begin(), keys.end(), "seed"), keys.end());
  struct Values {
    std::vector<double> test_accuracy, best, train_loss, test_loss, rw, ra, speed, peak, memory, peak_tensor,
        step_tensor;
  };
  std::vector<SummaryRow> rows;
  std::vector<Values> values;
  for (const RunRecord& run : runs) {
    if (run.epochs.empty()) continue;
    nlohmann::json key = nlohmann::json::object();
    for (const std::string& k : keys) key[k] = run.config.value(k, nlohmann::json());
    size_t index = 0;
    while (index < rows.size() && rows[index].key != key) ++index;
    if (index == rows.size()) {
      rows.push_back({});
      rows.back().key = key;
      rows.back().epochs_done = int64_t(1) << 40;
      values.push_back({});
    }
    SummaryRow& row = rows[index];
    Values& v = values[index];
    const nlohmann::json& last = run.epochs.back();
    row.folders.push_back(run.folder);
    row.epochs_done = std::min<int64_t>(row.epochs_done, last.value("epoch", int64_t(0)));
    row.epochs = run.config.value("epochs", int64_t(0));
    auto add = [&](std::vector<double>& to, const char* field) {
      if (last.contains(field) && last[field].is_number()) to.push_back(last[field].get<double>());
    };
    add(v.test_accuracy, "test_accuracy");
    add(v.train_loss, "train_loss");
    add(v.test_loss, "test_loss");
    add(v.rw, "rw");
    add(v.ra, "ra");
    double best = 0, speed = 0, peak = 0, memory = -1, peak_tensor = -1, step_tensor = -1;
    for (const nlohmann::json& e : run.epochs) {
      best = std::max(best, e.value("test_accuracy", 0.0));
      speed += e.value("images_per_second", 0.0);
      const double epoch_peak = e.value("peak_rss_bytes", 0.0);
      peak = std::max(peak, epoch_peak);
      // Each process of a resumed run has its own start; compare like with like.
      const double start = e.value("rss_start_bytes", 0.0);
      const double training_peak = e.value("training_peak_rss_bytes", 0.0);
      if (training_peak > 0 && start > 0) memory = std::max(memory, training_peak - start);
      peak_tensor = std::max(peak_tensor, e.value("peak_tensor_bytes", -1.0));
      step_tensor = std::max(step_tensor, e.value("step_tensor_bytes", -1.0));
    }
    v.best.push_back(best);
    v.speed.push_back(speed / double(run.epochs.size()));
    if (peak > 0) v.peak.push_back(peak);
    if (memory >= 0) v.memory.push_back(memory);
    if (peak_tensor >= 0) v.peak_tensor.push_back(peak_tensor);
    if (step_tensor >= 0) v.step_tensor.push_back(step_tensor);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const Values& v = values[i];
    SummaryRow& r = rows[i];
    r.test_accuracy = statistic(v.test_accuracy);
    r.best_test_accuracy = statistic(v.best);
    r.train_loss = statistic(v.train_loss);
    r.test_loss = statistic(v.test_loss);
    r.rw = statistic(v.rw);
    r.ra = statistic(v.ra);
    r.images_per_second = statistic(v.speed);
    r.peak_rss_bytes = statistic(v.peak);
    r.training_memory_bytes = statistic(v.memory);
    r.peak_tensor_bytes = statistic(v.peak_tensor);
    r.step_tensor_bytes = statistic(v.step_tensor);
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const SummaryRow& a, const SummaryRow& b) {
    for (const std::string& k : keys) {
      const int c = compare_values(a.key[k], b.key[k]);
      if (c != 0) return c < 0;
    }
    return false;
  });
  return rows;
}

std::string summary_csv(const std::vector<SummaryRow>& rows, const std::vector<std::string>& keys) {
  std::ostringstream out;
  for (const std::string& k : keys) out << csv_escape(k) << ",";
  out << "runs,epochs_done,epochs_planned";
  for (const Column& c : kColumns) out << "," << c.csv_name << "_mean," << c.csv_name << "_sd";
  out << ",folders\n";
  for (const SummaryRow& r : rows) {
    for (const std::string& k : keys) out << csv_escape(value_text(r.key.value(k, nlohmann::json()))) << ",";
    out << r.folders.size() << "," << r.epochs_done << "," << r.epochs;
    for (const Column& c : kColumns) {
      const Statistic& s = r.*(c.field);
      if (s.count == 0) out << ",,";
      else out << "," << format("%.6g", s.mean * c.scale) << "," << format("%.6g", s.sd * c.scale);
    }
    std::string folders;
    for (const std::string& f : r.folders) folders += (folders.empty() ? "" : ";") + f;
    out << "," << csv_escape(folders) << "\n";
  }
  return out.str();
}

std::string summary_markdown(const std::vector<SummaryRow>& rows, const std::vector<std::string>& keys) {
  std::ostringstream out;
  out << "|";
  for (const std::string& k : keys) out << " " << k << " |";
  out << " runs | epochs done |";
  for (const Column& c : kColumns) out << " " << c.title << " |";
  out << "\n|";
  for (size_t i = 0; i < keys.size() + 2 + std::size(kColumns); ++i) out << "---|";
  out << "\n";
  for (const SummaryRow& r : rows) {
    out << "|";
    for (const std::string& k : keys) out << " " << value_text(r.key.value(k, nlohmann::json())) << " |";
    out << " " << r.folders.size() << " | " << r.epochs_done << "/" << r.epochs << " |";
    for (const Column& c : kColumns) out << " " << cell(r.*(c.field), c.pattern, c.scale) << " |";
    out << "\n";
  }
  out << "\nMean ± sample standard deviation over the runs of a row (seeds). "
         "Peak RSS: the training process's peak resident memory; training MiB: "
         "that peak minus the resident memory when training started (data and "
         "network loaded).\n";
  return out.str();
}

std::vector<SummaryRow> write_summary(const std::string& sweep_dir) {
  const std::vector<RunRecord> runs = load_runs(sweep_dir);
  std::vector<std::string> keys = varied_fields(runs);
  keys.erase(std::remove(keys.begin(), keys.end(), "seed"), keys.end());
  const std::vector<SummaryRow> rows = summarize(runs);
  const std::pair<const char*, std::string> files[] = {{"summary.csv", summary_csv(rows, keys)},
                                                       {"summary.md", summary_markdown(rows, keys)}};
  for (const auto& [name, text] : files) {
    write_file_atomically((fs::path(sweep_dir) / name).string(), text);
  }
  return rows;
}

}  // namespace maqd::experiment
