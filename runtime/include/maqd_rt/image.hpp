// Images from files, for programs that classify them (maqd-rt, maqd run
// --image): binary Netpbm, the simplest format every image tool writes
// (`convert shoe.png -resize 28x28! shoe.pgm`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "maqd_rt/model.hpp"

namespace maqd_rt {

// A binary PGM (P5, one channel) or PPM (P6, three) of exactly `expected`'s
// height, width and channels, as [height][width][channels] bytes. Header
// comments are skipped; a maxval other than 255 (up to 65535, two
// big-endian bytes a sample) is scaled to 0..255, rounded. Throws
// maqd_rt::Error naming the file and what was expected.
std::vector<uint8_t> read_netpbm(const std::string& path, const TensorDesc& expected);

// The same for an image of any size (reading a data set of them).
struct NetpbmImage {
  TensorDesc shape;             // u8, height, width, channels (1 or 3)
  std::vector<uint8_t> pixels;  // [height][width][channels]
};
NetpbmImage read_netpbm(const std::string& path);

// The same from bytes in memory (an image received rather than read from a
// file); `name` stands for the file in error messages.
NetpbmImage decode_netpbm(const uint8_t* data, size_t size, const std::string& name);

// The next image of a stream of them written one after another (a camera
// pipeline's `ffmpeg ... -f image2pipe -c:v pgm -`), of exactly
// `expected`'s shape, into `pixels`; false where the stream ends before
// another header begins (whitespace may follow the last image). Throws
// maqd_rt::Error naming `name` and the image's number (from 1) for a
// broken, cut or wrongly sized image. Reads only the image's own bytes.
bool read_netpbm_stream(std::istream& in, const TensorDesc& expected, const std::string& name,
                        int64_t number, std::vector<uint8_t>* pixels);

}  // namespace maqd_rt
