// describe_model_file (maqd_rt/describe.hpp), what `maqd info MODEL.maqd`
// and `maqd-rt MODEL.maqd --info` print: every figure in it against the
// model, the core and the engine it describes.
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "maqd_rt/describe.hpp"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "maqd_rt_core.h"
#include "runtime/model_fixtures.h"

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
  for (const std::string& l : lines)
    if (l == line) return true;
  return false;
}

// Display columns of UTF-8 text (the shapes' × is two bytes, one column).
size_t columns(const std::string& text) {
  size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The figure after `prefix` on the line that starts with it; −1 if none.
long long figure_after(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const std::string& l : lines)
    if (l.rfind(prefix, 0) == 0) return std::stoll(l.substr(prefix.size()));
  return -1;
}

// What firmware's arena must hold: maqd_rt_core_arena_bytes after a
// prepare in a large arena.
uint64_t core_arena(const std::vector<uint8_t>& bytes) {
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  std::vector<uint64_t> arena(size_t(1) << 17);
  char message[256];
  int status = 0;
  const maqd_rt_core* core = maqd_rt_core_prepare(reinterpret_cast<const unsigned char*>(aligned.data()),
                                                  bytes.size(), arena.data(), arena.size() * 8, &status, message,
                                                  sizeof message);
  EXPECT_NE(core, nullptr) << message;
  size_t used = 0;
  EXPECT_EQ(maqd_rt_core_arena_bytes(core, &used), MAQD_RT_OK);
  return used;
}

TEST(DescribeModelFile, EveryFigureIsTheModelsOwn) {
  maqd_test::TempDir temp;
  maqd_rt::Model model = maqd_test::small_model();
  model.text["class_names"] = "zero\none\ntwo\nthree";
  model.text["producer"] = "maqd \x1b[2J";
  const std::string path = temp.file("small.maqd");
  maqd_rt::save_model(model, path);
  const std::vector<uint8_t> bytes = maqd_rt::write_model(model);
  const auto lines = lines_of(maqd_rt::describe_model_file(path, 3));

  EXPECT_EQ(lines.at(0), path + ": format version " + std::to_string(model.version) + ", " +
                             std::to_string(std::filesystem::file_size(path)) + " bytes");
  EXPECT_TRUE(has_line(lines, "  arch             test-net"));
  EXPECT_TRUE(has_line(lines, "  class_names      zero, one, two, three"));
  EXPECT_TRUE(has_line(lines, "  negative         -1234567890123"));
  EXPECT_TRUE(has_line(lines, "  producer         maqd \\x1B[2J"));  // no terminal escape from a file
  EXPECT_TRUE(has_line(lines, "input: 6×6×2 bytes (height×width×channels)"));
  EXPECT_TRUE(has_line(lines, "classes: 4 (0 zero, 1 one, 2 two, 3 three)"));

  // One row per op, in order: index, name, kind, output shape, dtype, weights.
  int64_t weight_count = 0, weight_bits = 0;
  size_t row = 0;
  while (row < lines.size() && lines[row].rfind("op ", 0) != 0) ++row;
  ASSERT_LT(row + model.ops.size(), lines.size());
  for (size_t i = 0; i < model.ops.size(); ++i) {
    const maqd_rt::Op& op = model.ops[i];
    const maqd_rt::TensorDesc& t = model.tensors[size_t(op.output)];
    std::istringstream fields(lines[row + 1 + i]);
    std::string index, name, kind, shape, dtype, weights;
    fields >> index >> name >> kind >> shape >> dtype >> weights;
    EXPECT_EQ(index, std::to_string(i));
    EXPECT_EQ(name, op.name);
    EXPECT_EQ(kind, maqd_rt::op_kind_name(op.kind));
    EXPECT_EQ(shape, std::to_string(t.height) + "×" + std::to_string(t.width) + "×" + std::to_string(t.channels));
    EXPECT_EQ(dtype, maqd_rt::dtype_name(t.dtype));
    // The columns line up under the header: dtype starts where its title
    // does and the right-aligned weights end where theirs does.
    const std::string& header = lines[row];
    const std::string& line = lines[row + 1 + i];
    const size_t dtype_at = line.find(" " + dtype + " ", line.find(shape) + shape.size()) + 1;
    EXPECT_EQ(columns(line.substr(0, dtype_at)), header.find("dtype")) << line;
    EXPECT_EQ(columns(line), columns(header)) << line;
    if (op.kind == maqd_rt::OpKind::kConv) {
      EXPECT_EQ(weights, std::to_string(op.weights.size()) + "×" + std::to_string(op.weight_bits) + "b");
      weight_count += int64_t(op.weights.size());
      weight_bits += int64_t(op.weights.size()) * op.weight_bits;
    } else {
      EXPECT_EQ(weights, "-");
    }
  }
  ASSERT_GT(weight_count, 0);
  EXPECT_EQ(figure_after(lines, "conv weights: "), weight_count);
  EXPECT_EQ(figure_after(lines, "conv weights: " + std::to_string(weight_count) + " values, "),
            (weight_bits + 7) / 8);

  EXPECT_EQ(figure_after(lines, "core arena (one image on one thread, weights read in place from the file, as "
                                "on a microcontroller): "),
            (long long)core_arena(bytes));
  for (int threads : {1, 3}) {
    maqd_rt::EngineOptions options;
    options.threads = threads;
    const maqd_rt::Engine engine(model, options);
    const std::string prefix = "runtime arena with " + std::to_string(threads) + " thread" + (threads > 1 ? "s" : "") + ": ";
    EXPECT_EQ(figure_after(lines, prefix), (long long)engine.arena_bytes()) << prefix;
    if (threads == 1)
      EXPECT_EQ(figure_after(lines, "runtime's weights prepared at load (" + std::string(engine.isa()) +
                                        " layout, beyond the file): "),
                (long long)engine.prepared_weight_bytes());
  }
}

TEST(DescribeModelFile, OneThreadIsOneLineAndNoNamesNoList) {
  maqd_test::TempDir temp;
  const std::string path = temp.file("tiny.maqd");
  maqd_rt::save_model(maqd_test::tiny_model(), path);
  const std::string text = maqd_rt::describe_model_file(path, 1);
  const auto lines = lines_of(text);
  EXPECT_TRUE(has_line(lines, "classes: 2")) << text;
  // One engine line, for one thread: no second count to show.
  size_t engine_lines = 0;
  for (const std::string& line : lines) engine_lines += line.rfind("runtime arena with ", 0) == 0;
  EXPECT_EQ(engine_lines, 1u) << text;
  EXPECT_NE(text.find("runtime arena with 1 thread: "), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(PadColumns, CountsColumnsNotBytes) {
  EXPECT_EQ(maqd_rt::pad_columns("28×28×1", 10), "28×28×1   ");
  EXPECT_EQ(maqd_rt::pad_columns("144×4b", 8, /*right_align=*/true), "  144×4b");
  EXPECT_EQ(maqd_rt::pad_columns("abc", 3), "abc");
  EXPECT_EQ(maqd_rt::pad_columns("longer×than", 4), "longer×than");  // never cut
  EXPECT_EQ(maqd_rt::pad_columns("", 2, true), "  ");
}

TEST(DescribeModelFile, AMissingOrBrokenFileIsAnErrorNamingIt) {
  maqd_test::TempDir temp;
  const std::string missing = temp.file("none.maqd");
  try {
    maqd_rt::describe_model_file(missing);
    FAIL() << "a missing file was described";
  } catch (const maqd_rt::Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing + ": cannot open for reading"), std::string::npos) << e.what();
  }
  std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model());
  bytes.resize(bytes.size() / 2);
  const std::string cut = temp.file("cut.maqd");
  std::FILE* f = std::fopen(cut.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  try {
    maqd_rt::describe_model_file(cut);
    FAIL() << "a truncated file was described";
  } catch (const maqd_rt::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(cut + ":", 0), 0u) << e.what();
  }
}

}  // namespace
