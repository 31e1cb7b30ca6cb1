// Whole-file reading shared by the IDX and CIFAR readers. gzip is recognised
// by its magic bytes (1f 8b) and inflated, so every offset the readers report
// is an offset into the decompressed stream, the one the format describes.
// The bytes land in a uint8 tensor allocated once: on the VMs we train on a
// fresh 47 MB buffer costs ~0.25 s in page faults, so the IDX reader keeps a
// view of this buffer as the images instead of copying them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <torch/types.h>

namespace maqd::data::detail {

struct FileBytes {
  std::string path;
  bool gzipped = false;
  torch::Tensor tensor;  // uint8 [size], contiguous

  size_t size() const { return static_cast<size_t>(tensor.numel()); }
  const uint8_t* data() const { return tensor.data_ptr<uint8_t>(); }
};

// Throws maqd::Error "<path>: ..." if the file cannot be opened or read, or
// if a gzip stream is corrupt or cut short.
FileBytes read_file_bytes(const std::string& path);

// Big-endian u32 at `offset`; the caller has checked the size.
inline uint32_t read_be32(const FileBytes& file, size_t offset) {
  const uint8_t* p = file.data() + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace maqd::data::detail
