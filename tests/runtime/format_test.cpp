// The .maqd reader and writer: exact round trips, the documented byte
// layout, and a clear maqd_rt::Error (never a crash) for truncated, corrupt
// or hostile files.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "format_layout.h"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "runtime/format_bytes.h"
#include "runtime/model_fixtures.h"

namespace {

using maqd_rt::Error;
using maqd_rt::Model;
using maqd_test::Bytes;
using maqd_test::get_le;
using maqd_test::put_le;
using maqd_test::reseal;

uint32_t float_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

void expect_floats_identical(const std::vector<float>& a, const std::vector<float>& b,
                             const std::string& field) {
  ASSERT_EQ(a.size(), b.size()) << field;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(float_bits(a[i]), float_bits(b[i])) << field << "[" << i << "]";
}

void expect_models_equal(const Model& a, const Model& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.integers, b.integers);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    SCOPED_TRACE("tensor " + std::to_string(t));
    EXPECT_EQ(a.tensors[t].dtype, b.tensors[t].dtype);
    EXPECT_EQ(a.tensors[t].height, b.tensors[t].height);
    EXPECT_EQ(a.tensors[t].width, b.tensors[t].width);
    EXPECT_EQ(a.tensors[t].channels, b.tensors[t].channels);
  }
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    SCOPED_TRACE("op " + std::to_string(i));
    const auto &x = a.ops[i], &y = b.ops[i];
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.output, y.output);
    EXPECT_EQ(x.lut, y.lut);
    EXPECT_EQ(x.kernel, y.kernel);
    EXPECT_EQ(x.weight_bits, y.weight_bits);
    EXPECT_EQ(x.weights, y.weights);
    EXPECT_EQ(x.levels, y.levels);
    EXPECT_EQ(x.multipliers, y.multipliers);
    EXPECT_EQ(x.thresholds, y.thresholds);
    expect_floats_identical(x.scale, y.scale, "scale");
    expect_floats_identical(x.offset, y.offset, "offset");
    expect_floats_identical(x.weight, y.weight, "weight");
    expect_floats_identical(x.bias, y.bias, "bias");
  }
}

Model read(const Bytes& b) { return maqd_rt::read_model(b.data(), b.size(), "test.maqd"); }

// Runs read() and returns the Error's message; fails the test if it succeeds.
std::string read_error(const Bytes& b) {
  try {
    read(b);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_model accepted the file";
  return "";
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "message: " << (haystack)

TEST(FormatChecksum, IsStandardCrc32) {
  const char* check = "123456789";
  EXPECT_EQ(maqd_rt::format::crc32(reinterpret_cast<const uint8_t*>(check), 9), 0xCBF43926u);
  // Chaining two calls equals one call over the concatenation.
  const uint32_t first = maqd_rt::format::crc32(reinterpret_cast<const uint8_t*>(check), 4);
  EXPECT_EQ(maqd_rt::format::crc32(reinterpret_cast<const uint8_t*>(check) + 4, 5, first), 0xCBF43926u);
}

TEST(FormatRoundTrip, SmallModelWithEveryOpKindAndWeightBits) {
  const Model before = maqd_test::small_model();
  const Bytes bytes = maqd_rt::write_model(before);
  const Model after = read(bytes);
  expect_models_equal(before, after);
  // The writer is deterministic: the same model gives the same bytes.
  EXPECT_EQ(maqd_rt::write_model(after), bytes);
}

TEST(FormatRoundTrip, TinyModelAndOtherSeeds) {
  for (const Model& m : {maqd_test::tiny_model(), maqd_test::small_model(7), maqd_test::small_model(99)}) {
    expect_models_equal(m, read(maqd_rt::write_model(m)));
  }
}

TEST(FormatRoundTrip, EveryCodeOfEveryWeightBits) {
  // One 1x1 conv per weight_bits whose codes run through the whole range,
  // with counts that leave a partly filled last byte.
  for (int bits : {2, 4, 8}) {
    SCOPED_TRACE("weight_bits " + std::to_string(bits));
    const int max_code = bits == 2 ? 1 : bits == 4 ? 7 : 127;
    const int out = 2 * max_code + 2;  // all codes in one channel ordering, then one more
    Model m;
    m.tensors = {{maqd_rt::DType::kU8, 1, 1, 1}, {maqd_rt::DType::kI32, 1, 1, out},
                 {maqd_rt::DType::kF32, 1, 1, 1}};
    auto conv = maqd_test::fixture_op(maqd_rt::OpKind::kConv, "c", {0}, 1);
    conv.kernel = 1;
    conv.weight_bits = bits;
    for (int o = 0; o < out; ++o) conv.weights.push_back(int8_t(-max_code + o % (2 * max_code + 1)));
    auto fc = maqd_test::fixture_op(maqd_rt::OpKind::kGapLinear, "fc", {1}, 2);
    fc.scale.assign(size_t(out), 1.0f);
    fc.offset.assign(size_t(out), 0.0f);
    fc.weight.assign(size_t(out), 1.0f);
    fc.bias = {0.0f};
    m.ops = {conv, fc};
    const Bytes bytes = maqd_rt::write_model(m);
    expect_models_equal(m, read(bytes));
    // The packing is documented: bits-wide two's complement, low bits first.
    const size_t at = maqd_test::array_at(bytes, 0, 1);
    const uint32_t mask = (1u << bits) - 1;
    for (int o = 0; o < out; ++o) {
      const int per_byte = 8 / bits;
      const uint32_t field = (bytes[at + size_t(o / per_byte)] >> (bits * (o % per_byte))) & mask;
      EXPECT_EQ(field, uint32_t(conv.weights[size_t(o)]) & mask) << "code " << o;
    }
  }
}

TEST(FormatLayout, HeaderSectionsAndArraysAreAsDocumented) {
  const Bytes b = maqd_rt::write_model(maqd_test::small_model());
  const uint8_t magic[8] = {'M', 'A', 'Q', 'D', 0x0D, 0x0A, 0x1A, 0x0A};
  EXPECT_EQ(std::memcmp(b.data(), magic, 8), 0);
  EXPECT_EQ(get_le(b, 8, 4), 1u);                // version
  EXPECT_EQ(get_le(b, 12, 4), 64u);              // header size
  EXPECT_EQ(get_le(b, 16, 8), b.size());         // file size
  EXPECT_EQ(get_le(b, 28, 4), 4u);               // section count
  EXPECT_EQ(get_le(b, 32, 8), 64u);              // section table offset
  EXPECT_EQ(get_le(b, 40, 4), 12u);              // tensors
  EXPECT_EQ(get_le(b, 44, 4), 11u);              // ops
  const char* ids[] = {"META", "TENS", "OPS_", "DATA"};
  for (size_t s = 0; s < 4; ++s) {
    EXPECT_EQ(std::memcmp(&b[64 + 32 * s], ids[s], 4), 0) << ids[s];
    EXPECT_EQ(maqd_test::section_offset(b, s) % 64, 0u) << ids[s];
  }
  EXPECT_EQ(maqd_test::section_size(b, 1), 12u * 16);
  EXPECT_EQ(maqd_test::section_size(b, 2), 11u * 128);
  for (size_t op = 0; op < 11; ++op) {
    for (size_t slot = 0; slot < 5; ++slot) {
      if (get_le(b, maqd_test::op_record(b, op) + 32 + 16 * slot + 8, 8) == 0) continue;
      EXPECT_EQ(maqd_test::array_at(b, op, slot) % 64, 0u) << "op " << op << " slot " << slot;
    }
  }
  // The conv_8bit op's name and first code, read straight from the bytes.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&b[maqd_test::array_at(b, 2, 0)]), 9), "conv_8bit");
  EXPECT_EQ(int8_t(b[maqd_test::array_at(b, 2, 1)]), -127);
}

TEST(FormatLayout, TernaryPackingExampleFromTheDocs) {
  // docs/format.md: ternary codes (1, −1, 0, 1, −1) pack to 0x4D 0x03.
  Model m;
  m.tensors = {{maqd_rt::DType::kU8, 1, 1, 1}, {maqd_rt::DType::kI32, 1, 1, 5},
               {maqd_rt::DType::kF32, 1, 1, 1}};
  auto conv = maqd_test::fixture_op(maqd_rt::OpKind::kConv, "c", {0}, 1);
  conv.kernel = 1;
  conv.weight_bits = 2;
  conv.weights = {1, -1, 0, 1, -1};
  auto fc = maqd_test::fixture_op(maqd_rt::OpKind::kGapLinear, "fc", {1}, 2);
  fc.scale.assign(5, 1.0f);
  fc.offset.assign(5, 0.0f);
  fc.weight.assign(5, 1.0f);
  fc.bias = {0.0f};
  m.ops = {conv, fc};
  const Bytes b = maqd_rt::write_model(m);
  const size_t at = maqd_test::array_at(b, 0, 1);
  EXPECT_EQ(get_le(b, maqd_test::op_record(b, 0) + 56, 8), 5u);  // count in codes
  EXPECT_EQ(b[at], 0x4D);
  EXPECT_EQ(b[at + 1], 0x03);
}

TEST(FormatRead, EveryTruncationIsAnError) {
  const Bytes full = maqd_rt::write_model(maqd_test::small_model());
  for (size_t length = 0; length < full.size(); ++length) {
    const Bytes cut(full.begin(), full.begin() + long(length));
    EXPECT_THROW(read(cut), Error) << "length " << length;
  }
  // Null data of size 0 is an empty file, not a crash.
  EXPECT_THROW(maqd_rt::read_model(nullptr, 0, "empty"), Error);
}

TEST(FormatRead, TruncationEvenWithAConsistentHeaderIsAnError) {
  // A cut file whose file_size and checksum were fixed up to match: the
  // section table then points past the end, which the reader must see.
  const Bytes full = maqd_rt::write_model(maqd_test::small_model());
  for (size_t length = 64; length < full.size(); length += 7) {
    Bytes cut(full.begin(), full.begin() + long(length));
    put_le(cut, 16, length, 8);
    reseal(cut);
    const std::string message = read_error(cut);
    EXPECT_CONTAINS(message, "test.maqd: byte ");
  }
}

TEST(FormatRead, WrongMagic) {
  Bytes b = maqd_rt::write_model(maqd_test::tiny_model());
  b[3] = 'X';
  const std::string message = read_error(b);
  EXPECT_CONTAINS(message, "test.maqd: byte 0: magic");
  EXPECT_CONTAINS(message, "not a .maqd model file");
}

TEST(FormatRead, NewerVersionAsksForAnUpdate) {
  Bytes b = maqd_rt::write_model(maqd_test::tiny_model());
  put_le(b, 8, 2, 4);
  // Not re-sealed: the version must be reported even when the rest of a
  // newer file means something else.
  EXPECT_CONTAINS(read_error(b), "file version 2 is newer than this runtime's 1; update maqd-rt");
  put_le(b, 8, 0, 4);
  reseal(b);
  EXPECT_CONTAINS(read_error(b), "byte 8: version: is 0");
}

TEST(FormatRead, ChecksumCatchesEveryFlippedByte) {
  const Bytes full = maqd_rt::write_model(maqd_test::small_model());
  for (size_t at = 16; at < full.size(); ++at) {  // after magic, version and header_size
    if (at >= 16 && at < 24) continue;           // file_size has its own check
    Bytes b = full;
    b[at] ^= uint8_t(1u << (at % 8));
    const std::string message = read_error(b);
    EXPECT_CONTAINS(message, "checksum") << " at byte " << at;
  }
}

// One corrupted field, checksum re-sealed so the field's own check runs.
struct Corruption {
  std::string what;
  std::function<void(Bytes&)> apply;
  std::string expected;  // a piece of the message: the field and the rule
};

TEST(FormatRead, EachCorruptedFieldIsNamed) {
  using maqd_test::op_record;
  using maqd_test::section_offset;
  using maqd_test::tensor_record;
  auto section_entry = [](size_t s) { return size_t(64 + 32 * s); };
  // Op 2 is conv_8bit, op 6 conv_2bit, op 4 requant (2 inputs), op 5 pool_u8.
  const std::vector<Corruption> corruptions = {
      {"header_size", [](Bytes& b) { put_le(b, 12, 128, 4); }, "byte 12: header_size: is 128; expected 64"},
      {"file_size", [](Bytes& b) { put_le(b, 16, b.size() + 1, 8); }, "byte 16: file_size: says"},
      {"section_count", [](Bytes& b) { put_le(b, 28, 5, 4); }, "byte 28: section_count: is 5; expected 4"},
      {"section_count huge", [](Bytes& b) { put_le(b, 28, 0xFFFFFFFF, 4); }, "section_count"},
      {"section table offset", [](Bytes& b) { put_le(b, 32, ~uint64_t(0), 8); }, "section_table_offset"},
      {"header reserved", [](Bytes& b) { b[60] = 1; }, "byte 60: header reserved bytes"},
      {"tensor_count", [](Bytes& b) { put_le(b, 40, 13, 4); }, "TENS size: is 192; expected tensor_count·16 = 208"},
      {"tensor_count huge", [](Bytes& b) { put_le(b, 40, 0xFFFFFFFF, 4); }, "TENS size"},
      {"op_count", [](Bytes& b) { put_le(b, 44, 0xFFFFFFFF, 4); }, "OPS_ size"},
      {"section id", [&](Bytes& b) { b[section_entry(1)] = 'X'; }, "section 1 (TENS) id"},
      {"section reserved", [&](Bytes& b) { b[section_entry(2) + 4] = 1; }, "section 2 (OPS_) reserved"},
      {"section offset unaligned", [&](Bytes& b) { put_le(b, section_entry(1) + 8, section_offset(b, 1) + 8, 8); },
       "section 1 (TENS) offset: is"},
      {"sections overlap", [&](Bytes& b) { put_le(b, section_entry(2) + 8, section_offset(b, 1), 8); },
       "sections must not overlap"},
      {"section before the table", [&](Bytes& b) { put_le(b, section_entry(0) + 8, 64, 8); },
       "section 0 (META) offset: is 64; expected at least 192"},
      {"section offset huge", [&](Bytes& b) { put_le(b, section_entry(3) + 8, ~uint64_t(0) - 63, 8); },
       "section 3 (DATA)"},
      {"section size huge", [&](Bytes& b) { put_le(b, section_entry(3) + 16, ~uint64_t(0), 8); },
       "section 3 (DATA) size"},
      {"tensor dtype 0", [&](Bytes& b) { b[tensor_record(b, 3)] = 0; }, "tensor 3 dtype: is 0; expected 1 (u8)"},
      {"tensor dtype 9", [&](Bytes& b) { b[tensor_record(b, 3)] = 9; }, "tensor 3 dtype: is 9"},
      {"tensor reserved", [&](Bytes& b) { b[tensor_record(b, 3) + 2] = 7; }, "tensor 3 reserved"},
      {"op kind 0", [&](Bytes& b) { b[op_record(b, 2)] = 0; }, "op 2 kind: is 0"},
      {"op kind 6", [&](Bytes& b) { b[op_record(b, 2)] = 6; }, "op 2 kind: is 6"},
      {"input_count 0", [&](Bytes& b) { b[op_record(b, 2) + 1] = 0; }, "op 2 input_count: is 0; expected 1 or 2"},
      {"input_count 3", [&](Bytes& b) { b[op_record(b, 2) + 1] = 3; }, "op 2 input_count: is 3"},
      {"weight_bits 3", [&](Bytes& b) { b[op_record(b, 2) + 2] = 3; }, "op 2 weight_bits: is 3; expected 2, 4 or 8"},
      {"weight_bits on a pool", [&](Bytes& b) { b[op_record(b, 5) + 2] = 2; }, "op 5 weight_bits: is 2; expected 0"},
      {"levels on a conv", [&](Bytes& b) { put_le(b, op_record(b, 2) + 20, 7, 4); },
       "(conv): levels: is 7; expected 0 (conv does not use it)"},
      {"kernel on a pool", [&](Bytes& b) { put_le(b, op_record(b, 5) + 16, 3, 4); },
       "(pool_sum): kernel: is 3; expected 0 (pool_sum does not use it)"},
      {"unused input slot", [&](Bytes& b) { put_le(b, op_record(b, 2) + 12, 0, 4); }, "op 2 inputs[1]: is 0; expected −1"},
      {"op reserved", [&](Bytes& b) { b[op_record(b, 2) + 120] = 1; }, "op 2 reserved"},
      {"name offset unaligned", [&](Bytes& b) { put_le(b, op_record(b, 2) + 32, 32, 8); }, "op 2 name offset: is 32"},
      {"weights offset huge", [&](Bytes& b) { put_le(b, op_record(b, 2) + 48, uint64_t(1) << 62, 8); },
       "op 2 weights offset"},
      {"weights count huge", [&](Bytes& b) { put_le(b, op_record(b, 2) + 56, ~uint64_t(0), 8); },
       "op 2 weights count: is 18446744073709551615"},
      {"thresholds count past DATA", [&](Bytes& b) { put_le(b, op_record(b, 4) + 72, uint64_t(1) << 40, 8); },
       "op 4 thresholds count"},
      {"empty array with an offset", [&](Bytes& b) { put_le(b, op_record(b, 5) + 48, 64, 8); },
       "op 5 unused array offset: is 64; expected 0"},
      {"array in an unused slot", [&](Bytes& b) { put_le(b, op_record(b, 5) + 56, 1, 8); },
       "op 5 unused array count: is 1; expected 0"},
      {"reserved 2-bit code", [&](Bytes& b) { b[maqd_test::array_at(b, 6, 1)] = 0x02; },
       "op 6 weights: code 0 is the reserved pattern 2"},
      {"reserved 8-bit code", [&](Bytes& b) { b[maqd_test::array_at(b, 2, 1) + 5] = 0x80; },
       "op 2 weights: code 5 is the reserved pattern 128"},
      {"nonzero padding bits", [&](Bytes& b) {
         // conv_2bit has 135 codes: the last byte holds 3 codes and 2 padding bits.
         b[maqd_test::array_at(b, 6, 1) + 33] |= 0xC0;
       },
       "op 6 weights: padding bits"},
      {"text count huge", [&](Bytes& b) { put_le(b, section_offset(b, 0), 0xFFFFFFFF, 4); }, "text entry 3"},
      {"text key length huge", [&](Bytes& b) { put_le(b, section_offset(b, 0) + 4, 0xFFFFFFF0, 4); },
       "text entry 0 key: needs 4294967280 bytes"},
      {"keys out of order", [&](Bytes& b) { b[section_offset(b, 0) + 8] = 'z'; },  // "arch" → "zrch"
       "text entry 1 key: 'dataset' follows 'zrch'"},
      {"META with trailing bytes", [&](Bytes& b) {
         put_le(b, section_entry(0) + 16, maqd_test::section_size(b, 0) + 4, 8);
       },
       "bytes follow the last entry"},
  };
  const Bytes valid = maqd_rt::write_model(maqd_test::small_model());
  for (const Corruption& c : corruptions) {
    SCOPED_TRACE(c.what);
    Bytes b = valid;
    c.apply(b);
    reseal(b);
    const std::string message = read_error(b);
    EXPECT_CONTAINS(message, c.expected);
    EXPECT_CONTAINS(message, "test.maqd: ");
  }
}

TEST(FormatRead, ValidationErrorsNameTheSource) {
  Bytes b = maqd_rt::write_model(maqd_test::small_model());
  put_le(b, maqd_test::tensor_record(b, 1) + 4, 5, 4);  // t1 height 6 → 5
  reseal(b);
  const std::string message = read_error(b);
  EXPECT_CONTAINS(message, "test.maqd: model: op 0 'lut_i16' (input_lut): output tensor: shape");
}

TEST(FormatWrite, RejectsAnInvalidModel) {
  Model m = maqd_test::small_model();
  m.ops[2].weights[0] = 5;
  m.ops[2].weight_bits = 2;
  EXPECT_THROW(maqd_rt::write_model(m), Error);
}

TEST(FormatFile, SaveAndLoadRoundTripAtomically) {
  const std::string path = ::testing::TempDir() + "format_test_model.maqd";
  const Model m = maqd_test::small_model();
  maqd_rt::save_model(m, path);
  expect_models_equal(m, maqd_rt::load_model(path));
  std::ifstream tmp(path + ".tmp");
  EXPECT_FALSE(tmp.good()) << "the temporary file was left behind";
  std::remove(path.c_str());
  try {
    maqd_rt::load_model(path);
    ADD_FAILURE() << "loading a missing file succeeded";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), path);
  }
}

// A model is known by its first bytes, whatever its name.
TEST(FormatFile, StartsLikeAModelReadsTheMagic) {
  maqd_test::TempDir dir;
  const std::string model = dir.file("model.bin");
  maqd_rt::save_model(maqd_test::small_model(), model);
  EXPECT_TRUE(maqd_rt::starts_like_a_model(model));
  std::ofstream(dir.file("checkpoint.maqd"), std::ios::binary) << "PK\x03\x04 a zip archive";
  EXPECT_FALSE(maqd_rt::starts_like_a_model(dir.file("checkpoint.maqd")));
  std::ofstream(dir.file("short"), std::ios::binary) << "MAQD";
  EXPECT_FALSE(maqd_rt::starts_like_a_model(dir.file("short")));
  EXPECT_FALSE(maqd_rt::starts_like_a_model(dir.path().string()));
  EXPECT_FALSE(maqd_rt::starts_like_a_model(dir.file("missing")));
}

// A failed replace says why and leaves the target and no temporary; an
// empty path is refused before anything is written.
TEST(FormatFile, SaveSaysWhyItCannotReplaceTheTarget) {
  maqd_test::TempDir dir;
  const std::string path = dir.file("a-folder.maqd");
  std::filesystem::create_directories(std::filesystem::path(path) / "inside");
  try {
    maqd_rt::save_model(maqd_test::small_model(), path);
    ADD_FAILURE() << "saving over a folder succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), maqd_rt::Status::kIo);
    EXPECT_CONTAINS(e.what(), path + ": cannot replace it with the new file (");
    EXPECT_CONTAINS(e.what(), "); the file is unchanged");
  }
  EXPECT_TRUE(std::filesystem::is_directory(std::filesystem::path(path) / "inside"));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  try {
    maqd_rt::save_model(maqd_test::small_model(), "");
    ADD_FAILURE() << "saving to an empty path succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), maqd_rt::Status::kBadArgument);
    EXPECT_CONTAINS(e.what(), "the path is empty");
  }
}

}  // namespace
