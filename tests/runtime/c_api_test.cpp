// The C API: a C program compiled against maqd_rt.h alone
// (tests/c_api/classify_image.c) classifies an image with a model file, and
// agrees with the C++ engine; failures come back as a status and a message.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt.h"
#include "runtime/format_bytes.h"
#include "maqd_rt/describe.hpp"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "common/subprocess.h"
#include "common/temp_dir.h"
#include "runtime/model_fixtures.h"

namespace {

namespace fs = std::filesystem;

using maqd_test::run_command;

// A program built for the target, run as ctest runs the tests: under the
// cross build's emulator (qemu-aarch64) where there is one.
std::string target_program(const std::string& path) {
  const std::string emulator = MAQD_TEST_EMULATOR;
  return emulator.empty() ? path : emulator + " " + path;
}

TEST(CApi, CProgramClassifiesLikeTheEngine) {
  maqd_test::TempDir temp;
  maqd_rt::Model model = maqd_test::small_model(3);
  model.text["class_names"] = "zero\none\ntwo\nthree";
  const std::vector<std::string> names = model.class_names();
  ASSERT_EQ(names.size(), 4u);
  const std::string model_path = (temp.path() / "model.maqd").string();
  maqd_rt::save_model(model, model_path);

  maqd_rt::Engine engine(model);
  const size_t image_bytes = size_t(model.input().elements());
  std::vector<float> logits(size_t(model.num_classes()));
  for (int image = 0; image < 4; ++image) {
    std::vector<uint8_t> pixels(image_bytes);
    for (size_t i = 0; i < image_bytes; ++i) pixels[i] = uint8_t((i * 37 + image * 101) % 256);
    const std::string image_path = (temp.path() / ("image" + std::to_string(image) + ".raw")).string();
    std::ofstream(image_path, std::ios::binary)
        .write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
    engine.run(pixels.data(), 1, logits.data());
    const int expected = int(std::max_element(logits.begin(), logits.end()) - logits.begin());

    int status = 0;
    const std::string out =
        run_command(target_program(MAQD_CLASSIFY_IMAGE_EXE) + " " + model_path + " " + image_path, &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, "class " + std::to_string(expected) + " (" + names[size_t(expected)] + ")\n");
  }
}

// `maqd export --format c-array`: the C source compiles as C99 and C11,
// and the program it is linked into holds the model's bytes, 64-byte
// aligned, under the symbol given.
TEST(CArray, CompilesAndHoldsTheModelBytes) {
  maqd_test::TempDir temp;
  const std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(3));
  std::ofstream(temp.path() / "model.c") << maqd_rt::model_c_source(bytes, "test_model", "a test */ model");
  std::ofstream(temp.path() / "main.c")
      << "#include <stdint.h>\n#include <stdio.h>\n#include <stddef.h>\n"
         "extern const uint8_t test_model[];\nextern const size_t test_model_size;\n"
         "int main(int argc, char** argv) {\n"
         "  FILE* out;\n"
         "  if (argc != 2 || ((uintptr_t)test_model) % 64 != 0) return 3;\n"
         "  out = fopen(argv[1], \"wb\");\n"
         "  if (!out || fwrite(test_model, 1, test_model_size, out) != test_model_size) return 2;\n"
         "  return fclose(out) != 0;\n}\n";
  for (const char* standard : {"c99", "c11"}) {
    SCOPED_TRACE(standard);
    const std::string program = (temp.path() / (std::string("dump-") + standard)).string();
    int status = 0;
    const std::string compiler_output =
        run_command(std::string(MAQD_C_COMPILER) + " -std=" + standard + " -Wall -Werror -o " + program +
                        " " + (temp.path() / "model.c").string() + " " + (temp.path() / "main.c").string(),
                    &status);
    ASSERT_EQ(status, 0) << compiler_output;
    const std::string dumped = (temp.path() / (std::string("dumped-") + standard)).string();
    const std::string output = run_command(target_program(program) + " " + dumped, &status);
    ASSERT_EQ(status, 0) << output;
    std::ifstream in(dumped, std::ios::binary);
    const std::vector<uint8_t> got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got, bytes);
  }
  // Reserved names and the headers' macros break the file as C, as C++ or
  // both (gcc: INT8_MAX, __attribute__), so they are refused with the rest.
  for (const char* symbol : {"", "1model", "my-model", "model name", "int", "static", "_Bool", "size_t", "class",
                             "NULL", "MAQD_MODEL_ALIGNED", "INT8_MAX", "UINT64_C", "INT_LEAST16_MIN", "SIZE_MAX",
                             "WCHAR_WIDTH", "SIG_ATOMIC_MIN", "uint_fast8_t", "intptr_t", "__cplusplus",
                             "__STDC_VERSION__", "__attribute__", "_model", "my__model", "model_", "main"}) {
    try {
      maqd_rt::model_c_source(bytes, symbol, "");
      ADD_FAILURE() << "symbol '" << symbol << "' accepted";
    } catch (const maqd_rt::Error& e) {
      EXPECT_EQ(e.status(), maqd_rt::Status::kBadArgument);
    }
  }
  for (const char* symbol : {"model_2", "Int8", "INTERVAL", "uint8", "size", "SIZE", "fashion_model_v2"})
    EXPECT_NO_THROW(maqd_rt::model_c_source(bytes, symbol, "")) << symbol;
}

TEST(CApi, CProgramReportsABrokenFile) {
  maqd_test::TempDir temp;
  const std::string path = (temp.path() / "broken.maqd").string();
  std::ofstream(path) << "not a model";
  int status = 0;
  const std::string out = run_command(target_program(MAQD_CLASSIFY_IMAGE_EXE) + " " + path + " x", &status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("broken.maqd"), std::string::npos) << out;
}

TEST(CApi, StatusAndMessageInsteadOfExceptions) {
  maqd_rt_model* model = nullptr;
  EXPECT_EQ(maqd_rt_load("/nonexistent/model.maqd", 1, &model), MAQD_RT_IO_ERROR);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(maqd_rt_last_error()).find("/nonexistent/model.maqd"), std::string::npos)
      << maqd_rt_last_error();

  const std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(4));
  EXPECT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 0, &model), MAQD_RT_BAD_ARGUMENT);
  EXPECT_NE(std::string(maqd_rt_last_error()).find("threads"), std::string::npos);
  EXPECT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size() - 1, 1, &model), MAQD_RT_BAD_FILE);
  EXPECT_EQ(model, nullptr);
  ASSERT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 2, &model), MAQD_RT_OK)
      << maqd_rt_last_error();
  EXPECT_STREQ(maqd_rt_last_error(), "");
  int height = 0, width = 0, channels = 0, classes = 0;
  size_t arena = 0;
  ASSERT_EQ(maqd_rt_input_shape(model, &height, &width, &channels), MAQD_RT_OK);
  const maqd_rt::Model reference = maqd_test::small_model(4);
  EXPECT_EQ(height, reference.input().height);
  EXPECT_EQ(width, reference.input().width);
  EXPECT_EQ(channels, reference.input().channels);
  ASSERT_EQ(maqd_rt_num_classes(model, &classes), MAQD_RT_OK);
  EXPECT_EQ(classes, reference.num_classes());
  ASSERT_EQ(maqd_rt_arena_bytes(model, &arena), MAQD_RT_OK);
  EXPECT_GT(arena, 0u);
  EXPECT_EQ(maqd_rt_run(model, nullptr, 1, nullptr), MAQD_RT_BAD_ARGUMENT);
  EXPECT_NE(std::string(maqd_rt_last_error()).find("NULL"), std::string::npos);
  maqd_rt_free(model);
}

// Every function, each pointer argument NULL in turn: a status, never a
// crash, and the message names the function.
TEST(CApi, EveryFunctionRefusesNullArguments) {
  const std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(4));
  maqd_rt_model* model = nullptr;
  ASSERT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 1, &model), MAQD_RT_OK) << maqd_rt_last_error();
  int a = 0, b = 0, c = 0, label = 0;
  size_t arena = 0;
  std::vector<unsigned char> image(size_t(maqd_test::small_model(4).input().elements()), 0);
  std::vector<float> logits(16);
  const auto expect_refused = [](int status, const char* function) {
    EXPECT_EQ(status, MAQD_RT_BAD_ARGUMENT) << function;
    EXPECT_NE(std::string(maqd_rt_last_error()).find(function), std::string::npos) << maqd_rt_last_error();
  };
  maqd_rt_model* untouched = model;
  expect_refused(maqd_rt_load(nullptr, 1, &untouched), "maqd_rt_load");
  expect_refused(maqd_rt_load("x.maqd", 1, nullptr), "maqd_rt_load");
  expect_refused(maqd_rt_load_limited(nullptr, 1, 1 << 20, &untouched), "maqd_rt_load_limited");
  expect_refused(maqd_rt_load_memory(nullptr, 10, 1, &untouched), "maqd_rt_load_memory");
  expect_refused(maqd_rt_load_memory(bytes.data(), bytes.size(), 1, nullptr), "maqd_rt_load_memory");
  expect_refused(maqd_rt_load_memory_limited(nullptr, 10, 1, 1 << 20, &untouched), "maqd_rt_load_memory_limited");
  EXPECT_EQ(untouched, model);  // a failed load leaves *model as it was
  expect_refused(maqd_rt_input_shape(nullptr, &a, &b, &c), "maqd_rt_input_shape");
  expect_refused(maqd_rt_input_shape(model, nullptr, &b, &c), "maqd_rt_input_shape");
  expect_refused(maqd_rt_input_shape(model, &a, nullptr, &c), "maqd_rt_input_shape");
  expect_refused(maqd_rt_input_shape(model, &a, &b, nullptr), "maqd_rt_input_shape");
  expect_refused(maqd_rt_num_classes(nullptr, &a), "maqd_rt_num_classes");
  expect_refused(maqd_rt_num_classes(model, nullptr), "maqd_rt_num_classes");
  expect_refused(maqd_rt_arena_bytes(nullptr, &arena), "maqd_rt_arena_bytes");
  expect_refused(maqd_rt_arena_bytes(model, nullptr), "maqd_rt_arena_bytes");
  expect_refused(maqd_rt_run(nullptr, image.data(), 1, logits.data()), "maqd_rt_run");
  expect_refused(maqd_rt_run(model, nullptr, 1, logits.data()), "maqd_rt_run");
  expect_refused(maqd_rt_run(model, image.data(), 1, nullptr), "maqd_rt_run");
  expect_refused(maqd_rt_run(model, image.data(), -1, logits.data()), "maqd_rt_run");
  expect_refused(maqd_rt_classify(nullptr, image.data(), &label), "maqd_rt_classify");
  expect_refused(maqd_rt_classify(model, nullptr, &label), "maqd_rt_classify");
  expect_refused(maqd_rt_classify(model, image.data(), nullptr), "maqd_rt_classify");
  maqd_rt_free(nullptr);
  maqd_rt_free(model);
  EXPECT_STREQ(maqd_rt_status_name(MAQD_RT_LIMIT_EXCEEDED), "MAQD_RT_LIMIT_EXCEEDED");
}

// A newer format version and a working-memory bound each have their own code.
TEST(CApi, VersionAndLimitHaveTheirOwnCodes) {
  std::vector<uint8_t> bytes = maqd_rt::write_model(maqd_test::small_model(4));
  maqd_rt_model* model = nullptr;
  ASSERT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 1, &model), MAQD_RT_OK);
  size_t arena = 0;
  ASSERT_EQ(maqd_rt_arena_bytes(model, &arena), MAQD_RT_OK);
  maqd_rt_free(model);
  model = nullptr;
  EXPECT_EQ(maqd_rt_load_memory_limited(bytes.data(), bytes.size(), 1, arena - 1, &model), MAQD_RT_LIMIT_EXCEEDED);
  EXPECT_NE(std::string(maqd_rt_last_error()).find("max_arena_bytes"), std::string::npos) << maqd_rt_last_error();
  ASSERT_EQ(maqd_rt_load_memory_limited(bytes.data(), bytes.size(), 1, arena, &model), MAQD_RT_OK);
  maqd_rt_free(model);
  model = nullptr;
  maqd_test::put_le(bytes, maqd_rt::format::kVersionAt, maqd_rt::kFormatVersion + 1, 4);
  maqd_test::reseal(bytes);
  EXPECT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 1, &model), MAQD_RT_UNSUPPORTED_VERSION);
  EXPECT_EQ(model, nullptr);
}

TEST(CApi, ClassNamesFromTheModelFile) {
  maqd_rt::Model named = maqd_test::tiny_model();  // two classes
  named.text["class_names"] = "cat\ndog";
  for (const bool with_names : {true, false}) {
    const std::vector<uint8_t> bytes = maqd_rt::write_model(with_names ? named : maqd_test::tiny_model());
    maqd_rt_model* model = nullptr;
    ASSERT_EQ(maqd_rt_load_memory(bytes.data(), bytes.size(), 1, &model), MAQD_RT_OK) << maqd_rt_last_error();
    const char* name = "unset";
    ASSERT_EQ(maqd_rt_class_name(model, 1, &name), MAQD_RT_OK);
    if (with_names)
      EXPECT_STREQ(name, "dog");
    else
      EXPECT_EQ(name, nullptr);
    EXPECT_EQ(maqd_rt_class_name(model, 2, &name), MAQD_RT_BAD_ARGUMENT);
    EXPECT_NE(std::string(maqd_rt_last_error()).find("label out of range"), std::string::npos);
    EXPECT_EQ(maqd_rt_class_name(model, -1, &name), MAQD_RT_BAD_ARGUMENT);
    EXPECT_EQ(maqd_rt_class_name(model, 0, nullptr), MAQD_RT_BAD_ARGUMENT);
    EXPECT_EQ(maqd_rt_class_name(nullptr, 0, &name), MAQD_RT_BAD_ARGUMENT);
    maqd_rt_free(model);
  }
}

// `--top k`'s text for one image's logits, written out independently of
// Model::prediction_text: labels by logit (ties: lower label), each named,
// with its softmax probability to three places.
std::string top_text(const std::vector<float>& logits, const std::vector<std::string>& names, size_t k) {
  std::vector<size_t> order(logits.size());
  for (size_t c = 0; c < order.size(); ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  double sum = 0;
  for (const float l : logits) sum += std::exp(double(l) - logits[order[0]]);
  std::string text;
  for (size_t i = 0; i < k; ++i) {
    char probability[32];
    std::snprintf(probability, sizeof probability, "%.3f", std::exp(double(logits[order[i]]) - logits[order[0]]) / sum);
    text += (i ? ", " : "") + std::to_string(order[i]) + " (" + names[order[i]] + ") " + probability;
  }
  return text;
}

// maqd-rt, the runtime's own program, classifies PGM and PPM images as
// the engine does and names the classes the model file records.
TEST(RuntimeTool, ClassifiesImagesLikeTheEngineAndNamesTheClasses) {
  maqd_test::TempDir temp;
  for (const int channels : {1, 3}) {
    SCOPED_TRACE(channels);
    const maqd_rt::Model model = maqd_test::image_model(channels);
    const std::vector<std::string> names = model.class_names();
    ASSERT_EQ(names.size(), 3u);
    const std::string model_path = (temp.path() / "model.maqd").string();
    maqd_rt::save_model(model, model_path);

    maqd_rt::Engine engine(model);
    const size_t image_bytes = size_t(model.input().elements());
    std::vector<float> logits(3);
    std::string expected, images, streamed, expected_top3, streamed_top2;
    std::vector<int> seen(3, 0);
    for (int image = 0; image < 12; ++image) {
      std::vector<uint8_t> pixels(image_bytes);
      for (size_t i = 0; i < image_bytes; ++i) pixels[i] = uint8_t((image * 23 + int(i) * (image % 5)) % 256);
      const std::string path = (temp.path() / ("image" + std::to_string(image) + (channels == 1 ? ".pgm" : ".ppm"))).string();
      std::ofstream out(path, std::ios::binary);
      out << (channels == 1 ? "P5" : "P6") << "\n# test image\n5 4\n255\n";
      out.write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
      out.close();
      engine.run(pixels.data(), 1, logits.data());
      const int label = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
      ++seen[size_t(label)];
      expected += path + ": class " + std::to_string(label) + " (" + names[size_t(label)] + ")\n";
      streamed += "-: class " + std::to_string(label) + " (" + names[size_t(label)] + ")\n";
      expected_top3 += path + ": class " + top_text(logits, names, 3) + "\n";
      streamed_top2 += "-: class " + top_text(logits, names, 2) + "\n";
      images += " " + path;
    }
    EXPECT_GE(std::count_if(seen.begin(), seen.end(), [](int n) { return n > 0; }), 2)
        << "the images should not all fall in one class";
    int status = 0;
    for (const char* threads : {"1", "3"}) {
      const std::string out = run_command(
          target_program(MAQD_RT_TOOL_EXE) + " --threads " + threads + " " + model_path + images, &status);
      EXPECT_EQ(status, 0) << out;
      EXPECT_EQ(out, expected);
    }
    // The same images one after another on standard input (`cat` joins
    // the files: each ends where its pixels do).
    const std::string stream = run_command("cat" + images + " | " + target_program(MAQD_RT_TOOL_EXE) + " " +
                                               model_path + " --threads 2 -",
                                           &status);
    EXPECT_EQ(status, 0) << stream;
    EXPECT_EQ(stream, streamed);
    // A pipe named as the image file, and as the model file: neither seeks.
    const std::string first_image = images.substr(1, images.find(' ', 1) - 1);
    const size_t class_at = expected.find(": class");
    const std::string first_class = expected.substr(class_at, expected.find('\n') + 1 - class_at);
    const std::string piped_image = run_command(
        "cat " + first_image + " | " + target_program(MAQD_RT_TOOL_EXE) + " " + model_path + " /dev/stdin", &status);
    EXPECT_EQ(status, 0) << piped_image;
    EXPECT_EQ(piped_image, "/dev/stdin" + first_class);
    const std::string piped_model =
        run_command("cat " + model_path + " | " + target_program(MAQD_RT_TOOL_EXE) + " /dev/stdin" + images, &status);
    EXPECT_EQ(status, 0) << piped_model;
    EXPECT_EQ(piped_model, expected);
    // --top: every class, or the first two, each with its probability.
    const std::string top3 =
        run_command(target_program(MAQD_RT_TOOL_EXE) + " --top 3 " + model_path + images, &status);
    EXPECT_EQ(status, 0) << top3;
    EXPECT_EQ(top3, expected_top3);
    const std::string stream_top2 = run_command(
        "cat" + images + " | " + target_program(MAQD_RT_TOOL_EXE) + " " + model_path + " - --top 2", &status);
    EXPECT_EQ(status, 0) << stream_top2;
    EXPECT_EQ(stream_top2, streamed_top2);
    const std::string info = run_command(target_program(MAQD_RT_TOOL_EXE) + " " + model_path + " --info", &status);
    EXPECT_EQ(status, 0) << info;
    EXPECT_NE(info.find("classes: 3 (0 dark, 1 middle, 2 bright thing)"), std::string::npos) << info;
    EXPECT_EQ(info, maqd_rt::describe_model_file(model_path, 1));
    const std::string bench =
        run_command(target_program(MAQD_RT_TOOL_EXE) + " " + model_path + " --bench 0.05", &status);
    EXPECT_EQ(status, 0) << bench;
    EXPECT_NE(bench.find(" images/s ("), std::string::npos) << bench;
    double median = 0, p90 = 0, p99 = 0, slowest = 0;
    unsigned long calls = 0;
    const size_t at = bench.find("latency per call of 1 image(s), ms: ");
    ASSERT_NE(at, std::string::npos) << bench;
    ASSERT_EQ(std::sscanf(bench.c_str() + at,
                          "latency per call of 1 image(s), ms: median %lf, 90th percentile %lf, 99th %lf, "
                          "slowest %lf (%lu calls)",
                          &median, &p90, &p99, &slowest, &calls),
              5)
        << bench;
    EXPECT_GT(calls, 0u);
    EXPECT_GE(median, 0.0);
    EXPECT_LE(median, p90);
    EXPECT_LE(p90, p99);
    EXPECT_LE(p99, slowest);
    // A time, not an unset value: one image of this 4×5 model is far under a second.
    EXPECT_LT(slowest, 1000.0) << bench;
  }
}

TEST(RuntimeTool, ErrorsAreOneLineWithUsageErrorsExitingTwo) {
  maqd_test::TempDir temp;
  const std::string model = (temp.path() / "model.maqd").string();
  maqd_rt::save_model(maqd_test::tiny_model(), model);  // two classes
  struct Case {
    std::string arguments;
    int status;
    std::string message;  // the whole line after "maqd-rt: error: "
  };
  const std::vector<Case> cases{
      {model, 2, "no image given (maqd-rt --help)"},
      {model + " - < /dev/null", 1, "-: no image on standard input; expected binary PGM or PPM images"},
      {model + " - x.pgm", 2, "- (images on standard input) takes no other images and no --bench (maqd-rt --help)"},
      {model + " --threads 0 x.pgm", 2,
       "--threads is '0'; expected a number from 1 to " + std::to_string(maqd_rt::kMaxEngineThreads) +
           " (maqd-rt --help)"},
      {model + " --top 3 x.pgm", 2, "--top is 3; the model has 2 classes (maqd-rt --help)"},
      {model + " --top 1 --info", 2, "--top is for classifying images, not --info or --bench (maqd-rt --help)"},
      {model + " --top 0 x.pgm", 2, "--top is '0'; expected a number from 1 to 1048576 (maqd-rt --help)"},
      {model + " x.pgm --top", 2, "--top needs a value; expected a number from 1 to 1048576 (maqd-rt --help)"},
      {model + " --top 1 --top 2 x.pgm", 2, "--top is given twice; expected it once (maqd-rt --help)"},
      {(temp.path() / "none.maqd").string() + " x.pgm", 1,
       (temp.path() / "none.maqd").string() + ": cannot open for reading (No such file or directory)"},
      {temp.path().string() + " x.pgm", 1, temp.path().string() + ": read failed after 0 bytes (Is a directory)"},
      // Endless: read only as far as the header's file_size (here 0) says.
      {"/dev/zero x.pgm", 1,
       "/dev/zero: byte 0: magic: is [00 00 00 00 00 00 00 00]; expected 4D 41 51 44 0D 0A 1A 0A "
       "(\"MAQD\\r\\n\\x1a\\n\"): not a .maqd model file"},
      {model + " " + (temp.path() / "missing.pgm").string(), 1,
       (temp.path() / "missing.pgm").string() + ": cannot open the image (No such file or directory)"},
  };
  for (const Case& c : cases) {
    int status = 0;
    const std::string out = run_command(target_program(MAQD_RT_TOOL_EXE) + " " + c.arguments, &status);
    EXPECT_EQ(status, c.status) << c.arguments;
    EXPECT_EQ(out, "maqd-rt: error: " + c.message + "\n") << c.arguments;
  }
}

}  // namespace
