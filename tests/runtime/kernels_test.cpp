// The runtime's integer kernels: the scalar references against hand-computed
// and naive definitions, and every vector ISA this CPU runs against the
// scalar reference, bit for bit, on shapes around the tile sizes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "common/scoped_env.h"
#include "common/seed.h"
#include "kernels/internal.h"
#include "kernels/kernels.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/error.hpp"

namespace {

using maqd_rt::kernels::ConvShape;
using maqd_rt::kernels::Isa;
using maqd_rt::kernels::PreparedConv;
namespace k = maqd_rt::kernels;

constexpr int32_t kSentinel = 0x5A5A5A5A;
constexpr uint8_t kCanary = 0xC3;

bool cpu_runs(Isa isa) {
  const std::vector<Isa> isas = k::available_isas();
  return std::find(isas.begin(), isas.end(), isa) != isas.end();
}

enum class Codes { kRandom, kExtreme, kTernary };

std::vector<int8_t> make_codes(const ConvShape& s, Codes kind, std::mt19937_64& rng) {
  std::vector<int8_t> codes(size_t(s.out_channels) * s.kernel * s.kernel * s.in_channels);
  std::uniform_int_distribution<int> any(-127, 127), ternary(-1, 1), coin(0, 1);
  for (int8_t& c : codes) {
    switch (kind) {
      case Codes::kRandom: c = int8_t(any(rng)); break;
      case Codes::kExtreme: c = int8_t(coin(rng) ? 127 : -127); break;
      case Codes::kTernary: c = int8_t(ternary(rng)); break;
    }
  }
  return codes;
}

template <typename Input>
std::vector<Input> make_input(const ConvShape& s, int32_t input_max, std::mt19937_64& rng) {
  std::vector<Input> input(size_t(s.height) * s.width * s.in_channels);
  std::uniform_int_distribution<int32_t> value(0, input_max), coin(0, 3);
  // A quarter of the values at input_max, so the largest products occur.
  for (Input& v : input) v = Input(coin(rng) == 0 ? input_max : value(rng));
  return input;
}

struct Ranges {
  int32_t row_begin, row_end, oc_begin, oc_end;
};

Ranges random_subrange(const ConvShape& s, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> row(0, s.height - 1), oc(0, s.out_channels - 1);
  int32_t r0 = row(rng), r1 = row(rng), o0 = oc(rng), o1 = oc(rng);
  if (r0 > r1) std::swap(r0, r1);
  if (o0 > o1) std::swap(o0, o1);
  return {r0, r1 + 1, o0, o1 + 1};
}

// Runs conv_u8 / conv_i16 with `conv` into a sentinel-filled output and a
// scratch with canary bytes after conv_scratch_bytes.
template <typename Input>
std::vector<int32_t> run_conv(const PreparedConv& conv, const std::vector<Input>& input,
                              const Ranges& r) {
  const ConvShape& s = conv.shape;
  std::vector<int32_t> out(size_t(s.height) * s.width * s.out_channels, kSentinel);
  const size_t scratch_bytes = k::conv_scratch_bytes(conv);
  std::vector<uint8_t> scratch(scratch_bytes + 256, kCanary);
  if constexpr (std::is_same_v<Input, uint8_t>) {
    k::conv_u8(conv, input.data(), out.data(), r.row_begin, r.row_end, r.oc_begin, r.oc_end,
               scratch.data());
  } else {
    k::conv_i16(conv, input.data(), out.data(), r.row_begin, r.row_end, r.oc_begin, r.oc_end,
                scratch.data());
  }
  for (size_t i = scratch_bytes; i < scratch.size(); ++i) {
    EXPECT_EQ(scratch[i], kCanary) << "scratch overrun at byte " << i << " of " << scratch_bytes;
    if (scratch[i] != kCanary) break;
  }
  return out;
}

// Compares `isa` against the scalar reference; returns false on mismatch
// (after one failure message naming the first differing element).
template <typename Input>
bool conv_matches_reference(Isa isa, const ConvShape& s, const std::vector<int8_t>& codes,
                            const std::vector<Input>& input, int32_t input_max, const Ranges& r) {
  const PreparedConv reference = k::prepare_conv(s, codes.data(), input_max, Isa::kScalar);
  const PreparedConv vector = k::prepare_conv(s, codes.data(), input_max, isa);
  // The vector kernels run from their own layout alone, so the engine does
  // not hold a second byte-per-weight copy of the codes for them.
  if (isa != Isa::kScalar && !vector.codes.empty()) {
    ADD_FAILURE() << k::isa_name(isa) << " conv keeps " << vector.codes.size() << " codes";
    return false;
  }
  const std::vector<int32_t> expected = run_conv(reference, input, r);
  const std::vector<int32_t> actual = run_conv(vector, input, r);
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      const size_t pixel = i / s.out_channels;
      ADD_FAILURE() << (sizeof(Input) == 1 ? "conv_u8 " : "conv_i16 ") << k::isa_name(isa)
                    << " variant " << vector.variant << ": " << s.height << "x" << s.width << "x"
                    << s.in_channels << " -> " << s.out_channels << " k" << s.kernel
                    << " input_max " << input_max << " rows [" << r.row_begin << ", "
                    << r.row_end << ") oc [" << r.oc_begin << ", " << r.oc_end << "): out[h "
                    << pixel / s.width << "][w " << pixel % s.width << "][o "
                    << i % s.out_channels << "] = " << actual[i] << ", reference "
                    << expected[i];
      return false;
    }
  }
  return true;
}

// ---- The scalar references themselves ----

TEST(KernelReference, ConvMatchesHandComputedCase) {
  // Input 2×3, one channel: [[1, 2, 3], [4, 5, 6]]; 3×3 weights 1..9 by row.
  const ConvShape s{2, 3, 1, 1, 3};
  const std::vector<int8_t> codes{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<uint8_t> input_u8{1, 2, 3, 4, 5, 6};
  const std::vector<int16_t> input_i16{1, 2, 3, 4, 5, 6};
  // out[0][0] = 1·5 + 2·6 + 4·8 + 5·9; out[1][1] = 1·1 + 2·2 + 3·3 + 4·4 +
  // 5·5 + 6·6; out[0][2] = 2·4 + 3·5 + 5·7 + 6·8; the others likewise.
  const std::vector<int32_t> expected{94, 154, 106, 58, 91, 58};
  const PreparedConv conv = k::prepare_conv(s, codes.data(), 6, Isa::kScalar);
  EXPECT_EQ(run_conv(conv, input_u8, {0, 2, 0, 1}), expected);
  EXPECT_EQ(run_conv(conv, input_i16, {0, 2, 0, 1}), expected);
}

TEST(KernelReference, ConvMatchesNaiveFormulaWithPaddingAndChannels) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const ConvShape s{4, 5, 3, 2, 5};
  const std::vector<int8_t> codes = make_codes(s, Codes::kRandom, rng);
  const std::vector<uint8_t> input = make_input<uint8_t>(s, 255, rng);
  // Zero padding as an explicit padded image, summed in int64.
  const int32_t pad = 2, ph = s.height + 2 * pad, pw = s.width + 2 * pad;
  std::vector<int64_t> padded(size_t(ph) * pw * s.in_channels, 0);
  for (int32_t y = 0; y < s.height; ++y)
    for (int32_t x = 0; x < s.width; ++x)
      for (int32_t i = 0; i < s.in_channels; ++i)
        padded[(size_t(y + pad) * pw + x + pad) * s.in_channels + i] =
            input[(size_t(y) * s.width + x) * s.in_channels + i];
  std::vector<int32_t> expected(size_t(s.height) * s.width * s.out_channels);
  for (int32_t h = 0; h < s.height; ++h)
    for (int32_t w = 0; w < s.width; ++w)
      for (int32_t o = 0; o < s.out_channels; ++o) {
        int64_t sum = 0;
        for (int32_t dy = 0; dy < 5; ++dy)
          for (int32_t dx = 0; dx < 5; ++dx)
            for (int32_t i = 0; i < s.in_channels; ++i)
              sum += codes[((size_t(o) * 5 + dy) * 5 + dx) * s.in_channels + i] *
                     padded[(size_t(h + dy) * pw + w + dx) * s.in_channels + i];
        expected[(size_t(h) * s.width + w) * s.out_channels + o] = int32_t(sum);
      }
  const PreparedConv conv = k::prepare_conv(s, codes.data(), 255, Isa::kScalar);
  EXPECT_EQ(run_conv(conv, input, {0, s.height, 0, s.out_channels}), expected);
}

TEST(KernelReference, PoolSumsMatchTheWindowDefinition) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  for (const auto& shape :
       std::vector<std::tuple<int32_t, int32_t, int32_t>>{{2, 2, 1}, {5, 7, 3}, {28, 28, 16}, {3, 2, 17}}) {
    // Plain variables, not structured bindings: C++17 lambdas cannot capture those (clang rejects it).
    const int32_t height = std::get<0>(shape), width = std::get<1>(shape), channels = std::get<2>(shape);
    const size_t in_size = size_t(height) * width * channels;
    const int32_t oh = height / 2, ow = width / 2;
    std::vector<uint8_t> in_u8(in_size);
    std::vector<int16_t> in_i16(in_size);
    std::vector<int32_t> in_i32(in_size);
    for (size_t i = 0; i < in_size; ++i) {
      in_u8[i] = uint8_t(rng());
      in_i16[i] = int16_t(rng() % 1021);
      in_i32[i] = int32_t(rng());
    }
    std::vector<int16_t> out_u8(size_t(oh) * ow * channels);
    std::vector<int32_t> out_i16(out_u8.size()), out_i32(out_u8.size());
    for (Isa isa : k::available_isas()) {
      k::pool_sum_u8(in_u8.data(), out_u8.data(), height, width, channels, isa);
      k::pool_sum_i16(in_i16.data(), out_i16.data(), height, width, channels, isa);
      k::pool_sum_i32(in_i32.data(), out_i32.data(), height, width, channels, isa);
      for (int32_t h = 0; h < oh; ++h)
        for (int32_t w = 0; w < ow; ++w)
          for (int32_t c = 0; c < channels; ++c) {
            auto at = [&](int32_t y, int32_t x) { return (size_t(y) * width + x) * channels + c; };
            const size_t o = (size_t(h) * ow + w) * channels + c;
            const size_t a = at(2 * h, 2 * w), b = at(2 * h, 2 * w + 1), d = at(2 * h + 1, 2 * w),
                         e = at(2 * h + 1, 2 * w + 1);
            ASSERT_EQ(out_u8[o], in_u8[a] + in_u8[b] + in_u8[d] + in_u8[e]) << k::isa_name(isa);
            ASSERT_EQ(out_i16[o], in_i16[a] + in_i16[b] + in_i16[d] + in_i16[e]) << k::isa_name(isa);
            const int64_t sum = int64_t(in_i32[a]) + in_i32[b] + in_i32[d] + in_i32[e];
            ASSERT_EQ(out_i32[o], int32_t(uint32_t(uint64_t(sum)))) << k::isa_name(isa);
          }
    }
  }
}

TEST(KernelReference, InputLutsIndexByChannelAndValue) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const int32_t channels = 3;
  std::vector<int32_t> lut_u8(channels * 256), lut_i16(channels * 256);
  for (int32_t i = 0; i < channels * 256; ++i) {
    lut_u8[i] = int32_t(rng() % 256);
    lut_i16[i] = int32_t(rng() % 65536) - 32768;
  }
  std::vector<uint8_t> in(7 * 5 * channels);
  for (uint8_t& v : in) v = uint8_t(rng());
  std::vector<uint8_t> out_u8(in.size());
  std::vector<int16_t> out_i16(in.size());
  k::input_lut_u8(in.data(), lut_u8.data(), int64_t(in.size()), channels, out_u8.data());
  k::input_lut_i16(in.data(), lut_i16.data(), int64_t(in.size()), channels, out_i16.data());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(out_u8[i], lut_u8[(i % channels) * 256 + in[i]]) << i;
    ASSERT_EQ(out_i16[i], lut_i16[(i % channels) * 256 + in[i]]) << i;
  }
}

// Z and the literal count, independent of the kernels' search.
std::vector<uint8_t> naive_requant(const std::vector<std::vector<int32_t>>& inputs,
                                   const std::vector<int64_t>& multipliers,
                                   const std::vector<int64_t>& thresholds, int32_t levels,
                                   int64_t pixels, int32_t channels) {
  std::vector<uint8_t> out(size_t(pixels) * channels);
  for (int64_t p = 0; p < pixels; ++p)
    for (int32_t c = 0; c < channels; ++c) {
      uint64_t z = 0;
      for (size_t j = 0; j < inputs.size(); ++j)
        z += uint64_t(multipliers[j * channels + c]) * uint64_t(int64_t(inputs[j][p * channels + c]));
      int32_t level = 0;
      for (int32_t t = 0; t < levels - 1; ++t)
        level += int64_t(z) >= thresholds[size_t(c) * (levels - 1) + t];
      out[p * channels + c] = uint8_t(level);
    }
  return out;
}

struct RequantCase {
  std::vector<std::vector<int32_t>> inputs;
  std::vector<int64_t> multipliers, thresholds;
  int32_t levels;
  int64_t pixels;
  int32_t channels;
};

// Thresholds drawn from the Z values the inputs produce (so every level
// occurs), sorted per channel, with INT64 extremes mixed in.
RequantCase make_requant_case(int32_t num_inputs, int32_t levels, int64_t pixels,
                              int32_t channels, bool large_multipliers, std::mt19937_64& rng) {
  RequantCase c{{}, {}, {}, levels, pixels, channels};
  std::uniform_int_distribution<int32_t> input(-40000, 40000);
  const int64_t m_range = large_multipliers ? (int64_t(1) << 40) : (int64_t(1) << 30);
  std::uniform_int_distribution<int64_t> multiplier(-m_range, m_range);
  c.inputs.assign(num_inputs, std::vector<int32_t>(size_t(pixels) * channels));
  for (auto& in : c.inputs)
    for (int32_t& v : in) v = input(rng);
  c.multipliers.resize(size_t(num_inputs) * channels);
  for (int64_t& m : c.multipliers) m = multiplier(rng);
  c.multipliers[0] = large_multipliers ? std::numeric_limits<int32_t>::max() + int64_t(1)
                                       : std::numeric_limits<int32_t>::min();
  std::uniform_int_distribution<int64_t> pixel(0, pixels - 1);
  std::uniform_int_distribution<int32_t> extreme(0, 9);
  c.thresholds.resize(size_t(channels) * (levels - 1));
  for (int32_t ch = 0; ch < channels; ++ch) {
    int64_t* row = c.thresholds.data() + size_t(ch) * (levels - 1);
    for (int32_t t = 0; t < levels - 1; ++t) {
      const int64_t p = pixel(rng);
      uint64_t z = 0;
      for (int32_t j = 0; j < num_inputs; ++j)
        z += uint64_t(c.multipliers[size_t(j) * channels + ch]) *
             uint64_t(int64_t(c.inputs[j][p * channels + ch]));
      row[t] = int64_t(z);
      const int32_t roll = extreme(rng);
      if (roll == 0) row[t] = std::numeric_limits<int64_t>::min();
      if (roll == 1) row[t] = std::numeric_limits<int64_t>::max();
    }
    std::sort(row, row + levels - 1);
  }
  return c;
}

std::vector<uint8_t> run_requant(const RequantCase& c, Isa isa) {
  std::vector<const int32_t*> inputs;
  for (const auto& in : c.inputs) inputs.push_back(in.data());
  std::vector<uint8_t> out(size_t(c.pixels) * c.channels + 64, 0xEE);
  k::requant(inputs.data(), int32_t(inputs.size()), c.multipliers.data(), c.thresholds.data(),
             c.levels, c.pixels, c.channels, out.data(), isa);
  for (size_t i = size_t(c.pixels) * c.channels; i < out.size(); ++i) {
    EXPECT_EQ(out[i], 0xEE) << "requant wrote past its output at " << i;
  }
  out.resize(size_t(c.pixels) * c.channels);
  return out;
}

const std::vector<int32_t> kRequantLevels{2, 4, 8, 16, 17, 64, 100, 256};
const std::vector<int32_t> kRequantChannels{1, 3, 4, 5, 8, 9, 16, 17, 33};

TEST(KernelReference, RequantCountsThresholdsLikeTheDefinition) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  for (int32_t levels : kRequantLevels)
    for (int32_t num_inputs : {1, 2})
      for (bool large : {false, true}) {
        const RequantCase c = make_requant_case(num_inputs, levels, 37, 5, large, rng);
        ASSERT_EQ(run_requant(c, Isa::kScalar),
                  naive_requant(c.inputs, c.multipliers, c.thresholds, levels, c.pixels,
                                c.channels))
            << "levels " << levels << " inputs " << num_inputs << " large " << large;
      }
}

// ---- ISA selection ----

using maqd_test::ScopedEnv;

TEST(KernelIsa, NamesAndAvailabilityStartWithScalar) {
  EXPECT_STREQ(k::isa_name(Isa::kScalar), "scalar");
  EXPECT_STREQ(k::isa_name(Isa::kAvx2), "avx2");
  EXPECT_STREQ(k::isa_name(Isa::kAvx512), "avx512");
  EXPECT_STREQ(k::isa_name(Isa::kNeon), "neon");
  EXPECT_STREQ(k::isa_name(Isa::kNeonDot), "neondot");
  const std::vector<Isa> isas = k::available_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kScalar);
  EXPECT_TRUE(std::is_sorted(isas.begin(), isas.end()));
  // One family: entry i has level i.
  for (size_t i = 0; i < isas.size(); ++i) EXPECT_EQ(k::isa_level(isas[i]), int(i)) << k::isa_name(isas[i]);
#if defined(__x86_64__)
  EXPECT_FALSE(cpu_runs(Isa::kNeon));
#elif defined(__aarch64__)
  EXPECT_TRUE(cpu_runs(Isa::kNeon));  // every AArch64 CPU
  EXPECT_FALSE(cpu_runs(Isa::kAvx2));
#else
  EXPECT_EQ(isas.size(), 1u);
#endif
}

TEST(KernelIsa, MaqdIsaCapsTheDetectedIsa) {
  const std::vector<Isa> isas = k::available_isas();
  const Isa best = isas.back();
  // The best ISA this CPU runs at `level` or below.
  const auto capped = [&](int level) { return isas[std::min(size_t(level), isas.size() - 1)]; };
  {
    ScopedEnv env("MAQD_ISA", "");
    EXPECT_EQ(k::detect_isa(), best);
  }
  for (Isa cap : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot}) {
    ScopedEnv env("MAQD_ISA", k::isa_name(cap));
    EXPECT_EQ(k::detect_isa(), capped(k::isa_level(cap))) << "MAQD_ISA=" << k::isa_name(cap);
  }
  {
    // A cap names a level: on a CPU of either family, the other family's
    // second level is its own.
    ScopedEnv env("MAQD_ISA", cpu_runs(Isa::kNeon) ? "avx2" : "neon");
    EXPECT_EQ(k::detect_isa(), cpu_runs(Isa::kNeon) ? Isa::kNeon : std::min(best, Isa::kAvx2));
  }
  {
    ScopedEnv env("MAQD_ISA", "sse9");
    try {
      k::detect_isa();
      ADD_FAILURE() << "MAQD_ISA=sse9 did not throw";
    } catch (const maqd_rt::Error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("MAQD_ISA"), std::string::npos) << message;
      EXPECT_NE(message.find("sse9"), std::string::npos) << message;
      EXPECT_NE(message.find("scalar, avx2, avx512, neon, neondot"), std::string::npos) << message;
    }
  }
}

TEST(KernelIsa, CapLevelIsThePublicReadingOfMaqdIsa) {
  {
    ScopedEnv env("MAQD_ISA", "");
    EXPECT_EQ(maqd_rt::isa_cap_level(), -1);
  }
  for (Isa cap : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot}) {
    ScopedEnv env("MAQD_ISA", k::isa_name(cap));
    EXPECT_EQ(maqd_rt::isa_cap_level(), k::isa_level(cap)) << "MAQD_ISA=" << k::isa_name(cap);
  }
  ScopedEnv env("MAQD_ISA", "AVX2");  // (names are case-sensitive)
  EXPECT_THROW(maqd_rt::isa_cap_level(), maqd_rt::Error);
}

TEST(KernelIsa, PrepareRejectsAnIsaTheCpuLacks) {
  const ConvShape s{1, 1, 1, 1, 1};
  const int8_t code = 1;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot}) {
    if (cpu_runs(isa)) continue;
    EXPECT_THROW(k::prepare_conv(s, &code, 1, isa), maqd_rt::Error) << k::isa_name(isa);
  }
  EXPECT_THROW(k::prepare_conv({1, 1, 1, 1, 2}, &code, 1, Isa::kScalar), maqd_rt::Error);
}

// ---- Vector ISAs against the scalar reference ----

class KernelIsaVsScalar : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_runs(GetParam())) GTEST_SKIP() << "this CPU lacks " << k::isa_name(GetParam());
  }
};

const std::vector<int32_t> kChannels{1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 64, 65};
const std::vector<int32_t> kSides{1, 2, 3, 7, 8, 9};

// Every (in, out) channel pair, with the other parameters drawn per pair.
template <typename Input>
void sweep_channels(Isa isa, const std::vector<int32_t>& input_maxes) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> side(0, kSides.size() - 1),
      max_index(0, input_maxes.size() - 1);
  std::uniform_int_distribution<int> kind(0, 2), kernel(0, 5);
  int32_t failures = 0;
  for (int32_t in_channels : kChannels)
    for (int32_t out_channels : kChannels) {
      ConvShape s;
      s.height = kSides[side(rng)];
      s.width = kSides[side(rng)];
      s.in_channels = in_channels;
      s.out_channels = out_channels;
      const int roll = kernel(rng);
      s.kernel = roll < 2 ? 1 : roll < 5 ? 3 : 5;
      const int32_t input_max = input_maxes[max_index(rng)];
      const Codes codes_kind = input_max == 1 ? Codes::kTernary : Codes(kind(rng));
      const std::vector<int8_t> codes = make_codes(s, codes_kind, rng);
      const std::vector<Input> input = make_input<Input>(s, input_max, rng);
      for (const Ranges& r : {Ranges{0, s.height, 0, s.out_channels}, random_subrange(s, rng)}) {
        if (!conv_matches_reference(isa, s, codes, input, input_max, r) && ++failures >= 5) {
          FAIL() << "stopping after 5 mismatching shapes";
        }
      }
    }
}

TEST_P(KernelIsaVsScalar, ConvU8OverChannelPairs) {
  sweep_channels<uint8_t>(GetParam(), {1, 3, 7, 255});
}

TEST_P(KernelIsaVsScalar, ConvI16OverChannelPairs) {
  sweep_channels<int16_t>(GetParam(), {1, 4, 12, 1020, 32767});
}

// One shape against the reference: u8 inputs up to 1 (ternary codes), 3 and
// 255 (random codes), over all rows and channels and over a random part;
// i16 inputs at full range with extreme codes.
bool conv_matches_on_shape(Isa isa, const ConvShape& s, std::mt19937_64& rng) {
  for (int32_t input_max : {1, 3, 255}) {
    const Codes kind = input_max == 1 ? Codes::kTernary : Codes::kRandom;
    const std::vector<int8_t> codes = make_codes(s, kind, rng);
    const std::vector<uint8_t> input = make_input<uint8_t>(s, input_max, rng);
    if (!conv_matches_reference(isa, s, codes, input, input_max, {0, s.height, 0, s.out_channels}) ||
        !conv_matches_reference(isa, s, codes, input, input_max, random_subrange(s, rng)))
      return false;
  }
  const std::vector<int8_t> codes = make_codes(s, Codes::kExtreme, rng);
  const std::vector<int16_t> input = make_input<int16_t>(s, 32767, rng);
  return conv_matches_reference(isa, s, codes, input, 32767, {0, s.height, 0, s.out_channels}) &&
         conv_matches_reference(isa, s, codes, input, 32767, random_subrange(s, rng));
}

// Full-size maps of the VGG-1/4 layers, and widths around the tile sizes.
TEST_P(KernelIsaVsScalar, ConvOnNetworkShapes) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  struct Case {
    int32_t side, in, out, kernel;
  };
  const std::vector<Case> cases{{28, 1, 16, 3},   {28, 16, 16, 3}, {14, 16, 32, 3},
                                {14, 32, 32, 3},  {7, 32, 64, 3},  {7, 64, 64, 3},
                                {3, 64, 128, 3},  {3, 128, 128, 3}, {28, 3, 17, 5},
                                {13, 33, 65, 1},  {25, 20, 48, 3}, {29, 8, 80, 3}};
  for (const Case& c : cases) {
    ASSERT_TRUE(conv_matches_on_shape(GetParam(), {c.side, c.side, c.in, c.out, c.kernel}, rng));
  }
}

// Few input channels: where a window row's k·in_channels inputs fill fewer
// units than k pixels' units, the direct kernels pack each pixel's
// horizontal neighbours (internal.h, dx-packed). The rule, and every
// kernel on such shapes (one to three channels, u8 and i16 units, every
// kernel size, widths around the tiles, and a channel count where only the
// u8 layout is dx-packed) against the scalar reference.
TEST(KernelLayout, DxPackingWhereItSavesUnits) {
  EXPECT_TRUE(k::direct_layout({28, 28, 1, 16, 3}, 4).dx_packed);   // 1 unit per dy, not 3
  EXPECT_EQ(k::direct_layout({28, 28, 1, 16, 3}, 4).steps_per_dy, 1);
  EXPECT_EQ(k::direct_layout({28, 28, 1, 16, 3}, 2).steps_per_dy, 2);
  EXPECT_TRUE(k::direct_layout({8, 8, 2, 16, 3}, 4).dx_packed);
  EXPECT_FALSE(k::direct_layout({8, 8, 2, 16, 3}, 2).dx_packed);     // 3 units either way
  EXPECT_FALSE(k::direct_layout({28, 28, 16, 16, 3}, 4).dx_packed);
  EXPECT_FALSE(k::direct_layout({28, 28, 1, 16, 1}, 4).dx_packed);   // k = 1: nothing to pack
}

TEST_P(KernelIsaVsScalar, ConvWithFewInputChannels) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  for (int32_t in_channels : {1, 2, 3})
    for (int32_t kernel : {1, 3, 5})
      for (int32_t width : {1, 5, 13, 28})
        for (int32_t out_channels : {8, 17, 40}) {
          const ConvShape s{width == 28 ? 28 : 6, width, in_channels, out_channels, kernel};
          ASSERT_TRUE(conv_matches_on_shape(GetParam(), s, rng));
          const std::vector<int8_t> codes = make_codes(s, Codes::kExtreme, rng);
          const std::vector<int16_t> narrow = make_input<int16_t>(s, 12, rng);
          ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, narrow, 12,
                                             {0, s.height, 0, s.out_channels}));
        }
}

// Binary inputs with ternary codes must take the bit-serial path (AVX-512)
// or the weight-table path (AVX2), else the sweeps would test only the
// general multiply path.
TEST_P(KernelIsaVsScalar, BinaryTernaryConvUsesAndMatchesTheBitSerialPath) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const ConvShape s{9, 28, 37, 40, 3};
  const std::vector<int8_t> codes = make_codes(s, Codes::kTernary, rng);
  const PreparedConv conv = k::prepare_conv(s, codes.data(), 1, GetParam());
  if (GetParam() == Isa::kAvx512 && k::cpu_features().vpopcntdq) {
    EXPECT_EQ(conv.variant, k::kVariantBinaryTernary);
    // A code of 2 or an input_max of 2 rules the bit-serial path out.
    std::vector<int8_t> not_ternary = codes;
    not_ternary[5] = 2;
    EXPECT_EQ(k::prepare_conv(s, not_ternary.data(), 1, GetParam()).variant, k::kVariantDirect);
    EXPECT_EQ(k::prepare_conv(s, codes.data(), 2, GetParam()).variant, k::kVariantDirect);
  }
  if (GetParam() == Isa::kAvx2) {
    EXPECT_EQ(conv.variant, k::kVariantBinaryTables);
    std::vector<int8_t> not_ternary = codes;
    not_ternary[5] = 2;
    EXPECT_NE(k::prepare_conv(s, not_ternary.data(), 1, GetParam()).variant, k::kVariantBinaryTables);
    EXPECT_NE(k::prepare_conv(s, codes.data(), 2, GetParam()).variant, k::kVariantBinaryTables);
  }
  // All −1, all 0, all +1 and mixed codes; all-ones and random inputs.
  for (int8_t fill : {int8_t(-1), int8_t(0), int8_t(1)}) {
    const std::vector<int8_t> constant(codes.size(), fill);
    const std::vector<uint8_t> ones(size_t(s.height) * s.width * s.in_channels, 1);
    EXPECT_TRUE(conv_matches_reference(GetParam(), s, constant, ones, 1,
                                       {0, s.height, 0, s.out_channels}));
  }
  for (int repeat = 0; repeat < 4; ++repeat) {
    const std::vector<uint8_t> input = make_input<uint8_t>(s, 1, rng);
    EXPECT_TRUE(conv_matches_reference(GetParam(), s, codes, input, 1, random_subrange(s, rng)));
  }
}

// Binary inputs × ternary codes around the AVX2 weight tables' edges:
// output pixels cut into 32-lane blocks and 16-lane stores (widths whose
// rows end just before, at and after a block's end), the per-dx nibble
// maps' zeroed columns (widths 1 and 2 against kernels up to 7), 4-channel
// blocks, 16-channel input chunks and 4-channel groups with tails, kernels
// 1 to 7, row ranges that start inside the map (as threads split it), and
// heights just above and just below the positions from which AVX2 takes
// the weight tables (kBinaryTablesMinPositions).
TEST_P(KernelIsaVsScalar, BinaryTernaryConvAroundTheWeightTableBlocks) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  const std::vector<int32_t> widths{1, 2, 13, 14, 15, 16, 17, 29, 30, 31};
  const std::vector<int32_t> channels{1, 3, 4, 15, 16, 17, 33};
  const std::vector<int32_t> outs{1, 7, 8, 9, 17};
  const std::vector<int32_t> kernels{1, 3, 5, 7};
  for (int32_t width : widths)
    for (int32_t in : channels) {
      const int32_t kernel = kernels[pick(rng) % kernels.size()];
      // The fewest rows whose rows · width pixels reach the bound, or one less.
      const int32_t least = int32_t(k::kBinaryTablesMinPositions);
      const int32_t enough = (least + width - 1) / width;
      const bool above = pick(rng) % 4 != 0;
      const ConvShape s{above ? enough + pick(rng) % 3 : std::max(1, enough - 1), width, in,
                        outs[pick(rng) % outs.size()], kernel};
      const std::vector<int8_t> codes = make_codes(s, Codes::kTernary, rng);
      if (GetParam() == Isa::kAvx2) {
        const bool tables = int64_t(s.height) * width >= least;
        EXPECT_EQ(tables, above || enough == 1) << s.height << "x" << width << " k" << kernel;
        EXPECT_EQ(k::prepare_conv(s, codes.data(), 1, GetParam()).variant == k::kVariantBinaryTables, tables)
            << s.height << "x" << width << " k" << kernel;
      }
      const std::vector<uint8_t> input = make_input<uint8_t>(s, 1, rng);
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, input, 1, {0, s.height, 0, s.out_channels}));
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, input, 1, random_subrange(s, rng)));
      const std::vector<int16_t> wide(input.begin(), input.end());
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, wide, 1, random_subrange(s, rng)));
      const std::vector<int8_t> plus(codes.size(), 1);
      const std::vector<uint8_t> ones(input.size(), 1);
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, plus, ones, 1, random_subrange(s, rng)));
    }
}

// conv_requant (the AVX2 weight tables' requant epilogue): the codes equal
// requant_input of the scalar conv's sums on the rows and channels asked,
// and nothing else is written. Thresholds of 2 to 16 levels from
// multipliers of both signs and zero, some beyond int16 both ways (the
// epilogue compares in int16), around the 32-lane and 4-channel blocks;
// u8 and i16 inputs.
TEST_P(KernelIsaVsScalar, ConvRequantEqualsConvThenRequantInput) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  int32_t fused = 0;
  for (int32_t levels : {2, 3, 4, 16})
    for (int32_t width : {5, 14, 15, 17, 28})
      for (int32_t out_channels : {1, 4, 7, 9, 32}) {
        const int32_t kernel = (pick(rng) % 2) ? 3 : 1 + 2 * (pick(rng) % 4);
        const ConvShape s{3 + pick(rng) % 9, width, 1 + pick(rng) % 40, out_channels, kernel};
        const std::vector<int8_t> codes = make_codes(s, Codes::kTernary, rng);
        const std::vector<uint8_t> input = make_input<uint8_t>(s, 1, rng);
        const int32_t reach = s.kernel * s.kernel * s.in_channels;  // the largest |sum|
        std::vector<int64_t> multipliers(size_t(out_channels), 0);
        std::vector<int64_t> thresholds(size_t(out_channels) * (levels - 1), 0);
        for (int32_t c = 0; c < out_channels; ++c) {
          const int32_t kind = pick(rng) % 8;
          multipliers[c] = kind == 0 ? 0 : kind < 4 ? -(1 + pick(rng) % 3) : 1 + pick(rng) % 3;
          for (int32_t j = 0; j < levels - 1; ++j) {
            const int32_t far = pick(rng) % 10;
            thresholds[size_t(c) * (levels - 1) + j] =
                far == 0 ? 40000 * multipliers[c] - 7 : far == 1 ? -40000 * multipliers[c] + 5
                : (pick(rng) % (2 * reach + 3) - reach - 1) * std::max<int64_t>(1, std::abs(multipliers[c]));
          }
          std::sort(thresholds.begin() + c * (levels - 1), thresholds.begin() + (c + 1) * (levels - 1));
        }
        k::InputThresholds requant;
        ASSERT_TRUE(k::prepare_input_thresholds(multipliers.data(), thresholds.data(), levels, out_channels,
                                                &requant));
        const PreparedConv reference = k::prepare_conv(s, codes.data(), 1, Isa::kScalar);
        const std::vector<int32_t> sums = run_conv(reference, input, {0, s.height, 0, out_channels});
        std::vector<uint8_t> expected(sums.size());
        k::requant_input(requant, sums.data(), int64_t(s.height) * s.width, expected.data(), Isa::kScalar);
        const PreparedConv conv = k::prepare_conv(s, codes.data(), 1, GetParam());
        for (bool i16 : {false, true}) {
          if (!k::fuses_requant(conv, i16, requant)) {
            EXPECT_THROW(k::conv_requant(conv, input.data(), i16, requant, nullptr, 0, 1, 0, 1, nullptr),
                         maqd_rt::Error);
            continue;
          }
          ++fused;
          const std::vector<int16_t> wide(input.begin(), input.end());
          const void* in = i16 ? static_cast<const void*>(wide.data()) : input.data();
          for (const Ranges& r : {Ranges{0, s.height, 0, out_channels}, random_subrange(s, rng)}) {
            std::vector<uint8_t> out(expected.size() + 64, 0xEE);
            std::vector<uint8_t> scratch(k::conv_scratch_bytes(conv) + 64, kCanary);
            k::conv_requant(conv, in, i16, requant, out.data(), r.row_begin, r.row_end, r.oc_begin,
                            r.oc_end, scratch.data());
            for (size_t i = k::conv_scratch_bytes(conv); i < scratch.size(); ++i)
              ASSERT_EQ(scratch[i], kCanary) << "scratch overrun";
            for (size_t i = 0; i < out.size(); ++i) {
              const int32_t pixel = int32_t(i / out_channels), channel = int32_t(i % out_channels);
              const int32_t row = pixel / s.width;
              const bool inside = i < expected.size() && row >= r.row_begin && row < r.row_end &&
                                  channel >= r.oc_begin && channel < r.oc_end;
              ASSERT_EQ(int(out[i]), int(inside ? expected[i] : 0xEE))
                  << k::isa_name(GetParam()) << (i16 ? " i16 " : " u8 ") << s.height << "x" << s.width << "x"
                  << s.in_channels << " -> " << out_channels << " k" << s.kernel << " levels " << levels
                  << " rows [" << r.row_begin << ", " << r.row_end << ") oc [" << r.oc_begin << ", "
                  << r.oc_end << "): pixel " << pixel << " channel " << channel;
            }
          }
        }
      }
  // The AVX2 weight tables have the epilogue; the other kernels do not.
  EXPECT_EQ(fused > 0, GetParam() == Isa::kAvx2);
}

// Ternary codes with inputs ≤ 12 take the table lookup (AVX2 from 32 output
// channels, AVX-512 from 64, where binary inputs do not take the
// bit-serial path): every VGG-1/4 shape, widths around the 4- and 6-pixel
// tiles and the 32- and 64-channel blocks, input_max
// 1 to 3 (codes) and 4 and 12 (2x2 pool sums of binary and 2-bit codes; the
// int8 sums are widened every 127 / (4 · input_max) steps, every 2 at 12),
// codes all at one sign so that the sums are largest, and inputs from an
// i16 tensor.
TEST_P(KernelIsaVsScalar, TernaryTwoBitConvMatchesOnEveryShape) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  struct Case {
    int32_t height, width, in, out, kernel;
  };
  const std::vector<Case> cases{{28, 28, 16, 16, 3}, {28, 28, 16, 32, 3}, {14, 14, 32, 64, 3},
                                {7, 7, 64, 128, 3},  {3, 3, 128, 128, 3}, {5, 4, 7, 33, 3},
                                {2, 7, 31, 65, 1},   {6, 5, 5, 31, 5},    {1, 2, 1, 1, 3},
                                {4, 6, 20, 40, 3},   // an odd number of 4-channel groups
                                {5, 13, 9, 127, 3},  {3, 7, 12, 192, 5}};
  for (const Case& c : cases) {
    const ConvShape s{c.height, c.width, c.in, c.out, c.kernel};
    for (int32_t input_max : {1, 2, 3, 4, 12}) {
      const std::vector<int8_t> codes = make_codes(s, Codes::kTernary, rng);
      const int32_t variant = k::prepare_conv(s, codes.data(), input_max, GetParam()).variant;
      if (GetParam() == Isa::kAvx2) {  // binary inputs on > 32 positions: weight tables; else tables from 32 channels on
        const bool binary_tables = input_max == 1 && c.height * c.width >= k::kBinaryTablesMinPositions;
        EXPECT_EQ(variant, binary_tables ? k::kVariantBinaryTables
                           : c.out >= 32 ? k::kVariantTernaryLut
                                         : k::kVariantI16Sums);
      }
      if (GetParam() == Isa::kAvx512 && !(input_max == 1 && k::cpu_features().vpopcntdq)) {
        // tables from 64 output channels on, else vpdpbusd
        EXPECT_EQ(variant, c.out >= 64 ? k::kVariantTernaryLut : k::kVariantDirect);
      }
      const std::vector<uint8_t> input = make_input<uint8_t>(s, input_max, rng);
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, input, input_max,
                                         {0, s.height, 0, s.out_channels}));
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, input, input_max, random_subrange(s, rng)));
      const std::vector<int16_t> wide(input.begin(), input.end());
      ASSERT_TRUE(conv_matches_reference(GetParam(), s, codes, wide, input_max, random_subrange(s, rng)));
      for (int8_t sign : {int8_t(-1), int8_t(1)}) {
        const std::vector<int8_t> same(codes.size(), sign);
        const std::vector<uint8_t> full(input.size(), uint8_t(input_max));
        ASSERT_TRUE(conv_matches_reference(GetParam(), s, same, full, input_max,
                                           {0, s.height, 0, s.out_channels}));
      }
    }
    if (GetParam() == Isa::kAvx2) {  // above 12, vpmaddubsw
      const std::vector<int8_t> codes = make_codes(s, Codes::kTernary, rng);
      EXPECT_NE(k::prepare_conv(s, codes.data(), 13, GetParam()).variant, k::kVariantTernaryLut);
    }
  }
}

// AVX2 sums u8 products in int16 when input_max · Σ|codes| ≤ 32767: check
// both sides of that bound with every product at its largest.
TEST_P(KernelIsaVsScalar, ConvAtTheInt16SumBound) {
  for (int32_t in_channels : {128, 129}) {
    const ConvShape s{3, 5, in_channels, 19, 1};
    const std::vector<uint8_t> input(size_t(s.height) * s.width * in_channels, 255);
    for (int8_t fill : {int8_t(1), int8_t(-1)}) {
      const std::vector<int8_t> codes(size_t(s.out_channels) * in_channels, fill);
      if (GetParam() == Isa::kAvx2) {
        EXPECT_EQ(k::prepare_conv(s, codes.data(), 255, GetParam()).variant,
                  in_channels == 128 ? k::kVariantI16Sums : k::kVariantI16Periodic);
      }
      EXPECT_TRUE(conv_matches_reference(GetParam(), s, codes, input, 255,
                                         {0, s.height, 0, s.out_channels}));
    }
  }
}

// AVX2 adds vpmaddubsw results in int16 for steps_per_widen steps: check
// both sides of the single-instruction bound (2 · input_max · |code| ≤
// 32767) and intervals of 1 and 18 steps with every product at its largest.
TEST_P(KernelIsaVsScalar, ConvAtThePeriodicWideningBound) {
  struct Case {
    int32_t input_max;
    int8_t code;
    int32_t variant, steps;  // on AVX2
  };
  for (const Case& c : {Case{255, 64, k::kVariantI16Periodic, 1}, Case{255, 65, k::kVariantDirect, 0},
                        Case{7, 127, k::kVariantI16Periodic, 18}, Case{28, 127, k::kVariantI16Periodic, 4}}) {
    const ConvShape s{4, 6, 45, 11, 3};
    const std::vector<uint8_t> input(size_t(s.height) * s.width * s.in_channels, uint8_t(c.input_max));
    const std::vector<int16_t> wide(input.begin(), input.end());
    for (int8_t sign : {int8_t(1), int8_t(-1)}) {
      const std::vector<int8_t> codes(size_t(s.out_channels) * 9 * s.in_channels, int8_t(sign * c.code));
      if (GetParam() == Isa::kAvx2) {
        const PreparedConv conv = k::prepare_conv(s, codes.data(), c.input_max, GetParam());
        EXPECT_EQ(conv.variant, c.variant) << "input_max " << c.input_max << " code " << int(c.code);
        EXPECT_EQ(conv.steps_per_widen, c.steps);
      }
      EXPECT_TRUE(conv_matches_reference(GetParam(), s, codes, input, c.input_max,
                                         {0, s.height, 0, s.out_channels}));
      EXPECT_TRUE(conv_matches_reference(GetParam(), s, codes, wide, c.input_max,
                                         {1, s.height, 3, s.out_channels}));
    }
  }
}

TEST_P(KernelIsaVsScalar, RequantMatchesReference) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pixels(1, 50);
  for (int32_t levels : kRequantLevels)
    for (int32_t channels : kRequantChannels)
      for (int32_t num_inputs : {1, 2})
        for (bool large : {false, true}) {
          const RequantCase c = make_requant_case(num_inputs, levels, pixels(rng), channels, large, rng);
          ASSERT_EQ(run_requant(c, GetParam()), run_requant(c, Isa::kScalar))
              << "levels " << levels << " channels " << channels << " inputs " << num_inputs
              << " large multipliers " << large;
        }
}

// The kernel table: each entry this CPU runs is chosen by prepare_conv for
// some layer and equals the scalar reference there (the sweeps above draw
// most of these cases at random; this makes sure none is left out).
TEST(KernelTable, EveryEntryThisCpuRunsIsReachedAndExact) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  struct Case {
    int32_t out_channels, input_max;
    Codes codes;
    bool i16_input;
    int32_t height = 5;
  };
  const std::vector<Case> cases{
      {40, 3, Codes::kTernary, false},  {40, 3, Codes::kTernary, true},   // tables
      {16, 3, Codes::kTernary, false},  {16, 12, Codes::kTernary, true},  // int16 sums
      {40, 7, Codes::kRandom, false},   {40, 28, Codes::kRandom, true},   // periodic widening
      {40, 255, Codes::kExtreme, false}, {40, 32767, Codes::kExtreme, true},  // widened
      {40, 1, Codes::kTernary, false},  {40, 1, Codes::kTernary, true},   // bit-serial
      {64, 3, Codes::kTernary, false},  {64, 12, Codes::kTernary, true},  // AVX-512 tables
      {40, 1, Codes::kTernary, false, 20}, {40, 1, Codes::kTernary, true, 20}};  // AVX2 weight tables
  std::set<std::string> reached;
  for (const Case& c : cases) {
    const ConvShape s{c.height, 6, 40, c.out_channels, 3};
    const std::vector<int8_t> codes = make_codes(s, c.codes, rng);
    for (Isa isa : k::available_isas()) {
      const PreparedConv conv = k::prepare_conv(s, codes.data(), c.input_max, isa);
      const k::ConvKernel* kernel = c.i16_input ? conv.i16_kernel : conv.u8_kernel;
      ASSERT_NE(kernel, nullptr);
      // (A neondot conv whose inputs SDOT cannot take runs the neon kernel.)
      if (!(isa == Isa::kNeonDot && kernel->isa == Isa::kNeon)) EXPECT_EQ(kernel->isa, isa);
      EXPECT_EQ(kernel->i16_input, c.i16_input) << kernel->name;
      reached.insert(kernel->name);
      if (c.i16_input) {
        const std::vector<int16_t> input = make_input<int16_t>(s, c.input_max, rng);
        EXPECT_TRUE(conv_matches_reference(isa, s, codes, input, c.input_max, random_subrange(s, rng)))
            << kernel->name;
      } else {
        const std::vector<uint8_t> input = make_input<uint8_t>(s, c.input_max, rng);
        EXPECT_TRUE(conv_matches_reference(isa, s, codes, input, c.input_max, random_subrange(s, rng)))
            << kernel->name;
      }
    }
  }
  for (const k::ConvKernel& kernel : k::conv_kernel_table()) {
    const bool runs = cpu_runs(kernel.isa) && (std::string(kernel.instruction) != "vpopcntd" ||
                                               k::cpu_features().vpopcntdq);
    if (runs) EXPECT_TRUE(reached.count(kernel.name)) << kernel.name << " is never chosen";
  }
}

// weight_bytes_read: the layout the chosen kernel reads, so that the
// engine's split rule does not count AVX-512's i16 copy for u8 inputs.
TEST(KernelTable, WeightBytesReadAreTheChosenKernelsLayout) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const ConvShape s{7, 7, 40, 24, 3};
  const std::vector<int8_t> codes = make_codes(s, Codes::kRandom, rng);
  for (Isa isa : k::available_isas()) {  // (the AVX-512 case where the CPU has it)
    for (int32_t input_max : {255, 32767}) {  // u8-narrowable inputs, and ones that need the i16 copy
      const PreparedConv conv = k::prepare_conv(s, codes.data(), input_max, isa);
      const size_t u8 = k::weight_bytes_read(conv, false), i16 = k::weight_bytes_read(conv, true);
      if (isa == Isa::kAvx512 && input_max == 32767) {
        EXPECT_GT(u8, 0u);
        EXPECT_GT(i16, u8);  // int16 weights: about twice the u8 layout's bytes
        EXPECT_EQ(u8 + i16, conv.packed.size());
      } else {
        EXPECT_EQ(u8, conv.packed.size()) << k::isa_name(isa) << " input_max " << input_max;
        EXPECT_EQ(i16, conv.packed.size()) << k::isa_name(isa) << " input_max " << input_max;
      }
    }
  }
}

// requant_input against the definition (scalar requant) on every ISA:
// random and extreme thresholds, multipliers of both signs, zero and at the
// int32 bounds, inputs at the int32 bounds.
TEST(KernelRequantInput, EqualsRequantOnEveryIsa) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  for (int32_t levels : {2, 3, 4, 8, 16})
    for (int32_t channels : {1, 3, 7, 8, 9, 16, 17, 33, 64}) {
      RequantCase c = make_requant_case(1, levels, 23, channels, false, rng);
      c.multipliers[size_t(channels) - 1] = channels > 1 ? 0 : c.multipliers.back();
      if (channels > 2) c.multipliers[1] = std::numeric_limits<int32_t>::max();
      if (channels > 3) c.multipliers[2] = -1;
      c.inputs[0][0] = std::numeric_limits<int32_t>::min();
      c.inputs[0][1 % c.inputs[0].size()] = std::numeric_limits<int32_t>::max();
      c.inputs[0][2 % c.inputs[0].size()] = -1;
      k::InputThresholds prepared;
      ASSERT_TRUE(k::prepare_input_thresholds(c.multipliers.data(), c.thresholds.data(), levels,
                                              channels, &prepared));
      const std::vector<uint8_t> expected = run_requant(c, Isa::kScalar);
      for (Isa isa : k::available_isas()) {
        std::vector<uint8_t> out(expected.size() + 64, 0xEE);
        k::requant_input(prepared, c.inputs[0].data(), c.pixels, out.data(), isa);
        for (size_t i = expected.size(); i < out.size(); ++i) ASSERT_EQ(out[i], 0xEE) << "overrun";
        out.resize(expected.size());
        ASSERT_EQ(out, expected) << k::isa_name(isa) << " levels " << levels << " channels " << channels;
      }
    }
  // Outside its conditions it declines, and requant does the work.
  const int64_t wide = int64_t(1) << 32, threshold = 0;
  k::InputThresholds unused;
  EXPECT_FALSE(k::prepare_input_thresholds(&wide, &threshold, 2, 1, &unused));
  const std::vector<int64_t> many(16, 0);
  const int64_t one = 1;
  EXPECT_FALSE(k::prepare_input_thresholds(&one, many.data(), 17, 1, &unused));
}

INSTANTIATE_TEST_SUITE_P(KernelVectorIsas, KernelIsaVsScalar, ::testing::Values(Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                           return std::string(k::isa_name(info.param));
                         });

}  // namespace
