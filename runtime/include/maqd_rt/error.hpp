// The one exception type of the runtime's C++ API. Messages name the file or
// object, the field, the value found and what was expected; the C API turns
// them into the status code below plus maqd_rt_last_error().
#pragma once

#include <stdexcept>
#include <string>

namespace maqd_rt {

// What kind of failure an Error is; the values are the C API's MAQD_RT_*
// status codes (maqd_rt.h).
enum class Status : int {
  kOk = 0,
  kError = 1,               // anything not below (a bug, an unsupported CPU)
  kBadArgument = 2,         // a NULL pointer, a thread count or batch out of range
  kBadFile = 3,             // the file or model breaks a rule of the format
  kUnsupportedVersion = 4,  // a format version newer than this runtime
  kLimitExceeded = 5,       // within the format, but above a limit (sizes, working memory)
  kOutOfMemory = 6,         // an allocation failed
  kIo = 7,                  // a file could not be opened, read or written
};

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

}  // namespace maqd_rt
