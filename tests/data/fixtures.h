// Writers of small files in the real IDX and CIFAR formats, byte by byte as
// the formats' documentation lays them out (independent of the readers),
// and a temporary folder removed at the end of each test (common/temp_dir.h).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/temp_dir.h"

namespace maqd_test {

using Bytes = std::vector<uint8_t>;

inline void append_be32(Bytes& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// IDX images: magic, count, rows, cols (big-endian u32), then the pixels.
inline Bytes idx_images(uint32_t count, uint32_t rows, uint32_t cols, const Bytes& pixels,
                        uint32_t magic = 0x00000803) {
  Bytes out;
  append_be32(out, magic);
  append_be32(out, count);
  append_be32(out, rows);
  append_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

// IDX labels: magic, count, then one byte per label.
inline Bytes idx_labels(uint32_t count, const Bytes& labels, uint32_t magic = 0x00000801) {
  Bytes out;
  append_be32(out, magic);
  append_be32(out, count);
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

inline void write_file(const std::string& path, const Bytes& bytes, bool gzip = false) {
  if (gzip) {
    gzFile gz = gzopen(path.c_str(), "wb");
    if (gz == nullptr) throw std::runtime_error("gzopen failed: " + path);
    const int wrote = bytes.empty() ? 0 : gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(gz);
    if (wrote != static_cast<int>(bytes.size())) throw std::runtime_error("gzwrite failed: " + path);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("write failed: " + path);
}

// A pixel value that differs between neighbouring samples, channels, rows and
// columns, so any misplaced byte shows.
inline uint8_t pattern(int64_t sample, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((sample * 31 + c * 101 + y * 7 + x * 3 + 5) % 256);
}

// Pixels of `count` samples of c x h x w in [N, C, H, W] order.
inline Bytes pattern_pixels(int64_t first, int64_t count, int64_t c, int64_t h, int64_t w) {
  Bytes out;
  for (int64_t n = first; n < first + count; ++n)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) out.push_back(pattern(n, k, y, x));
  return out;
}

// CIFAR records: the label bytes, then 3072 pixels (R plane, G plane, B
// plane, each 32 rows of 32), for samples first..first+labels.size()-1.
inline Bytes cifar_records(int64_t first, const std::vector<Bytes>& labels) {
  Bytes out;
  for (size_t i = 0; i < labels.size(); ++i) {
    out.insert(out.end(), labels[i].begin(), labels[i].end());
    const Bytes pixels = pattern_pixels(first + static_cast<int64_t>(i), 1, 3, 32, 32);
    out.insert(out.end(), pixels.begin(), pixels.end());
  }
  return out;
}

}  // namespace maqd_test
