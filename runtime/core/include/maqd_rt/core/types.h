// The runtime's core vocabulary, shared by the freestanding core (no
// exceptions, no heap, no threads, no files: what a microcontroller runs)
// and the hosted runtime built on it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maqd_rt {

// What kind of failure a call met; the values are the C API's MAQD_RT_*
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

// A failure as the core reports it: the status and a whole, printable
// message (NUL-terminated, cut to fit).
struct Diagnostic {
  Status status = Status::kOk;
  char message[384] = {};
  // Where Inference::prepare found the arena too small (kLimitExceeded):
  // the bytes to try next, the whole plan's or, where even the tensor table
  // did not fit, the table's (a second call then names the whole). 0 after
  // every other failure of prepare.
  uint64_t arena_needed = 0;
};

enum class DType : uint8_t { kU8 = 1, kI16 = 2, kI32 = 3, kF32 = 4 };

enum class OpKind : uint8_t {
  kInputLut = 1,
  kConv = 2,
  kPoolSum = 3,
  kRequant = 4,
  kGapLinear = 5,
};

const char* dtype_name(DType dtype);     // "u8", ...; "unknown-dtype"
const char* op_kind_name(OpKind kind);   // "conv", ...; "unknown-op"

// Bytes from a file (an op name, a metadata key) fit to quote in a message:
// printable ASCII kept, every other byte (and the backslash) as \xNN, at
// most 64 bytes shown, then "... (N bytes)", so that a NUL cannot cut the
// message and control bytes never reach a terminal. Writes at most
// `capacity` − 1 characters and a NUL; kPrintableCapacity always suffices.
inline constexpr size_t kPrintableCapacity = 64 * 4 + 40;  // + "... (N bytes)" and the NUL
size_t printable_into(const uint8_t* bytes, uint64_t length, char* out, size_t capacity);

// The arrays an op kind stores, in the order of its record's array
// references 1..4 (reference 0 is the name): the one table the reader, the
// writer and the model checks all read. docs/format.md shows it.
enum class ArrayType : uint8_t { kI32, kI64, kF32, kCodes };
struct OpSlot {
  const char* name;
  ArrayType type;
};
inline constexpr size_t kMaxOpArrays = 4;
struct OpSlots {
  size_t count = 0;
  OpSlot slots[kMaxOpArrays] = {};
};
// The arrays of `kind`; an unknown kind has none.
const OpSlots& op_slots(OpKind kind);

inline constexpr OpKind kOpKinds[] = {OpKind::kInputLut, OpKind::kConv, OpKind::kPoolSum,
                                      OpKind::kRequant, OpKind::kGapLinear};

}  // namespace maqd_rt
