// The engine against the naive interpreter (naive_interpreter.h) on the
// fixtures: every op kind and dtype, 1-3 threads, batch 1 and 5, with and
// without shared buffers; and the core's Inference against the engine, bit
// for bit. (tests/export runs the same checks on exported VGG- and
// PreActResNet-style networks.)
#include <vector>

#include <gtest/gtest.h>

#include "model_fixtures.h"
#include "runtime/naive_interpreter.h"

namespace {

std::vector<uint8_t> images_for(const maqd_rt::Model& model, uint64_t seed) {
  maqd_test::FixtureValues v(seed);
  std::vector<uint8_t> bytes(5 * size_t(model.input().elements()));
  for (auto& b : bytes) b = uint8_t(v.next(0, 255));
  return bytes;
}

TEST(EngineReference, FixturesMatchTheNaiveInterpreter) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE("small_model(" + std::to_string(seed) + ")");
    const maqd_rt::Model model = maqd_test::small_model(seed);
    maqd_test::expect_engine_matches_naive(model, images_for(model, seed));
    maqd_test::expect_core_matches_engine(model, images_for(model, seed), 5);
  }
  SCOPED_TRACE("tiny_model");
  const maqd_rt::Model tiny = maqd_test::tiny_model();
  maqd_test::expect_engine_matches_naive(tiny, images_for(tiny, 4));
  maqd_test::expect_core_matches_engine(tiny, images_for(tiny, 4), 5);
}

}  // namespace
