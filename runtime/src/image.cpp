#include "maqd_rt/image.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "maqd_rt/error.hpp"

namespace maqd_rt {
namespace {

bool is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// The next header field from `next()` (a byte, or -1 at the end):
// whitespace and `#` comments (GIMP and ImageMagick write them) are
// skipped, and the one whitespace byte after the field is consumed, so that
// after maxval the source is at the pixels.
template <class NextByte>
std::string header_field(NextByte& next) {
  std::string field;
  for (int c = next(); c >= 0; c = next()) {
    if (c == '#' && field.empty()) {
      while (c >= 0 && c != '\n' && c != '\r') c = next();
    } else if (is_space(c)) {
      if (!field.empty()) return field;
    } else {
      field += char(c);
    }
  }
  return field;
}

// A header field as an error message shows it.
std::string shown(const std::string& field) {
  return field.empty() ? "missing (the header ends before it)" : "'" + printable(field) + "'";
}

// A header field that must be a whole number from 1 to `high` (9 digits at
// most, so that the header's products fit int64).
int64_t header_number(const std::string& field, const char* name, int64_t high, const std::string& where) {
  bool whole = !field.empty() && field.size() <= 9;
  int64_t value = 0;
  for (const char c : field) {
    whole = whole && c >= '0' && c <= '9';
    if (whole) value = value * 10 + (c - '0');
  }
  if (!whole || value < 1 || value > high)
    throw Error(where + "header: " + name + " is " + shown(field) + "; expected a whole number from 1 to " +
                    std::to_string(high),
                Status::kBadFile);
  return value;
}

struct Header {
  int64_t height = 0, width = 0, channels = 0, maxval = 0;
  // At most 9 digits each: these products fit int64.
  int64_t samples() const { return height * width * channels; }
  int64_t pixel_bytes() const { return samples() * (maxval > 255 ? 2 : 1); }
};

// The header, checked; where `expected` is given, the size is checked
// against it before any pixel is read.
template <class NextByte>
Header read_header(NextByte next, const std::string& where, const TensorDesc* expected) {
  Header h;
  const std::string magic = header_field(next);
  if (magic != "P5" && magic != "P6")
    throw Error(where + "header: magic is " + shown(magic) + "; expected a binary PGM (P5) or PPM (P6)",
                Status::kBadFile);
  h.width = header_number(header_field(next), "width", 999999999, where);
  h.height = header_number(header_field(next), "height", 999999999, where);
  h.maxval = header_number(header_field(next), "maxval", 65535, where);
  h.channels = magic == "P5" ? 1 : 3;
  if (expected != nullptr &&
      (h.height != expected->height || h.width != expected->width || h.channels != expected->channels))
    throw Error(where + "image is " + std::to_string(h.height) + "×" + std::to_string(h.width) + "×" +
                    std::to_string(h.channels) + "; the model expects " + std::to_string(expected->height) +
                    "×" + std::to_string(expected->width) + "×" + std::to_string(expected->channels),
                Status::kBadArgument);
  return h;
}

// A header claims its size: the bytes there must hold it.
void check_length(const Header& h, int64_t available, const std::string& where) {
  if (available < h.pixel_bytes())
    throw Error(where + "pixel data: expected " + std::to_string(h.pixel_bytes()) + " bytes, the file has " +
                    std::to_string(available),
                Status::kBadFile);
}

// The image from its `h.pixel_bytes()` raw bytes, samples scaled to 0..255.
NetpbmImage to_image(const Header& h, const uint8_t* raw, const std::string& where) {
  const bool wide = h.maxval > 255;
  std::vector<uint8_t> pixels(size_t(h.samples()), 0);
  for (size_t i = 0; i < pixels.size(); ++i) {
    const int64_t v = wide ? int64_t(raw[2 * i]) << 8 | raw[2 * i + 1] : raw[i];
    if (v > h.maxval)
      throw Error(where + "sample " + std::to_string(i) + " is " + std::to_string(v) +
                      "; expected at most maxval " + std::to_string(h.maxval),
                  Status::kBadFile);
    pixels[i] = uint8_t((v * 255 + h.maxval / 2) / h.maxval);  // rounded to nearest
  }
  NetpbmImage image;
  image.shape = {DType::kU8, int32_t(h.height), int32_t(h.width), int32_t(h.channels)};
  image.pixels = std::move(pixels);
  return image;
}

// A file is read header first, so that neither a wrong size nor a file
// that is not an image at all is read whole.
NetpbmImage read_file(const std::string& path, const TensorDesc* expected) {
  const std::string where = printable(path) + ": ";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    throw Error(where + "cannot open the image (" + std::strerror(error) + ")", Status::kBadFile);
  }
  std::error_code ignored;  // a folder opens too, and reads as empty
  if (in.peek() == std::char_traits<char>::eof() && std::filesystem::is_directory(path, ignored))
    throw Error(where + "is a folder; expected a binary PGM (P5) or PPM (P6) image", Status::kBadFile);
  const Header h = read_header([&in] { return in.get(); }, where, expected);
  // In pieces, not measured by seeking (a pipe, /dev/stdin or <(…), cannot
  // seek): memory grows with the bytes that are there, not the header's claim.
  std::vector<uint8_t> raw;
  constexpr int64_t kPiece = int64_t(1) << 20;
  while (int64_t(raw.size()) < h.pixel_bytes() && in) {
    const size_t at = raw.size();
    raw.resize(at + size_t(std::min(kPiece, h.pixel_bytes() - int64_t(at))));
    in.read(reinterpret_cast<char*>(raw.data() + at), std::streamsize(raw.size() - at));
    raw.resize(at + size_t(in.gcount()));
  }
  if (in.bad()) throw Error(where + "cannot read the pixel data", Status::kBadFile);
  check_length(h, int64_t(raw.size()), where);
  return to_image(h, raw.data(), where);
}

}  // namespace

NetpbmImage read_netpbm(const std::string& path) { return read_file(path, nullptr); }

std::vector<uint8_t> read_netpbm(const std::string& path, const TensorDesc& expected) {
  return read_file(path, &expected).pixels;
}

bool read_netpbm_stream(std::istream& in, const TensorDesc& expected, const std::string& name,
                        int64_t number, std::vector<uint8_t>* pixels) {
  while (is_space(in.peek())) in.get();
  if (in.peek() == std::char_traits<char>::eof()) return false;
  const std::string where = printable(name) + ": image " + std::to_string(number) + ": ";
  const Header h = read_header([&in] { return in.get(); }, where, &expected);
  std::vector<uint8_t> raw(size_t(h.pixel_bytes()));  // (at most the model's input size, twice)
  in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size()));
  if (in.gcount() != std::streamsize(raw.size()))
    throw Error(where + "pixel data: expected " + std::to_string(raw.size()) + " bytes, the stream ended after " +
                    std::to_string(in.gcount()),
                Status::kBadFile);
  *pixels = to_image(h, raw.data(), where).pixels;
  return true;
}

NetpbmImage decode_netpbm(const uint8_t* data, size_t size, const std::string& name) {
  const std::string where = printable(name) + ": ";
  size_t at = 0;
  const Header h = read_header([&] { return at < size ? int(data[at++]) : -1; }, where, nullptr);
  check_length(h, int64_t(size - at), where);
  return to_image(h, data + at, where);
}

}  // namespace maqd_rt
