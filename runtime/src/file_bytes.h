// A whole file read into memory that starts at an 8-byte boundary, as the
// core's ModelView needs (it reads a model's arrays in place): the one
// file reader of the hosted runtime (load_model, describe_model_file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace maqd_rt {

class FileBytes {
 public:
  // Throws maqd_rt::Error (kIo) naming the path where the file cannot be
  // opened or read whole.
  explicit FileBytes(const std::string& path);
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words_.data()); }
  size_t size() const { return size_; }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

}  // namespace maqd_rt
