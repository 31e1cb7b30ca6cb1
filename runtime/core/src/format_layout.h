// Byte layout constants of .maqd version 1 (docs/format.md is the
// specification) and the CRC-32 the header carries. Private to the runtime;
// the format tests and the fuzz target use it to find fields and to re-seal
// a file's checksum after corrupting one field on purpose.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maqd_rt::format {

constexpr uint8_t kMagic[8] = {'M', 'A', 'Q', 'D', 0x0D, 0x0A, 0x1A, 0x0A};
constexpr size_t kAlignment = 64;  // of sections and of every array in DATA

// Header: 64 bytes at offset 0.
constexpr size_t kHeaderSize = 64;
constexpr size_t kMagicAt = 0;
constexpr size_t kVersionAt = 8;               // u32
constexpr size_t kHeaderSizeAt = 12;           // u32, = kHeaderSize
constexpr size_t kFileSizeAt = 16;             // u64
constexpr size_t kChecksumAt = 24;             // u32
constexpr size_t kSectionCountAt = 28;         // u32
constexpr size_t kSectionTableOffsetAt = 32;   // u64
constexpr size_t kTensorCountAt = 40;          // u32
constexpr size_t kOpCountAt = 44;              // u32
constexpr size_t kHeaderReservedAt = 48;       // 16 zero bytes

// Section table: kSectionCount entries of kSectionEntrySize bytes.
constexpr uint32_t kSectionCount = 4;
constexpr size_t kSectionEntrySize = 32;
constexpr size_t kSectionIdAt = 0;        // u32 four-character code
constexpr size_t kSectionReservedAt = 4;  // u32, 0
constexpr size_t kSectionOffsetAt = 8;    // u64, from the start of the file
constexpr size_t kSectionSizeAt = 16;     // u64, bytes
constexpr size_t kSectionReserved2At = 24;  // u64, 0

// Four-character codes, stored little-endian so the bytes read "META" etc.
constexpr uint32_t fourcc(char a, char b, char c, char d) {
  return uint32_t(uint8_t(a)) | uint32_t(uint8_t(b)) << 8 | uint32_t(uint8_t(c)) << 16 |
         uint32_t(uint8_t(d)) << 24;
}
constexpr uint32_t kSectionIds[kSectionCount] = {
    fourcc('M', 'E', 'T', 'A'), fourcc('T', 'E', 'N', 'S'), fourcc('O', 'P', 'S', '_'),
    fourcc('D', 'A', 'T', 'A')};
constexpr const char* kSectionNames[kSectionCount] = {"META", "TENS", "OPS_", "DATA"};
enum SectionIndex : size_t { kMeta = 0, kTens = 1, kOps = 2, kData = 3 };

// Where a section lies in the file.
struct Section {
  uint64_t offset = 0, size = 0;
  uint64_t end() const { return offset + size; }
};

// TENS: one 16-byte record per tensor.
constexpr size_t kTensorRecordSize = 16;
constexpr size_t kTensorDtypeAt = 0;     // u8
constexpr size_t kTensorReservedAt = 1;  // 3 zero bytes
constexpr size_t kTensorHeightAt = 4;    // i32
constexpr size_t kTensorWidthAt = 8;     // i32
constexpr size_t kTensorChannelsAt = 12; // i32

// OPS_: one 128-byte record per op.
constexpr size_t kOpRecordSize = 128;
constexpr size_t kOpKindAt = 0;         // u8
constexpr size_t kOpInputCountAt = 1;   // u8
constexpr size_t kOpWeightBitsAt = 2;   // u8
constexpr size_t kOpReservedAt = 3;     // u8, 0
constexpr size_t kOpOutputAt = 4;       // i32
constexpr size_t kOpInputsAt = 8;       // i32[2], −1 when unused
constexpr size_t kOpKernelAt = 16;      // i32
constexpr size_t kOpLevelsAt = 20;      // i32
constexpr size_t kOpReserved2At = 24;   // 8 zero bytes
constexpr size_t kOpRefsAt = 32;        // 5 array references
constexpr size_t kOpRefCount = 5;       // name, then up to 4 arrays
constexpr size_t kRefSize = 16;         // u64 offset in DATA, u64 element count
constexpr size_t kOpReserved3At = kOpRefsAt + kOpRefCount * kRefSize;  // 112: 16 zero bytes
constexpr size_t kMaxInputs = 2;

// CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, initial and final
// xor 0xFFFFFFFF; crc32("123456789") = 0xCBF43926). `crc` chains calls:
// crc32(b, n2, crc32(a, n1)) == crc32 of a then b.
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

// The checksum a file's header must carry: the CRC-32 of the whole file
// with the 4 checksum bytes read as zero. `size` ≥ kHeaderSize.
uint32_t file_checksum(const uint8_t* data, size_t size);

}  // namespace maqd_rt::format
