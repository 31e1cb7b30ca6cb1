#include "data/file_bytes.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "maqd/error.h"

namespace maqd::data::detail {
namespace {

torch::Tensor read_raw(const std::string& path, std::ifstream& in) {
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  check(size >= 0, path.c_str(), "cannot determine the file size");
  torch::Tensor bytes = torch::empty({static_cast<int64_t>(size)}, torch::kUInt8);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data_ptr<uint8_t>()), size);
  check(in.gcount() == size, path.c_str(), "read error: expected ", size, " bytes, got ",
        in.gcount());
  return bytes;
}

// gzip's trailer ends with the uncompressed size mod 2^32 (of the last member
// only): a hint that usually lets the buffer be allocated once, exactly.
size_t gzip_size_hint(std::ifstream& in) {
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 18) return 0;  // smaller than a gzip header and trailer
  unsigned char isize[4];
  in.seekg(size - 4);
  in.read(reinterpret_cast<char*>(isize), 4);
  if (in.gcount() != 4) return 0;
  const size_t hint = size_t{isize[0]} | size_t{isize[1]} << 8 | size_t{isize[2]} << 16 |
                      size_t{isize[3]} << 24;
  // A cut or corrupt file ends in arbitrary bytes: never trust the hint for
  // more than deflate's ~1032:1 ratio allows, nor past 256 MiB (the buffer
  // grows if the data really is larger).
  return std::min({hint, static_cast<size_t>(size) * 1032, size_t{256} << 20});
}

torch::Tensor read_gzip(const std::string& path, size_t hint) {
  gzFile gz = gzopen(path.c_str(), "rb");
  check(gz != nullptr, path.c_str(), "cannot open: ", std::strerror(errno));
  gzbuffer(gz, 1 << 17);
  // One spare byte, so that reaching the end does not first grow the buffer.
  torch::Tensor bytes = torch::empty({static_cast<int64_t>(hint + 1)}, torch::kUInt8);
  size_t used = 0;
  for (;;) {
    size_t capacity = static_cast<size_t>(bytes.numel());
    if (used == capacity) {  // the hint was low: a multi-member file, or > 4 GiB
      torch::Tensor larger = torch::empty({static_cast<int64_t>(2 * capacity + (1 << 20))}, torch::kUInt8);
      std::memcpy(larger.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>(), used);
      bytes = larger;
      capacity = static_cast<size_t>(bytes.numel());
    }
    const unsigned want = static_cast<unsigned>(std::min<size_t>(capacity - used, 1u << 30));
    const int got = gzread(gz, bytes.data_ptr<uint8_t>() + used, want);
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(gz, &code);
      gzclose(gz);
      throw Error(path + ": corrupt gzip stream after " + std::to_string(used) +
                  " decompressed bytes: " + message);
    }
    if (got == 0) break;
    used += static_cast<size_t>(got);
  }
  // zlib reports a stream cut short as Z_BUF_ERROR, yet returns what it had.
  int code = Z_OK;
  const std::string message = gzerror(gz, &code);
  gzclose(gz);
  check(code == Z_OK, path.c_str(), "truncated gzip stream: ", message, " after ", used,
        " decompressed bytes");
  return bytes.narrow(0, 0, static_cast<int64_t>(used));
}

}  // namespace

FileBytes read_file_bytes(const std::string& path) {
  FileBytes file;
  file.path = path;
  std::ifstream in(path, std::ios::binary);
  check(bool(in), path.c_str(), "cannot open: ", std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  file.gzipped = in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  in.clear();  // a file shorter than 2 bytes set eof
  file.tensor = file.gzipped ? read_gzip(path, gzip_size_hint(in)) : read_raw(path, in);
  return file;
}

}  // namespace maqd::data::detail
