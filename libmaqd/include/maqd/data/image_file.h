// Image files for the tool's own images (folder data sets, `maqd run
// --image`): binary PGM/PPM, the format maqd-rt reads on the device, and
// PNG and JPEG, decoded to the same 8-bit grey or RGB pixels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "maqd_rt/model.hpp"

namespace maqd::data {

struct ImageFile {
  maqd_rt::TensorDesc shape;    // u8, height, width, channels (1 or 3)
  std::vector<uint8_t> pixels;  // [height][width][channels]
};

// What --resize asks for: the size every image is scaled to, and how.
struct ImageResize {
  int64_t height = 0, width = 0;
  // false: each side scaled on its own (the aspect ratio changes); true:
  // the largest centred window with the size's aspect ratio, scaled to it
  // (what torchvision's Resize then CenterCrop keep, up to rounding).
  bool crop = false;
};

// "HxW" or "HxW:crop", e.g. "32x32", each side 1 … 4096; throws
// maqd::Error naming `where` and the text otherwise.
ImageResize parse_resize(const std::string& text, const std::string& where);

// `image` scaled as `resize` says, channel by channel: bilinear with
// antialiasing (a triangle filter widened by the scale where it shrinks, as
// PIL's bilinear resize and torchvision's Resize(antialias=True) do),
// rounded to the nearest level. With crop, the window's one side is the
// image's, the other the image's times the size's aspect ratio, rounded to
// the nearest pixel (1 at least); it starts (image − window) / 2 rounded
// down from the top or the left, and only its pixels are filtered. An
// image already of that size is returned as it is.
ImageFile resize_image(const ImageFile& image, const ImageResize& resize);

// Whether read_image_file takes a file of this name: .pgm, .ppm, .pnm,
// .png, .jpg or .jpeg, in any case.
bool is_image_file_name(const std::string& file_name);

// The accepted extensions, for messages: ".pgm, .ppm, .pnm, .png, .jpg, .jpeg".
const std::string& image_file_extensions();

// Decodes the file its extension names:
// - PGM/PPM through the runtime's reader (maqd_rt::read_netpbm), so the
//   tool and maqd-rt see the same pixels;
// - PNG: grey (with or without alpha) gives 1 channel, colour and palette
//   images 3; transparent pixels are composited onto black; 16-bit PNGs are
//   refused (their conversion to 8 bits is not unique);
// - JPEG: grey gives 1 channel, colour 3 (libjpeg's accurate integer
//   IDCT and its smooth chroma upsampling); CMYK is refused.
// Throws maqd::Error naming the file and what was expected.
ImageFile read_image_file(const std::string& path);

// The same for an image a model classifies: its pixels, which must have
// `expected`'s height, width and channels (the model's input).
std::vector<uint8_t> read_image_file(const std::string& path, const maqd_rt::TensorDesc& expected);

}  // namespace maqd::data
