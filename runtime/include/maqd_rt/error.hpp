// The one exception type of the runtime's C++ API. Messages name the file or
// object, the field, the value found and what was expected; the C API turns
// them into a status code plus maqd_rt_last_error().
#pragma once

#include <stdexcept>
#include <string>

namespace maqd_rt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace maqd_rt
