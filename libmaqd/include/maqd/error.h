// Errors of libmaqd: one exception type whose message names the operator or
// file, the parameter or field, the value it got and what is allowed.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace maqd {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

// Throws maqd::Error("<where>: <message parts...>") unless `condition` holds.
template <typename... Parts>
void check(bool condition, const char* where, const Parts&... parts) {
  if (!condition) throw Error(detail::concat(where, ": ", parts...));
}

}  // namespace maqd
