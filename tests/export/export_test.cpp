// Export + runtime against LibTorch: a tiny network is trained for a few
// steps (so running statistics and weights are far from their initial
// values), exported, written and read back, and run by maqd-rt on every ISA
// this CPU has. Every activation layer's codes and the predictions must
// match LibTorch's evaluation of the same network (issue 5: ≥ 99.9 %; a
// difference can only be a rounding tie).
#include <cmath>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "maqd/export/export.h"
#include "maqd/train/config.h"
#include "maqd/train/trainer.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"
#include "runtime/naive_interpreter.h"

namespace {

struct Case {
  std::string arch;
  int64_t mw, ma;
  std::string delta_w = "floor";
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.arch << " M_w " << c.mw << " M_a " << c.ma << " delta_w " << c.delta_w;
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string arch = info.param.arch.find('B') != std::string::npos ? "preact" : "vgg";
  return arch + "_mw" + std::to_string(info.param.mw) + "_ma" + std::to_string(info.param.ma) +
         (info.param.delta_w == "half" ? "_half" : "");
}

constexpr int64_t kChannels = 3, kSize = 12, kClasses = 5, kImages = 400;

struct Trained {
  maqd::Network network{nullptr};
  maqd::data::ChannelStats stats;
  torch::Tensor images;  // u8 [N, C, H, W]
};

// A few SGD steps on random images; returns the network in eval mode.
Trained train_tiny(const Case& c, uint64_t seed) {
  torch::manual_seed(seed);
  maqd::train::TrainConfig config;
  config.arch = c.arch;
  config.width = 1.0;
  config.mw = c.mw;
  config.ma = c.ma;
  config.delta_w = c.delta_w;
  config.lr = 0.05;
  Trained t;
  t.network = maqd::Network(maqd::train::network_options(config, kChannels, kSize, kSize, kClasses));
  t.stats.mean = {0.3, 0.5, 0.6};
  t.stats.std = {0.25, 0.2, 0.3};
  // Trained on the first 96, evaluated on all: one near-tie early in an
  // image changes the codes after it, so the 0.1 % bound needs a few hundred.
  t.images = torch::randint(0, 256, {kImages, kChannels, kSize, kSize}, torch::kUInt8);
  const torch::Tensor labels = torch::randint(0, kClasses, {kImages}, torch::kLong);
  const torch::Tensor input = maqd::data::normalize(t.images, t.stats);
  auto optimizer = maqd::train::make_optimizer(t.network, config);
  t.network->train();
  for (int step = 0; step < 12; ++step) {
    const int64_t b = (step % 3) * 32;
    maqd::train::train_step(t.network, optimizer, input.slice(0, b, b + 32),
                            labels.slice(0, b, b + 32), maqd::train::loss_options(config));
  }
  // Training keeps every normalization scale positive; export must also
  // handle negative scales (codes fall as the accumulator grows) and zero
  // ones (a constant code), so give some channels those.
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : t.network->named_parameters()) {
      const std::string& name = p.key();
      if (p.value().dim() != 1 || name.find("norm") == std::string::npos ||
          name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0)
        continue;
      torch::Tensor w = p.value();
      w.slice(0, 0, w.size(0), 3).neg_();
      if (w.size(0) > 4) w[4].zero_();
    }
  }
  t.network->eval();
  return t;
}

class ExportMatchesLibTorch : public testing::TestWithParam<Case> {};

TEST_P(ExportMatchesLibTorch, CodesAndPredictionsOnEveryIsa) {
  MAQD_SEEDED(seed);
  const Case& c = GetParam();
  Trained t = train_tiny(c, seed);

  // Through the file format, as a user would.
  const maqd_rt::Model exported = maqd::export_model(t.network, t.stats, {{"dataset", "test"}});
  const std::vector<uint8_t> bytes = maqd_rt::write_model(exported);
  const maqd_rt::Model model = maqd_rt::read_model(bytes.data(), bytes.size(), "<test>");

  // The engine computes what a naive interpreter of the file does, on 1-3
  // threads, at batch 1 and 5, with and without shared buffers.
  const torch::Tensor nhwc = t.images.slice(0, 0, 5).permute({0, 2, 3, 1}).contiguous();
  const std::vector<uint8_t> first_images(nhwc.data_ptr<uint8_t>(), nhwc.data_ptr<uint8_t>() + nhwc.numel());
  maqd_test::expect_engine_matches_naive(model, first_images);
  // The core (the firmware's path) computes the engine's logits bit for bit.
  maqd_test::expect_core_matches_engine(model, first_images, 5);

  int tested = 0;
  std::vector<int64_t> float_matching;  // per layer, on the last ISA tested
  for (const char* isa : {"scalar", "avx2", "avx512"}) {
    setenv("MAQD_ISA", isa, 1);
    std::string used;
    const maqd::Agreement a = maqd::compare_with_libtorch(t.network, t.stats, model, t.images, &used);
    unsetenv("MAQD_ISA");
    if (used != isa) continue;  // this CPU lacks it
    ++tested;
    EXPECT_EQ(a.images, kImages);
    EXPECT_FALSE(a.layers.empty());
    for (const maqd::LayerAgreement& l : a.layers) {
      EXPECT_GT(l.total, 0) << l.name;
      EXPECT_GE(double(l.matching), 0.999 * double(l.total))
          << isa << ": layer " << l.name << ": " << l.total - l.matching << " of " << l.total
          << " codes differ";
    }
    EXPECT_GE(double(a.matching_predictions), 0.999 * double(a.images))
        << isa << ": predictions differ on " << a.images - a.matching_predictions << " images";
    float_matching.clear();
    for (const maqd::LayerAgreement& l : a.layers) float_matching.push_back(l.matching);
  }
  EXPECT_GE(tested, 1);

  // LibTorch in float64 on the trained (float32) weight codes agrees as well,
  // and leaves the network as it was: float32, giving the same codes again.
  // The engine users run, on 3 threads at 7 images per call (400 is no
  // multiple of 7), gives keep_tensors' logits bit for bit (it throws if not).
  maqd::CompareOptions exact_options;
  exact_options.reference = torch::kDouble;
  exact_options.threads = 3;
  exact_options.batch = 7;
  const maqd::Agreement exact =
      maqd::compare_with_libtorch(t.network, t.stats, model, t.images, nullptr, exact_options);
  EXPECT_EQ(exact.images, kImages);
  maqd::CompareOptions no_threads, no_batch;
  no_threads.threads = 0;
  no_batch.batch = 0;
  EXPECT_THROW(maqd::compare_with_libtorch(t.network, t.stats, model, t.images, nullptr, no_threads),
               maqd::Error);
  EXPECT_THROW(maqd::compare_with_libtorch(t.network, t.stats, model, t.images, nullptr, no_batch), maqd::Error);
  for (const maqd::LayerAgreement& l : exact.layers)
    EXPECT_GE(double(l.matching), 0.999 * double(l.total))
        << "float64: layer " << l.name << ": " << l.total - l.matching << " codes differ";
  for (const torch::Tensor& p : t.network->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  const maqd::Agreement again = maqd::compare_with_libtorch(t.network, t.stats, model, t.images);
  ASSERT_EQ(again.layers.size(), float_matching.size());
  for (size_t l = 0; l < float_matching.size(); ++l)
    EXPECT_EQ(again.layers[l].matching, float_matching[l]) << again.layers[l].name;
}

INSTANTIATE_TEST_SUITE_P(
    AllLevelPairs, ExportMatchesLibTorch,
    testing::Values(Case{"(8C3)x2-AP-16C3-AP-24C3-10C1-GAP", 3, 2},
                    Case{"(8C3)x2-AP-16C3-AP-24C3-10C1-GAP", 3, 4},
                    Case{"(8C3)x2-AP-16C3-AP-24C3-10C1-GAP", 15, 8},
                    Case{"(8C3)x2-AP-16C3-AP-24C3-10C1-GAP", 255, 8},
                    Case{"(8C3)x2-AP-16C3-AP-24C3-10C1-GAP", 3, 4, "half"},
                    Case{"8B1-16B2-24B2-10C1-GAP", 3, 2}, Case{"8B1-16B2-24B2-10C1-GAP", 3, 4},
                    Case{"8B1-16B2-24B2-10C1-GAP", 15, 8}, Case{"8B1-16B2-24B2-10C1-GAP", 255, 8}),
    case_name);

TEST(Export, RejectsNetworksThatDoNotFold) {
  maqd::train::TrainConfig config;
  config.arch = "(8C3)-10C1-GAP";
  maqd::data::ChannelStats stats{{0.5, 0.5, 0.5}, {0.2, 0.2, 0.2}};
  {
    maqd::Network float_net(maqd::train::network_options(config, 3, 8, 8, 10));
    EXPECT_THROW(
        {
          try {
            maqd::export_model(float_net, stats);
          } catch (const maqd::Error& e) {
            EXPECT_NE(std::string(e.what()).find("no --mw"), std::string::npos) << e.what();
            throw;
          }
        },
        maqd::Error);
  }
  config.mw = 3;
  config.ma = 2;
  config.norm = "ln";
  maqd::Network ln_net(maqd::train::network_options(config, 3, 8, 8, 10));
  EXPECT_THROW(
      {
        try {
          maqd::export_model(ln_net, stats);
        } catch (const maqd::Error& e) {
          EXPECT_NE(std::string(e.what()).find("ln"), std::string::npos) << e.what();
          throw;
        }
      },
      maqd::Error);
  // Training refuses these counts now; a network built directly is refused here, naming M_a.
  config.norm = "lbn";
  config.ma = maqd::kMaxActivationLevels + 1;
  maqd::Network wide_net(maqd::train::network_options(config, 3, 8, 8, 10));
  try {
    maqd::export_model(wide_net, stats);
    ADD_FAILURE() << "M_a 257 was exported";
  } catch (const maqd::Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "M_a is 257; the runtime stores activation codes in 8 bits: expected M_a ≤ 256"),
              std::string::npos)
        << e.what();
  }
}

TEST(Export, PacksTernaryWeightsInTwoBits) {
  maqd::train::TrainConfig config;
  config.arch = "(8C3)x2-10C1-GAP";
  config.mw = 3;
  config.ma = 2;
  maqd::Network net(maqd::train::network_options(config, 3, 8, 8, 10));
  net->eval();
  const maqd_rt::Model model = maqd::export_model(net, {{0.5, 0.5, 0.5}, {0.2, 0.2, 0.2}});
  int convs = 0;
  for (const maqd_rt::Op& op : model.ops)
    if (op.kind == maqd_rt::OpKind::kConv) {
      EXPECT_EQ(op.weight_bits, 2) << op.name;
      ++convs;
    }
  EXPECT_EQ(convs, 3);  // the first conv twice: it reads the image in two fixed-point parts
}

// `maqd info` and the exporter take the bits per code from one rule; the
// model's weight_bits follows it for every M_w and delta_w, including the
// half-mode codes that reach M_w (9 levels: |code| up to 9, so 8 bits).
TEST(Export, WeightBitsFollowTheOneRule) {
  using maqd::WeightDelta;
  const struct {
    int64_t levels;
    WeightDelta delta;
    int32_t bits;
  } cases[] = {{3, WeightDelta::kFloor, 2},  {15, WeightDelta::kFloor, 4},
               {17, WeightDelta::kFloor, 8}, {255, WeightDelta::kFloor, 8},
               {3, WeightDelta::kHalf, 4},   {7, WeightDelta::kHalf, 4},
               {9, WeightDelta::kHalf, 8},   {13, WeightDelta::kHalf, 8}};
  for (const auto& c : cases) {
    maqd::WeightQuantOptions q;
    q.levels = c.levels;
    q.delta = c.delta;
    EXPECT_EQ(maqd::packed_weight_bits(q), c.bits) << "M_w " << c.levels;
  }
  maqd::train::TrainConfig config;
  config.arch = "(8C3)x2-10C1-GAP";
  config.mw = 9;
  config.ma = 2;
  config.delta_w = "half";
  maqd::Network net(maqd::train::network_options(config, 3, 8, 8, 10));
  net->eval();
  const maqd_rt::Model model = maqd::export_model(net, {{0.5, 0.5, 0.5}, {0.2, 0.2, 0.2}});
  for (const maqd_rt::Op& op : model.ops)
    if (op.kind == maqd_rt::OpKind::kConv) EXPECT_EQ(op.weight_bits, 8) << op.name;
}

}  // namespace
