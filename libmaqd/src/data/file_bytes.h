// Whole-file reading shared by the IDX and CIFAR readers. gzip is recognised
// by its magic bytes (1f 8b) and inflated, so every offset the readers report
// is an offset into the decompressed stream, the one the format describes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace maqd::data::detail {

struct FileBytes {
  std::string path;
  bool gzipped = false;
  std::vector<uint8_t> bytes;
};

// Throws maqd::Error "<path>: ..." if the file cannot be opened or read, or
// if a gzip stream is corrupt or cut short.
FileBytes read_file_bytes(const std::string& path);

// Big-endian u32 at `offset`; the caller has checked the size.
inline uint32_t read_be32(const FileBytes& file, size_t offset) {
  const uint8_t* p = file.bytes.data() + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace maqd::data::detail
