// Image files (maqd/data/image_file.h): PNG and JPEG beside the runtime's
// PGM/PPM. The PNGs are written here with libpng and must decode to exactly
// their pixels (transparent ones black); the JPEGs are written with libjpeg
// at quality 100 and must decode close to theirs, the right way round.
// Files that are not what their name says, or that this reader refuses
// (16-bit PNG, CMYK JPEG, a file cut short), must fail with the file's name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

#include "data/fixtures.h"
#include "maqd/data/image_file.h"
#include "maqd/data/image_folder.h"
#include "maqd/error.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using maqd_test::Bytes;

// Pixels [height][width][channels] that vary along both axes and channels,
// smoothly enough for JPEG at quality 100 to keep them close.
Bytes smooth_pixels(int height, int width, int channels) {
  Bytes out(size_t(height * width * channels));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        out[size_t((y * width + x) * channels + c)] = uint8_t(20 + 9 * y + 4 * x + 50 * c);
  return out;
}

void write_png(const fs::path& path, uint32_t format, int height, int width, const void* pixels,
               const void* colormap = nullptr, uint32_t colormap_entries = 0) {
  fs::create_directories(path.parent_path());
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.format = format;
  png.height = uint32_t(height);
  png.width = uint32_t(width);
  png.colormap_entries = colormap_entries;
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, pixels, 0, colormap)) << png.message;
}

// libjpeg at quality 100; colour without chroma subsampling.
void write_jpeg(const fs::path& path, const Bytes& pixels, int height, int width, int channels,
                J_COLOR_SPACE space) {
  fs::create_directories(path.parent_path());
  jpeg_compress_struct jpeg;
  jpeg_error_mgr errors;
  jpeg.err = jpeg_std_error(&errors);
  jpeg_create_compress(&jpeg);
  FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  jpeg_stdio_dest(&jpeg, file);
  jpeg.image_width = JDIMENSION(width);
  jpeg.image_height = JDIMENSION(height);
  jpeg.input_components = channels;
  jpeg.in_color_space = space;
  jpeg_set_defaults(&jpeg);
  jpeg_set_quality(&jpeg, 100, TRUE);
  for (int c = 0; c < jpeg.num_components; ++c) jpeg.comp_info[c].h_samp_factor = jpeg.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&jpeg, TRUE);
  while (jpeg.next_scanline < jpeg.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + size_t(jpeg.next_scanline) * size_t(width * channels);
    jpeg_write_scanlines(&jpeg, &row, 1);
  }
  jpeg_finish_compress(&jpeg);
  jpeg_destroy_compress(&jpeg);
  std::fclose(file);
}

std::string error_of(const fs::path& path) {
  try {
    maqd::data::read_image_file(path.string());
  } catch (const maqd::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a maqd::Error: ") + e.what();
  }
  return "no error";
}

void cut_file(const fs::path& path, double keep) {
  const Bytes bytes = [&] {
    std::FILE* in = std::fopen(path.c_str(), "rb");
    Bytes all(fs::file_size(path));
    EXPECT_EQ(std::fread(all.data(), 1, all.size(), in), all.size());
    std::fclose(in);
    return all;
  }();
  maqd_test::write_file(path.string(), Bytes(bytes.begin(), bytes.begin() + std::ptrdiff_t(double(bytes.size()) * keep)));
}

void expect_shape(const maqd::data::ImageFile& image, int height, int width, int channels) {
  EXPECT_EQ(image.shape.dtype, maqd_rt::DType::kU8);
  EXPECT_EQ(image.shape.height, height);
  EXPECT_EQ(image.shape.width, width);
  EXPECT_EQ(image.shape.channels, channels);
  EXPECT_EQ(image.pixels.size(), size_t(height * width * channels));
}

TEST(ImageFilePng, EightBitImagesDecodeToTheirPixelsTransparentOnesBlack) {
  maqd_test::TempDir dir;
  const int height = 5, width = 7;
  for (const int channels : {1, 3}) {
    const Bytes opaque = smooth_pixels(height, width, channels);
    const fs::path plain = dir.path() / ("plain" + std::to_string(channels) + ".png");
    write_png(plain, channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB, height, width, opaque.data());
    maqd::data::ImageFile image = maqd::data::read_image_file(plain.string());
    expect_shape(image, height, width, channels);
    EXPECT_EQ(image.pixels, opaque) << plain;

    // With alpha: every third pixel fully transparent, the others opaque.
    Bytes with_alpha, expected;
    for (int p = 0; p < height * width; ++p) {
      const bool transparent = p % 3 == 0;
      for (int c = 0; c < channels; ++c) {
        with_alpha.push_back(opaque[size_t(p * channels + c)]);
        expected.push_back(transparent ? 0 : opaque[size_t(p * channels + c)]);
      }
      with_alpha.push_back(transparent ? 0 : 255);
    }
    const fs::path alpha = dir.path() / ("alpha" + std::to_string(channels) + ".png");
    write_png(alpha, channels == 1 ? PNG_FORMAT_GA : PNG_FORMAT_RGBA, height, width, with_alpha.data());
    image = maqd::data::read_image_file(alpha.string());
    expect_shape(image, height, width, channels);
    EXPECT_EQ(image.pixels, expected) << alpha;
  }

  // A palette image decodes to its colours.
  const Bytes palette = {10, 20, 30, 200, 100, 0, 0, 255, 7};
  Bytes indices, expected;
  for (int p = 0; p < height * width; ++p) {
    indices.push_back(uint8_t((p * 5) % 3));
    for (int c = 0; c < 3; ++c) expected.push_back(palette[size_t(indices.back() * 3 + c)]);
  }
  const fs::path mapped = dir.path() / "palette.PNG";
  write_png(mapped, PNG_FORMAT_RGB_COLORMAP, height, width, indices.data(), palette.data(), 3);
  const maqd::data::ImageFile image = maqd::data::read_image_file(mapped.string());
  expect_shape(image, height, width, 3);
  EXPECT_EQ(image.pixels, expected);
}

TEST(ImageFilePng, RefusesSixteenBitAndDamagedFilesNamingThem) {
  maqd_test::TempDir dir;
  const std::vector<uint16_t> deep(12, 40000);
  const fs::path sixteen = dir.path() / "deep.png";
  write_png(sixteen, PNG_FORMAT_LINEAR_Y, 3, 4, deep.data());
  EXPECT_THAT(error_of(sixteen), HasSubstr(sixteen.string() + ": a 16-bit PNG; expected 8 bits per channel"));

  const fs::path cut = dir.path() / "cut.png";
  const Bytes pixels = smooth_pixels(40, 40, 3);
  write_png(cut, PNG_FORMAT_RGB, 40, 40, pixels.data());
  ASSERT_EQ(maqd::data::read_image_file(cut.string()).pixels, pixels);
  cut_file(cut, 0.6);
  EXPECT_THAT(error_of(cut), HasSubstr(cut.string() + ": not a readable PNG (pixels: "));

  const fs::path text = dir.path() / "text.png";
  maqd_test::write_file(text.string(), Bytes{'h', 'e', 'l', 'l', 'o'});
  EXPECT_THAT(error_of(text), HasSubstr(text.string() + ": not a readable PNG (header: "));
  EXPECT_THAT(error_of(dir.path() / "missing.png"), HasSubstr("missing.png: cannot open"));
}

TEST(ImageFileJpeg, DecodesCloseToWhatWasEncodedTheRightWayRound) {
  maqd_test::TempDir dir;
  const int height = 16, width = 24;
  for (const int channels : {1, 3}) {
    const Bytes pixels = smooth_pixels(height, width, channels);
    const fs::path path = dir.path() / (channels == 1 ? "grey.jpg" : "colour.JPEG");
    write_jpeg(path, pixels, height, width, channels, channels == 1 ? JCS_GRAYSCALE : JCS_RGB);
    const maqd::data::ImageFile image = maqd::data::read_image_file(path.string());
    expect_shape(image, height, width, channels);
    ASSERT_EQ(image.pixels.size(), pixels.size());
    int worst = 0;
    double total = 0;
    for (size_t i = 0; i < pixels.size(); ++i) {
      const int difference = std::abs(int(image.pixels[i]) - int(pixels[i]));
      worst = std::max(worst, difference);
      total += difference;
    }
    // Quality 100 without subsampling: off by a few levels at most (the
    // image spans 20..255: mirrored, transposed or channel-swapped pixels
    // would be off by tens).
    EXPECT_LE(worst, 4) << path;
    EXPECT_LE(total / double(pixels.size()), 1.0) << path;
  }
}

TEST(ImageFileJpeg, RefusesCmykAndFilesCutShortNamingThem) {
  maqd_test::TempDir dir;
  const fs::path cmyk = dir.path() / "cmyk.jpg";
  write_jpeg(cmyk, smooth_pixels(8, 8, 4), 8, 8, 4, JCS_CMYK);
  EXPECT_THAT(error_of(cmyk), HasSubstr(cmyk.string() + ": a CMYK JPEG; expected greyscale or colour"));

  const fs::path cut = dir.path() / "cut.jpg";
  write_jpeg(cut, smooth_pixels(64, 64, 3), 64, 64, 3, JCS_RGB);
  ASSERT_EQ(maqd::data::read_image_file(cut.string()).pixels.size(), size_t(64 * 64 * 3));
  cut_file(cut, 0.5);
  EXPECT_THAT(error_of(cut), HasSubstr(cut.string() + ": not a readable JPEG (Premature end of JPEG file)"));

  const fs::path text = dir.path() / "text.jpeg";
  maqd_test::write_file(text.string(), Bytes{'h', 'e', 'l', 'l', 'o'});
  EXPECT_THAT(error_of(text), HasSubstr(text.string() + ": not a readable JPEG ("));
}

TEST(ImageFile, NetpbmThroughTheRuntimesReaderAndTheModelsSizeChecked) {
  maqd_test::TempDir dir;
  const Bytes pixels = smooth_pixels(3, 4, 1);
  Bytes pgm = {'P', '5', '\n', '4', ' ', '3', '\n', '2', '5', '5', '\n'};
  pgm.insert(pgm.end(), pixels.begin(), pixels.end());
  const fs::path path = dir.path() / "image.pgm";
  maqd_test::write_file(path.string(), pgm);
  EXPECT_EQ(maqd::data::read_image_file(path.string()).pixels, pixels);

  maqd_rt::TensorDesc model_input;
  model_input.height = 3;
  model_input.width = 4;
  model_input.channels = 1;
  EXPECT_EQ(maqd::data::read_image_file(path.string(), model_input), pixels);
  model_input.width = 5;
  try {
    maqd::data::read_image_file(path.string(), model_input);
    ADD_FAILURE() << "an image of another size than the model's was read";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string() + ": image is 3×4×1; the model expects 3×5×1"));
  }
  EXPECT_THAT(error_of(dir.path() / "image.gif"),
              HasSubstr("image.gif: not an image file this reader takes; expected .pgm, .ppm, .pnm, .png, .jpg, .jpeg"));
}

// Damaged files of either format, as a disk or a download leaves them:
// each is decoded whole or refused with maqd::Error naming it; nothing
// else escapes (libjpeg's errors leave through a longjmp, libpng's
// through its own), and a decoded image is as large as its shape says.
TEST(ImageFileMutations, EveryDamagedFileDecodesOrIsRefusedByName) {
  maqd_test::TempDir dir;
  const Bytes pixels = smooth_pixels(16, 12, 3);
  write_png(dir.path() / "valid.png", PNG_FORMAT_RGB, 16, 12, pixels.data());
  write_jpeg(dir.path() / "valid.jpg", pixels, 16, 12, 3, JCS_RGB);
  std::mt19937 random(11);
  for (const char* extension : {".png", ".jpg"}) {
    const fs::path valid = dir.path() / (std::string("valid") + extension);
    std::ifstream in(valid, std::ios::binary);
    const Bytes original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    int decoded = 0, refused = 0;
    for (int trial = 0; trial < 1500; ++trial) {
      Bytes bytes = original;
      switch (trial % 3) {
        case 0:  // bytes overwritten
          for (int n = 1 + int(random() % 4); n > 0; --n) bytes[random() % bytes.size()] = uint8_t(random());
          break;
        case 1:  // cut short
          bytes.resize(random() % bytes.size());
          break;
        default:  // bytes inserted
          bytes.insert(bytes.begin() + std::ptrdiff_t(random() % bytes.size()), uint8_t(random()));
      }
      const fs::path path = dir.path() / (std::string("damaged") + extension);
      maqd_test::write_file(path.string(), bytes);
      try {
        const maqd::data::ImageFile image = maqd::data::read_image_file(path.string());
        ASSERT_EQ(image.pixels.size(), size_t(image.shape.elements())) << "trial " << trial;
        ASSERT_TRUE(image.shape.channels == 1 || image.shape.channels == 3) << "trial " << trial;
        ++decoded;
      } catch (const maqd::Error& e) {
        ASSERT_THAT(e.what(), HasSubstr(path.string() + ": ")) << "trial " << trial;
        ++refused;
      }
    }
    // Both outcomes occur: overwritten pixel data often still decodes.
    EXPECT_GT(decoded, 0) << extension;
    EXPECT_GT(refused, 0) << extension;
  }
}

// The resampling of resize_image, independently in double: PIL's
// antialiased bilinear (a triangle filter of radius max(1, in/out) input
// pixels around each output pixel's centre, weights normalized), one axis
// after the other.
std::vector<std::vector<double>> triangle_weights(int in, int out, std::vector<int>* first) {
  const double scale = double(in) / double(out), support = std::max(scale, 1.0);
  const double step = 1.0 / std::max(scale, 1.0);
  std::vector<std::vector<double>> weights(static_cast<size_t>(out));
  first->assign(size_t(out), 0);
  for (int i = 0; i < out; ++i) {
    const double centre = scale * (i + 0.5);
    const int begin = std::max(int(centre - support + 0.5), 0), end = std::min(int(centre + support + 0.5), in);
    double total = 0;
    for (int j = begin; j < end; ++j) {
      weights[size_t(i)].push_back(std::max(0.0, 1.0 - std::abs((j - centre + 0.5) * step)));
      total += weights[size_t(i)].back();
    }
    for (double& w : weights[size_t(i)]) w /= total;
    (*first)[size_t(i)] = begin;
  }
  return weights;
}

Bytes reference_resize(const Bytes& pixels, int height, int width, int channels, int out_h, int out_w) {
  std::vector<int> first_x, first_y;
  const auto wx = triangle_weights(width, out_w, &first_x), wy = triangle_weights(height, out_h, &first_y);
  std::vector<double> rows(size_t(height * out_w * channels), 0.0);  // horizontal pass
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < out_w; ++x)
      for (int c = 0; c < channels; ++c)
        for (size_t k = 0; k < wx[size_t(x)].size(); ++k)
          rows[size_t((y * out_w + x) * channels + c)] +=
              wx[size_t(x)][k] * pixels[size_t((y * width + first_x[size_t(x)] + int(k)) * channels + c)];
  Bytes out(size_t(out_h * out_w * channels));
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x)
      for (int c = 0; c < channels; ++c) {
        double value = 0;
        for (size_t k = 0; k < wy[size_t(y)].size(); ++k)
          value += wy[size_t(y)][k] * rows[size_t(((first_y[size_t(y)] + int(k)) * out_w + x) * channels + c)];
        out[size_t((y * out_w + x) * channels + c)] = uint8_t(std::clamp(std::lround(value), 0L, 255L));
      }
  return out;
}

TEST(ResizeImage, MatchesAnIndependentAntialiasedBilinearOnRandomSizes) {
  std::mt19937 random(7);
  int compared = 0, exact = 0;
  for (int trial = 0; trial < 60; ++trial) {
    // Shrinking (by up to 8×), enlarging, one axis each way, and 1-pixel sides.
    const int height = 1 + int(random() % 40), width = 1 + int(random() % 40), channels = trial % 2 ? 3 : 1;
    const int out_h = trial == 0 ? 1 : 1 + int(random() % 24), out_w = trial == 1 ? 1 : 1 + int(random() % 24);
    maqd::data::ImageFile image;
    image.shape.height = height;
    image.shape.width = width;
    image.shape.channels = channels;
    for (int i = 0; i < height * width * channels; ++i) image.pixels.push_back(uint8_t(random() % 256));
    const maqd::data::ImageFile scaled = maqd::data::resize_image(image, {out_h, out_w});
    expect_shape(scaled, out_h, out_w, channels);
    const Bytes expected = reference_resize(image.pixels, height, width, channels, out_h, out_w);
    ASSERT_EQ(scaled.pixels.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      // float32 against double: a value within rounding of .5 may round either way.
      ASSERT_NEAR(int(scaled.pixels[i]), int(expected[i]), 1)
          << height << "×" << width << "×" << channels << " → " << out_h << "×" << out_w << " at " << i;
      exact += scaled.pixels[i] == expected[i];
      ++compared;
    }
  }
  EXPECT_GE(double(exact), 0.99 * compared) << exact << " of " << compared << " equal";

  maqd::data::ImageFile same;
  same.shape.height = 2;
  same.shape.width = 3;
  same.shape.channels = 1;
  same.pixels = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(maqd::data::resize_image(same, {2, 3}).pixels, same.pixels);
}

// With crop, the documented rule (the largest centred window with the
// size's aspect ratio, sides rounded to the nearest pixel, offset rounded
// down, then scaled), against the reference above; and, rule aside, that
// only the window's pixels reach the result.
TEST(ResizeImage, CropScalesTheLargestCentredWindowOfTheSizesShape) {
  std::mt19937 random(11);
  for (int trial = 0; trial < 60; ++trial) {
    const int height = 1 + int(random() % 40), width = 1 + int(random() % 40), channels = trial % 2 ? 3 : 1;
    const int out_h = 1 + int(random() % 24), out_w = 1 + int(random() % 24);
    maqd::data::ImageFile image;
    image.shape.height = height;
    image.shape.width = width;
    image.shape.channels = channels;
    for (int i = 0; i < height * width * channels; ++i) image.pixels.push_back(uint8_t(random() % 256));
    const bool wider = double(width) / height >= double(out_w) / out_h;
    const int window_h = wider ? height : std::clamp(int(std::lround(double(width) * out_h / out_w)), 1, height);
    const int window_w = wider ? std::clamp(int(std::lround(double(height) * out_w / out_h)), 1, width) : width;
    const int top = (height - window_h) / 2, left = (width - window_w) / 2;
    Bytes window;
    for (int y = 0; y < window_h; ++y)
      for (int x = 0; x < window_w * channels; ++x)
        window.push_back(image.pixels[size_t((top + y) * width * channels + left * channels + x)]);
    const Bytes expected = reference_resize(window, window_h, window_w, channels, out_h, out_w);
    const maqd::data::ImageFile cropped = maqd::data::resize_image(image, {out_h, out_w, true});
    expect_shape(cropped, out_h, out_w, channels);
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_NEAR(int(cropped.pixels[i]), int(expected[i]), 1)
          << height << "×" << width << " (window " << window_h << "×" << window_w << " at " << top << ", "
          << left << ") → " << out_h << "×" << out_w << " at " << i;
  }
  // No scaling where the window is the size: the middle columns, exactly.
  maqd::data::ImageFile wide;
  wide.shape.height = 2;
  wide.shape.width = 5;
  wide.shape.channels = 1;
  wide.pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(maqd::data::resize_image(wide, {2, 2, true}).pixels, (Bytes{2, 3, 7, 8}));
  EXPECT_EQ(maqd::data::resize_image(wide, {2, 3, true}).pixels, (Bytes{2, 3, 4, 7, 8, 9}));
  EXPECT_EQ(maqd::data::resize_image(wide, {2, 5, true}).pixels, wide.pixels);
  // A 12×36 image, grey 100 in its middle 12×12 and black and white either
  // side, shrunk to 5×5: all 100 (a filter reaching past the window would
  // mix the sides in); the same image tall, 36×12.
  for (const bool tall : {false, true}) {
    maqd::data::ImageFile banded;
    banded.shape.height = tall ? 36 : 12;
    banded.shape.width = tall ? 12 : 36;
    banded.shape.channels = 1;
    for (int y = 0; y < banded.shape.height; ++y)
      for (int x = 0; x < banded.shape.width; ++x) {
        const int along = tall ? y : x;
        banded.pixels.push_back(along < 12 ? 0 : along < 24 ? 100 : 255);
      }
    EXPECT_EQ(maqd::data::resize_image(banded, {5, 5, true}).pixels, Bytes(25, 100)) << (tall ? "tall" : "wide");
  }
  // A very long image costs only its window: 1×100000 to 4×4 scales 1×1.
  maqd::data::ImageFile line;
  line.shape.height = 1;
  line.shape.width = 100000;
  line.shape.channels = 1;
  line.pixels.assign(100000, 7);
  line.pixels[49999] = 200;  // the window's one pixel: (100000 − 1) / 2 rounded down
  EXPECT_EQ(maqd::data::resize_image(line, {4, 4, true}).pixels, Bytes(16, 200));
}

TEST(ParseResize, HeightByWidthEachSideOneTo4096AndCropAfterAColon) {
  const maqd::data::ImageResize size = maqd::data::parse_resize("32x48", "--resize");
  EXPECT_EQ(size.height, 32);
  EXPECT_EQ(size.width, 48);
  EXPECT_FALSE(size.crop);
  EXPECT_EQ(maqd::data::parse_resize("1x4096", "--resize").width, 4096);
  const maqd::data::ImageResize crop = maqd::data::parse_resize("24x16:crop", "--resize");
  EXPECT_EQ(crop.height, 24);
  EXPECT_EQ(crop.width, 16);
  EXPECT_TRUE(crop.crop);
  for (const char* bad : {"", "32", "32x", "x32", "0x32", "32x0", "32x4097", "-3x3", "32X32", " 32x32", "32x32 ",
                          "32x32x3", "3.5x2", ":crop", "32x32:", "32x32:fit", "32x32crop", "32x32:crop:crop",
                          "32x32:Crop"}) {
    try {
      maqd::data::parse_resize(bad, "--resize");
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const maqd::Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("--resize: '" + std::string(bad) +
                                      "'; expected HEIGHTxWIDTH or HEIGHTxWIDTH:crop, e.g. 32x32"));
    }
  }
}

// With a resize, images of any sizes make one set, each scaled as
// resize_image scales it; grey and colour still may not mix.
TEST(ImageFolderResize, ScalesEveryImageAsItIsRead) {
  maqd_test::TempDir dir;
  const Bytes small = smooth_pixels(6, 9, 1), large = smooth_pixels(20, 14, 1);
  write_png(dir.path() / "train" / "a" / "1.png", PNG_FORMAT_GRAY, 6, 9, small.data());
  write_png(dir.path() / "train" / "b" / "1.png", PNG_FORMAT_GRAY, 20, 14, large.data());
  maqd::data::LoadOptions options;
  for (const bool crop : {true, false}) {
    options.resize = crop ? "8x8:crop" : "8x8";
    const maqd::data::Dataset set = maqd::data::load_image_folder(dir.str(), true, options);
    ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{2, 1, 8, 8}));
    for (int64_t i = 0; i < 2; ++i) {
      const maqd::data::ImageFile read = maqd::data::read_image_file(
          (dir.path() / "train" / (i == 0 ? "a" : "b") / "1.png").string());
      const Bytes expected = maqd::data::resize_image(read, {8, 8, crop}).pixels;
      const torch::Tensor image = set.images[i].contiguous();
      EXPECT_EQ(Bytes(image.data_ptr<uint8_t>(), image.data_ptr<uint8_t>() + image.numel()), expected)
          << options.resize << ", image " << i;
    }
  }
  // Without the resize the two sizes are refused.
  try {
    maqd::data::load_image_folder(dir.str(), true);
    ADD_FAILURE() << "images of two sizes were read without a resize";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("image is 20×14×1; expected 6×9×1"));
  }
  const Bytes colour = smooth_pixels(5, 5, 3);
  write_png(dir.path() / "train" / "b" / "2.png", PNG_FORMAT_RGB, 5, 5, colour.data());
  try {
    maqd::data::load_image_folder(dir.str(), true, options);
    ADD_FAILURE() << "grey and colour images were mixed";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("2.png: image has 3 channels (colour); expected 1 like "));
  }
  options.resize = "8by8";
  try {
    maqd::data::load_image_folder(dir.str(), true, options);
    ADD_FAILURE() << "a resize of '8by8' was accepted";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("load_dataset: resize: '8by8'; expected HEIGHTxWIDTH or HEIGHTxWIDTH:crop"));
  }
}

// A folder set may mix the formats: each file is read as its name says.
TEST(ImageFolderFormats, PngJpegAndPgmFilesInOneSet) {
  maqd_test::TempDir dir;
  const int height = 8, width = 8;
  const Bytes a = smooth_pixels(height, width, 1), b(size_t(height * width), 200);
  write_png(dir.path() / "train" / "a" / "1.png", PNG_FORMAT_GRAY, height, width, a.data());
  write_jpeg(dir.path() / "train" / "b" / "1.jpg", b, height, width, 1, JCS_GRAYSCALE);
  const Bytes reversed(a.rbegin(), a.rend());
  std::ofstream pgm(dir.path() / "train" / "b" / "2.pgm", std::ios::binary);
  pgm << "P5 8 8 255\n";
  pgm.write(reinterpret_cast<const char*>(reversed.data()), std::streamsize(reversed.size()));
  pgm.close();

  const maqd::data::Dataset set = maqd::data::load_image_folder(dir.str(), true);
  ASSERT_EQ(set.size(), 3);
  EXPECT_EQ(set.labels[0].item<int64_t>(), 0);
  EXPECT_EQ(set.labels[1].item<int64_t>(), 1);
  EXPECT_EQ(set.labels[2].item<int64_t>(), 1);
  const auto bytes_of = [&](int64_t i) {
    const torch::Tensor image = set.images[i].contiguous();
    return Bytes(image.data_ptr<uint8_t>(), image.data_ptr<uint8_t>() + image.numel());
  };
  EXPECT_EQ(bytes_of(0), a);
  const Bytes jpeg = bytes_of(1);
  for (size_t i = 0; i < jpeg.size(); ++i) EXPECT_NEAR(int(jpeg[i]), 200, 1) << "pixel " << i;
  EXPECT_EQ(bytes_of(2), reversed);
}

}  // namespace
