// Installing the runtime as a user's project consumes it: `cmake --install`
// of this build's component "runtime" into a fresh prefix, which is then
// moved (so nothing installed may name where it was put, nor maqd's source
// or build tree), and programs built against the moved copy alone, through
// find_package(maqd_rt) (tests/install/CMakeLists.txt) and through
// pkg-config. Each program must classify images exactly as the engine does.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/subprocess.h"
#include "common/temp_dir.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"
#include "runtime/model_fixtures.h"

namespace {

namespace fs = std::filesystem;
using maqd_test::run_command;

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool cross_build() { return !std::string(MAQD_TEST_EMULATOR).empty(); }

// Installs the runtime under temp/first, checks what is there, moves it to
// temp/moved/prefix and returns that.
fs::path install_moved_runtime(const fs::path& temp) {
  const fs::path first = temp / "first", moved = temp / "moved" / "prefix";
  int status = 0;
  const std::string out = run_command(std::string(MAQD_CMAKE_COMMAND) + " --install " +
                                          quoted(MAQD_BINARY_DIR) + " --prefix " + quoted(first) +
                                          " --component runtime",
                                      &status);
  EXPECT_EQ(status, 0) << out;
  const std::string libdir = MAQD_INSTALL_LIBDIR;
  for (const std::string& file :
       {std::string("include/maqd_rt.h"), std::string("include/maqd_rt/engine.hpp"),
        std::string("include/maqd_rt/image.hpp"), std::string("include/maqd_rt_core.h"),
        std::string("include/maqd_rt/core/types.h"), libdir + "/" + MAQD_RT_LIBRARY_FILE,
        libdir + "/cmake/maqd_rt/maqd_rt-config.cmake",
        libdir + "/cmake/maqd_rt/maqd_rt-config-version.cmake",
        libdir + "/cmake/maqd_rt/maqd_rt-targets.cmake", libdir + "/pkgconfig/maqd_rt.pc",
        std::string("bin/maqd-rt")})
    EXPECT_TRUE(fs::is_regular_file(first / file)) << file << " was not installed";
  // Private headers and the training library stay out.
  EXPECT_FALSE(fs::exists(first / "include" / "maqd")) << "libmaqd's headers in the runtime component";
  EXPECT_FALSE(fs::exists(first / "bin" / "maqd")) << "the maqd tool in the runtime component";
  // The package files name paths relative to themselves only.
  for (const auto& entry : fs::recursive_directory_iterator(first / libdir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || (entry.path().extension() != ".cmake" && name != "maqd_rt.pc"))
      continue;
    const std::string text = read_text(entry.path());
    for (const std::string& place : {first.string(), std::string(MAQD_BINARY_DIR), std::string(MAQD_SOURCE_DIR)})
      EXPECT_EQ(text.find(place), std::string::npos) << entry.path() << " names " << place;
  }
  fs::create_directories(moved.parent_path());
  fs::rename(first, moved);
  return moved;
}

struct Images {
  std::vector<fs::path> raw, pgm;  // the same pixels, headerless and as PGM
  std::vector<std::string> expected_classes;  // "class N (name)" per image, from the engine
};

Images write_images(const maqd_rt::Model& model, const fs::path& folder) {
  maqd_rt::Engine engine(model);
  const std::vector<std::string> names = model.class_names();
  Images images;
  std::vector<float> logits(size_t(model.num_classes()));
  std::vector<int> seen(logits.size(), 0);
  for (int image = 0; image < 8; ++image) {
    std::vector<uint8_t> pixels(size_t(model.input().elements()));
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t((image * 37 + int(i) * (image % 3)) % 256);
    images.raw.push_back(folder / ("image" + std::to_string(image) + ".raw"));
    images.pgm.push_back(folder / ("image" + std::to_string(image) + ".pgm"));
    std::ofstream(images.raw.back(), std::ios::binary)
        .write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
    std::ofstream pgm(images.pgm.back(), std::ios::binary);
    pgm << "P5\n" << model.input().width << " " << model.input().height << "\n255\n";
    pgm.write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
    engine.run(pixels.data(), 1, logits.data());
    const int label = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
    ++seen[size_t(label)];
    images.expected_classes.push_back("class " + std::to_string(label) + " (" + names[size_t(label)] + ")");
  }
  EXPECT_GE(std::count_if(seen.begin(), seen.end(), [](int n) { return n > 0; }), 2)
      << "the images should not all fall in one class";
  return images;
}

// classify_image (tests/c_api) prints "class N (name)" for one raw image.
void expect_c_example_classifies(const fs::path& program, const fs::path& model, const Images& images,
                                 const std::string& environment = "") {
  for (size_t i = 0; i < images.raw.size(); ++i) {
    int status = 0;
    const std::string out =
        run_command(environment + quoted(program) + " " + quoted(model) + " " + quoted(images.raw[i]), &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, images.expected_classes[i] + "\n");
  }
}

// maqd-rt prints "IMAGE: class N (name)" per image.
void expect_maqd_rt_classifies(const fs::path& program, const fs::path& model, const Images& images) {
  std::string arguments, expected;
  for (size_t i = 0; i < images.pgm.size(); ++i) {
    arguments += " " + quoted(images.pgm[i]);
    expected += images.pgm[i].string() + ": " + images.expected_classes[i] + "\n";
  }
  int status = 0;
  const std::string out = run_command(quoted(program) + " " + quoted(model) + arguments, &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, expected);
}

// An installed, moved runtime and a model with images to classify.
class Install : public testing::Test {
 protected:
  void SetUp() override {
    if (cross_build()) GTEST_SKIP() << "a cross build: programs built against the installed copy would be the host's";
    prefix = install_moved_runtime(temp.path());
    ASSERT_FALSE(HasFailure());
    const maqd_rt::Model model = maqd_test::image_model(1);
    maqd_rt::save_model(model, model_path);
    images = write_images(model, temp.path());
  }
  maqd_test::TempDir temp;
  fs::path prefix, model_path = temp.path() / "model.maqd";
  Images images;
};

TEST_F(Install, CMakeProjectBuildsAgainstTheInstalledRuntime) {

  const auto configure = [&](const std::string& version, const fs::path& build, int* status) {
    return run_command(std::string(MAQD_CMAKE_COMMAND) + " -S " + quoted(fs::path(MAQD_SOURCE_DIR) / "tests/install") +
                           " -B " + quoted(build) + " -G '" MAQD_CMAKE_GENERATOR "' -DCMAKE_BUILD_TYPE=Release" +
                           " -DCMAKE_C_COMPILER='" MAQD_C_COMPILER "' -DCMAKE_CXX_COMPILER='" MAQD_CXX_COMPILER "'" +
                           " -DCMAKE_PREFIX_PATH=" + quoted(prefix) + " -DMAQD_RT_VERSION=" + version,
                       status);
  };
  // Another minor version is refused: 0.x releases may change the API.
  int status = 0;
  std::string out = configure(MAQD_RT_OTHER_MINOR_VERSION, temp.path() / "refused", &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("maqd_rt"), std::string::npos) << out;

  const fs::path build = temp.path() / "consumer";
  out = configure(MAQD_RT_VERSION, build, &status);
  ASSERT_EQ(status, 0) << out;
  out = run_command(std::string(MAQD_CMAKE_COMMAND) + " --build " + quoted(build), &status);
  ASSERT_EQ(status, 0) << out;
  // Nothing of maqd's trees reached the compile lines: only the prefix did.
  const std::string commands = read_text(build / "compile_commands.json") + read_text(build / "CMakeCache.txt");
  EXPECT_EQ(commands.find(MAQD_BINARY_DIR), std::string::npos);

  expect_c_example_classifies(build / "classify_image", model_path, images);
  expect_maqd_rt_classifies(build / "maqd-rt", model_path, images);
  expect_maqd_rt_classifies(prefix / "bin" / "maqd-rt", model_path, images);
}

TEST_F(Install, PkgConfigBuildsTheCExample) {
  ASSERT_STRNE(MAQD_PKG_CONFIG, "") << "no pkg-config (scripts/setup.sh installs it)";

  // PKG_CONFIG_LIBDIR replaces the system's search path: only this copy.
  const std::string pkg_config =
      "PKG_CONFIG_LIBDIR=" + quoted(prefix / MAQD_INSTALL_LIBDIR / "pkgconfig") + " '" MAQD_PKG_CONFIG "' ";
  int status = 0;
  std::string out = run_command(pkg_config + "--modversion maqd_rt", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, std::string(MAQD_RT_VERSION) + "\n");
  const fs::path program = temp.path() / "classify_image";
  // --static: the library is C++, and a C program's link needs its
  // dependencies named (Libs.private).
  out = run_command("'" MAQD_C_COMPILER "' -std=c99 -o " + quoted(program) + " " +
                        quoted(fs::path(MAQD_SOURCE_DIR) / "tests/c_api/classify_image.c") + " $(" + pkg_config +
                        "--cflags --libs --static maqd_rt)",
                    &status);
  ASSERT_EQ(status, 0) << out;
  expect_c_example_classifies(program, model_path, images,
                              "LD_LIBRARY_PATH=" + quoted(prefix / MAQD_INSTALL_LIBDIR) + " ");
}

}  // namespace
