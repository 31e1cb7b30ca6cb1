// Small text helpers for messages and tables.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace maqd {

// "a, b, c" for join({"a", "b", "c"}, ", "); "" for no parts.
inline std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? separator : std::string()) + parts[i];
  return out;
}

}  // namespace maqd
