// Byte-level helpers for tests of .maqd files: little-endian field access
// written independently of the reader, re-sealing the checksum after a
// deliberate corruption (so the corruption reaches the check behind the
// checksum), and the seed corpus the fuzz targets start from.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format_layout.h"
#include "maqd_rt/format.hpp"
#include "runtime/model_fixtures.h"

namespace maqd_test {

using Bytes = std::vector<uint8_t>;

inline uint64_t get_le(const Bytes& b, size_t at, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v |= uint64_t(b.at(at + size_t(i))) << (8 * i);
  return v;
}

inline void put_le(Bytes& b, size_t at, uint64_t value, int width) {
  for (int i = 0; i < width; ++i) b.at(at + size_t(i)) = uint8_t(value >> (8 * i));
}

// Rewrites the header checksum so that it matches the (modified) bytes.
inline void reseal(Bytes& b) {
  if (b.size() < maqd_rt::format::kHeaderSize) return;
  put_le(b, maqd_rt::format::kChecksumAt, maqd_rt::format::file_checksum(b.data(), b.size()), 4);
}

// Where section `index` starts and how long it is, per the section table.
inline size_t section_offset(const Bytes& b, size_t index) {
  return size_t(get_le(b, 64 + 32 * index + 8, 8));
}
inline size_t section_size(const Bytes& b, size_t index) {
  return size_t(get_le(b, 64 + 32 * index + 16, 8));
}
// Byte offset of op `op`'s record and of tensor `t`'s record.
inline size_t op_record(const Bytes& b, size_t op) { return section_offset(b, 2) + 128 * op; }
inline size_t tensor_record(const Bytes& b, size_t t) { return section_offset(b, 1) + 16 * t; }
// The file offset of the array in op `op`'s ref slot (0 = name).
inline size_t array_at(const Bytes& b, size_t op, size_t slot) {
  return section_offset(b, 3) + size_t(get_le(b, op_record(b, op) + 32 + 16 * slot, 8));
}

// Valid files and broken variants, each with a name for a corpus folder.
inline std::vector<std::pair<std::string, Bytes>> seed_corpus() {
  std::vector<std::pair<std::string, Bytes>> seeds;
  const Bytes small = maqd_rt::write_model(small_model());
  seeds.emplace_back("valid_small.maqd", small);
  seeds.emplace_back("valid_small_seed2.maqd", maqd_rt::write_model(small_model(2)));
  seeds.emplace_back("valid_tiny.maqd", maqd_rt::write_model(tiny_model()));

  Bytes truncated(small.begin(), small.begin() + long(small.size() / 2));
  seeds.emplace_back("broken_truncated.maqd", truncated);
  Bytes magic = small;
  magic[0] = 'X';
  seeds.emplace_back("broken_magic.maqd", magic);
  Bytes version = small;
  put_le(version, 8, 2, 4);
  reseal(version);
  seeds.emplace_back("broken_version.maqd", version);
  Bytes checksum = small;
  checksum[small.size() - 1] ^= 0x40;
  seeds.emplace_back("broken_checksum.maqd", checksum);
  Bytes section = small;
  put_le(section, 64 + 32 * 3 + 16, uint64_t(1) << 62, 8);
  reseal(section);
  seeds.emplace_back("broken_section_size.maqd", section);
  Bytes count = small;
  put_le(count, op_record(count, 2) + 32 + 16 * 1 + 8, ~uint64_t(0), 8);
  reseal(count);
  seeds.emplace_back("broken_weight_count.maqd", count);
  return seeds;
}

}  // namespace maqd_test
