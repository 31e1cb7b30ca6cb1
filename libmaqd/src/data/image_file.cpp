#include "maqd/data/image_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

// libjpeg's header needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/types.h>

#include "maqd/error.h"
#include "maqd_rt/image.hpp"

namespace maqd::data {
namespace {

namespace fs = std::filesystem;

std::string lowercase_extension(const std::string& file_name) {
  std::string lower;
  for (char c : fs::path(file_name).extension().string()) lower += char(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(bool(in), path.c_str(), "cannot open: ", std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(!in.bad(), path.c_str(), "read error");
  return bytes;
}

ImageFile shaped(int64_t height, int64_t width, int64_t channels) {
  ImageFile image;
  image.shape.dtype = maqd_rt::DType::kU8;
  image.shape.height = int32_t(height);
  image.shape.width = int32_t(width);
  image.shape.channels = int32_t(channels);
  image.pixels.resize(size_t(height) * size_t(width) * size_t(channels));
  return image;
}

// Images larger than this are refused before their pixels are allocated: a
// damaged header must not ask for gigabytes (a data set's images are small).
constexpr int64_t kMaxPixels = int64_t(1) << 26;

void check_size(const std::string& path, int64_t height, int64_t width) {
  check(height > 0 && width > 0 && height * width <= kMaxPixels, path.c_str(), "image of ", height, "×", width,
        " pixels; expected at least 1×1 and at most ", kMaxPixels, " pixels");
}

ImageFile decode_png(const std::string& path, const std::vector<uint8_t>& bytes) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  // libpng's state is freed on every way out (again after a finished read
  // is harmless: finishing frees it and clears the pointer).
  struct Release {
    png_image* png;
    ~Release() { png_image_free(png); }
  } release{&png};
  const auto unreadable = [&](const char* stage) {
    return Error(path + ": not a readable PNG (" + stage + ": " + png.message + ")");
  };
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size())) throw unreadable("header");
  check(!(png.format & PNG_FORMAT_FLAG_LINEAR), path.c_str(),
        "a 16-bit PNG; expected 8 bits per channel (e.g. `convert IN.png -depth 8 OUT.png`)");
  check_size(path, png.height, png.width);
  const bool colour = png.format & PNG_FORMAT_FLAG_COLOR;
  png.format = colour ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  ImageFile image = shaped(png.height, png.width, colour ? 3 : 1);
  const png_color black = {0, 0, 0};
  if (!png_image_finish_read(&png, &black, image.pixels.data(), 0, nullptr)) throw unreadable("pixels");
  return image;
}

// libjpeg reports errors through a callback that must not return: it
// jumps back into decode_jpeg_into, which holds no object with a destructor
// and keeps libjpeg's state here, outside the frame the jump lands in.
struct JpegReader {
  jpeg_decompress_struct jpeg;
  jpeg_error_mgr errors;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 128];
};

void on_jpeg_error(j_common_ptr info) {
  JpegReader* reader = reinterpret_cast<JpegReader*>(info->client_data);
  char text[JMSG_LENGTH_MAX];
  reader->errors.format_message(info, text);
  std::snprintf(reader->message, sizeof reader->message, "not a readable JPEG (%s)", text);
  std::longjmp(reader->jump, 1);
}

// Warnings (level −1) are a damaged file libjpeg can still decode, e.g.
// extra bytes before a marker, which some cameras write; only a file that
// ends early, whose missing rows libjpeg would fill with grey, is refused.
void on_jpeg_message(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) on_jpeg_error(info);
}

// Fills `image`; returns false with reader->message saying why not.
bool decode_jpeg_into(const std::vector<uint8_t>& bytes, JpegReader* reader, ImageFile* image) {
  jpeg_decompress_struct& jpeg = reader->jpeg;
  jpeg.err = jpeg_std_error(&reader->errors);
  reader->errors.error_exit = on_jpeg_error;
  reader->errors.emit_message = on_jpeg_message;
  if (setjmp(reader->jump)) {
    jpeg_destroy_decompress(&jpeg);
    return false;
  }
  jpeg_create_decompress(&jpeg);
  jpeg.client_data = reader;
  jpeg_mem_src(&jpeg, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&jpeg, TRUE);
  if (jpeg.jpeg_color_space == JCS_CMYK || jpeg.jpeg_color_space == JCS_YCCK) {
    std::snprintf(reader->message, sizeof reader->message,
                  "a CMYK JPEG; expected greyscale or colour (YCbCr or RGB), e.g. `convert IN.jpg "
                  "-colorspace sRGB OUT.jpg`");
    jpeg_destroy_decompress(&jpeg);
    return false;
  }
  const int64_t height = jpeg.image_height, width = jpeg.image_width;
  if (height * width > kMaxPixels) {
    std::snprintf(reader->message, sizeof reader->message,
                  "image of %lld×%lld pixels; expected at most %lld pixels", static_cast<long long>(height),
                  static_cast<long long>(width), static_cast<long long>(kMaxPixels));
    jpeg_destroy_decompress(&jpeg);
    return false;
  }
  jpeg.out_color_space = jpeg.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg.dct_method = JDCT_ISLOW;
  jpeg.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&jpeg);
  *image = shaped(jpeg.output_height, jpeg.output_width, jpeg.output_components);
  const size_t row_bytes = size_t(jpeg.output_width) * size_t(jpeg.output_components);
  while (jpeg.output_scanline < jpeg.output_height) {
    JSAMPROW row = image->pixels.data() + size_t(jpeg.output_scanline) * row_bytes;
    jpeg_read_scanlines(&jpeg, &row, 1);
  }
  jpeg_finish_decompress(&jpeg);
  jpeg_destroy_decompress(&jpeg);
  return true;
}

ImageFile decode_jpeg(const std::string& path, const std::vector<uint8_t>& bytes) {
  ImageFile image;
  auto reader = std::make_unique<JpegReader>();
  if (!decode_jpeg_into(bytes, reader.get(), &image)) throw Error(path + ": " + reader->message);
  return image;
}

}  // namespace

ImageResize parse_resize(const std::string& text, const std::string& where) {
  constexpr int64_t kMaxSide = 4096;
  static const std::string kCrop = ":crop";
  ImageResize resize;
  resize.crop = text.size() > kCrop.size() && text.compare(text.size() - kCrop.size(), kCrop.size(), kCrop) == 0;
  const std::string size = resize.crop ? text.substr(0, text.size() - kCrop.size()) : text;
  char separator = 0, rest = 0;
  long long height = 0, width = 0;
  const bool parsed = std::sscanf(size.c_str(), "%lld%c%lld%c", &height, &separator, &width, &rest) == 3 &&
                      separator == 'x' && size.find_first_not_of("0123456789x") == std::string::npos;
  check(parsed && height >= 1 && width >= 1 && height <= kMaxSide && width <= kMaxSide, where.c_str(), "'", text,
        "'; expected HEIGHTxWIDTH or HEIGHTxWIDTH:crop, e.g. 32x32, each side 1 to ", kMaxSide);
  resize.height = height;
  resize.width = width;
  return resize;
}

namespace {

// `image` scaled to exactly height × width (bilinear, antialiased).
ImageFile scale_image(const ImageFile& image, int64_t height, int64_t width) {
  const maqd_rt::TensorDesc& from = image.shape;
  if (from.height == height && from.width == width) return image;
  // [H][W][C] bytes → [1][C][H][W] floats, scaled, back to bytes.
  const torch::Tensor pixels =
      torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {1, from.height, from.width, from.channels},
                       torch::kUInt8)
          .permute({0, 3, 1, 2})
          .to(torch::kFloat);
  namespace F = torch::nn::functional;
  const torch::Tensor scaled = F::interpolate(pixels, F::InterpolateFuncOptions()
                                                          .size(std::vector<int64_t>{height, width})
                                                          .mode(torch::kBilinear)
                                                          .align_corners(false)
                                                          .antialias(true));
  const torch::Tensor bytes = scaled.round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  ImageFile out = shaped(height, width, from.channels);
  std::copy(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel(), out.pixels.begin());
  return out;
}

}  // namespace

ImageFile resize_image(const ImageFile& image, const ImageResize& resize) {
  if (!resize.crop) return scale_image(image, resize.height, resize.width);
  // The largest centred window with the size's aspect ratio, then scaled:
  // the work and memory stay those of the window and the size, however
  // long the image's one side.
  const maqd_rt::TensorDesc& from = image.shape;
  const int64_t height = from.height, width = from.width, channels = from.channels;
  int64_t window_h = height, window_w = width;
  if (width * resize.height >= height * resize.width) {  // wider than the size: keep every row
    window_w = std::clamp<int64_t>(std::llround(double(height) * double(resize.width) / double(resize.height)), 1, width);
  } else {
    window_h = std::clamp<int64_t>(std::llround(double(width) * double(resize.height) / double(resize.width)), 1, height);
  }
  const int64_t top = (height - window_h) / 2, left = (width - window_w) / 2;
  ImageFile window = shaped(window_h, window_w, channels);
  for (int64_t y = 0; y < window_h; ++y) {
    const uint8_t* row = image.pixels.data() + size_t(((top + y) * width + left) * channels);
    std::copy(row, row + window_w * channels, window.pixels.begin() + y * window_w * channels);
  }
  return scale_image(window, resize.height, resize.width);
}

bool is_image_file_name(const std::string& file_name) {
  const std::string extension = lowercase_extension(file_name);
  for (const char* known : {".pgm", ".ppm", ".pnm", ".png", ".jpg", ".jpeg"})
    if (extension == known) return true;
  return false;
}

const std::string& image_file_extensions() {
  static const std::string extensions = ".pgm, .ppm, .pnm, .png, .jpg, .jpeg";
  return extensions;
}

ImageFile read_image_file(const std::string& path) {
  const std::string extension = lowercase_extension(path);
  if (extension == ".png") return decode_png(path, read_bytes(path));
  if (extension == ".jpg" || extension == ".jpeg") return decode_jpeg(path, read_bytes(path));
  check(is_image_file_name(path), path.c_str(), "not an image file this reader takes; expected ",
        image_file_extensions());
  // The runtime's reader (maqd-rt reads the same files on the device);
  // its errors name the file.
  maqd_rt::NetpbmImage netpbm = maqd_rt::read_netpbm(path);
  return ImageFile{netpbm.shape, std::move(netpbm.pixels)};
}

std::vector<uint8_t> read_image_file(const std::string& path, const maqd_rt::TensorDesc& expected) {
  ImageFile image = read_image_file(path);
  const maqd_rt::TensorDesc& got = image.shape;
  check(got.height == expected.height && got.width == expected.width && got.channels == expected.channels,
        path.c_str(), "image is ", got.height, "×", got.width, "×", got.channels, "; the model expects ",
        expected.height, "×", expected.width, "×", expected.channels);
  return std::move(image.pixels);
}

}  // namespace maqd::data
