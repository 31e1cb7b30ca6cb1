// validate(): each family of graph rules in model.hpp rejects a broken model
// with a message that names the op and the field.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt/error.hpp"
#include "maqd_rt/model.hpp"
#include "runtime/model_fixtures.h"

namespace {

using maqd_rt::DType;
using maqd_rt::Model;
using maqd_rt::OpKind;

struct Break {
  std::string what;
  std::function<void(Model&)> apply;
  std::string expected;  // a piece of the message: the op, the field, the rule
};

// Applies each break to a fresh small_model() and checks validate() names it.
void expect_each_rejected(const std::vector<Break>& breaks) {
  for (const Break& b : breaks) {
    SCOPED_TRACE(b.what);
    Model m = maqd_test::small_model();
    b.apply(m);
    try {
      maqd_rt::validate(m);
      ADD_FAILURE() << "validate accepted the model";
    } catch (const maqd_rt::Error& e) {
      EXPECT_NE(std::string(e.what()).find(b.expected), std::string::npos)
          << "message: " << e.what() << "\nexpected to contain: " << b.expected;
    }
  }
}

TEST(Validate, AcceptsTheFixtures) {
  EXPECT_NO_THROW(maqd_rt::validate(maqd_test::small_model()));
  EXPECT_NO_THROW(maqd_rt::validate(maqd_test::tiny_model()));
  EXPECT_EQ(maqd_test::small_model().num_classes(), 4);
}

// The ranges validate() proves are the ones the engine picks kernels from:
// each kind's rule on the small fixture (model_fixtures.h lists its ops).
TEST(Validate, ReturnsEachTensorsValueRange) {
  const Model m = maqd_test::small_model();
  const std::vector<maqd_rt::ValueRange> r = maqd_rt::validate(m);
  ASSERT_EQ(r.size(), m.tensors.size());
  const auto expect = [&](size_t t, int64_t low, int64_t high) {
    EXPECT_EQ(r[t].low, low) << "tensor " << t;
    EXPECT_EQ(r[t].high, high) << "tensor " << t;
  };
  expect(0, 0, 255);                    // the image
  expect(1, -32768, 32767);             // lut_i16: its table's extremes (set by the fixture)
  const auto& lut = m.ops[1].lut;       // lut_u8: its table's min and max
  expect(2, *std::min_element(lut.begin(), lut.end()), *std::max_element(lut.begin(), lut.end()));
  EXPECT_EQ(r[3].low, -r[3].high);      // conv_8bit: symmetric worst case
  EXPECT_GT(r[3].high, 0);
  expect(5, 0, 3);                      // act1: levels 4
  expect(6, 0, 12);                     // pool_u8 of act1: 4·3
  expect(10, 0, 2);                     // act2: levels 3
  expect(11, 0, 0);                     // the float logits
  EXPECT_EQ((maqd_rt::ValueRange{-7, 5}).magnitude(), 7);
  EXPECT_EQ((maqd_rt::ValueRange{-3, 5}).magnitude(), 5);
}

TEST(Validate, NamesAndSizes) {
  EXPECT_EQ(maqd_rt::dtype_size(DType::kU8), 1u);
  EXPECT_EQ(maqd_rt::dtype_size(DType::kI16), 2u);
  EXPECT_EQ(maqd_rt::dtype_size(DType::kI32), 4u);
  EXPECT_EQ(maqd_rt::dtype_size(DType::kF32), 4u);
  EXPECT_THROW(maqd_rt::dtype_size(DType(9)), maqd_rt::Error);
  EXPECT_STREQ(maqd_rt::dtype_name(DType::kI16), "i16");
  EXPECT_STREQ(maqd_rt::op_kind_name(OpKind::kGapLinear), "gap_linear");
  EXPECT_THROW(Model().num_classes(), maqd_rt::Error);
}

TEST(Validate, Tensors) {
  expect_each_rejected({
      {"no tensors", [](Model& m) { m.tensors.clear(); }, "model: tensors: has 0"},
      {"input not u8", [](Model& m) { m.tensors[0].dtype = DType::kI16; },
       "tensor 0 (the input): dtype is i16; expected u8"},
      {"zero height", [](Model& m) { m.tensors[0].height = 0; }, "tensor 0: shape: is u8 0x6x2"},
      {"negative channels", [](Model& m) { m.tensors[3].channels = -3; }, "tensor 3: shape"},
      {"unknown dtype", [](Model& m) { m.tensors[3].dtype = DType(7); }, "tensor 3: dtype: is 7"},
      {"too many elements", [](Model& m) { m.tensors[3] = {DType::kI32, 65536, 65536, 1}; },
       "tensor 3: shape: i32 65536x65536x1 has more than 2147483647 elements"},
      {"elements overflow int64", [](Model& m) {
         const int32_t big = std::numeric_limits<int32_t>::max();
         m.tensors[3] = {DType::kI32, big, big, big};
       },
       "has more than"},
  });
}

TEST(Validate, GraphOrder) {
  expect_each_rejected({
      {"no ops", [](Model& m) { m.ops.clear(); }, "model: ops: has 0"},
      {"input out of range", [](Model& m) { m.ops[2].inputs = {40}; },
       "op 2 'conv_8bit' (conv): inputs[0]: is 40; expected a tensor index 0..11"},
      {"negative input", [](Model& m) { m.ops[2].inputs = {-1}; }, "op 2 'conv_8bit' (conv): inputs[0]: is -1"},
      {"read before write", [](Model& m) { m.ops[2].inputs = {5}; },
       "op 2 'conv_8bit' (conv): inputs[0]: reads tensor 5 before any op writes it"},
      {"output is the input", [](Model& m) { m.ops[0].output = 0; }, "op 0 'lut_i16' (input_lut): output: is 0"},
      {"output out of range", [](Model& m) { m.ops[0].output = 12; }, "output: is 12"},
      {"written twice", [](Model& m) { m.ops[3].output = 3; },
       "op 3 'conv_4bit' (conv): output: tensor 3 is already written"},
      {"never written", [](Model& m) { m.tensors.push_back({DType::kU8, 1, 1, 1}); },
       "tensor 12: no op writes it"},
      {"gap_linear not last", [](Model& m) { std::swap(m.ops[9], m.ops[10]); },
       "op 9 'fc' (gap_linear): kind: gap_linear must be the last op"},
      {"last not gap_linear", [](Model& m) { m.ops.pop_back(); },
       "op 9 'act2' (requant): kind: the last op must be gap_linear"},
      {"unknown kind", [](Model& m) { m.ops[5].kind = OpKind(9); }, "op 5 'pool_u8' (unknown-op): kind: is 9"},
      {"unused field set", [](Model& m) { m.ops[5].kernel = 3; },
       "op 5 'pool_u8' (pool_sum): kernel: is 3; expected 0"},
      {"unused array set", [](Model& m) { m.ops[2].thresholds = {1}; },
       "op 2 'conv_8bit' (conv): thresholds: has 1 values; expected none"},
  });
}

TEST(Validate, InputLut) {
  expect_each_rejected({
      {"two inputs", [](Model& m) { m.ops[0].inputs = {0, 0}; },
       "op 0 'lut_i16' (input_lut): inputs: has 2 tensors; expected 1"},
      {"i32 output", [](Model& m) { m.tensors[1].dtype = DType::kI32; },
       "op 0 'lut_i16' (input_lut): output tensor: dtype is i32; expected u8 or i16"},
      {"shape differs", [](Model& m) { m.tensors[1].channels = 3; }, "op 0 'lut_i16' (input_lut): output tensor: shape"},
      {"lut size", [](Model& m) { m.ops[0].lut.pop_back(); },
       "op 0 'lut_i16' (input_lut): lut: has 511 values; expected channels·256 = 2·256 = 512"},
      {"u8 lut value above 255", [](Model& m) { m.ops[1].lut[7] = 256; },
       "op 1 'lut_u8' (input_lut): lut: [7] is 256; expected 0..255"},
      {"u8 lut value negative", [](Model& m) { m.ops[1].lut[7] = -1; }, "lut: [7] is -1; expected 0..255"},
      {"i16 lut value out of range", [](Model& m) { m.ops[0].lut[9] = 32768; },
       "op 0 'lut_i16' (input_lut): lut: [9] is 32768; expected -32768..32767"},
  });
}

TEST(Validate, Conv) {
  expect_each_rejected({
      {"i32 input", [](Model& m) { m.ops[6].inputs = {3}; }, "op 6 'conv_2bit' (conv): input tensor: dtype is i32"},
      {"output not i32", [](Model& m) { m.tensors[3].dtype = DType::kI16; },
       "op 2 'conv_8bit' (conv): output tensor: dtype is i16; expected i32"},
      {"output size differs", [](Model& m) { m.tensors[3].width = 5; },
       "op 2 'conv_8bit' (conv): output tensor: shape is i32 6x5x3"},
      {"even kernel", [](Model& m) { m.ops[2].kernel = 2; },
       "op 2 'conv_8bit' (conv): kernel: is 2; expected an odd number"},
      {"zero kernel", [](Model& m) { m.ops[2].kernel = 0; }, "kernel: is 0"},
      {"huge kernel", [](Model& m) { m.ops[2].kernel = 100001; }, "kernel: is 100001"},
      {"weight_bits 3", [](Model& m) { m.ops[2].weight_bits = 3; },
       "op 2 'conv_8bit' (conv): weight_bits: is 3; expected 2, 4 or 8"},
      {"weights size", [](Model& m) { m.ops[2].weights.push_back(0); },
       "op 2 'conv_8bit' (conv): weights: has 55 values; expected out·k·k·in = 3·3·3·2 = 54"},
      {"2-bit code -2", [](Model& m) { m.ops[6].weights[4] = -2; },
       "op 6 'conv_2bit' (conv): weights: [4] is -2; expected -1..1 for weight_bits 2"},
      {"4-bit code 8", [](Model& m) { m.ops[3].weights[1] = 8; }, "weights: [1] is 8; expected -7..7"},
      {"4-bit code -8", [](Model& m) { m.ops[3].weights[1] = -8; }, "weights: [1] is -8; expected -7..7"},
      {"8-bit code -128", [](Model& m) { m.ops[2].weights[0] = -128; }, "weights: [0] is -128; expected -127..127"},
      {"accumulator overflow", [](Model& m) {
         // 3·3·2000·127 · 32768 > 2^31: an i32 accumulator could overflow.
         m.tensors[1].channels = 2000;
         m.tensors[0].channels = 2000;
         m.tensors[2].channels = 2000;
         m.ops[0].lut.assign(2000 * 256, 32767);
         m.ops[1].lut.assign(2000 * 256, 1);
         m.ops[2].weights.assign(3 * 3 * 3 * 2000, 127);
         m.ops[3].weights.assign(3 * 2000, 1);
       },
       "op 2 'conv_8bit' (conv): weights: output channel 0 can reach"},
  });
}

TEST(Validate, PoolSum) {
  expect_each_rejected({
      {"u8 to i32", [](Model& m) { m.tensors[6].dtype = DType::kI32; },
       "op 5 'pool_u8' (pool_sum): output tensor: dtype is i32; expected i16"},
      {"i16 to i16", [](Model& m) { m.tensors[8].dtype = DType::kI16; },
       "op 7 'pool_i16' (pool_sum): output tensor: dtype is i16; expected i32"},
      {"not halved", [](Model& m) { m.tensors[8].height = 2; },
       "op 7 'pool_i16' (pool_sum): output tensor: shape is i32 2x1x3; expected 1x1x3"},
      {"input smaller than 2x2", [](Model& m) {
         m.tensors[9] = {DType::kI32, 1, 1, 5};
         m.ops[8].inputs = {8};  // 1x1x3 pool output as input
       },
       "op 8 'pool_i32' (pool_sum): input tensor: shape is i32 1x1x3; expected at least 2x2"},
  });
}

TEST(Validate, Requant) {
  expect_each_rejected({
      {"three inputs", [](Model& m) { m.ops[4].inputs = {3, 4, 3}; },
       "op 4 'act1' (requant): inputs: has 3 tensors; expected 1 or 2"},
      {"u8 input", [](Model& m) { m.ops[9].inputs = {5}; },
       "op 9 'act2' (requant): input tensor 0: dtype is u8; expected i32"},
      {"inputs differ in shape", [](Model& m) {
         m.tensors[4].channels = 4;
         m.ops[3].weights.assign(4 * 2, 1);
       },
       "op 4 'act1' (requant): input tensor 1: shape is i32 6x6x4"},
      {"output not u8", [](Model& m) { m.tensors[5].dtype = DType::kI16; }, "output tensor: dtype is i16; expected u8"},
      {"levels 1", [](Model& m) { m.ops[4].levels = 1; }, "op 4 'act1' (requant): levels: is 1; expected 2..256"},
      {"levels 257", [](Model& m) { m.ops[4].levels = 257; }, "levels: is 257"},
      {"multipliers size", [](Model& m) { m.ops[4].multipliers.pop_back(); },
       "op 4 'act1' (requant): multipliers: has 5 values; expected inputs·channels = 2·3 = 6"},
      {"thresholds size", [](Model& m) { m.ops[4].thresholds.push_back(0); },
       "thresholds: has 10 values; expected channels·(levels−1) = 3·3 = 9"},
      {"thresholds decrease", [](Model& m) { m.ops[4].thresholds[4] = m.ops[4].thresholds[3] - 1; },
       "op 4 'act1' (requant): thresholds: channel 1 decreases at [4]"},
      {"int64 overflow", [](Model& m) { m.ops[4].multipliers[0] = std::numeric_limits<int64_t>::max() / 2; },
       "op 4 'act1' (requant): multipliers: channel 0 can make"},
      {"int64 minimum multiplier", [](Model& m) { m.ops[9].multipliers[0] = std::numeric_limits<int64_t>::min(); },
       "op 9 'act2' (requant): multipliers: channel 0"},
  });
}

TEST(Validate, GapLinear) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_each_rejected({
      {"three inputs", [](Model& m) { m.ops[10].inputs = {10, 7, 7}; },
       "op 10 'fc' (gap_linear): inputs: has 3 tensors"},
      {"inputs differ in shape", [](Model& m) { m.ops[10].inputs = {10, 6}; },
       "op 10 'fc' (gap_linear): input tensor 1: shape is i16 3x3x3"},
      {"output not f32", [](Model& m) { m.tensors[11].dtype = DType::kI32; },
       "op 10 'fc' (gap_linear): output tensor: dtype is i32; expected f32"},
      {"output not 1x1", [](Model& m) { m.tensors[11].height = 2; },
       "output tensor: shape is f32 2x1x4; expected f32 1x1xclasses"},
      {"scale size", [](Model& m) { m.ops[10].scale.pop_back(); },
       "op 10 'fc' (gap_linear): scale: has 9 values; expected inputs·channels = 2·5 = 10"},
      {"offset size", [](Model& m) { m.ops[10].offset.push_back(0); }, "offset: has 6 values; expected channels = 5"},
      {"weight size", [](Model& m) { m.ops[10].weight.pop_back(); },
       "weight: has 19 values; expected classes·channels = 4·5 = 20"},
      {"bias size", [](Model& m) { m.ops[10].bias.pop_back(); }, "bias: has 3 values; expected classes = 4"},
      {"NaN scale", [nan](Model& m) { m.ops[10].scale[3] = nan; }, "op 10 'fc' (gap_linear): scale: [3] is nan"},
      {"infinite weight", [inf](Model& m) { m.ops[10].weight[2] = -inf; }, "weight: [2] is -inf; expected a finite"},
      {"NaN offset", [nan](Model& m) { m.ops[10].offset[0] = nan; }, "offset: [0] is"},
      {"infinite bias", [inf](Model& m) { m.ops[10].bias[1] = inf; }, "bias: [1] is inf"},
  });
}

}  // namespace
