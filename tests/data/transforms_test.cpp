// Statistics, normalization and the fused crop/flip, against plain per-pixel
// references computed in double.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/seed.h"
#include "maqd/data/transforms.h"
#include "maqd/error.h"

namespace {

using maqd::data::AugmentParams;
using maqd::data::ChannelStats;
using maqd::data::Dataset;
using ::testing::HasSubstr;

Dataset random_dataset(std::mt19937_64& rng, int64_t n, int64_t c, int64_t h, int64_t w) {
  Dataset data;
  data.name = "random";
  data.num_classes = 10;
  data.images = torch::empty({n, c, h, w}, torch::kUInt8);
  uint8_t* p = data.images.data_ptr<uint8_t>();
  for (int64_t i = 0; i < data.images.numel(); ++i) p[i] = static_cast<uint8_t>(rng() & 255);
  data.labels = torch::zeros({n}, torch::kInt64);
  return data;
}

TEST(ChannelStats, ClosedForm) {
  // Channel 0: half 0, half 255 -> mean 0.5, std 0.5. Channel 1: 51 and 102
  // (0.2 and 0.4) -> mean 0.3, std 0.1.
  Dataset data;
  data.images = torch::empty({2, 2, 1, 2}, torch::kUInt8);
  auto px = data.images.accessor<uint8_t, 4>();
  px[0][0][0][0] = 0;  px[0][0][0][1] = 255; px[1][0][0][0] = 255; px[1][0][0][1] = 0;
  px[0][1][0][0] = 51; px[0][1][0][1] = 51;  px[1][1][0][0] = 102; px[1][1][0][1] = 102;
  data.labels = torch::zeros({2}, torch::kInt64);
  const ChannelStats stats = maqd::data::compute_channel_stats(data);
  ASSERT_EQ(stats.mean.size(), 2u);
  EXPECT_NEAR(stats.mean[0], 0.5, 1e-12);
  EXPECT_NEAR(stats.std[0], 0.5, 1e-12);
  EXPECT_NEAR(stats.mean[1], 0.3, 1e-12);
  EXPECT_NEAR(stats.std[1], 0.1, 1e-12);
}

TEST(ChannelStats, MatchesDoubleReference) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const Dataset data = random_dataset(rng, 7, 3, 5, 6);
  const ChannelStats stats = maqd::data::compute_channel_stats(data);
  const torch::Tensor x = data.images.to(torch::kDouble) / 255.0;
  for (int64_t c = 0; c < 3; ++c) {
    const torch::Tensor plane = x.select(1, c);
    EXPECT_NEAR(stats.mean[c], plane.mean().item<double>(), 1e-12);
    EXPECT_NEAR(stats.std[c], plane.std(/*unbiased=*/false).item<double>(), 1e-12);
  }
}

TEST(ChannelStats, ConstantChannelIsAnError) {
  Dataset data;
  data.name = "flat";
  data.images = torch::full({2, 1, 3, 3}, 7, torch::kUInt8);
  data.labels = torch::zeros({2}, torch::kInt64);
  try {
    maqd::data::compute_channel_stats(data);
    ADD_FAILURE() << "no error";
  } catch (const maqd::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("flat channel 0 is constant"));
  }
}

TEST(Normalize, Values) {
  const ChannelStats stats{{0.25, 0.5}, {0.5, 0.125}};
  torch::Tensor images = torch::empty({1, 2, 1, 3}, torch::kUInt8);
  auto px = images.accessor<uint8_t, 4>();
  const uint8_t values[2][3] = {{0, 128, 255}, {17, 200, 255}};
  for (int c = 0; c < 2; ++c)
    for (int x = 0; x < 3; ++x) px[0][c][0][x] = values[c][x];
  const torch::Tensor out = maqd::data::normalize(images, stats);
  ASSERT_EQ(out.scalar_type(), torch::kFloat32);
  auto o = out.accessor<float, 4>();
  for (int c = 0; c < 2; ++c)
    for (int x = 0; x < 3; ++x)
      EXPECT_FLOAT_EQ(o[0][c][0][x], (values[c][x] / 255.0 - stats.mean[c]) / stats.std[c]);
  EXPECT_FLOAT_EQ(o[0][0][0][0], -0.5f);
  EXPECT_FLOAT_EQ(o[0][0][0][2], 1.5f);
}

// out[b][c][y][x] = normalized padded(y + dy, W-1-x + dx if flip else x + dx),
// where padded is the image with `pad` zero pixels on every side.
double naive_pixel(const torch::TensorAccessor<uint8_t, 4>& images, int64_t index, const AugmentParams& p, int64_t pad,
                   const ChannelStats& stats, int64_t c, int64_t y, int64_t x) {
  const int64_t h = images.size(2), w = images.size(3);
  const int64_t cx = p.flip ? w - 1 - x : x;
  const int64_t sy = y + p.dy - pad, sx = cx + p.dx - pad;
  const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
  const double v = inside ? images[index][c][sy][sx] : 0.0;
  return (v / 255.0 - stats.mean[c]) / stats.std[c];
}

TEST(GatherNormalize, CropAndFlipMatchNaive) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const Dataset data = random_dataset(rng, 6, 3, 7, 5);
  const ChannelStats stats{{0.4, 0.5, 0.6}, {0.2, 0.3, 0.25}};
  for (int64_t pad : {0, 1, 3, 6}) {
    std::vector<int64_t> indices;
    std::vector<AugmentParams> params;
    for (int i = 0; i < 8; ++i) {
      indices.push_back(static_cast<int64_t>(rng() % 6));
      params.push_back({static_cast<int64_t>(rng() % (2 * pad + 1)),
                        static_cast<int64_t>(rng() % (2 * pad + 1)), (rng() & 1) != 0});
    }
    // The extreme windows: all four corners, with and without flip.
    indices.insert(indices.end(), {0, 1, 2, 3});
    params.push_back({0, 0, false});
    params.push_back({2 * pad, 2 * pad, true});
    params.push_back({0, 2 * pad, true});
    params.push_back({2 * pad, 0, false});

    const torch::Tensor out = maqd::data::gather_normalize(data.images, indices, stats, &params, pad);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{12, 3, 7, 5}));
    auto o = out.accessor<float, 4>();
    auto px = data.images.accessor<uint8_t, 4>();
    for (size_t b = 0; b < indices.size(); ++b)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < 7; ++y)
          for (int64_t x = 0; x < 5; ++x)
            ASSERT_NEAR(o[b][c][y][x], naive_pixel(px, indices[b], params[b], pad, stats, c, y, x), 1e-5)
                << "pad " << pad << " b " << b << " c " << c << " y " << y << " x " << x;
  }
}

TEST(GatherNormalize, CentredWindowIsIdentityAndFlipMirrors) {
  MAQD_SEEDED(seed);
  std::mt19937_64 rng(seed);
  const Dataset data = random_dataset(rng, 4, 1, 6, 6);
  const ChannelStats stats{{0.3}, {0.2}};
  const std::vector<int64_t> indices{0, 1, 2, 3};
  const torch::Tensor plain = maqd::data::normalize(data.images, stats);
  const std::vector<AugmentParams> centred(4, {4, 4, false}), mirrored(4, {4, 4, true});
  EXPECT_TRUE(torch::equal(maqd::data::gather_normalize(data.images, indices, stats, &centred, 4), plain));
  EXPECT_TRUE(torch::equal(maqd::data::gather_normalize(data.images, indices, stats, &mirrored, 4),
                           plain.flip({3})));
  EXPECT_TRUE(torch::equal(maqd::data::gather_normalize(data.images, {2, 0}, stats),
                           torch::stack({plain[2], plain[0]})));
}

TEST(GatherNormalize, RejectsBadArguments) {
  torch::Tensor images = torch::zeros({2, 1, 3, 3}, torch::kUInt8);
  const ChannelStats stats{{0.5}, {0.5}};
  const std::vector<AugmentParams> far{{5, 0, false}};
  EXPECT_THROW(maqd::data::gather_normalize(images, {0}, stats, &far, 2), maqd::Error);
  EXPECT_THROW(maqd::data::gather_normalize(images, {2}, stats), maqd::Error);
  EXPECT_THROW(maqd::data::gather_normalize(images, {0}, ChannelStats{{0.5, 0.5}, {1, 1}}), maqd::Error);
  EXPECT_THROW(maqd::data::gather_normalize(images, {0}, ChannelStats{{0.5}, {0.0}}), maqd::Error);
  EXPECT_THROW(maqd::data::gather_normalize(images.to(torch::kFloat), {0}, stats), maqd::Error);
}

}  // namespace
