// Training end to end on a tiny IDX data set written by the test: an
// interrupted run resumed from its checkpoint reproduces the uninterrupted
// run's metrics exactly; checkpoints round-trip; configs reject bad fields.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/seed.h"
#include "data/fixtures.h"
#include "ops/reference.h"
#include "train/tiny_mnist.h"
#include "maqd/error.h"
#include "maqd/ops/code_conv.h"
#include "maqd/train/checkpoint.h"
#include "maqd/train/trainer.h"

namespace {

using maqd_test::Bytes;

maqd::train::TrainConfig tiny_config(const maqd_test::TempDir& data, const std::string& out) {
  maqd::train::TrainConfig c;
  c.dataset = "mnist";
  c.data_dir = data.str();
  c.arch = "(6C3)-AP-(8C3)-10C1-GAP";
  c.mw = 3;
  c.ma = 4;
  c.epochs = 2;
  c.batch_size = 16;
  c.lr = 0.05;
  c.threads = 1;
  c.workers = 2;
  c.out_dir = out;
  return c;
}

std::vector<nlohmann::json> read_metrics(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(maqd::train::metrics_path(out));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

void expect_same_epoch(const nlohmann::json& a, const nlohmann::json& b) {
  for (const char* key : {"epoch", "train_loss", "test_loss", "test_accuracy", "rw", "ra", "lr"})
    EXPECT_EQ(a.at(key), b.at(key)) << key;
  EXPECT_EQ(a.at("ra_layers"), b.at("ra_layers"));
  EXPECT_EQ(a.at("rw_layers"), b.at("rw_layers"));
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MAQD_SEEDED(seed);
    maqd_test::write_tiny_mnist(data_, seed);
    const auto reference = maqd::train::run_training(tiny_config(data_, out_.file("full")), false, {});
    ASSERT_FALSE(reference.interrupted);
    full_ = read_metrics(out_.file("full"));
    ASSERT_EQ(full_.size(), 2u);
  }

  // Interrupts when `should_stop` says so, then resumes to the end.
  void interrupt_and_resume(const std::string& name,
                            const std::function<bool(const maqd::train::StepProgress&)>& should_stop) {
    std::atomic<bool> stop{false};
    maqd::train::TrainCallbacks callbacks;
    callbacks.on_step = [&](const maqd::train::StepProgress& p) {
      if (should_stop(p)) stop = true;
    };
    const auto config = tiny_config(data_, out_.file(name));
    const auto first = maqd::train::run_training(config, false, callbacks, &stop);
    ASSERT_TRUE(first.interrupted);
    EXPECT_FALSE(std::filesystem::exists(maqd::train::checkpoint_path(config.out_dir) + ".tmp"));
    const auto second = maqd::train::run_training(config, true, {});
    ASSERT_FALSE(second.interrupted);
    EXPECT_EQ(second.epochs_done, 2);
    const auto resumed = read_metrics(config.out_dir);
    ASSERT_EQ(resumed.size(), 2u);
    expect_same_epoch(full_[0], resumed[0]);
    expect_same_epoch(full_[1], resumed[1]);
  }

  maqd_test::TempDir data_, out_;
  std::vector<nlohmann::json> full_;
};

TEST_F(ResumeTest, StoppedAfterEpochOneGivesTheSameEpochTwo) {
  // The stop flag is polled after each step: stopping at the first step of
  // epoch 2 leaves a checkpoint one batch past the epoch boundary.
  interrupt_and_resume("after-epoch-1", [](const auto& p) { return p.epoch == 2 && p.batch == 1; });
}

TEST_F(ResumeTest, StoppedMidEpochOneGivesTheSameMetrics) {
  interrupt_and_resume("mid-epoch-1", [](const auto& p) { return p.epoch == 1 && p.batch == 3; });
}

TEST_F(ResumeTest, TrainingLearnsAndCheckpointRoundTrips) {
  // The second epoch's training loss is below the first's.
  EXPECT_LT(full_[1].at("train_loss").get<double>(), full_[0].at("train_loss").get<double>());
  const std::string path = maqd::train::checkpoint_path(out_.file("full"));
  maqd::train::Checkpoint checkpoint;
  maqd::Network network = maqd::train::load_network(path, &checkpoint);
  EXPECT_EQ(checkpoint.state.epochs_done, 2);
  EXPECT_EQ(checkpoint.shape.channels, 1);
  EXPECT_EQ(checkpoint.shape.num_classes, 10);
  EXPECT_EQ(checkpoint.config.mw, 3);
  // The loaded network's R_w is the one the last epoch reported.
  EXPECT_DOUBLE_EQ(maqd::train::weight_nonzero_ratios(network).overall, full_[1].at("rw").get<double>());
}

TEST_F(ResumeTest, TraceAndTensorMemoryReachTheRunFolder) {
  // The full run's metrics carry the counted tensor memory of each epoch.
  for (const nlohmann::json& epoch : full_) {
    EXPECT_GT(epoch.at("peak_tensor_bytes").get<int64_t>(), 0);
    EXPECT_GT(epoch.at("step_tensor_bytes").get<int64_t>(), 0);
    EXPECT_GE(epoch.at("peak_tensor_bytes").get<int64_t>(), epoch.at("step_tensor_bytes").get<int64_t>());
  }
  auto config = tiny_config(data_, out_.file("traced"));
  config.trace_steps = 3;
  maqd::train::run_training(config, false, {});
  std::ifstream in(config.out_dir + "/trace.jsonl");
  std::vector<nlohmann::json> steps;
  for (std::string line; std::getline(in, line);) steps.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(steps.size(), 3u);  // the first 3 steps only
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].at("step").get<int64_t>(), int64_t(i + 1));
    ASSERT_EQ(steps[i].at("convs").size(), 2u);        // the two hidden convs
    ASSERT_EQ(steps[i].at("activations").size(), 2u);  // and their activations
    for (const nlohmann::json& conv : steps[i].at("convs")) {
      EXPECT_GT(conv.at("grad_norm").get<double>(), 0.0);
      EXPECT_GT(conv.at("rw").get<double>(), 0.0);
    }
    for (const nlohmann::json& act : steps[i].at("activations")) {
      EXPECT_GT(act.at("ra").get<double>(), 0.0);
      EXPECT_LE(act.at("ra").get<double>(), 1.0);
    }
  }
}

TEST_F(ResumeTest, NewRunRefusesToOverwriteACheckpoint) {
  const auto config = tiny_config(data_, out_.file("full"));
  try {
    maqd::train::run_training(config, false, {});
    FAIL() << "expected maqd::Error";
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
}

// Level counts stop where the runtime's 8-bit codes do (a step's cost grows
// with the levels, so 2^32 of them never finished a step).
TEST(TrainConfig, LevelsStayWithinWhatTheRuntimeHolds) {
  const auto error = [](const nlohmann::json& fields) -> std::string {
    try {
      maqd::train::config_from_json(fields, "cfg.json");
    } catch (const maqd::Error& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(error({{"mw", 255}, {"ma", 256}}), "accepted");
  EXPECT_EQ(error({{"mw", 127}, {"delta_w", "half"}}), "accepted");
  EXPECT_NE(error({{"mw", 257}}).find("field mw (M_w) is 257; expected 0 (float weights) or an odd integer from 3 "
                                      "to 255 (weight codes of 8 bits with delta_w floor)"),
            std::string::npos)
      << error({{"mw", 257}});
  EXPECT_NE(error({{"mw", 129}, {"delta_w", "half"}}).find("from 3 to 127 (weight codes of 8 bits with delta_w half)"),
            std::string::npos);
  EXPECT_NE(error({{"ma", 257}}).find("field ma (M_a) is 257; expected 0 (ReLU) or an integer from 2 to 256"),
            std::string::npos);
  EXPECT_NE(error({{"ma", 4294967300}}).find("field ma (M_a) is 4294967300"), std::string::npos);
  EXPECT_NE(error({{"ma", 1}}).find("field ma (M_a) is 1"), std::string::npos);
}

TEST(TrainConfig, JsonRejectsUnknownAndMistypedFields) {
  EXPECT_THROW(maqd::train::config_from_json({{"epochz", 3}}, "cfg.json"), maqd::Error);
  EXPECT_THROW(maqd::train::config_from_json({{"epochs", "three"}}, "cfg.json"), maqd::Error);
  EXPECT_THROW(maqd::train::config_from_json({{"mw", 4}}, "cfg.json"), maqd::Error);
  const auto c = maqd::train::config_from_json({{"mw", 15}, {"ma", 8}, {"lr", 1}}, "cfg.json");
  EXPECT_EQ(c.mw, 15);
  EXPECT_EQ(c.ma, 8);
  EXPECT_DOUBLE_EQ(c.lr, 1.0);
  // A run saved before lbn_shift_init existed started its shifts at zero.
  EXPECT_EQ(c.lbn_shift_init, "zero");
  EXPECT_EQ(maqd::train::TrainConfig{}.lbn_shift_init, "centered");
  EXPECT_EQ(maqd::train::config_from_json({{"lbn_shift_init", "centered"}}, "cfg.json").lbn_shift_init,
            "centered");
  EXPECT_THROW(maqd::train::config_from_json({{"lbn_shift_init", "mean"}}, "cfg.json"), maqd::Error);
  try {
    maqd::train::config_from_json({{"epochz", 3}}, "cfg.json");
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("epochz"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos);
  }
}

// Options are checked before any data set is loaded (validate runs first in
// train::run), so a bad width or thread count fails at once, naming it.
TEST(TrainConfig, ValidateRefusesBadWidthAndThreadCounts) {
  maqd::train::TrainConfig c;
  c.out_dir = "unused";
  EXPECT_NO_THROW(maqd::train::validate(c));
  for (double width : {-1.0, 0.0, std::nan("")}) {
    c.width = width;
    try {
      maqd::train::validate(c);
      ADD_FAILURE() << "width " << width << " accepted";
    } catch (const maqd::Error& e) {
      EXPECT_NE(std::string(e.what()).find("field width"), std::string::npos) << e.what();
    }
  }
  c.width = 0.25;
  c.threads = 100000;
  EXPECT_THROW(maqd::train::validate(c), maqd::Error);
  c.threads = 256;
  EXPECT_NO_THROW(maqd::train::validate(c));
}

TEST(TrainConfig, TestSplitIsAFractionOfAFolderSet) {
  maqd::train::TrainConfig c;
  c.out_dir = "unused";
  EXPECT_EQ(maqd::train::config_from_json({{"mw", 3}}, "cfg.json").test_split, 0);  // runs before the field
  c.test_split = 0.1;
  MAQD_EXPECT_ERROR(maqd::train::validate(c), "field test_split", "fashion-mnist", "with the folder data set");
  c.dataset = "folder";
  EXPECT_NO_THROW(maqd::train::validate(c));
  for (double split : {-0.1, 1.0, std::nan("")}) {
    c.test_split = split;
    EXPECT_THROW(maqd::train::validate(c), maqd::Error) << split;
  }
}

TEST(TrainConfig, ResizeIsASizeForAFolderSet) {
  maqd::train::TrainConfig c;
  c.out_dir = "unused";
  EXPECT_EQ(maqd::train::config_from_json({{"mw", 3}}, "cfg.json").resize, "");  // runs before the field
  c.resize = "32x32";
  MAQD_EXPECT_ERROR(maqd::train::validate(c), "field resize", "32x32", "fashion-mnist", "the folder data set");
  c.dataset = "folder";
  EXPECT_NO_THROW(maqd::train::validate(c));
  c.resize = "32";
  MAQD_EXPECT_ERROR(maqd::train::validate(c), "field resize", "'32'; expected HEIGHTxWIDTH or HEIGHTxWIDTH:crop");
  c.resize = "";
  EXPECT_NO_THROW(maqd::train::validate(c));
}

TEST(TrainConfig, PrecisionIsFloat32OrBf16WhereTheCpuRunsIt) {
  maqd::train::TrainConfig c;
  c.out_dir = "unused";
  EXPECT_EQ(c.precision, "float32");
  // Runs saved before the field existed trained in float32.
  EXPECT_EQ(maqd::train::config_from_json({{"mw", 3}}, "cfg.json").precision, "float32");
  c.precision = "fp16";
  MAQD_EXPECT_ERROR(maqd::train::validate(c), "field precision", "fp16", "float32 or bf16");
  c.precision = "bf16";
  EXPECT_NO_THROW(maqd::train::validate(c));
  c.device = "cuda";
  MAQD_EXPECT_ERROR(maqd::train::check_precision_runs_here(c), "precision", "cuda");
  c.device = "cpu";
  if (maqd::native_bf16_convolutions())
    EXPECT_NO_THROW(maqd::train::check_precision_runs_here(c));
  else
    MAQD_EXPECT_ERROR(maqd::train::check_precision_runs_here(c), "precision", "AVX-512 BF16");
}

// Under MAQD_ISA=avx2 oneDNN is capped below native bf16 on any CPU, so the
// tool must refuse --precision bf16 before it loads any data.
TEST(TrainConfig, ToolRefusesBf16BelowNativeBf16) {
  maqd_test::TempDir out;
  const std::string command = "MAQD_ISA=avx2 " + std::string(MAQD_CLI_EXE) +
                              " train --precision bf16 --data-dir " + out.str() + "/no-data --out " +
                              out.str() + "/run 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  EXPECT_NE(status, 0) << output;
  EXPECT_NE(output.find("field precision is 'bf16'"), std::string::npos) << output;
  EXPECT_NE(output.find("avx2"), std::string::npos) << output;
  EXPECT_EQ(output.find("no-data"), std::string::npos) << "data was read first: " << output;
}

TEST(TrainConfig, LearningRateScalesWithBatch) {
  maqd::train::TrainConfig c;
  c.lr = 0.1;
  c.batch_size = 64;
  EXPECT_DOUBLE_EQ(maqd::train::base_learning_rate(c), 0.1);
  c.lr_scale_batch = 128;
  EXPECT_DOUBLE_EQ(maqd::train::base_learning_rate(c), 0.05);
}

}  // namespace
