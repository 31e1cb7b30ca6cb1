// The one exception type of the runtime's C++ API. Messages name the file or
// object, the field, the value found and what was expected; the C API turns
// them into the status code below plus maqd_rt_last_error().
#pragma once

#include <stdexcept>
#include <string>

#include "maqd_rt/core/types.h"

namespace maqd_rt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, Status status = Status::kError)
      : std::runtime_error(message), status_(status) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

// `text` (an op name, a metadata key: bytes from a file) fit to quote in a
// message: printable ASCII kept, every other byte as \xNN, at most 64 bytes
// shown, so a NUL cannot cut the message and control bytes never reach a
// terminal.
std::string printable(const std::string& text);

// `text` from a file (a class name, a metadata value) fit to print whole:
// control bytes (below 0x20, 0x7F, and UTF-8's C1 controls U+0080…U+009F)
// as \xNN, so a hostile file cannot send a terminal escape; everything
// else, UTF-8 included, as it is.
std::string without_control_bytes(const std::string& text);

}  // namespace maqd_rt
