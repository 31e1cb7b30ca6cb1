// Files made as an attacker would: within the format's rules, but asking for
// more than the machine has, sharing one array between many ops, or carrying
// bytes meant for a terminal. Each gets a bounded answer and a whole,
// printable message, with its own status code.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "runtime/format_bytes.h"

namespace {

using maqd_rt::DType;
using maqd_rt::OpKind;
using maqd_rt::Status;
using maqd_test::FixtureValues;
using maqd_test::fixture_conv;
using maqd_test::fixture_floats;
using maqd_test::fixture_op;
using maqd_test::fixture_thresholds;

// A gap_linear head over `channels` channels of tensor `input` into `output`.
maqd_rt::Op head(FixtureValues& v, int32_t input, int32_t output, int32_t channels, int32_t classes) {
  auto fc = fixture_op(OpKind::kGapLinear, "fc", {input}, output);
  fc.scale = fixture_floats(v, size_t(channels));
  fc.offset = fixture_floats(v, size_t(channels));
  fc.weight = fixture_floats(v, size_t(classes) * size_t(channels));
  fc.bias = fixture_floats(v, size_t(classes));
  return fc;
}

// image H×W×1 → table (u8) → [conv k3 → i32] → head: every tensor as big as
// the format allows for its shape, and only a few hundred bytes of arrays.
maqd_rt::Model huge_model(int32_t height, int32_t width, bool with_conv) {
  FixtureValues v(3);
  maqd_rt::Model m;
  m.tensors = {{DType::kU8, height, width, 1}, {DType::kU8, height, width, 1}};
  auto lut = fixture_op(OpKind::kInputLut, "lut", {0}, 1);
  for (int i = 0; i < 256; ++i) lut.lut.push_back(int32_t(v.next(0, 3)));
  m.ops = {lut};
  int32_t last = 1;
  if (with_conv) {
    m.tensors.push_back({DType::kI32, height, width, 1});
    m.ops.push_back(fixture_conv(v, "conv", 1, 2, 3, 2, 9));
    last = 2;
  }
  m.tensors.push_back({DType::kF32, 1, 1, 2});
  m.ops.push_back(head(v, last, last + 1, 1, 2));
  return m;
}

// The Error an Engine built from `bytes` (read back as `name`) throws; a
// failure if it accepts them.
maqd_rt::Error engine_refusal(const std::vector<uint8_t>& bytes, const std::string& name) {
  maqd_rt::Model model = maqd_rt::read_model(bytes.data(), bytes.size(), name);
  try {
    maqd_rt::Engine engine(std::move(model));
  } catch (const maqd_rt::Error& e) {
    return e;
  }
  ADD_FAILURE() << name << ": accepted";
  return maqd_rt::Error("accepted");
}

// 46340² u8 elements are just under the format's 2^31 cap: a valid file of
// about 2 KB whose tensors take 2 GiB each.
TEST(HostileFile, TinyFileClaimingHugeTensorsIsRefusedByTheArenaLimit) {
  const std::vector<uint8_t> bytes = maqd_rt::write_model(huge_model(46340, 46340, false));
  ASSERT_LT(bytes.size(), 4096u);
  const maqd_rt::Error e = engine_refusal(bytes, "huge.maqd");  // 2 GiB per thread
  EXPECT_EQ(e.status(), Status::kLimitExceeded) << e.what();
  const std::string message = e.what();
  EXPECT_NE(message.find("largest tensor is 1 (output of op 0 'lut', u8 46340x46340x1"), std::string::npos)
      << message;
  EXPECT_NE(message.find("max_arena_bytes"), std::string::npos) << message;
  maqd_rt_model* handle = nullptr;
  EXPECT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 1, &handle), MAQD_RT_LIMIT_EXCEEDED);
  EXPECT_EQ(handle, nullptr);
}

// A 2147483647×1 input under a 3×3 conv: the padded sizes the kernels plan
// with are past int32 (they overflowed before), and the arena is refused.
TEST(HostileFile, ConvOverTheLongestMapIsPlannedIn64BitsAndRefused) {
  const std::vector<uint8_t> bytes = maqd_rt::write_model(huge_model(2147483647, 1, true));
  ASSERT_LT(bytes.size(), 4096u);
  const maqd_rt::Error e = engine_refusal(bytes, "long.maqd");  // 10 GiB per thread
  EXPECT_EQ(e.status(), Status::kLimitExceeded) << e.what();
}

// The limit is the caller's: a normal model is refused one byte under its
// arena and accepted at it.
TEST(HostileFile, TheArenaLimitIsTheCallers) {
  const maqd_rt::Model model = maqd_test::small_model(5);
  const size_t arena = maqd_rt::Engine(model).arena_bytes();
  maqd_rt::EngineOptions tight;
  tight.max_arena_bytes = arena - 1;
  EXPECT_THROW(maqd_rt::Engine(model, tight), maqd_rt::Error);
  tight.max_arena_bytes = arena;
  EXPECT_EQ(maqd_rt::Engine(model, tight).arena_bytes(), arena);
}

// Two ops pointing at one array: refused before anything is copied, so a
// file of N ops sharing one large array cannot cost N copies.
TEST(HostileFile, ArraysSharedBetweenOpsAreRefused) {
  std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(6));
  // op 3 (conv_4bit) takes op 2's (conv_8bit) weights array.
  const size_t weights_slot = 1;
  const size_t op2_ref = maqd_test::op_record(bytes, 2) + 32 + 16 * weights_slot;
  const size_t op3_ref = maqd_test::op_record(bytes, 3) + 32 + 16 * weights_slot;
  maqd_test::put_le(bytes, op3_ref, maqd_test::get_le(bytes, op2_ref, 8), 8);
  maqd_test::reseal(bytes);
  try {
    maqd_rt::read_model(bytes.data(), bytes.size(), "shared.maqd");
    FAIL() << "an array shared by two ops was accepted";
  } catch (const maqd_rt::Error& e) {
    EXPECT_EQ(e.status(), Status::kBadFile);
    const std::string message = e.what();
    EXPECT_NE(message.find("op 3 weights offset"), std::string::npos) << message;
    EXPECT_NE(message.find("not shared"), std::string::npos) << message;
  }
}

// Names and keys are bytes from the file: quoted escaped and cut short.
TEST(HostileFile, ControlBytesInNamesNeverReachTheMessage) {
  EXPECT_EQ(maqd_rt::printable(std::string("a\0b\x1b[31m\\", 9)), "a\\x00b\\x1B[31m\\x5C");
  const std::string shown = maqd_rt::printable(std::string(1000, 'n'));
  EXPECT_EQ(shown, std::string(64, 'n') + "... (1000 bytes)");

  maqd_rt::Model model = maqd_test::small_model(7);
  model.ops[2].name = std::string("conv\0\x1b]0;pwned\x07", 15);
  model.ops[2].kernel = 2;  // even: invalid, so validate names the op
  try {
    maqd_rt::validate(model);
    FAIL() << "an even kernel was accepted";
  } catch (const maqd_rt::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'conv\\x00\\x1B]0;pwned\\x07'"), std::string::npos) << message;
    EXPECT_NE(message.find("kernel"), std::string::npos) << message;
    for (char c : message) EXPECT_FALSE(c >= 0 && c < 0x20) << int(c) << " in " << message;
  }
}

// image 5×4×3 → table → (conv k1 → requant) × pairs → head. With
// keep_tensors every tensor stays live to the end, past the planner's bound
// on the buffers it searches (64): the ones after it go one after another.
maqd_rt::Model chain_model(int pairs) {
  FixtureValues v(9);
  maqd_rt::Model m;
  m.tensors = {{DType::kU8, 5, 4, 3}, {DType::kU8, 5, 4, 3}};
  auto lut = fixture_op(OpKind::kInputLut, "lut", {0}, 1);
  for (int i = 0; i < 3 * 256; ++i) lut.lut.push_back(int32_t(v.next(0, 3)));
  m.ops = {lut};
  for (int p = 0; p < pairs; ++p) {
    const int32_t in = int32_t(m.tensors.size()) - 1;
    m.tensors.push_back({DType::kI32, 5, 4, 3});
    m.tensors.push_back({DType::kU8, 5, 4, 3});
    m.ops.push_back(fixture_conv(v, "conv" + std::to_string(p), in, in + 1, 1, 2, 3 * 3));
    auto act = fixture_op(OpKind::kRequant, "act" + std::to_string(p), {in + 1}, in + 2);
    act.levels = 4;
    act.multipliers.assign(3, 1);
    act.thresholds = {-1, 0, 1, -1, 0, 1, -1, 0, 1};
    m.ops.push_back(act);
  }
  const int32_t last = int32_t(m.tensors.size()) - 1;
  m.tensors.push_back({DType::kF32, 1, 1, 2});
  m.ops.push_back(head(v, last, last + 1, 3, 2));
  maqd_rt::validate(m);
  return m;
}

TEST(HostileFile, ManyLiveTensorsArePlannedWithoutOverlap) {
  std::vector<uint8_t> image(60);
  for (size_t i = 0; i < image.size(); ++i) image[i] = uint8_t(i * 37);
  maqd_rt::EngineOptions keep;
  keep.keep_tensors = true;
  maqd_rt::Engine deep(chain_model(40), keep), shared(chain_model(40));
  std::vector<float> kept_logits(2), shared_logits(2);
  deep.run(image.data(), 1, kept_logits.data());
  shared.run(image.data(), 1, shared_logits.data());
  EXPECT_EQ(std::memcmp(kept_logits.data(), shared_logits.data(), 8), 0);
  // Each kept tensor still holds what the same layers compute alone: had a
  // later tensor been placed over it, it would hold that one's values.
  for (int pairs : {1, 30, 40}) {
    maqd_rt::Engine shallow(chain_model(pairs), keep);
    std::vector<float> logits(2);
    shallow.run(image.data(), 1, logits.data());
    for (int32_t t = 1; t <= 2 * pairs + 1; ++t) {
      const size_t bytes = size_t(deep.model().tensors[size_t(t)].elements()) *
                           maqd_rt::dtype_size(deep.model().tensors[size_t(t)].dtype);
      EXPECT_EQ(std::memcmp(deep.tensor_data(t), shallow.tensor_data(t), bytes), 0)
          << "tensor " << t << " of the 40-pair chain against the " << pairs << "-pair one";
    }
  }
}

}  // namespace
