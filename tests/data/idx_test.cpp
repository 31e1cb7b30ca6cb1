// IDX reader: round trips (raw and gzip) and every rejected file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "data/fixtures.h"
#include "maqd/data/idx.h"
#include "maqd/error.h"

namespace {

using maqd::data::Dataset;
using maqd::data::load_idx;
using maqd_test::Bytes;
using maqd_test::TempDir;
using maqd_test::write_file;
using ::testing::HasSubstr;

// Expects load_idx to throw a maqd::Error whose message holds every part.
void expect_error(const std::string& images, const std::string& labels,
                  const std::vector<std::string>& parts) {
  try {
    load_idx(images, labels, "test");
    ADD_FAILURE() << "no error for " << images << ", " << labels;
  } catch (const maqd::Error& e) {
    for (const std::string& part : parts) EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

class IdxRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(IdxRoundTrip, PixelsAndLabelsReadBack) {
  const bool gzip = GetParam();
  TempDir dir;
  const std::string images = dir.file(gzip ? "i.gz" : "i"), labels = dir.file(gzip ? "l.gz" : "l");
  write_file(images, maqd_test::idx_images(3, 4, 5, maqd_test::pattern_pixels(0, 3, 1, 4, 5)), gzip);
  write_file(labels, maqd_test::idx_labels(3, {3, 0, 9}), gzip);

  const Dataset data = load_idx(images, labels, "tiny");
  EXPECT_EQ(data.name, "tiny");
  EXPECT_EQ(data.num_classes, 10);
  ASSERT_EQ(data.images.sizes(), (std::vector<int64_t>{3, 1, 4, 5}));
  ASSERT_EQ(data.images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.channels(), 1);
  EXPECT_EQ(data.height(), 4);
  EXPECT_EQ(data.width(), 5);
  auto px = data.images.accessor<uint8_t, 4>();
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 5; ++x) ASSERT_EQ(px[n][0][y][x], maqd_test::pattern(n, 0, y, x));
  ASSERT_EQ(data.labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(data.labels[0].item<int64_t>(), 3);
  EXPECT_EQ(data.labels[1].item<int64_t>(), 0);
  EXPECT_EQ(data.labels[2].item<int64_t>(), 9);
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxRoundTrip, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "gzip" : "raw"; });

TEST(Idx, GzipIsRecognisedByContentNotName) {
  TempDir dir;
  const std::string images = dir.file("images.bin"), labels = dir.file("labels.gz");
  write_file(images, maqd_test::idx_images(2, 2, 2, maqd_test::pattern_pixels(0, 2, 1, 2, 2)), true);
  write_file(labels, maqd_test::idx_labels(2, {1, 2}), false);
  const Dataset data = load_idx(images, labels, "mixed");
  EXPECT_EQ(data.images[1][0][1][1].item<int64_t>(), maqd_test::pattern(1, 0, 1, 1));
  EXPECT_EQ(data.labels[1].item<int64_t>(), 2);
}

TEST(Idx, MultiMemberGzip) {
  // gzip's size trailer covers the last member only: the reader must not
  // rely on it.
  TempDir dir;
  const std::string images = dir.file("i.gz"), labels = dir.file("l");
  const Bytes bytes = maqd_test::idx_images(300, 10, 10, maqd_test::pattern_pixels(0, 300, 1, 10, 10));
  const size_t half = bytes.size() / 2;
  write_file(images, Bytes(bytes.begin(), bytes.begin() + half), true);
  gzFile gz = gzopen(images.c_str(), "ab");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, bytes.data() + half, static_cast<unsigned>(bytes.size() - half)),
            static_cast<int>(bytes.size() - half));
  gzclose(gz);
  write_file(labels, maqd_test::idx_labels(300, Bytes(300, 7)));
  const Dataset data = load_idx(images, labels, "two members");
  ASSERT_EQ(data.size(), 300);
  EXPECT_EQ(data.images[299][0][9][9].item<int64_t>(), maqd_test::pattern(299, 0, 9, 9));
  EXPECT_EQ(data.images[150][0][3][4].item<int64_t>(), maqd_test::pattern(150, 0, 3, 4));
}

TEST(Idx, TruncatedImages) {
  TempDir dir;
  const std::string images = dir.file("train-images-idx3-ubyte"), labels = dir.file("l");
  // The header promises 3 images of 4x5 (16 + 60 bytes); only 2 follow.
  write_file(images, maqd_test::idx_images(3, 4, 5, maqd_test::pattern_pixels(0, 2, 1, 4, 5)));
  write_file(labels, maqd_test::idx_labels(3, {1, 2, 3}));
  expect_error(images, labels, {images, "truncated: expected 76 bytes, found 56"});
}

TEST(Idx, TruncatedGzipPayload) {
  TempDir dir;
  const std::string images = dir.file("i.gz"), labels = dir.file("train-labels-idx1-ubyte.gz");
  write_file(images, maqd_test::idx_images(3, 4, 5, maqd_test::pattern_pixels(0, 3, 1, 4, 5)), true);
  write_file(labels, maqd_test::idx_labels(3, {1, 2}), true);
  expect_error(images, labels, {labels, "truncated: expected 11 bytes, found 10"});
}

TEST(Idx, TruncatedHeader) {
  TempDir dir;
  const std::string images = dir.file("i"), labels = dir.file("l");
  write_file(images, Bytes{0, 0, 8, 3, 0, 0});
  write_file(labels, maqd_test::idx_labels(0, {}));
  expect_error(images, labels, {images, "truncated: expected at least 16 bytes", "found 6"});
}

TEST(Idx, CutGzipStream) {
  TempDir dir;
  const std::string images = dir.file("i.gz"), labels = dir.file("l");
  write_file(images, maqd_test::idx_images(3, 4, 5, maqd_test::pattern_pixels(0, 3, 1, 4, 5)), true);
  write_file(labels, maqd_test::idx_labels(3, {1, 2, 3}));
  // Drop the gzip trailer (CRC-32 and length): the stream ends early.
  std::filesystem::resize_file(images, std::filesystem::file_size(images) - 6);
  expect_error(images, labels, {images, "gzip"});
}

TEST(Idx, TrailingBytes) {
  TempDir dir;
  const std::string images = dir.file("i"), labels = dir.file("l");
  Bytes bytes = maqd_test::idx_images(3, 4, 5, maqd_test::pattern_pixels(0, 3, 1, 4, 5));
  bytes.push_back(0);
  write_file(images, bytes);
  write_file(labels, maqd_test::idx_labels(3, {1, 2, 3}));
  expect_error(images, labels, {images, "offset 76: expected end of file, found 1 more bytes"});
}

TEST(Idx, WrongMagic) {
  TempDir dir;
  const std::string images = dir.file("i"), labels = dir.file("l");
  write_file(images, maqd_test::idx_images(1, 2, 2, Bytes(4, 0)));
  write_file(labels, maqd_test::idx_labels(1, {1}));
  // Swapped arguments: each file has the other's magic.
  expect_error(labels, images, {labels, "offset 0: magic 0x00000801, expected 0x00000803"});
  write_file(labels, maqd_test::idx_labels(1, {1}, 0x00000803));
  expect_error(images, labels, {labels, "offset 0: magic 0x00000803, expected 0x00000801"});
}

TEST(Idx, ZeroDimension) {
  TempDir dir;
  const std::string images = dir.file("i"), labels = dir.file("l");
  write_file(images, maqd_test::idx_images(1, 0, 2, {}));
  write_file(labels, maqd_test::idx_labels(1, {1}));
  expect_error(images, labels, {images, "offset 8: rows 0, expected > 0"});
}

TEST(Idx, LabelOutOfRange) {
  TempDir dir;
  const std::string images = dir.file("i"), labels = dir.file("train-labels-idx1-ubyte.gz");
  write_file(images, maqd_test::idx_images(3, 1, 1, {0, 1, 2}));
  write_file(labels, maqd_test::idx_labels(3, {3, 12, 0}), true);
  expect_error(images, labels, {labels + ": offset 9: label 12 out of range, expected 0..9"});
}

TEST(Idx, CountMismatch) {
  TempDir dir;
  const std::string images = dir.file("i"), labels = dir.file("l");
  write_file(images, maqd_test::idx_images(3, 1, 1, {0, 1, 2}));
  write_file(labels, maqd_test::idx_labels(2, {1, 2}));
  expect_error(images, labels, {labels, "offset 4: label count 2, expected 3", images});
}

TEST(Idx, MissingFile) {
  TempDir dir;
  expect_error(dir.file("absent"), dir.file("l"), {dir.file("absent"), "cannot open"});
}

TEST(Idx, FindsSplitFilesRawOrGzip) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte.gz"),
             maqd_test::idx_images(2, 3, 3, maqd_test::pattern_pixels(0, 2, 1, 3, 3)), true);
  write_file(dir.file("train-labels-idx1-ubyte.gz"), maqd_test::idx_labels(2, {4, 5}), true);
  write_file(dir.file("t10k-images-idx3-ubyte"),
             maqd_test::idx_images(1, 3, 3, maqd_test::pattern_pixels(7, 1, 1, 3, 3)));
  write_file(dir.file("t10k-labels-idx1-ubyte"), maqd_test::idx_labels(1, {6}));

  const Dataset train = maqd::data::load_fashion_mnist(dir.str(), true);
  EXPECT_EQ(train.name, "fashion-mnist/train");
  EXPECT_EQ(train.size(), 2);
  EXPECT_EQ(train.labels[1].item<int64_t>(), 5);
  const Dataset test = maqd::data::load_mnist(dir.str(), false);
  EXPECT_EQ(test.name, "mnist/test");
  ASSERT_EQ(test.size(), 1);
  EXPECT_EQ(test.images[0][0][2][1].item<int64_t>(), maqd_test::pattern(7, 0, 2, 1));

  std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
  try {
    maqd::data::load_mnist(dir.str(), false);
    ADD_FAILURE() << "no error for a missing labels file";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz"));
  }
}

}  // namespace
