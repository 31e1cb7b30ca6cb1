#include "maqd_rt/image.hpp"

#include <cctype>
#include <fstream>
#include <utility>

#include "maqd_rt/error.hpp"

namespace maqd_rt {
namespace {

// The next header field: whitespace and `#` comments (GIMP and ImageMagick
// write them) are skipped, and the one whitespace byte after the field is
// consumed, so that after maxval the stream is at the pixels.
std::string netpbm_field(std::istream& in) {
  std::string field;
  for (int c = in.get(); c != EOF; c = in.get()) {
    if (c == '#' && field.empty()) {
      while (c != EOF && c != '\n' && c != '\r') c = in.get();
    } else if (std::isspace(c)) {
      if (!field.empty()) return field;
    } else {
      field += char(c);
    }
  }
  return field;
}

// A positive decimal number of at most 9 digits, or 0.
int64_t header_number(const std::string& field) {
  if (field.empty() || field.size() > 9) return 0;
  int64_t value = 0;
  for (char c : field) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Reads the image; where `expected` is given, its size is checked before
// the pixels are read.
NetpbmImage read_image(const std::string& path, const TensorDesc* expected) {
  const std::string where = printable(path) + ": ";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(where + "cannot open the image", Status::kBadFile);
  const std::string magic = netpbm_field(in);
  const int64_t width = header_number(netpbm_field(in));
  const int64_t height = header_number(netpbm_field(in));
  const int64_t maxval = header_number(netpbm_field(in));
  if ((magic != "P5" && magic != "P6") || width < 1 || height < 1 || maxval < 1 || maxval > 65535)
    throw Error(where + "header: expected a binary PGM (P5) or PPM (P6): magic, width, height, "
                        "maxval 1 to 65535",
                Status::kBadFile);
  const int64_t channels = magic == "P5" ? 1 : 3;
  if (expected != nullptr &&
      (height != expected->height || width != expected->width || channels != expected->channels))
    throw Error(where + "image is " + std::to_string(height) + "×" + std::to_string(width) + "×" +
                    std::to_string(channels) + "; the model expects " + std::to_string(expected->height) +
                    "×" + std::to_string(expected->width) + "×" + std::to_string(expected->channels),
                Status::kBadArgument);
  // At most 9 digits each: the products below fit int64. The file's length
  // is checked before anything is allocated for a header's claim.
  const int64_t samples = height * width * channels, sample_bytes = maxval > 255 ? 2 : 1;
  const std::streampos pixels_at = in.tellg();
  in.seekg(0, std::ios::end);
  const int64_t available = int64_t(in.tellg() - pixels_at);
  in.seekg(pixels_at);
  if (!in || available < samples * sample_bytes)
    throw Error(where + "pixel data: expected " + std::to_string(samples * sample_bytes) +
                    " bytes, the file has " + std::to_string(in ? available : 0),
                Status::kBadFile);
  std::vector<uint8_t> raw(size_t(samples * sample_bytes));
  in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size()));
  std::vector<uint8_t> pixels(size_t(samples), 0);
  for (size_t i = 0; i < size_t(samples); ++i) {
    const int64_t v = sample_bytes == 2 ? int64_t(raw[2 * i]) << 8 | raw[2 * i + 1] : raw[i];
    if (v > maxval)
      throw Error(where + "sample " + std::to_string(i) + " is " + std::to_string(v) +
                      "; expected at most maxval " + std::to_string(maxval),
                  Status::kBadFile);
    pixels[i] = uint8_t((v * 255 + maxval / 2) / maxval);  // rounded to nearest
  }
  NetpbmImage image;
  image.shape = {DType::kU8, int32_t(height), int32_t(width), int32_t(channels)};
  image.pixels = std::move(pixels);
  return image;
}

}  // namespace

NetpbmImage read_netpbm(const std::string& path) { return read_image(path, nullptr); }

std::vector<uint8_t> read_netpbm(const std::string& path, const TensorDesc& expected) {
  return read_image(path, &expected).pixels;
}

}  // namespace maqd_rt
