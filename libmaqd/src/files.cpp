#include "maqd/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "maqd/error.h"

namespace maqd {

void write_file_atomically(const std::string& path, std::string_view bytes) {
  check(!path.empty(), "write_file_atomically", "the path is empty; expected a file name");
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  check(file != nullptr, path.c_str(), "cannot create ", temporary, " (", std::strerror(errno),
        "); expected a writable, existing folder");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const int write_error = errno;
  const bool closed = std::fclose(file) == 0;
  const int close_error = errno;
  if (!written || !closed) {
    std::remove(temporary.c_str());
    throw Error(path + ": cannot write " + std::to_string(bytes.size()) + " bytes (" +
                std::strerror(written ? close_error : write_error) + "); the file is unchanged");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    throw Error(path + ": cannot replace it with the new file (" + std::string(std::strerror(error)) +
                "); the file is unchanged");
  }
}

}  // namespace maqd
