// Small valid models for runtime tests. small_model() uses every op kind,
// both input_lut output dtypes, every pool_sum dtype pair, requant and
// gap_linear with one and two inputs, and every weight_bits (2, 4, 8) with
// the extreme codes of each; values are deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "maqd_rt/model.hpp"

namespace maqd_test {

// A deterministic value stream (not for statistics, just varied bytes).
class FixtureValues {
 public:
  explicit FixtureValues(uint64_t seed) : state_(seed * 6364136223846793005ull + 1442695040888963407ull) {}
  // Uniform-ish in [low, high].
  int64_t next(int64_t low, int64_t high) {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return low + int64_t((state_ >> 33) % uint64_t(high - low + 1));
  }

 private:
  uint64_t state_;
};

inline maqd_rt::Op fixture_op(maqd_rt::OpKind kind, const std::string& name,
                              std::vector<int32_t> inputs, int32_t output) {
  maqd_rt::Op op;
  op.kind = kind;
  op.name = name;
  op.inputs = std::move(inputs);
  op.output = output;
  return op;
}

// Codes for a conv: random within ±max_code, with the first two set to the
// extremes so every packing's edge values are exercised.
inline std::vector<int8_t> fixture_codes(FixtureValues& v, size_t count, int max_code) {
  std::vector<int8_t> codes(count);
  for (auto& c : codes) c = int8_t(v.next(-max_code, max_code));
  if (count >= 2) {
    codes[0] = int8_t(-max_code);
    codes[1] = int8_t(max_code);
  }
  return codes;
}

// A conv op whose `count` codes span the range its weight_bits packs
// (±1, ±7 or ±127).
inline maqd_rt::Op fixture_conv(FixtureValues& v, const std::string& name, int32_t input,
                                int32_t output, int32_t kernel, int32_t weight_bits, size_t count) {
  maqd_rt::Op op = fixture_op(maqd_rt::OpKind::kConv, name, {input}, output);
  op.kernel = kernel;
  op.weight_bits = weight_bits;
  op.weights = fixture_codes(v, count, weight_bits == 2 ? 1 : weight_bits == 4 ? 7 : 127);
  return op;
}

inline std::vector<int64_t> fixture_thresholds(FixtureValues& v, int32_t channels, int32_t levels) {
  std::vector<int64_t> t;
  for (int32_t c = 0; c < channels; ++c) {
    int64_t value = v.next(-5000, 0);
    for (int32_t k = 0; k + 1 < levels; ++k) {
      t.push_back(value);
      value += v.next(0, 3000);  // nondecreasing; equal neighbours allowed
    }
  }
  return t;
}

inline std::vector<float> fixture_floats(FixtureValues& v, size_t count) {
  std::vector<float> f(count);
  for (auto& x : f) x = float(v.next(-100000, 100000)) / 4096.0f;
  return f;
}

//   t0  u8  6x6x2  input
//   op0  input_lut "lut_i16"  t0 → t1 i16 6x6x2
//   op1  input_lut "lut_u8"   t0 → t2 u8  6x6x2
//   op2  conv "conv_8bit"  k3, 8 bits   t1 → t3 i32 6x6x3
//   op3  conv "conv_4bit"  k1, 4 bits   t2 → t4 i32 6x6x3
//   op4  requant "act1"  levels 4   t3, t4 → t5 u8 6x6x3
//   op5  pool_sum "pool_u8"   t5 → t6 i16 3x3x3
//   op6  conv "conv_2bit"  k3, 2 bits   t6 → t7 i32 3x3x5 (45·5 codes: not a multiple of 4)
//   op7  pool_sum "pool_i16"  t6 → t8 i32 1x1x3
//   op8  pool_sum "pool_i32"  t7 → t9 i32 1x1x5
//   op9  requant "act2"  levels 3   t7 → t10 u8 3x3x5
//   op10 gap_linear "fc"  t10, t7 → t11 f32 1x1x4
inline maqd_rt::Model small_model(uint64_t seed = 1) {
  using maqd_rt::DType;
  using maqd_rt::OpKind;
  FixtureValues v(seed);
  maqd_rt::Model m;
  m.text = {{"arch", "test-net"}, {"dataset", "fixture"}, {"norm", "lbn"}};
  m.integers = {{"classes", 4}, {"ma", 4}, {"mw", 3}, {"negative", -1234567890123ll}};
  m.tensors = {
      {DType::kU8, 6, 6, 2},  {DType::kI16, 6, 6, 2}, {DType::kU8, 6, 6, 2},
      {DType::kI32, 6, 6, 3}, {DType::kI32, 6, 6, 3}, {DType::kU8, 6, 6, 3},
      {DType::kI16, 3, 3, 3}, {DType::kI32, 3, 3, 5}, {DType::kI32, 1, 1, 3},
      {DType::kI32, 1, 1, 5}, {DType::kU8, 3, 3, 5},  {DType::kF32, 1, 1, 4},
  };

  auto lut_i16 = fixture_op(OpKind::kInputLut, "lut_i16", {0}, 1);
  for (int i = 0; i < 2 * 256; ++i) lut_i16.lut.push_back(int32_t(v.next(-32768, 32767)));
  lut_i16.lut[0] = -32768;
  lut_i16.lut[1] = 32767;
  auto lut_u8 = fixture_op(OpKind::kInputLut, "lut_u8", {0}, 2);
  for (int i = 0; i < 2 * 256; ++i) lut_u8.lut.push_back(int32_t(v.next(0, 255)));

  auto conv8 = fixture_conv(v, "conv_8bit", 1, 3, 3, 8, 3 * 3 * 3 * 2);
  auto conv4 = fixture_conv(v, "conv_4bit", 2, 4, 1, 4, 3 * 1 * 1 * 2);

  auto act1 = fixture_op(OpKind::kRequant, "act1", {3, 4}, 5);
  act1.levels = 4;
  for (int i = 0; i < 2 * 3; ++i) act1.multipliers.push_back(v.next(-(int64_t(1) << 30), int64_t(1) << 30));
  act1.thresholds = fixture_thresholds(v, 3, 4);

  auto pool_u8 = fixture_op(OpKind::kPoolSum, "pool_u8", {5}, 6);
  auto conv2 = fixture_conv(v, "conv_2bit", 6, 7, 3, 2, 5 * 3 * 3 * 3);
  auto pool_i16 = fixture_op(OpKind::kPoolSum, "pool_i16", {6}, 8);
  auto pool_i32 = fixture_op(OpKind::kPoolSum, "pool_i32", {7}, 9);

  auto act2 = fixture_op(OpKind::kRequant, "act2", {7}, 10);
  act2.levels = 3;
  for (int i = 0; i < 5; ++i) act2.multipliers.push_back(v.next(1, 1 << 20));
  act2.thresholds = fixture_thresholds(v, 5, 3);

  auto fc = fixture_op(OpKind::kGapLinear, "fc", {10, 7}, 11);
  fc.scale = fixture_floats(v, 2 * 5);
  fc.offset = fixture_floats(v, 5);
  fc.weight = fixture_floats(v, 4 * 5);
  fc.bias = fixture_floats(v, 4);
  fc.bias[0] = -0.0f;  // the sign of zero must survive the round trip

  m.ops = {lut_i16, lut_u8, conv8, conv4, act1, pool_u8, conv2, pool_i16, pool_i32, act2, fc};
  return m;
}

// The smallest valid model: input → gap_linear.
inline maqd_rt::Model tiny_model() {
  maqd_rt::Model m;
  m.tensors = {{maqd_rt::DType::kU8, 1, 1, 1}, {maqd_rt::DType::kF32, 1, 1, 2}};
  auto fc = fixture_op(maqd_rt::OpKind::kGapLinear, "", {0}, 1);
  fc.scale = {1.0f};
  fc.offset = {0.5f};
  fc.weight = {2.0f, -3.0f};
  fc.bias = {0.25f, 0.0f};
  m.ops = {fc};
  return m;
}

// An image classifier on 4×5 Netpbm-sized images (1 channel: PGM, 3: PPM):
// input → gap_linear into 3 named classes ("dark", "middle", "bright
// thing"), each weighing the channels' means differently, so the class
// follows the pixels.
inline maqd_rt::Model image_model(int32_t channels) {
  maqd_rt::Model m;
  m.tensors = {{maqd_rt::DType::kU8, 4, 5, channels}, {maqd_rt::DType::kF32, 1, 1, 3}};
  auto fc = fixture_op(maqd_rt::OpKind::kGapLinear, "fc", {0}, 1);
  fc.scale.assign(size_t(channels), 1.0f / 255);
  fc.offset.assign(size_t(channels), -0.5f);
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < channels; ++c) fc.weight.push_back(float((k + 1) * (c % 2 == 0 ? 1 : -1)) - 1.5f * float(k == 1));
  fc.bias = {0.1f, 0.0f, -0.1f};
  m.ops = {fc};
  m.text["class_names"] = "dark\nmiddle\nbright thing";
  return m;
}

}  // namespace maqd_test
