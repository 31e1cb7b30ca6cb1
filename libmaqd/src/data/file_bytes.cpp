#include "data/file_bytes.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "maqd/error.h"

namespace maqd::data::detail {
namespace {

std::vector<uint8_t> read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  check(bool(in), path.c_str(), "cannot open: ", std::strerror(errno));
  const std::streamoff size = in.tellg();
  check(size >= 0, path.c_str(), "cannot determine the file size");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  check(in.gcount() == size, path.c_str(), "read error: expected ", size, " bytes, got ",
        in.gcount());
  return bytes;
}

std::vector<uint8_t> read_gzip(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  check(gz != nullptr, path.c_str(), "cannot open: ", std::strerror(errno));
  gzbuffer(gz, 1 << 17);
  std::vector<uint8_t> bytes;
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    const size_t used = bytes.size();
    bytes.resize(used + kChunk);
    const int got = gzread(gz, bytes.data() + used, static_cast<unsigned>(kChunk));
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(gz, &code);
      gzclose(gz);
      throw Error(path + ": corrupt gzip stream after " + std::to_string(used) +
                  " decompressed bytes: " + message);
    }
    bytes.resize(used + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // zlib reports a stream cut short as Z_BUF_ERROR, yet returns what it had.
  int code = Z_OK;
  const std::string message = gzerror(gz, &code);
  gzclose(gz);
  check(code == Z_OK, path.c_str(), "truncated gzip stream: ", message, " after ", bytes.size(),
        " decompressed bytes");
  return bytes;
}

}  // namespace

FileBytes read_file_bytes(const std::string& path) {
  FileBytes file;
  file.path = path;
  {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), path.c_str(), "cannot open: ", std::strerror(errno));
    unsigned char magic[2] = {0, 0};
    in.read(reinterpret_cast<char*>(magic), 2);
    file.gzipped = in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  }
  file.bytes = file.gzipped ? read_gzip(path) : read_raw(path);
  return file;
}

}  // namespace maqd::data::detail
