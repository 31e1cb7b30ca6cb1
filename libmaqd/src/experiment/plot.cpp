// maqd plot: gnuplot scripts and their data beside each PNG, drawn from the
// run folders of a sweep (the same rows as the summary tables).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "maqd/error.h"
#include "maqd/files.h"
#include "maqd/experiment/summary.h"

namespace maqd::experiment {
namespace {

namespace fs = std::filesystem;

// A setting as a reader knows it from the paper and the CLI.
std::string field_label(const std::string& field) {
  static const std::map<std::string, std::string> kLabels = {
      {"mw", "M_w"}, {"ma", "M_a"}, {"weight_standardization", "WS"}, {"batch_size", "batch size"},
      {"delta_w", "Δ_w"}, {"lr", "learning rate"}, {"epochs", "epochs"}, {"width", "width"}};
  const auto it = kLabels.find(field);
  return it != kLabels.end() ? it->second : field;
}

bool is_float_network(const nlohmann::json& key) {
  return key.value("mw", nlohmann::json(1)) == 0 && key.value("ma", nlohmann::json(1)) == 0;
}

std::string value_label(const std::string& field, const nlohmann::json& v) {
  if (field == "weight_standardization" && v.is_boolean()) return v.get<bool>() ? "WS" : "no WS";
  if (v.is_string()) return v.get<std::string>();
  return field_label(field) + "=" + v.dump();
}

// "M_w=3 M_a=2", "lbn WS", or "float" for the float network.
std::string key_label(const nlohmann::json& key, const std::vector<std::string>& fields,
                      const std::string& skip = "") {
  std::string label;
  bool float_named = false;
  for (const std::string& f : fields) {
    if (f == skip || !key.contains(f)) continue;
    std::string part;
    if ((f == "mw" || f == "ma") && is_float_network(key)) {
      if (float_named) continue;
      part = "float";
      float_named = true;
    } else {
      part = value_label(f, key[f]);
    }
    label += (label.empty() ? "" : " ") + part;
  }
  return label.empty() ? "all runs" : label;
}

// A double-quoted gnuplot string.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void write_file(const fs::path& path, const std::string& text) {
  write_file_atomically(path.string(), text);
}

const char* kTerminal =
    "set terminal pngcairo noenhanced font 'sans,10' size %d,%d\n"
    "set grid\n"
    "set key outside right top\n";

std::string terminal(int width, int height) {
  char text[256];
  std::snprintf(text, sizeof text, kTerminal, width, height);
  return text;
}

// A multiplot whose panels share the width left of a legend column sized to
// the longest title, so the legend never squeezes the panel it belongs to,
// and tall enough for one legend line per title.
struct LegendLayout {
  int width, height;
  double right;  // screen fraction where the panels end and the legend starts

  LegendLayout(const std::vector<std::string>& titles, int panels_width, int min_height) {
    size_t longest = 0;
    for (const std::string& t : titles) longest = std::max(longest, t.size());
    const int legend = 60 + 7 * int(longest);  // sample line plus ~7 px a character at 10 pt
    width = panels_width + legend;
    height = std::max(min_height, std::min(4000, 120 + 17 * int(titles.size())));
    right = double(panels_width) / width;
  }
  // `set multiplot` with the panels' margins; rows × columns panels.
  std::string multiplot(int rows, int columns, const std::string& title) const {
    char margins[128];
    std::snprintf(margins, sizeof margins, " margins 0.06,%.3f,%.3f,%.3f spacing 0.07,0.12\n",
                  right - 0.02, 60.0 / height, 1.0 - 80.0 / height);
    return "set multiplot layout " + std::to_string(rows) + "," + std::to_string(columns) +
           " title " + title + margins;
  }
  std::string key() const {
    char text[128];
    std::snprintf(text, sizeof text, "set key at screen 0.995,%.3f right top\n", 1.0 - 80.0 / height);
    return text;
  }
};

void run_gnuplot(const fs::path& dir, const std::string& script) {
  const std::string command = "cd " + quoted(dir.string()) + " && gnuplot " + quoted(script) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  check(pipe != nullptr, "maqd plot", "cannot start gnuplot");
  std::string output;
  char buffer[512];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  // gnuplot is there (plot_sweep checked): its own complaint, on one line.
  std::replace(output.begin(), output.end(), '\n', ' ');
  while (!output.empty() && output.back() == ' ') output.pop_back();
  check(status == 0, (dir / script).string().c_str(), "gnuplot failed: ", output);
}

double number(const nlohmann::json& j, const char* field) {
  return j.contains(field) && j[field].is_number() ? j[field].get<double>() : 0.0;
}

// Test accuracy, train and test loss per epoch, one line per run.
std::string plot_curves(const std::vector<RunRecord>& runs, const std::vector<std::string>& fields,
                        const fs::path& dir) {
  std::ostringstream data, script;
  std::vector<std::string> titles;
  for (const RunRecord& run : runs) {
    if (run.epochs.empty()) continue;
    nlohmann::json key = nlohmann::json::object();
    for (const std::string& f : fields) key[f] = run.config.value(f, nlohmann::json());
    titles.push_back(key_label(key, fields));
    data << "# " << run.folder << "\n# epoch test_accuracy_% train_loss test_loss\n";
    for (const nlohmann::json& e : run.epochs)
      data << number(e, "epoch") << " " << 100 * number(e, "test_accuracy") << " "
           << number(e, "train_loss") << " " << number(e, "test_loss") << "\n";
    data << "\n\n";
  }
  if (titles.empty()) return "";
  write_file(dir / "curves.dat", data.str());
  double last_epoch = 0;
  for (const RunRecord& run : runs)
    if (!run.epochs.empty()) last_epoch = std::max(last_epoch, number(run.epochs.back(), "epoch"));
  const LegendLayout layout(titles, 1250, 450);
  script << terminal(layout.width, layout.height) << "set output 'curves.png'\n"
         << (last_epoch <= 25 ? "set xtics 1\n" : "")
         << layout.multiplot(1, 3, "'Training curves per run'")
         << "set xlabel 'epoch'\nset key off\n";
  const std::pair<int, const char*> panels[] = {
      {2, "test accuracy [%]"}, {3, "training loss (Eq. 9)"}, {4, "test loss (Eq. 9)"}};
  for (size_t p = 0; p < std::size(panels); ++p) {
    const bool last = p + 1 == std::size(panels);
    script << "set title " << quoted(panels[p].second) << "\nset ylabel " << quoted(panels[p].second)
           << "\n";
    if (last) script << layout.key();
    script << "plot ";
    for (size_t i = 0; i < titles.size(); ++i)
      script << (i ? ", \\\n     " : "") << "'curves.dat' index " << i << " using 1:"
             << panels[p].first << " with linespoints pointsize 0.6 title " << quoted(titles[i]);
    script << "\n";
  }
  script << "unset multiplot\n";
  write_file(dir / "curves.gp", script.str());
  run_gnuplot(dir, "curves.gp");
  return (dir / "curves.png").string();
}

// Each numeric setting that varies, on x: final accuracy, losses, memory
// and R_a, one line per combination of the other settings; the float
// network as a dashed line when x is M_w or M_a.
std::string plot_against(const std::string& x, const std::vector<SummaryRow>& rows,
                         const std::vector<std::string>& fields, const fs::path& dir) {
  std::vector<std::string> series_titles;
  std::vector<std::vector<const SummaryRow*>> series;
  std::vector<const SummaryRow*> float_rows;
  std::set<double> xs;
  for (const SummaryRow& r : rows) {
    if ((x == "mw" || x == "ma") && is_float_network(r.key)) {
      float_rows.push_back(&r);
      continue;
    }
    if (!r.key.contains(x) || !r.key[x].is_number()) continue;
    xs.insert(r.key[x].get<double>());
    const std::string title = key_label(r.key, fields, x);
    const auto it = std::find(series_titles.begin(), series_titles.end(), title);
    if (it == series_titles.end()) {
      series_titles.push_back(title);
      series.push_back({&r});
    } else {
      series[size_t(it - series_titles.begin())].push_back(&r);
    }
  }
  if (xs.size() < 2) return "";
  const std::string name = "vs-" + x;
  std::ostringstream data;
  for (size_t s = 0; s < series.size(); ++s) {
    data << "# " << series_titles[s] << "\n# " << x
         << " acc_% acc_sd train_loss train_sd test_loss test_sd peak_MiB training_MiB ra_% ra_sd"
            " peak_tensor_MiB step_tensor_MiB\n";
    for (const SummaryRow* r : series[s]) {
      const double mib = 1.0 / (1 << 20);
      data << r->key[x].get<double>() << " " << 100 * r->test_accuracy.mean << " "
           << 100 * r->test_accuracy.sd << " " << r->train_loss.mean << " " << r->train_loss.sd << " "
           << r->test_loss.mean << " " << r->test_loss.sd << " " << r->peak_rss_bytes.mean * mib << " "
           << (r->training_memory_bytes.count ? r->training_memory_bytes.mean * mib : 0.0) << " "
           << 100 * r->ra.mean << " " << 100 * r->ra.sd << " " << r->peak_tensor_bytes.mean * mib
           << " " << r->step_tensor_bytes.mean * mib << "\n";
    }
    data << "\n\n";
  }
  write_file(dir / (name + ".dat"), data.str());
  std::ostringstream script;
  script.precision(10);  // the default 6 digits can print both ends of a narrow range alike
  std::vector<std::string> legend = series_titles;
  for (const SummaryRow* r : float_rows) legend.push_back(key_label(r->key, fields));
  const LegendLayout layout(legend, 1300, 850);
  // Say how many seeds stand behind the points: a one-seed point has no bar.
  int fewest_seeds = 1 << 30, most_seeds = 0;
  bool tensor_memory = false;
  for (const auto& rows_of_series : series)
    for (const SummaryRow* r : rows_of_series) {
      fewest_seeds = std::min(fewest_seeds, r->test_accuracy.count);
      most_seeds = std::max(most_seeds, r->test_accuracy.count);
      tensor_memory = tensor_memory || r->step_tensor_bytes.count > 0;
    }
  std::string seeds;
  if (most_seeds <= 1) seeds = "one seed per point";
  else if (fewest_seeds == most_seeds) seeds = "mean ± sd over " + std::to_string(most_seeds) + " seeds";
  else
    seeds = "mean ± sd over " + std::to_string(fewest_seeds) + "–" + std::to_string(most_seeds) +
            " seeds; a point without a bar is one seed";
  script << terminal(layout.width, layout.height) << "set output '" << name << ".png'\n"
         << layout.multiplot(2, 3, quoted("Final results against " + field_label(x) + " (" + seeds +
                                          "; bars cut at the means' range)"))
         << "set xlabel " << quoted(field_label(x)) << "\n";
  const double lo = *xs.begin(), hi = *xs.rbegin();
  if (lo > 0 && hi / lo >= 16) script << "set logscale x 2\n";
  script << "set xtics (";
  bool first = true;
  for (double v : xs) {
    std::ostringstream t;
    t << v;
    script << (first ? "" : ", ") << quoted(t.str()) << " " << t.str();
    first = false;
  }
  script << ")\nset offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n";
  struct Panel {
    const char* title;
    int column, sd_column;
    double float_value(const SummaryRow& r) const {
      switch (column) {
        case 2: return 100 * r.test_accuracy.mean;
        case 4: return r.train_loss.mean;
        case 6: return r.test_loss.mean;
        case 8: return r.peak_rss_bytes.mean / (1 << 20);
        case 9: return r.training_memory_bytes.mean / (1 << 20);
        case 12: return r.peak_tensor_bytes.mean / (1 << 20);
        case 13: return r.step_tensor_bytes.mean / (1 << 20);
        default: return 100 * r.ra.mean;
      }
    }
  };
  // Runs that counted tensor memory (train/tensor_memory.h) plot it instead
  // of the resident set, which cannot separate the normalizations.
  const Panel panels[] = {
      {"test accuracy [%]", 2, 3},
      {"training loss (Eq. 9)", 4, 5},
      {"test loss (Eq. 9)", 6, 7},
      tensor_memory ? Panel{"peak tensor memory [MiB]", 12, 0} : Panel{"peak resident memory [MiB]", 8, 0},
      tensor_memory ? Panel{"one step's tensor memory [MiB]", 13, 0} : Panel{"training memory [MiB]", 9, 0},
      {"R_a [%]", 10, 11}};
  for (size_t p = 0; p < std::size(panels); ++p) {
    const Panel& panel = panels[p];
    // The y range spans the means, not the bars: one seed at chance level
    // would otherwise flatten every other line of the panel.
    double y_lo = 1e300, y_hi = -1e300;
    for (const auto& rows_of_series : series)
      for (const SummaryRow* r : rows_of_series) {
        y_lo = std::min(y_lo, panel.float_value(*r));
        y_hi = std::max(y_hi, panel.float_value(*r));
      }
    for (const SummaryRow* r : float_rows) {
      y_lo = std::min(y_lo, panel.float_value(*r));
      y_hi = std::max(y_hi, panel.float_value(*r));
    }
    // A panel whose values are all equal (the memory of runs that differ
    // only in M_a) still needs a range gnuplot can draw: ±5 % of the value.
    const double scale = std::max(1.0, std::abs(y_hi));
    const double margin = y_hi > y_lo ? std::max(0.1 * (y_hi - y_lo), 1e-6 * scale) : 0.05 * scale;
    script << "set yrange [" << y_lo - margin << ":" << y_hi + margin << "]\n";
    script << "set title " << quoted(panel.title) << "\nset ylabel " << quoted(panel.title) << "\n"
           << (p + 1 == std::size(panels) ? layout.key() : std::string("set key off\n"))
           << "plot ";
    for (size_t s = 0; s < series.size(); ++s) {
      script << (s ? ", \\\n     " : "") << "'" << name << ".dat' index " << s << " using 1:"
             << panel.column;
      if (panel.sd_column) script << ":" << panel.sd_column << " with yerrorlines";
      else script << " with linespoints";
      script << " pointsize 0.8 title " << quoted(series_titles[s]);
    }
    for (const SummaryRow* r : float_rows)
      script << ", \\\n     " << panel.float_value(*r) << " with lines dashtype 2 lw 2 title "
             << quoted(key_label(r->key, fields) == "float" ? std::string("float network")
                                                             : key_label(r->key, fields));
    script << "\n";
  }
  script << "unset multiplot\n";
  write_file(dir / (name + ".gp"), script.str());
  run_gnuplot(dir, name + ".gp");
  return (dir / (name + ".png")).string();
}

// Per-layer R_a of the last epoch, one bar per row (mean over its seeds).
std::string plot_layer_ra(const std::vector<RunRecord>& runs, const std::vector<SummaryRow>& rows,
                          const std::vector<std::string>& fields, const fs::path& dir) {
  std::vector<std::string> layers;
  std::vector<std::string> titles;
  std::vector<std::map<std::string, double>> ratios;  // per row: layer → mean ratio
  for (const SummaryRow& r : rows) {
    std::map<std::string, double> sum;
    int count = 0;
    for (const RunRecord& run : runs) {
      if (run.epochs.empty() || std::find(r.folders.begin(), r.folders.end(), run.folder) == r.folders.end())
        continue;
      const nlohmann::json& last = run.epochs.back();
      if (!last.contains("ra_layers")) continue;
      ++count;
      for (const nlohmann::json& l : last["ra_layers"]) {
        const std::string name = l.value("name", "");
        if (std::find(layers.begin(), layers.end(), name) == layers.end()) layers.push_back(name);
        sum[name] += l.value("ratio", 0.0);
      }
    }
    if (count == 0) continue;
    for (auto& [name, value] : sum) value = 100 * value / count;
    titles.push_back(key_label(r.key, fields) +
                     (count == 1 ? " (1 seed)" : " (" + std::to_string(count) + " seeds)"));
    ratios.push_back(sum);
  }
  if (layers.empty()) return "";
  std::ostringstream data;
  data << "layer";
  for (const std::string& t : titles) data << " " << quoted(t);
  data << "\n";
  for (const std::string& layer : layers) {
    data << quoted(layer);
    for (const auto& row : ratios) {
      const auto it = row.find(layer);
      data << " " << (it == row.end() ? std::string("NaN") : std::to_string(it->second));
    }
    data << "\n";
  }
  write_file(dir / "ra-layers.dat", data.str());
  std::ostringstream script;
  const int width = std::max(900, int(60 + layers.size() * (20 + 8 * titles.size())));
  script << terminal(std::min(width, 3000), 500) << "set output 'ra-layers.png'\n"
         << "set title 'Non-zero activation outputs per layer (R_a, last epoch, mean over the seeds each bar names)'\n"
         << "set ylabel 'R_a [%]'\nset xlabel 'activation layer (input side left)'\n"
         << "set style data histograms\nset style histogram clustered gap 1\n"
         << "set style fill solid 0.8 border -1\nset boxwidth 0.9\nset yrange [0:*]\n"
         << "set xtics rotate by -45\n"
         << "plot for [i=2:" << titles.size() + 1 << "] 'ra-layers.dat' using i:xtic(1) title columnheader(i)\n";
  write_file(dir / "ra-layers.gp", script.str());
  run_gnuplot(dir, "ra-layers.gp");
  return (dir / "ra-layers.png").string();
}

}  // namespace

std::vector<std::string> plot_sweep(const std::string& sweep_dir, const std::string& out_dir) {
  check(std::system("command -v gnuplot > /dev/null 2>&1") == 0, "maqd plot",
        "gnuplot is not installed; expected Debian's gnuplot-nox (scripts/setup.sh installs it)");
  const std::vector<RunRecord> runs = load_runs(sweep_dir);
  check(!runs.empty(), sweep_dir.c_str(), "no run folders (config.json) below it");
  std::vector<std::string> fields = varied_fields(runs);
  std::vector<std::string> key_fields = fields;
  key_fields.erase(std::remove(key_fields.begin(), key_fields.end(), "seed"), key_fields.end());
  const std::vector<SummaryRow> rows = summarize(runs);
  fs::create_directories(out_dir);
  std::vector<std::string> written;
  auto keep = [&](const std::string& path) {
    if (!path.empty()) written.push_back(path);
  };
  keep(plot_curves(runs, fields, out_dir));
  for (const std::string& f : key_fields) keep(plot_against(f, rows, key_fields, out_dir));
  keep(plot_layer_ra(runs, rows, key_fields, out_dir));
  return written;
}

}  // namespace maqd::experiment
