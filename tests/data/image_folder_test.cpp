// Folder data sets (maqd/data/image_folder.h): your own images, one folder
// per class (PNG and JPEG files: image_file_test.cpp). The files are written here byte by byte; the loaded
// tensors must hold exactly their pixels, labelled by the training set's
// class folders in byte order, classes taken in turn.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/fixtures.h"
#include "maqd/data/dataset.h"
#include "maqd/data/image_file.h"
#include "maqd/data/image_folder.h"
#include "maqd/error.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using maqd_test::Bytes;

// Pixels [height][width][channels] of image `seed`, all different.
Bytes pixels_of(int seed, int height, int width, int channels) {
  Bytes out(size_t(height * width * channels));
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(seed * 31 + int(i) * 7);
  return out;
}

void write_netpbm(const fs::path& path, const Bytes& pixels, int height, int width, int channels) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << (channels == 1 ? "P5" : "P6") << "\n" << width << " " << height << "\n255\n";
  out.write(reinterpret_cast<const char*>(pixels.data()), std::streamsize(pixels.size()));
}

// The image at `index` of a loaded set back in [H][W][C] order.
Bytes loaded_pixels(const maqd::data::Dataset& data, int64_t index) {
  const torch::Tensor hwc = data.images[index].permute({1, 2, 0}).contiguous();
  return Bytes(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
}

std::string error_of(const std::string& dir, bool train) {
  try {
    maqd::data::load_image_folder(dir, train);
  } catch (const maqd::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a maqd::Error: ") + e.what();
  }
  return "no error";
}

class ImageFolder : public ::testing::TestWithParam<int> {};  // channels: 1 (PGM), 3 (PPM)

TEST_P(ImageFolder, HoldsEveryFilesPixelsLabelledByTheTrainingClasses) {
  const int channels = GetParam(), height = 3, width = 5;
  const char* extension = channels == 1 ? ".pgm" : ".PPM";  // names compare without case
  maqd_test::TempDir dir;
  // Training classes made in another order than their names sort in;
  // "b" has one image more than the others.
  const std::vector<std::pair<std::string, int>> train = {{"b", 3}, {"a", 2}, {"c", 2}};
  int seed = 0;
  std::map<std::string, std::vector<Bytes>> written;
  for (const auto& [name, count] : train)
    for (int i = 0; i < count; ++i) {
      written[name].push_back(pixels_of(++seed, height, width, channels));
      write_netpbm(dir.path() / "train" / name / ("img" + std::to_string(i) + extension),
                   written[name].back(), height, width, channels);
    }
  std::ofstream(dir.path() / "train" / "a" / ".DS_Store") << "hidden files are not data";
  const Bytes test_image = pixels_of(++seed, height, width, channels);
  write_netpbm(dir.path() / "test" / "c" / (std::string("only") + extension), test_image, height, width, channels);

  const maqd::data::Dataset data = maqd::data::load_image_folder(dir.str(), true);
  EXPECT_EQ(data.name, "folder/train");
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(data.size(), 7);
  EXPECT_EQ(data.channels(), channels);
  EXPECT_EQ(data.height(), height);
  EXPECT_EQ(data.width(), width);
  EXPECT_TRUE(data.images.is_contiguous());
  // Round robin over the classes: a0 b0 c0 a1 b1 c1 b2.
  const std::vector<std::pair<int64_t, int>> order = {{0, 0}, {1, 0}, {2, 0}, {0, 1}, {1, 1}, {2, 1}, {1, 2}};
  for (int64_t i = 0; i < data.size(); ++i) {
    SCOPED_TRACE(i);
    const auto [label, nth] = order[size_t(i)];
    EXPECT_EQ(data.labels[i].item<int64_t>(), label);
    EXPECT_EQ(loaded_pixels(data, i), written[data.class_names[size_t(label)]][size_t(nth)]);
  }

  // The test set labels by the training set's classes: "c" is 2 there.
  const maqd::data::Dataset test = maqd::data::load_dataset("folder", dir.str(), false);
  EXPECT_EQ(test.name, "folder/test");
  EXPECT_EQ(test.num_classes, 3);
  EXPECT_EQ(test.class_names, data.class_names);
  ASSERT_EQ(test.size(), 1);
  EXPECT_EQ(test.labels[0].item<int64_t>(), 2);
  EXPECT_EQ(loaded_pixels(test, 0), test_image);

  // A trained network's classes label another folder, which needs no
  // train/: "c" is its class 0 here.
  maqd_test::TempDir other;
  fs::create_directories(other.path() / "test");
  fs::copy(dir.path() / "test" / "c", other.path() / "test" / "c");
  maqd::data::LoadOptions relabel;
  relabel.classes = {"c", "b", "a"};
  const maqd::data::Dataset relabelled = maqd::data::load_dataset("folder", other.str(), false, relabel);
  EXPECT_EQ(relabelled.class_names, (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(relabelled.num_classes, 3);
  ASSERT_EQ(relabelled.size(), 1);
  EXPECT_EQ(relabelled.labels[0].item<int64_t>(), 0);
  EXPECT_EQ(loaded_pixels(relabelled, 0), test_image);
}

INSTANTIATE_TEST_SUITE_P(Channels, ImageFolder, ::testing::Values(1, 3));

TEST(ImageFolderErrors, NameTheFolderOrFileAndWhatWasExpected) {
  maqd_test::TempDir dir;
  const fs::path train = dir.path() / "train", test = dir.path() / "test";
  EXPECT_THAT(error_of(dir.str(), true), HasSubstr(train.string() + ": no such folder; expected DIR/train/CLASS/IMAGE and DIR/test/CLASS/IMAGE (.pgm, .ppm, .pnm, .png, .jpg, .jpeg)"));
  write_netpbm(train / "a" / "1.pgm", pixels_of(1, 2, 2, 1), 2, 2, 1);
  EXPECT_THAT(error_of(dir.str(), true), HasSubstr(train.string() + ": 1 class folder(s); expected at least 2"));
  write_netpbm(train / "b" / "1.pgm", pixels_of(2, 2, 2, 1), 2, 2, 1);
  EXPECT_EQ(maqd::data::load_image_folder(dir.str(), true).size(), 2);
  EXPECT_THAT(error_of(dir.str(), false), HasSubstr(test.string() + ": no such folder"));

  // An image of another size than the first names both.
  write_netpbm(train / "b" / "2.pgm", pixels_of(3, 2, 3, 1), 2, 3, 1);
  EXPECT_THAT(error_of(dir.str(), true),
              HasSubstr((train / "b" / "2.pgm").string() + ": image is 2×3×1; expected 2×2×1 like " +
                        (train / "a" / "1.pgm").string()));
  fs::remove(train / "b" / "2.pgm");
  write_netpbm(train / "b" / "2.ppm", pixels_of(3, 2, 2, 3), 2, 2, 3);  // same size, three channels
  EXPECT_THAT(error_of(dir.str(), true),
              HasSubstr("2.ppm: image has 3 channels (colour); expected 1 like " + (train / "a" / "1.pgm").string() +
                        " (every image of a data set has the same channels, with or without --resize"));
  fs::remove(train / "b" / "2.ppm");
  // Nothing is left out unsaid: a nested folder, an image beside the class
  // folders (hidden entries are skipped).
  write_netpbm(train / "b" / "more" / "3.pgm", pixels_of(3, 2, 2, 1), 2, 2, 1);
  EXPECT_THAT(error_of(dir.str(), true),
              HasSubstr((train / "b" / "more").string() + ": a folder inside a class folder; expected the class's "
                                                          "images directly in it"));
  fs::remove_all(train / "b" / "more");
  write_netpbm(train / "stray.pgm", pixels_of(3, 2, 2, 1), 2, 2, 1);
  EXPECT_THAT(error_of(dir.str(), true),
              HasSubstr((train / "stray.pgm").string() + ": an image beside the class folders"));
  fs::remove(train / "stray.pgm");
  std::ofstream(train / "README.md") << "other files beside the class folders are not data";
  std::ofstream(train / ".DS_Store") << "hidden";
  fs::create_directories(train / "a" / ".thumbnails");
  EXPECT_EQ(maqd::data::load_image_folder(dir.str(), true).size(), 2);

  std::ofstream(train / "b" / "photo.gif") << "gif bytes";
  EXPECT_THAT(error_of(dir.str(), true),
              HasSubstr((train / "b" / "photo.gif").string() +
                        ": not an image file this reader takes; expected .pgm, .ppm, .pnm, .png, .jpg, .jpeg"));
  fs::remove(train / "b" / "photo.gif");
  std::ofstream(train / "b" / "photo.png") << "png bytes";
  EXPECT_THAT(error_of(dir.str(), true), HasSubstr((train / "b" / "photo.png").string() + ": not a readable PNG"));
  fs::remove(train / "b" / "photo.png");
  std::ofstream(train / "b" / "broken.pgm") << "P2\n2 2\n255\n0 0 0 0\n";
  EXPECT_THAT(error_of(dir.str(), true), HasSubstr("broken.pgm: header: magic is 'P2'; expected a binary PGM (P5) or PPM (P6)"));
  fs::remove(train / "b" / "broken.pgm");

  fs::create_directories(train / "empty");
  EXPECT_THAT(error_of(dir.str(), true), HasSubstr((train / "empty").string() + ": no images in this class folder"));
  fs::remove(train / "empty");

  fs::create_directories(test);
  EXPECT_THAT(error_of(dir.str(), false), HasSubstr(test.string() + ": no class folders"));
  write_netpbm(test / "z" / "1.pgm", pixels_of(4, 2, 2, 1), 2, 2, 1);
  EXPECT_THAT(error_of(dir.str(), false),
              HasSubstr((test / "z").string() + ": a test class the training set does not have; expected one of a, b"));
  try {
    maqd::data::LoadOptions known;
    known.classes = {"a", "b"};
    maqd::data::load_image_folder(dir.str(), false, known);
    ADD_FAILURE() << "a class the network does not know was labelled";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr((test / "z").string() + ": a class the network was not trained on; expected one of a, b"));
  }

  EXPECT_THAT([] {
    try {
      maqd::data::load_dataset("folder", "", true);
    } catch (const maqd::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  }(), HasSubstr("folder has no default directory; give the folder of its files (maqd: --data-dir)"));
}

// A limit reads only the files the set's first N images need, and gives
// exactly the first N of the whole set; progress counts the files read.
TEST(ImageFolderLimit, ReadsOnlyTheFilesTheFirstImagesNeed) {
  maqd_test::TempDir dir;
  const fs::path train = dir.path() / "train";
  // Classes of 1, 4 and 2 images: the round robin runs out of "a" first.
  const std::vector<std::pair<std::string, int>> classes = {{"a", 1}, {"b", 4}, {"c", 2}};
  int seed = 0;
  for (const auto& [name, count] : classes)
    for (int i = 0; i < count; ++i)
      write_netpbm(train / name / ("img" + std::to_string(i) + ".pgm"), pixels_of(++seed, 2, 3, 1), 2, 3, 1);
  const maqd::data::Dataset whole = maqd::data::load_image_folder(dir.str(), true);
  ASSERT_EQ(whole.size(), 7);
  for (int64_t limit = 1; limit <= 8; ++limit) {
    SCOPED_TRACE(limit);
    std::vector<std::pair<int64_t, int64_t>> calls;
    maqd::data::LoadOptions options;
    options.limit = limit;
    options.progress = [&](int64_t read, int64_t total) { calls.emplace_back(read, total); };
    const maqd::data::Dataset part = maqd::data::load_dataset("folder", dir.str(), true, options);
    const int64_t expected = std::min<int64_t>(limit, whole.size());
    ASSERT_EQ(part.size(), expected);
    EXPECT_TRUE(torch::equal(part.labels, whole.labels.narrow(0, 0, expected)));
    EXPECT_TRUE(torch::equal(part.images, whole.images.narrow(0, 0, expected)));
    EXPECT_EQ(part.class_names, whole.class_names);
    ASSERT_EQ(calls.size(), size_t(expected)) << "one progress call per file read";
    for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], std::make_pair(int64_t(i) + 1, expected));
  }

  // b's last image is the set's seventh: a broken one there stops the whole
  // set, not the first six.
  std::ofstream(train / "b" / "img3.pgm", std::ios::trunc) << "P5\n3 2\n255\n";  // no pixels
  EXPECT_THAT(error_of(dir.str(), true), HasSubstr("img3.pgm"));
  maqd::data::LoadOptions six;
  six.limit = 6;
  EXPECT_EQ(maqd::data::load_image_folder(dir.str(), true, six).size(), 6);
  // Names are checked for every file before any is read, limit or not.
  std::ofstream(train / "c" / "notes.txt") << "not an image";
  maqd::data::LoadOptions one;
  one.limit = 1;
  EXPECT_THROW(maqd::data::load_image_folder(dir.str(), true, one), maqd::Error);
  one.limit = -1;
  EXPECT_THROW(maqd::data::load_dataset("folder", dir.str(), true, one), maqd::Error);
}

// --test-split: DIR's own class folders, every class's files split by
// position (the i-th is a test image where floor((i+1)f) > floor(if)); the
// two parts hold each file exactly once.
TEST(ImageFolderSplit, HoldsOutEvenlySpacedFilesOfEveryClass) {
  maqd_test::TempDir dir;
  // a: 10 files, b: 3, c: 1; at f = 0.25 a's 4th and 8th are test images,
  // b and c have none.
  const std::vector<std::pair<std::string, int>> classes = {{"a", 10}, {"b", 3}, {"c", 1}};
  std::map<std::string, std::vector<Bytes>> written;
  int seed = 0;
  for (const auto& [name, count] : classes)
    for (int i = 0; i < count; ++i) {
      written[name].push_back(pixels_of(++seed, 2, 2, 1));
      write_netpbm(dir.path() / name / ("img" + std::to_string(i) + ".pgm"), written[name].back(), 2, 2, 1);
    }
  maqd::data::LoadOptions options;
  options.test_split = 0.25;
  const maqd::data::Dataset train = maqd::data::load_dataset("folder", dir.str(), true, options);
  const maqd::data::Dataset test = maqd::data::load_dataset("folder", dir.str(), false, options);
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(test.class_names, train.class_names);
  ASSERT_EQ(train.size(), 12);
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(loaded_pixels(test, 0), written["a"][3]);
  EXPECT_EQ(loaded_pixels(test, 1), written["a"][7]);
  EXPECT_EQ(test.labels[0].item<int64_t>(), 0);
  // The training part: round robin over a's other 8, b's 3 and c's 1.
  const std::vector<std::pair<int64_t, int>> order = {{0, 0}, {1, 0}, {2, 0}, {0, 1}, {1, 1}, {0, 2},
                                                      {1, 2}, {0, 4}, {0, 5}, {0, 6}, {0, 8}, {0, 9}};
  for (int64_t i = 0; i < train.size(); ++i) {
    SCOPED_TRACE(i);
    const auto [label, nth] = order[size_t(i)];
    EXPECT_EQ(train.labels[i].item<int64_t>(), label);
    EXPECT_EQ(loaded_pixels(train, i), written[train.class_names[size_t(label)]][size_t(nth)]);
  }
  // A network's classes label the same split in their order.
  options.classes = {"c", "b", "a"};
  EXPECT_EQ(maqd::data::load_dataset("folder", dir.str(), false, options).labels[1].item<int64_t>(), 2);
  options.classes.clear();

  auto error = [&](double split) {
    maqd::data::LoadOptions o;
    o.test_split = split;
    try {
      maqd::data::load_dataset("folder", dir.str(), false, o);
    } catch (const maqd::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error(0.05), HasSubstr("a test split of 0.05 holds no image"));
  EXPECT_THAT(error(1.0), HasSubstr("expected 0 (DIR/train and DIR/test) or a fraction between 0 and 1"));
  EXPECT_THAT(error(-0.25), HasSubstr("expected 0 (DIR/train and DIR/test) or a fraction between 0 and 1"));
  write_netpbm(dir.path() / "train" / "a" / "x.pgm", pixels_of(99, 2, 2, 1), 2, 2, 1);
  EXPECT_THAT(error(0.25), HasSubstr((dir.path() / "train").string() + ": a train/ folder beside --test-split"));
}

TEST(ProgressNotes, QuietUntilAnIntervalHasPassedThenOneNoteAnInterval) {
  std::vector<std::string> notes;
  auto record = [&](const std::string& text) { notes.push_back(text); };
  auto every_call = maqd::data::progress_notes("dir/train", record, std::chrono::milliseconds(0));
  every_call(1, 3);
  every_call(3, 3);
  EXPECT_EQ(notes, (std::vector<std::string>{"reading dir/train: 1 of 3 images (33%)",
                                             "reading dir/train: 3 of 3 images (100%)"}));
  notes.clear();
  auto hourly = maqd::data::progress_notes("dir/train", record, std::chrono::hours(1));
  for (int64_t i = 1; i <= 1000; ++i) hourly(i, 1000);
  EXPECT_TRUE(notes.empty()) << "a read shorter than the interval printed " << notes.size() << " notes";
}

TEST(ImageFolderNames, ImageExtensionsInAnyCase) {
  for (const char* name : {"a.pgm", "b.PPM", "c.Pnm", "x.y.pgm", "a.png", "b.JPG", "c.jpeg", "d.JPEG"})
    EXPECT_TRUE(maqd::data::is_image_file_name(name)) << name;
  for (const char* name : {"pgm", "a.pgm.bak", "a.gif", "png", "a.jpe", ""})
    EXPECT_FALSE(maqd::data::is_image_file_name(name)) << name;
}

}  // namespace
