// read_netpbm (maqd_rt/image.hpp) and Model::class_names: what maqd-rt and
// `maqd run --image` read besides the model's arithmetic.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "maqd_rt/error.hpp"
#include "maqd_rt/image.hpp"
#include "common/seed.h"
#include "runtime/model_fixtures.h"

namespace {

namespace fs = std::filesystem;

class NetpbmFile : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove(path_); }
  // Writes `header` then `pixels` and reads it back as an image of `shape`.
  std::vector<uint8_t> read(const std::string& header, const std::vector<uint8_t>& pixels,
                            maqd_rt::TensorDesc shape) {
    std::ofstream out(path_, std::ios::binary);
    out << header;
    out.write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
    out.close();
    return maqd_rt::read_netpbm(path_, shape);
  }
  std::string error(const std::string& header, const std::vector<uint8_t>& pixels,
                    maqd_rt::TensorDesc shape) {
    try {
      read(header, pixels, shape);
    } catch (const maqd_rt::Error& e) {
      return e.what();
    }
    return "no error";
  }
  const std::string path_ = (fs::temp_directory_path() / ("maqd_image_" + std::to_string(getpid()))).string();
  const maqd_rt::TensorDesc gray_{maqd_rt::DType::kU8, 2, 3, 1};
};

TEST_F(NetpbmFile, ReadsAPlainPgmRowByRow) {
  const std::vector<uint8_t> pixels{0, 1, 2, 253, 254, 255};
  EXPECT_EQ(read("P5\n3 2\n255\n", pixels, gray_), pixels);
}

TEST_F(NetpbmFile, SkipsHeaderCommentsAndAnyWhitespace) {
  const std::vector<uint8_t> pixels{10, 20, 30, 40, 50, 60};
  EXPECT_EQ(read("P5 # from GIMP\n# a whole comment line\r\n3\t2 # width, height\n255\n", pixels, gray_),
            pixels);
  // A first pixel that looks like whitespace or '#' is data: one byte
  // ends the header.
  const std::vector<uint8_t> tricky{' ', '#', '\n', 4, 5, 6};
  EXPECT_EQ(read("P5 3 2 255 ", tricky, gray_), tricky);
}

TEST_F(NetpbmFile, ReadsAPpmAsRgbTriples) {
  const maqd_rt::TensorDesc rgb{maqd_rt::DType::kU8, 1, 2, 3};
  const std::vector<uint8_t> pixels{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(read("P6\n2 1\n255\n", pixels, rgb), pixels);
}

TEST_F(NetpbmFile, ScalesOtherMaxvalsToEightBitsRounded) {
  // maxval 15: v · 255 / 15 = 17 v exactly.
  EXPECT_EQ(read("P5 3 2 15\n", {0, 1, 2, 7, 14, 15}, gray_), (std::vector<uint8_t>{0, 17, 34, 119, 238, 255}));
  // maxval 2: 0, 127.5 → 128 (halves round up), 255.
  EXPECT_EQ(read("P5 3 2 2\n", {0, 1, 2, 2, 1, 0}, gray_), (std::vector<uint8_t>{0, 128, 255, 255, 128, 0}));
  // 16 bits, big-endian: v · 257 is v again; 0x8000 · 255 / 65535 = 127.50… → 128.
  EXPECT_EQ(read("P5 3 2 65535\n", {0, 0, 0x01, 0x01, 0xFF, 0xFF, 0x80, 0x00, 0x7F, 0x7F, 0x00, 0x80}, gray_),
            (std::vector<uint8_t>{0, 1, 255, 128, 127, 0}));
}

TEST_F(NetpbmFile, RefusesWhatItCannotRead) {
  const std::vector<uint8_t> six(6, 0);
  // Each header field is named with what it holds.
  EXPECT_NE(error("P2\n3 2\n255\n", six, gray_).find("header: magic is 'P2'; expected a binary PGM (P5) or PPM (P6)"),
            std::string::npos);  // ASCII PGM
  EXPECT_NE(error("P5\n3 2\n0\n", six, gray_).find("header: maxval is '0'; expected a whole number from 1 to 65535"),
            std::string::npos);
  EXPECT_NE(error("P5\n3 2\n65536\n", six, gray_).find("header: maxval is '65536'; expected"), std::string::npos);
  EXPECT_NE(error("P5\n3 -2\n255\n", six, gray_).find("header: height is '-2'; expected a whole number from 1 to "
                                                      "999999999"),
            std::string::npos);
  EXPECT_NE(error("P5\n99999999999 2\n255\n", six, gray_).find("header: width is '99999999999'"), std::string::npos);
  EXPECT_NE(error("P5\n3", {}, gray_).find("header: height is missing (the header ends before it)"),
            std::string::npos);
  EXPECT_NE(error("", {}, gray_).find("header: magic is missing (the header ends before it)"), std::string::npos);
  EXPECT_NE(error("P5\n2 3\n255\n", six, gray_).find("image is 3×2×1; the model expects 2×3×1"),
            std::string::npos);
  EXPECT_NE(error("P6\n3 2\n255\n", std::vector<uint8_t>(18, 0), gray_).find("image is 2×3×3"),
            std::string::npos);
  EXPECT_NE(error("P5\n3 2\n255\n", {1, 2, 3}, gray_).find("pixel data: expected 6 bytes, the file has 3"),
            std::string::npos);
  EXPECT_NE(error("P5\n3 2\n9\n", {1, 2, 10, 3, 4, 5}, gray_).find("sample 2 is 10; expected at most maxval 9"),
            std::string::npos);
  EXPECT_THROW(maqd_rt::read_netpbm(path_ + ".none", gray_), maqd_rt::Error);
  try {
    maqd_rt::read_netpbm(::testing::TempDir(), gray_);
    ADD_FAILURE() << "a folder was read as an image";
  } catch (const maqd_rt::Error& e) {
    EXPECT_NE(std::string(e.what()).find(": is a folder; expected a binary PGM"), std::string::npos) << e.what();
  }
}

// Without an expected size (a data set's images): the header's size, and
// a header claiming more pixels than the file holds is refused before
// anything is allocated for them.
TEST_F(NetpbmFile, ReadsAnySizeAndChecksTheClaimAgainstTheFile) {
  const std::vector<uint8_t> pixels{1, 2, 3, 4, 5, 6};
  std::ofstream(path_, std::ios::binary) << "P6 # rgb\n2 1\n255\n" << std::string(pixels.begin(), pixels.end());
  const maqd_rt::NetpbmImage image = maqd_rt::read_netpbm(path_);
  EXPECT_EQ(image.shape.height, 1);
  EXPECT_EQ(image.shape.width, 2);
  EXPECT_EQ(image.shape.channels, 3);
  EXPECT_EQ(image.pixels, pixels);
  std::ofstream(path_, std::ios::binary) << "P5\n999999999 999999999\n65535\n" << std::string(pixels.begin(), pixels.end());
  try {
    maqd_rt::read_netpbm(path_);
    ADD_FAILURE() << "a header claiming 2e18 bytes was read";
  } catch (const maqd_rt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("pixel data: expected 1999999996000000002 bytes, the file has 6"),
              std::string::npos)
        << e.what();
  }
}

// The result of reading `bytes` from a file and of decoding them in memory:
// the image, or the error's message (names the same).
std::string outcome(const maqd_rt::NetpbmImage& image) {
  return "image " + std::to_string(image.shape.height) + "x" + std::to_string(image.shape.width) + "x" +
         std::to_string(image.shape.channels) + ": " + std::string(image.pixels.begin(), image.pixels.end());
}

// decode_netpbm (bytes in memory) and read_netpbm (a file) are one reader:
// on seeded mutations of valid images (bits flipped, bytes cut, header
// characters inserted) each input gives the same image or the same error
// both ways, never another exception, and an accepted image holds
// height × width × channels pixels.
TEST_F(NetpbmFile, MemoryAndFileReadersAgreeOnMutatedImages) {
  MAQD_SEEDED(seed);
  maqd_test::FixtureValues random(seed);
  const std::vector<std::string> seeds = {
      std::string("P5\n3 2\n255\n") + std::string("\x00\x10\x80\xff\x01\x02", 6),
      std::string("P6 # rgb\n2 1\n65535\n") + std::string(12, '\x7f'),
      std::string("P5\n#c\r1 1 9\n\x09"),
  };
  const std::string inserted = "0123456789 \n\r\t#P56-+";
  int images = 0, errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = seeds[size_t(random.next(0, int64_t(seeds.size()) - 1))];
    for (int m = int(random.next(1, 3)); m > 0 && !bytes.empty(); --m) {
      const size_t at = size_t(random.next(0, int64_t(bytes.size()) - 1));
      switch (random.next(0, 3)) {
        case 0: bytes[at] = char(bytes[at] ^ (1 << random.next(0, 7))); break;
        case 1: bytes.resize(at); break;
        case 2: bytes.insert(at, size_t(random.next(1, 3)), inserted[size_t(random.next(0, int64_t(inserted.size()) - 1))]); break;
        case 3: bytes[at] = inserted[size_t(random.next(0, int64_t(inserted.size()) - 1))]; break;
      }
    }
    SCOPED_TRACE("round " + std::to_string(round));
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
    std::string from_file, from_memory;
    try {
      const maqd_rt::NetpbmImage image = maqd_rt::read_netpbm(path_);
      EXPECT_EQ(image.pixels.size(), size_t(image.shape.height) * size_t(image.shape.width) * size_t(image.shape.channels));
      EXPECT_TRUE(image.shape.channels == 1 || image.shape.channels == 3);
      from_file = outcome(image);
      ++images;
    } catch (const maqd_rt::Error& e) {
      from_file = e.what();
      ++errors;
    }
    try {
      from_memory = outcome(maqd_rt::decode_netpbm(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path_));
    } catch (const maqd_rt::Error& e) {
      from_memory = e.what();
    }
    EXPECT_EQ(from_memory, from_file);
  }
  // Both paths must actually be exercised.
  EXPECT_GT(images, 100);
  EXPECT_GT(errors, 100);
}

// A stream of images one after another (a camera pipeline's frames): each
// read exactly, whitespace after the last one is the end, and a broken
// image is an error naming its number.
TEST(NetpbmStream, ReadsImagesOneAfterAnotherUntilTheEnd) {
  const maqd_rt::TensorDesc gray{maqd_rt::DType::kU8, 2, 3, 1};
  const std::string first("\x00\x01\x02\xfd\xfe\xff", 6), wide("\x00\x00\x01\x01\xff\xff\x80\x00\x7f\x7f\x00\x80", 12);
  const std::string second(" #\n456", 6);  // pixels that look like whitespace and a comment
  std::istringstream in("P5\n3 2\n255\n" + first + "P5 # a comment\n3 2\n255 " + second + "P5 3 2 65535\n" +
                        wide + "\n\n");
  std::vector<uint8_t> pixels;
  ASSERT_TRUE(maqd_rt::read_netpbm_stream(in, gray, "-", 1, &pixels));
  EXPECT_EQ(pixels, std::vector<uint8_t>(first.begin(), first.end()));
  ASSERT_TRUE(maqd_rt::read_netpbm_stream(in, gray, "-", 2, &pixels));
  EXPECT_EQ(pixels, std::vector<uint8_t>(second.begin(), second.end()));
  ASSERT_TRUE(maqd_rt::read_netpbm_stream(in, gray, "-", 3, &pixels));
  EXPECT_EQ(pixels, (std::vector<uint8_t>{0, 1, 255, 128, 127, 0}));
  EXPECT_FALSE(maqd_rt::read_netpbm_stream(in, gray, "-", 4, &pixels));
  std::istringstream empty("");
  EXPECT_FALSE(maqd_rt::read_netpbm_stream(empty, gray, "-", 1, &pixels));

  const auto error = [&](const std::string& bytes, int64_t images) {
    std::istringstream stream(bytes);
    try {
      for (int64_t i = 1; i <= images; ++i) maqd_rt::read_netpbm_stream(stream, gray, "camera", i, &pixels);
    } catch (const maqd_rt::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("P5\n3 2\n255\n" + first + "P5\n3 2\n255\n\x01\x02", 2),
            "camera: image 2: pixel data: expected 6 bytes, the stream ended after 2");
  EXPECT_EQ(error("P5\n3 2\n255\n" + first + "P6\n3 2\n255\n" + first + first + first, 2),
            "camera: image 2: image is 2×3×3; the model expects 2×3×1");
  EXPECT_NE(error("P5\n3 2\n255\n" + first + "junk", 2).find("camera: image 2: header: magic is 'junk'; expected a binary PGM"),
            std::string::npos);
}

TEST(ModelClassNames, OnePerLineAndOnlyWhenOnePerClass) {
  maqd_rt::Model model = maqd_test::tiny_model();  // two classes
  EXPECT_TRUE(model.class_names().empty());
  EXPECT_EQ(model.class_label(1), "1");
  model.text["class_names"] = "T-shirt/top\nAnkle boot";
  EXPECT_EQ(model.class_names(), (std::vector<std::string>{"T-shirt/top", "Ankle boot"}));
  EXPECT_EQ(model.class_label(1), "1 (Ankle boot)");
  model.text["class_names"] = "\nsecond";  // an empty name is still a name
  EXPECT_EQ(model.class_names(), (std::vector<std::string>{"", "second"}));
  model.text["class_names"] = "one\ntwo\nthree";
  EXPECT_TRUE(model.class_names().empty());
  model.text["class_names"] = "only";
  EXPECT_TRUE(model.class_names().empty());
  // A file's bytes reach terminals: control bytes are shown, not sent;
  // UTF-8 stays.
  // (class_names() keeps the bytes: they are matched against folders.)
  model.text["class_names"] = std::string("\x1b[31mAnkle\nT\xC3\xA4sche\x7F\t", 20);
  EXPECT_EQ(model.class_names(), (std::vector<std::string>{"\x1b[31mAnkle", "T\xC3\xA4sche\x7F\t"}));
  EXPECT_EQ(model.class_label(0), "0 (\\x1B[31mAnkle)");
  EXPECT_EQ(model.class_label(1), "1 (T\xC3\xA4sche\\x7F\\x09)");
  EXPECT_EQ(maqd_rt::without_control_bytes(std::string("a\0b\r", 4)), "a\\x00b\\x0D");
  EXPECT_EQ(maqd_rt::without_control_bytes("\xC2\x9B" "2J \xC2\xA0 \xC2"), "\\xC2\\x9B" "2J \xC2\xA0 \xC2");
}

}  // namespace
