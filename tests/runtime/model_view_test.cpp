// The core's ModelView, the one reader of the format's bytes, read directly:
// its records, arrays and metadata are those the hosted read_model() makes
// of the same file (whose own tests check every field against the writer),
// and its refusals carry a status and a message without exceptions; the
// core's check_graph on the bytes says what the hosted validate() says.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "format_bytes.h"
#include "maqd_rt/core/graph.h"
#include "maqd_rt/core/model_view.h"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "model_fixtures.h"

namespace {

TEST(ModelView, RecordsArraysAndMetadataAreTheFileContents) {
  for (int seed : {1, 4, 8}) {
    SCOPED_TRACE(seed);
    const maqd_rt::Model model = maqd_test::small_model(seed);
    const std::vector<uint8_t> bytes = maqd_rt::write_model(model);
    maqd_rt::ModelView view;
    maqd_rt::Diagnostic diagnostic;
    ASSERT_TRUE(view.open(bytes.data(), bytes.size(), &diagnostic)) << diagnostic.message;
    EXPECT_EQ(diagnostic.status, maqd_rt::Status::kOk);
    EXPECT_EQ(view.version(), maqd_rt::kFormatVersion);
    ASSERT_EQ(view.tensor_count(), model.tensors.size());
    for (uint32_t t = 0; t < view.tensor_count(); ++t) {
      const maqd_rt::TensorRecord r = view.tensor(t);
      EXPECT_EQ(r.dtype, model.tensors[t].dtype);
      EXPECT_EQ(r.height, model.tensors[t].height);
      EXPECT_EQ(r.width, model.tensors[t].width);
      EXPECT_EQ(r.channels, model.tensors[t].channels);
    }
    ASSERT_EQ(view.op_count(), model.ops.size());
    for (uint32_t i = 0; i < view.op_count(); ++i) {
      const maqd_rt::OpRecord r = view.op(i);
      const maqd_rt::Op& op = model.ops[i];
      EXPECT_EQ(r.kind, op.kind);
      ASSERT_EQ(r.input_count, op.inputs.size());
      for (size_t j = 0; j < op.inputs.size(); ++j) EXPECT_EQ(r.inputs[j], op.inputs[j]);
      EXPECT_EQ(r.output, op.output);
      EXPECT_EQ(r.kernel, op.kernel);
      EXPECT_EQ(r.levels, op.levels);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(view.data() + r.name.at), r.name.count), op.name);
      if (op.kind == maqd_rt::OpKind::kConv) {
        ASSERT_EQ(r.arrays[0].count, op.weights.size());
        for (size_t k = 0; k < op.weights.size(); ++k)
          ASSERT_EQ(view.code(r.arrays[0], r.weight_bits, k), op.weights[k]) << "op " << i << " code " << k;
      }
      if (op.kind == maqd_rt::OpKind::kRequant) {
        ASSERT_EQ(r.arrays[1].count, op.thresholds.size());
        for (size_t k = 0; k < op.thresholds.size(); ++k) EXPECT_EQ(view.i64(r.arrays[1], k), op.thresholds[k]);
      }
      if (op.kind == maqd_rt::OpKind::kInputLut) {
        ASSERT_EQ(r.arrays[0].count, op.lut.size());
        for (size_t k = 0; k < op.lut.size(); ++k) EXPECT_EQ(view.i32(r.arrays[0], k), op.lut[k]);
      }
      if (op.kind == maqd_rt::OpKind::kGapLinear) {
        ASSERT_EQ(r.arrays[2].count, op.weight.size());
        for (size_t k = 0; k < op.weight.size(); ++k) EXPECT_EQ(view.f32(r.arrays[2], k), op.weight[k]);
      }
    }
    size_t texts = 0, integers = 0;
    view.for_each_meta([&](const maqd_rt::MetaEntry& e) {
      const std::string key(e.key, e.key_length);
      if (e.is_integer) {
        ++integers;
        EXPECT_EQ(model.integers.at(key), e.value) << key;
      } else {
        ++texts;
        EXPECT_EQ(model.text.at(key), std::string(e.text, e.text_length)) << key;
      }
    });
    EXPECT_EQ(texts, model.text.size());
    EXPECT_EQ(integers, model.integers.size());
  }
}

TEST(ModelView, RefusalsCarryAStatusAndAMessage) {
  const std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(3));
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic d;
  EXPECT_FALSE(view.open(nullptr, 10, &d));
  EXPECT_EQ(d.status, maqd_rt::Status::kBadArgument);
  EXPECT_FALSE(view.open(bytes.data(), 20, &d));
  EXPECT_EQ(d.status, maqd_rt::Status::kBadFile);
  EXPECT_NE(std::string(d.message).find("byte "), std::string::npos) << d.message;
  std::vector<uint8_t> newer = bytes;
  newer[8] = 99;  // the version, before the checksum is checked
  EXPECT_FALSE(view.open(newer.data(), newer.size(), &d));
  EXPECT_EQ(d.status, maqd_rt::Status::kUnsupportedVersion);
  EXPECT_NE(std::string(d.message).find("update maqd-rt"), std::string::npos) << d.message;
  // A refused open leaves an empty view, and a null Diagnostic is allowed.
  EXPECT_EQ(view.op_count(), 0u);
  EXPECT_FALSE(view.open(bytes.data(), bytes.size() - 1, nullptr));
  // A message longer than the buffer is cut, still NUL-terminated.
  EXPECT_LT(std::strlen(d.message), sizeof d.message);
}

// The graph rules on the bytes, with no Model built: the ranges validate()
// proves, and a graph broken behind a valid checksum refused in the same
// words as validate() refuses the same break in a Model.
TEST(CheckGraph, OnTheBytesAgreesWithValidate) {
  const maqd_rt::Model model = maqd_test::small_model(4);
  maqd_test::Bytes bytes = maqd_rt::write_model(model);
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic d;
  ASSERT_TRUE(view.open(bytes.data(), bytes.size(), &d)) << d.message;
  std::vector<maqd_rt::ValueRange> ranges(view.tensor_count());
  ASSERT_TRUE(maqd_rt::check_graph(view, ranges.data(), &d)) << d.message;
  const std::vector<maqd_rt::ValueRange> expected = maqd_rt::validate(model);
  ASSERT_EQ(ranges.size(), expected.size());
  for (size_t t = 0; t < ranges.size(); ++t) {
    EXPECT_EQ(ranges[t].low, expected[t].low) << "tensor " << t;
    EXPECT_EQ(ranges[t].high, expected[t].high) << "tensor " << t;
  }

  // Op 2 (conv_8bit) reads tensor 5, which op 4 writes later.
  maqd_test::put_le(bytes, maqd_test::op_record(bytes, 2) + maqd_rt::format::kOpInputsAt, 5, 4);
  maqd_test::reseal(bytes);
  ASSERT_TRUE(view.open(bytes.data(), bytes.size(), &d)) << d.message;
  EXPECT_FALSE(maqd_rt::check_graph(view, ranges.data(), &d));
  EXPECT_EQ(d.status, maqd_rt::Status::kBadFile);
  maqd_rt::Model broken = model;
  broken.ops[2].inputs = {5};
  try {
    maqd_rt::validate(broken);
    ADD_FAILURE() << "validate accepted a conv reading a later tensor";
  } catch (const maqd_rt::Error& e) {
    EXPECT_STREQ(d.message, e.what());
  }
  EXPECT_NE(std::string(d.message).find("op 2 'conv_8bit' (conv): inputs[0]: reads tensor 5 before"),
            std::string::npos)
      << d.message;
}

}  // namespace
