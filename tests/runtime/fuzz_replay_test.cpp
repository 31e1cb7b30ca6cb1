// The fuzz seed corpus plus a few thousand seeded mutations of it through
// read_model(): each must give a Model or a maqd_rt::Error — no crash, no
// other exception. This is the fuzzing every build runs; clang builds also
// run libFuzzer itself (fuzz/CMakeLists.txt).
#include <algorithm>
#include <exception>
#include <string>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>

#include "common/seed.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"
#include "maqd_rt/format.hpp"
#include "runtime/format_bytes.h"

namespace {

using maqd_test::Bytes;

enum class Outcome { kModel, kError };

// Fails the test (and says which input) on any exception but maqd_rt::Error.
Outcome read_outcome(const Bytes& b, const std::string& what) {
  try {
    maqd_rt::Model model = maqd_rt::read_model(b.data(), b.size(), what);
    maqd_rt::write_model(model);  // an accepted model must be writable
    // ... and must build an engine that runs an image, or be refused by the
    // working-memory limit (as fuzz/fuzz_model_loader.cpp does).
    maqd_rt::EngineOptions options;
    options.max_arena_bytes = size_t(64) << 20;
    try {
      maqd_rt::Engine engine(std::move(model), options);
      const int64_t pixels = engine.model().input().elements();
      if (pixels > (int64_t(16) << 20)) return Outcome::kModel;  // the image is the caller's memory
      std::vector<uint8_t> image(size_t(pixels), 0x5A);
      std::vector<float> logits(size_t(engine.model().num_classes()));
      engine.run(image.data(), 1, logits.data());
    } catch (const maqd_rt::Error& e) {
      EXPECT_EQ(e.status(), maqd_rt::Status::kLimitExceeded) << what << ": " << e.what();
    }
    return Outcome::kModel;
  } catch (const maqd_rt::Error&) {
    return Outcome::kError;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw " << typeid(e).name() << ": " << e.what();
  }
  return Outcome::kError;
}

TEST(FuzzReplay, SeedCorpusGivesTheExpectedOutcome) {
  for (const auto& [name, bytes] : maqd_test::seed_corpus()) {
    const Outcome expected = name.rfind("valid_", 0) == 0 ? Outcome::kModel : Outcome::kError;
    EXPECT_EQ(read_outcome(bytes, name), expected) << name;
  }
}

TEST(FuzzReplay, SeededMutationsGiveAModelOrAnError) {
  MAQD_SEEDED(seed);
  maqd_test::FixtureValues random(seed);
  const auto seeds = maqd_test::seed_corpus();
  int errors = 0, models = 0;
  for (int round = 0; round < 4000; ++round) {
    Bytes b = seeds[size_t(random.next(0, int64_t(seeds.size()) - 1))].second;
    std::string what = "mutation " + std::to_string(round);
    const int mutations = int(random.next(1, 4));
    for (int m = 0; m < mutations && !b.empty(); ++m) {
      const size_t at = size_t(random.next(0, int64_t(b.size()) - 1));
      switch (random.next(0, 5)) {
        case 0:  // flip one bit
          b[at] ^= uint8_t(1u << random.next(0, 7));
          break;
        case 1:  // truncate
          b.resize(at);
          break;
        case 2:  // insert bytes
          b.insert(b.begin() + long(at), size_t(random.next(1, 64)), uint8_t(random.next(0, 255)));
          break;
        case 3:  // a 64-bit field at an 8-byte boundary set to a huge or edge value
          if (b.size() >= 8) {
            const uint64_t values[] = {~uint64_t(0), uint64_t(1) << 63, uint64_t(1) << 32,
                                       0xFFFFFFFFu, 0, 64, uint64_t(b.size())};
            maqd_test::put_le(b, std::min(at, b.size() - 8) & ~size_t(7),
                              values[random.next(0, 6)], 8);
          }
          break;
        case 4:  // a 32-bit field set to a small or huge count
          if (b.size() >= 4) {
            const uint64_t values[] = {0xFFFFFFFFu, 0x80000000u, 0, 1, 2, 255, 256};
            maqd_test::put_le(b, std::min(at, b.size() - 4) & ~size_t(3), values[random.next(0, 6)], 4);
          }
          break;
        case 5:  // one byte set to a random value (enums, reserved bytes)
          b[at] = uint8_t(random.next(0, 255));
          break;
      }
    }
    // Raw, then with file_size and checksum fixed up so the mutation
    // reaches the checks behind the checksum.
    errors += read_outcome(b, what) == Outcome::kError;
    if (b.size() >= maqd_rt::format::kHeaderSize) {
      maqd_test::put_le(b, maqd_rt::format::kFileSizeAt, b.size(), 8);
      maqd_test::reseal(b);
      (read_outcome(b, what + " (resealed)") == Outcome::kModel ? models : errors)++;
    }
  }
  // The mutations must actually exercise both outcomes' paths.
  EXPECT_GT(errors, 1000);
  EXPECT_GT(models, 0);
}

}  // namespace
