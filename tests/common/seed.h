// Seeded randomness for tests. Each test draws its seed from test_seed(): the
// value of MAQD_TEST_SEED if set, else a fixed default, and records it so
// GoogleTest prints it beside any failure (SCOPED_TRACE).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace maqd_test {

inline uint64_t test_seed(uint64_t fallback = 20261126) {
  if (const char* env = std::getenv("MAQD_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return fallback;
}

// Use as: MAQD_SEEDED(seed); — declares `seed` and traces it on failure.
#define MAQD_SEEDED(var)                   \
  const uint64_t var = ::maqd_test::test_seed(); \
  SCOPED_TRACE("seed " + std::to_string(var) + " (replay with MAQD_TEST_SEED=" + std::to_string(var) + ")")

}  // namespace maqd_test
