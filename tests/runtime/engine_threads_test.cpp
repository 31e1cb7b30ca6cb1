// The engine with several threads computes exactly what one thread does:
// batches split over images, and single images split over output channels
// (wide layers) or rows (narrow ones), with every layer's output compared.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "model_fixtures.h"

namespace {

using maqd_rt::DType;
using maqd_rt::OpKind;
using maqd_test::FixtureValues;
using maqd_test::fixture_conv;
using maqd_test::fixture_floats;
using maqd_test::fixture_op;
using maqd_test::fixture_thresholds;

// image 11×9×3 → table → conv 40 channels (3 groups of 16: a channel split
// for 2 and 3 threads, rows for 4) → 4 levels → pool → conv 20 on i16
// (rows: 2 groups) → 3 levels → head. Odd sizes leave uneven shares.
maqd_rt::Model wide_model() {
  FixtureValues v(7);
  maqd_rt::Model m;
  m.text = {{"arch", "threads-test"}};
  m.tensors = {{DType::kU8, 11, 9, 3},  {DType::kU8, 11, 9, 3}, {DType::kI32, 11, 9, 40},
               {DType::kU8, 11, 9, 40}, {DType::kI16, 5, 4, 40}, {DType::kI32, 5, 4, 20},
               {DType::kU8, 5, 4, 20},  {DType::kF32, 1, 1, 5}};
  auto lut = fixture_op(OpKind::kInputLut, "lut", {0}, 1);
  for (int i = 0; i < 3 * 256; ++i) lut.lut.push_back(int32_t(v.next(0, 255)));
  auto conv1 = fixture_conv(v, "conv1", 1, 2, 3, 8, 40 * 3 * 3 * 3);
  auto act1 = fixture_op(OpKind::kRequant, "act1", {2}, 3);
  act1.levels = 4;
  act1.multipliers.assign(40, 1);
  act1.thresholds = fixture_thresholds(v, 40, 4);
  auto pool = fixture_op(OpKind::kPoolSum, "pool", {3}, 4);
  auto conv2 = fixture_conv(v, "conv2", 4, 5, 3, 2, 20 * 3 * 3 * 40);
  auto act2 = fixture_op(OpKind::kRequant, "act2", {5}, 6);
  act2.levels = 3;
  act2.multipliers.assign(20, -1);
  act2.thresholds = fixture_thresholds(v, 20, 3);
  auto fc = fixture_op(OpKind::kGapLinear, "fc", {6}, 7);
  fc.scale = fixture_floats(v, 20);
  fc.offset = fixture_floats(v, 20);
  fc.weight = fixture_floats(v, 5 * 20);
  fc.bias = fixture_floats(v, 5);
  m.ops = {lut, conv1, act1, pool, conv2, act2, fc};
  maqd_rt::validate(m);
  return m;
}

std::vector<uint8_t> images(int64_t count) {
  FixtureValues v(11);
  std::vector<uint8_t> bytes(size_t(count) * 11 * 9 * 3);
  for (auto& b : bytes) b = uint8_t(v.next(0, 255));
  return bytes;
}

TEST(EngineThreads, EveryThreadCountComputesWhatOneThreadDoes) {
  const maqd_rt::Model model = wide_model();
  maqd_rt::EngineOptions one;
  one.keep_tensors = true;
  maqd_rt::Engine reference(model, one);
  for (int64_t batch : {1, 2, 3, 7}) {
    const std::vector<uint8_t> in = images(batch);
    std::vector<float> expected(size_t(batch) * 5);
    reference.run(in.data(), batch, expected.data());
    for (int threads : {2, 3, 4}) {
      maqd_rt::EngineOptions options;
      options.threads = threads;
      options.keep_tensors = true;
      maqd_rt::Engine engine(model, options);
      std::vector<float> logits(expected.size(), -1.0f);
      // Twice: the pool's second loop must not see the first one's state.
      for (int repeat = 0; repeat < 2; ++repeat) {
        engine.run(in.data(), batch, logits.data());
        ASSERT_EQ(std::memcmp(logits.data(), expected.data(), logits.size() * sizeof(float)), 0)
            << "batch " << batch << ", " << threads << " threads, repeat " << repeat;
      }
      if (batch == 1) {  // one image split over threads: every layer equal
        for (int32_t t = 1; t + 1 < int32_t(model.tensors.size()); ++t) {
          const size_t bytes = size_t(model.tensors[size_t(t)].elements()) *
                               maqd_rt::dtype_size(model.tensors[size_t(t)].dtype);
          EXPECT_EQ(std::memcmp(engine.tensor_data(t), reference.tensor_data(t), bytes), 0)
              << "tensor " << t << " with " << threads << " threads";
        }
      }
    }
  }
}

// image 11×9×3 → table → conv 24 → 2 levels → conv 20 (ternary, k3) → 2
// levels → head: binary × ternary on 99 positions, which AVX2 runs as
// weight tables with the requant after it in the conv's epilogue.
maqd_rt::Model binary_model() {
  FixtureValues v(5);
  maqd_rt::Model m;
  m.text = {{"arch", "fused-requant-test"}};
  m.tensors = {{DType::kU8, 11, 9, 3},  {DType::kU8, 11, 9, 3}, {DType::kI32, 11, 9, 24},
               {DType::kU8, 11, 9, 24}, {DType::kI32, 11, 9, 20}, {DType::kU8, 11, 9, 20},
               {DType::kF32, 1, 1, 5}};
  auto lut = fixture_op(OpKind::kInputLut, "lut", {0}, 1);
  for (int i = 0; i < 3 * 256; ++i) lut.lut.push_back(int32_t(v.next(0, 255)));
  auto conv1 = fixture_conv(v, "conv1", 1, 2, 3, 8, 24 * 3 * 3 * 3);
  auto act1 = fixture_op(OpKind::kRequant, "act1", {2}, 3);
  act1.levels = 2;
  act1.multipliers.assign(24, 1);
  act1.thresholds = fixture_thresholds(v, 24, 2);
  auto conv2 = fixture_conv(v, "conv2", 3, 4, 3, 2, 20 * 3 * 3 * 24);
  auto act2 = fixture_op(OpKind::kRequant, "act2", {4}, 5);
  act2.levels = 2;
  for (int32_t c = 0; c < 20; ++c) {  // both signs, thresholds inside the sums' range
    act2.multipliers.push_back(c % 3 == 0 ? -2 : 1);
    act2.thresholds.push_back(v.next(-40, 40));
  }
  auto fc = fixture_op(OpKind::kGapLinear, "fc", {5}, 6);
  fc.scale = fixture_floats(v, 20);
  fc.offset = fixture_floats(v, 20);
  fc.weight = fixture_floats(v, 5 * 20);
  fc.bias = fixture_floats(v, 5);
  m.ops = {lut, conv1, act1, conv2, act2, fc};
  maqd_rt::validate(m);
  return m;
}

// A conv whose kernel runs the requant after it (kernels::conv_requant)
// computes what the two ops do apart (keep_tensors, which runs them
// apart), on 1-3 threads, split images and split batches; the profile
// names the pair.
TEST(EngineThreads, AConvWithTheRequantInItsKernelComputesWhatTheOpsDoApart) {
  const maqd_rt::Model model = binary_model();
  maqd_rt::EngineOptions apart;
  apart.keep_tensors = true;
  maqd_rt::Engine reference(model, apart);
  for (int64_t batch : {1, 4}) {
    const std::vector<uint8_t> in = images(batch);
    std::vector<float> expected(size_t(batch) * 5);
    reference.run(in.data(), batch, expected.data());
    for (int threads : {1, 2, 3}) {
      maqd_rt::EngineOptions options;
      options.threads = threads;
      options.profile = true;
      maqd_rt::Engine engine(model, options);
      std::vector<float> logits(expected.size(), -1.0f);
      engine.run(in.data(), batch, logits.data());
      EXPECT_EQ(std::memcmp(logits.data(), expected.data(), logits.size() * sizeof(float)), 0)
          << "batch " << batch << ", " << threads << " threads";
      const bool fused = engine.op_kernel(3).find(", requant") != std::string::npos;
      EXPECT_EQ(fused, std::string(engine.isa()) == "avx2") << engine.op_kernel(3);
      EXPECT_EQ(engine.op_kernel(4), fused ? "in the conv before" : "");
      EXPECT_EQ(engine.op_seconds()[4] == 0.0, fused);
      EXPECT_EQ(reference.op_kernel(3).find(", requant"), std::string::npos);
    }
  }
}

// --profile's numbers: every op is charged time whether the batch splits
// over images or one image over threads, and the convs name their kernel.
TEST(EngineThreads, ProfileChargesEveryOpAndNamesTheConvKernels) {
  const maqd_rt::Model model = wide_model();
  for (int64_t batch : {1, 4}) {
    maqd_rt::EngineOptions options;
    options.threads = 2;
    options.profile = true;
    maqd_rt::Engine engine(model, options);
    const std::vector<uint8_t> in = images(batch);
    std::vector<float> logits(size_t(batch) * 5);
    engine.run(in.data(), batch, logits.data());
    const std::vector<double> first = engine.op_seconds();
    ASSERT_EQ(first.size(), model.ops.size());
    engine.run(in.data(), batch, logits.data());
    const std::vector<double> second = engine.op_seconds();
    for (size_t i = 0; i < model.ops.size(); ++i) {
      EXPECT_GT(first[i], 0.0) << "op " << i << ", batch " << batch;
      EXPECT_GT(second[i], first[i]) << "op " << i << " not accumulated, batch " << batch;
      const std::string kernel = engine.op_kernel(i);
      if (model.ops[i].kind == OpKind::kConv) {
        // (A neondot engine runs the neon kernel where SDOT cannot take the inputs.)
        const std::string isa = engine.isa();
        const bool isas_kernel = kernel.rfind(isa + " ", 0) == 0 ||
                                 (isa == "neondot" && kernel.rfind("neon ", 0) == 0);
        EXPECT_TRUE(isas_kernel) << kernel << " is not a kernel of the engine's ISA " << isa;
      } else {
        EXPECT_EQ(kernel, "") << "op " << i;
      }
    }
  }
  maqd_rt::Engine plain(model);
  EXPECT_THROW(plain.op_seconds(), maqd_rt::Error);
  EXPECT_THROW(plain.op_kernel(model.ops.size()), maqd_rt::Error);
}

// A mistyped thread count is refused at once instead of starting 100000
// threads with an arena slot each.
TEST(EngineThreads, RefusesCountsOutsideTheBound) {
  const maqd_rt::Model model = wide_model();
  for (int threads : {0, -3, maqd_rt::kMaxEngineThreads + 1, 100000}) {
    maqd_rt::EngineOptions options;
    options.threads = threads;
    try {
      maqd_rt::Engine engine(model, options);
      ADD_FAILURE() << threads << " threads accepted";
    } catch (const maqd_rt::Error& e) {
      EXPECT_NE(std::string(e.what()).find("threads is " + std::to_string(threads)), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
