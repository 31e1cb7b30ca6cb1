// Messages of the freestanding core: appended into a Diagnostic's fixed
// buffer, cut where they do not fit, with no heap and no stdio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "maqd_rt/core/types.h"

namespace maqd_rt {

// Appends to a fixed buffer, cutting what does not fit.
class MessageWriter {
 public:
  explicit MessageWriter(Diagnostic* d) : d_(d) {
    if (d_) d_->message[0] = 0;
  }
  MessageWriter& add(const char* text) {
    if (!d_) return *this;
    for (; text && *text && length_ + 1 < sizeof d_->message; ++text) d_->message[length_++] = *text;
    d_->message[length_] = 0;
    return *this;
  }
  MessageWriter& add(char c) {
    const char text[2] = {c, 0};
    return add(text);
  }
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, char>>>
  MessageWriter& add(Int value) {
    char digits[24];
    size_t n = 0;
    const bool negative = std::is_signed_v<Int> && value < 0;
    uint64_t magnitude = negative ? uint64_t(0) - uint64_t(value) : uint64_t(value);
    do {
      digits[n++] = char('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude);
    if (negative) add('-');
    while (n) add(digits[--n]);
    return *this;
  }
  MessageWriter& hex(uint64_t value, int width) {
    static const char kDigits[] = "0123456789ABCDEF";
    for (int i = width - 1; i >= 0; --i) add(kDigits[(value >> (4 * i)) & 15]);
    return *this;
  }
  // Bytes from the file, fit to quote (printable_into).
  MessageWriter& quoted(const uint8_t* bytes, uint64_t length) {
    char text[kPrintableCapacity];
    printable_into(bytes, length, text, sizeof text);
    return add(text);
  }

 private:
  Diagnostic* d_;
  size_t length_ = 0;
};

}  // namespace maqd_rt
