// The core's C API (maqd_rt_core.h), what firmware calls: every function
// refuses NULL and unaligned arguments with a status, an arena too small
// for a model is refused naming the bytes it needs, a broken file is
// refused as the hosted reader refuses it, and a prepared model computes
// the hosted engine's logits bit for bit.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt/core/inference.h"
#include "maqd_rt/core/model_view.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"
#include "maqd_rt_core.h"
#include "model_fixtures.h"

namespace {

struct Bytes8 {  // a model's bytes at an 8-byte boundary
  explicit Bytes8(const std::vector<uint8_t>& bytes) : size(bytes.size()), words((bytes.size() + 7) / 8) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(words.data()); }
  size_t size;
  std::vector<uint64_t> words;
};

TEST(CoreCApi, EveryFunctionRefusesNullArguments) {
  const Bytes8 model(maqd_rt::write_model(maqd_test::small_model()));
  std::vector<uint64_t> arena(1 << 14);
  char message[128];
  int status = -1;
  EXPECT_EQ(maqd_rt_core_prepare(nullptr, model.size, arena.data(), arena.size() * 8, &status, message,
                                 sizeof message),
            nullptr);
  EXPECT_EQ(status, MAQD_RT_BAD_ARGUMENT);
  EXPECT_NE(std::string(message).find("model is NULL"), std::string::npos) << message;
  EXPECT_EQ(maqd_rt_core_prepare(model.data(), model.size, nullptr, 4096, &status, message, sizeof message),
            nullptr);
  EXPECT_EQ(status, MAQD_RT_BAD_ARGUMENT);
  // Status and message are optional.
  EXPECT_EQ(maqd_rt_core_prepare(nullptr, 0, nullptr, 0, nullptr, nullptr, 0), nullptr);

  maqd_rt_core* core =
      maqd_rt_core_prepare(model.data(), model.size, arena.data(), arena.size() * 8, &status, message, sizeof message);
  ASSERT_NE(core, nullptr) << message;
  int h = 0, w = 0, c = 0, classes = 0;
  size_t bytes = 0;
  std::vector<float> logits(4);
  std::vector<uint8_t> image(6 * 6 * 2);
  EXPECT_EQ(maqd_rt_core_run(nullptr, image.data(), logits.data(), message, sizeof message), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_run(core, nullptr, logits.data(), message, sizeof message), MAQD_RT_BAD_ARGUMENT);
  EXPECT_NE(std::string(message).find("image is NULL"), std::string::npos) << message;
  EXPECT_EQ(maqd_rt_core_run(core, image.data(), nullptr, nullptr, 0), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_input_shape(nullptr, &h, &w, &c), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_input_shape(core, nullptr, &w, &c), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_input_shape(core, &h, nullptr, &c), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_input_shape(core, &h, &w, nullptr), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_num_classes(nullptr, &classes), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_num_classes(core, nullptr), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_arena_bytes(nullptr, &bytes), MAQD_RT_BAD_ARGUMENT);
  EXPECT_EQ(maqd_rt_core_arena_bytes(core, nullptr), MAQD_RT_BAD_ARGUMENT);
}

TEST(CoreCApi, RefusesUnalignedBuffersSmallArenasAndBrokenFiles) {
  const std::vector<uint8_t> written = maqd_rt::write_model(maqd_test::small_model());
  const Bytes8 model(written);
  std::vector<uint64_t> arena(1 << 14);
  char message[256];
  int status = -1;
  unsigned char* odd = reinterpret_cast<unsigned char*>(arena.data()) + 4;
  EXPECT_EQ(maqd_rt_core_prepare(model.data(), model.size, odd, 4096, &status, message, sizeof message), nullptr);
  EXPECT_EQ(status, MAQD_RT_BAD_ARGUMENT);
  EXPECT_NE(std::string(message).find("8-byte"), std::string::npos) << message;

  // The smallest arena that works, found from the message of one too small.
  maqd_rt_core* core =
      maqd_rt_core_prepare(model.data(), model.size, arena.data(), arena.size() * 8, &status, message, sizeof message);
  ASSERT_NE(core, nullptr) << message;
  size_t used = 0;
  ASSERT_EQ(maqd_rt_core_arena_bytes(core, &used), MAQD_RT_OK);
  EXPECT_GT(used, 0u);
  EXPECT_EQ(maqd_rt_core_prepare(model.data(), model.size, arena.data(), used - 8, &status, message, sizeof message),
            nullptr);
  EXPECT_EQ(status, MAQD_RT_LIMIT_EXCEEDED);
  // Both figures are the whole arena's, the context's bytes included.
  EXPECT_NE(std::string(message).find("needs " + std::to_string(used) + " bytes of arena ("), std::string::npos)
      << message;
  EXPECT_NE(std::string(message).find("the arena has " + std::to_string(used - 8)), std::string::npos) << message;
  EXPECT_NE(maqd_rt_core_prepare(model.data(), model.size, arena.data(), used, &status, message, sizeof message),
            nullptr)
      << message;

  // A truncated file: the reader's refusal, with its status.
  EXPECT_EQ(maqd_rt_core_prepare(model.data(), model.size - 1, arena.data(), arena.size() * 8, &status, message,
                                 sizeof message),
            nullptr);
  EXPECT_EQ(status, MAQD_RT_BAD_FILE);
  EXPECT_NE(std::string(message).find("byte "), std::string::npos) << message;
  // A message buffer of one byte still ends with a NUL.
  char tiny[1] = {'x'};
  maqd_rt_core_prepare(model.data(), model.size - 1, arena.data(), arena.size() * 8, &status, tiny, 1);
  EXPECT_EQ(tiny[0], 0);
}

// The bytes a caller keeps at the arena's start (the C API's context) are
// left alone and counted in every size the Inference reports.
TEST(CoreInference, KeepsTheCallersContextAndCountsIt) {
  const std::vector<uint8_t> written = maqd_rt::write_model(maqd_test::small_model());
  const Bytes8 model(written);
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic d;
  ASSERT_TRUE(view.open(model.data(), model.size, &d)) << d.message;
  std::vector<uint64_t> arena(1 << 14);
  maqd_rt::Inference plain;
  ASSERT_TRUE(plain.prepare(view, arena.data(), arena.size() * 8, &d)) << d.message;
  std::vector<uint8_t> image(size_t(plain.input().height) * plain.input().width * plain.input().channels, 77);
  std::vector<float> expected(size_t(plain.num_classes())), logits(expected.size());
  ASSERT_TRUE(plain.run(image.data(), expected.data(), &d)) << d.message;

  constexpr size_t kContext = 40;
  std::memset(arena.data(), 0xA5, arena.size() * 8);
  maqd_rt::Inference kept;
  ASSERT_TRUE(kept.prepare(view, arena.data(), arena.size() * 8, &d, kContext)) << d.message;
  EXPECT_EQ(kept.arena_bytes(), plain.arena_bytes() + kContext);
  ASSERT_TRUE(kept.run(image.data(), logits.data(), &d)) << d.message;
  EXPECT_EQ(logits, expected);
  const auto* context = reinterpret_cast<const uint8_t*>(arena.data());
  for (size_t i = 0; i < kContext; ++i) ASSERT_EQ(context[i], 0xA5) << "context byte " << i;

  const uint64_t needed = kept.arena_bytes();
  EXPECT_FALSE(kept.prepare(view, arena.data(), needed - 8, &d, kContext));
  EXPECT_EQ(d.status, maqd_rt::Status::kLimitExceeded);
  EXPECT_EQ(d.arena_needed, needed);
  EXPECT_NE(std::string(d.message).find("needs " + std::to_string(needed) + " bytes of arena (40 context, "),
            std::string::npos)
      << d.message;
  EXPECT_FALSE(kept.prepare(view, arena.data(), 60, &d, kContext));  // not even the table
  EXPECT_EQ(d.status, maqd_rt::Status::kLimitExceeded);
  EXPECT_NE(std::string(d.message).find("the arena has 60 bytes but the context and the table"), std::string::npos)
      << d.message;
  for (const auto& [context_bytes, arena_bytes] : {std::pair<size_t, size_t>{12, 4096}, {4096, 2048}}) {
    EXPECT_FALSE(kept.prepare(view, arena.data(), arena_bytes, &d, context_bytes)) << context_bytes;
    EXPECT_EQ(d.status, maqd_rt::Status::kBadArgument) << context_bytes;
  }
}

TEST(CoreCApi, LogitsAreTheEnginesBitForBit) {
  const maqd_rt::Model fixture = maqd_test::small_model(5);
  const Bytes8 model(maqd_rt::write_model(fixture));
  std::vector<uint64_t> arena(1 << 14);
  char message[256];
  int status = -1;
  maqd_rt_core* core =
      maqd_rt_core_prepare(model.data(), model.size, arena.data(), arena.size() * 8, &status, message, sizeof message);
  ASSERT_NE(core, nullptr) << message;
  int h = 0, w = 0, c = 0, classes = 0;
  ASSERT_EQ(maqd_rt_core_input_shape(core, &h, &w, &c), MAQD_RT_OK);
  ASSERT_EQ(maqd_rt_core_num_classes(core, &classes), MAQD_RT_OK);
  EXPECT_EQ(h, fixture.input().height);
  EXPECT_EQ(w, fixture.input().width);
  EXPECT_EQ(c, fixture.input().channels);
  EXPECT_EQ(classes, fixture.num_classes());
  maqd_rt::Engine engine(fixture);
  maqd_test::FixtureValues values(11);
  for (int image_index = 0; image_index < 4; ++image_index) {
    std::vector<uint8_t> image(size_t(h * w * c));
    for (auto& b : image) b = uint8_t(values.next(0, 255));
    std::vector<float> got(static_cast<size_t>(classes)), want(static_cast<size_t>(classes));
    ASSERT_EQ(maqd_rt_core_run(core, image.data(), got.data(), message, sizeof message), MAQD_RT_OK) << message;
    engine.run(image.data(), 1, want.data());
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << "image " << image_index;
  }
}

}  // namespace
