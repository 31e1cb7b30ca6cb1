// The sweep summary on hand-made run folders whose statistics are known:
// grouping over seeds, mean and sample sd, numeric ordering, which fields
// count as settings, training memory, and the tables' text.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/fixtures.h"
#include "maqd/error.h"
#include "maqd/experiment/summary.h"

namespace {

namespace fs = std::filesystem;
using maqd::experiment::SummaryRow;

// A run folder with a config (defaults for the rest) and one metrics line per accuracy.
void write_run(const std::string& root, const std::string& name, const nlohmann::json& settings,
               const std::vector<double>& accuracies, bool finished = true) {
  const fs::path dir = fs::path(root) / name;
  fs::create_directories(dir);
  nlohmann::json config = {{"arch", "vgg"}, {"mw", 3}, {"ma", 4}, {"seed", 0}, {"batch_size", 100},
                           {"epochs", int(accuracies.size())}, {"threads", 2},
                           {"out_dir", dir.string()}};
  for (const auto& [k, v] : settings.items()) config[k] = v;
  std::ofstream(dir / "config.json") << config.dump(2);
  std::ofstream metrics(dir / "metrics.jsonl");
  for (size_t e = 0; e < accuracies.size(); ++e)
    metrics << nlohmann::json{{"epoch", e + 1},
                              {"test_accuracy", accuracies[e]},
                              {"train_loss", 1.0 / double(e + 1)},
                              {"test_loss", 2.0},
                              {"rw", 0.12},
                              {"ra", 0.3},
                              {"images_per_second", 100.0 * double(e + 1)},
                              {"peak_rss_bytes", 500 << 20},
                              {"training_peak_rss_bytes", (400 + 10 * int(e)) << 20},
                              {"rss_start_bytes", 300 << 20},
                              {"ra_layers", {{{"name", "act1"}, {"ratio", 0.3}, {"count", 10}}}}}
                   .dump()
            << "\n";
  if (finished) std::ofstream(dir / "summary.json") << "{}";
}

TEST(SweepSummary, GroupsSeedsAndOrdersNumerically) {
  maqd_test::TempDir dir;
  // Seeds 0 and 1 of batch 128 (different threads: not a setting), one run each of 8 and 32.
  write_run(dir.str(), "b128-s0", {{"batch_size", 128}, {"seed", 0}}, {0.5, 0.80});
  write_run(dir.str(), "b128-s1", {{"batch_size", 128}, {"seed", 1}, {"threads", 1}}, {0.5, 0.90});
  write_run(dir.str(), "b8", {{"batch_size", 8}}, {0.7, 0.6});
  write_run(dir.str(), "b32", {{"batch_size", 32}}, {0.1, 0.2}, /*finished=*/false);

  const auto runs = maqd::experiment::load_runs(dir.str());
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(maqd::experiment::varied_fields(runs), (std::vector<std::string>{"batch_size", "seed"}));

  // A run written before a field existed had its default: not a setting.
  write_run(dir.str(), "b8-newer", {{"batch_size", 8}, {"test_split", 0}, {"precision", "float32"}}, {0.7, 0.6});
  EXPECT_EQ(maqd::experiment::varied_fields(maqd::experiment::load_runs(dir.str())),
            (std::vector<std::string>{"batch_size", "seed"}));
  fs::remove_all(dir.path() / "b8-newer");

  const std::vector<SummaryRow> rows = maqd::experiment::summarize(runs);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key["batch_size"], 8);  // 8 < 32 < 128, not "128" < "32" < "8"
  EXPECT_EQ(rows[1].key["batch_size"], 32);
  EXPECT_EQ(rows[2].key["batch_size"], 128);
  EXPECT_FALSE(rows[2].key.contains("seed"));

  const SummaryRow& pair = rows[2];
  EXPECT_EQ(pair.folders.size(), 2u);
  EXPECT_EQ(pair.test_accuracy.count, 2);
  EXPECT_NEAR(pair.test_accuracy.mean, 0.85, 1e-12);
  EXPECT_NEAR(pair.test_accuracy.sd, std::sqrt(0.005), 1e-12);  // sample sd of 0.8 and 0.9
  EXPECT_NEAR(pair.best_test_accuracy.mean, 0.85, 1e-12);
  EXPECT_NEAR(pair.images_per_second.mean, 150, 1e-9);  // mean over epochs
  EXPECT_NEAR(pair.training_memory_bytes.mean, double(110 << 20), 1);  // 410 MiB − 300 MiB
  EXPECT_EQ(pair.epochs_done, 2);

  const SummaryRow& single = rows[0];
  EXPECT_NEAR(single.best_test_accuracy.mean, 0.7, 1e-12);  // the best epoch, not the last
  EXPECT_NEAR(single.test_accuracy.mean, 0.6, 1e-12);
  EXPECT_EQ(single.test_accuracy.sd, 0.0);

  const std::string md = maqd::experiment::summary_markdown(rows, {"batch_size"});
  EXPECT_NE(md.find("| 128 | 2 | 2/2 | 85.00 ± 7.07 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 8 | 1 | 2/2 | 60.00 | 70.00 |"), std::string::npos) << md;
  const std::string csv = maqd::experiment::summary_csv(rows, {"batch_size"});
  EXPECT_EQ(csv.substr(0, csv.find('\n')).find("batch_size,runs,epochs_done,epochs_planned,test_accuracy_mean"), 0u);
  EXPECT_NE(csv.find(",b128-s0;b128-s1\n"), std::string::npos) << csv;
}

TEST(SweepSummary, WriteSummaryIsReproducible) {
  maqd_test::TempDir dir;
  write_run(dir.str(), "a", {{"mw", 3}}, {0.5});
  write_run(dir.str(), "b", {{"mw", 15}}, {0.6});
  maqd::experiment::write_summary(dir.str());
  auto read = [&](const char* name) {
    std::ifstream in(fs::path(dir.str()) / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string csv = read("summary.csv"), md = read("summary.md");
  fs::remove(fs::path(dir.str()) / "summary.csv");
  maqd::experiment::write_summary(dir.str());
  EXPECT_EQ(read("summary.csv"), csv);
  EXPECT_EQ(read("summary.md"), md);
}

TEST(SweepSummary, ErrorsNameTheFile) {
  maqd_test::TempDir dir;
  EXPECT_THROW(maqd::experiment::load_runs(dir.file("missing")), maqd::Error);
  fs::create_directories(dir.file("bad"));
  std::ofstream(dir.file("bad/config.json")) << "{ not json";
  try {
    maqd::experiment::load_runs(dir.str());
    FAIL() << "bad JSON accepted";
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad/config.json"), std::string::npos) << e.what();
  }
}

}  // namespace
