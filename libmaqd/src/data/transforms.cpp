#include "maqd/data/transforms.h"

#include <array>
#include <cmath>

#include "maqd/error.h"

namespace maqd::data {
namespace {

void check_images(const torch::Tensor& images, const char* where) {
  check(images.defined() && images.scalar_type() == torch::kUInt8 && images.dim() == 4 &&
            images.is_contiguous() && images.device().is_cpu(),
        where, "images: expected a contiguous CPU uint8 [N, C, H, W] tensor, got ",
        images.defined() ? images.toString() + " " + c10::str(images.sizes()) : "undefined");
}

using Table = std::array<float, 256>;

// value v of channel c normalizes to tables[c][v]: the division happens 256
// times per channel, not once per pixel.
std::vector<Table> normalization_tables(const ChannelStats& stats, int64_t channels,
                                        const char* where) {
  check(static_cast<int64_t>(stats.mean.size()) == channels &&
            static_cast<int64_t>(stats.std.size()) == channels,
        where, "stats: ", stats.mean.size(), " means and ", stats.std.size(),
        " stds, expected one per channel (", channels, ")");
  std::vector<Table> tables(channels);
  for (int64_t c = 0; c < channels; ++c) {
    check(std::isfinite(stats.mean[c]) && std::isfinite(stats.std[c]) && stats.std[c] > 0, where,
          "stats: channel ", c, " mean ", stats.mean[c], " std ", stats.std[c],
          ", expected finite values and std > 0");
    for (int v = 0; v < 256; ++v) {
      tables[c][v] = static_cast<float>((v / 255.0 - stats.mean[c]) / stats.std[c]);
    }
  }
  return tables;
}

}  // namespace

ChannelStats compute_channel_stats(const Dataset& data) {
  constexpr const char* kWhere = "compute_channel_stats";
  check_images(data.images, kWhere);
  check(data.size() > 0, kWhere, "dataset ", data.name, " is empty");
  const int64_t n = data.size(), channels = data.channels();
  const int64_t plane = data.height() * data.width();
  std::vector<std::array<uint64_t, 256>> histogram(channels);
  for (auto& h : histogram) h.fill(0);
  const uint8_t* pixels = data.images.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < channels; ++c) {
      const uint8_t* p = pixels + (i * channels + c) * plane;
      auto& h = histogram[c];
      for (int64_t k = 0; k < plane; ++k) ++h[p[k]];
    }
  }
  // Exact integer sums; only the final division rounds.
  ChannelStats stats;
  const double total = static_cast<double>(n * plane);
  for (int64_t c = 0; c < channels; ++c) {
    uint64_t s1 = 0, s2 = 0;
    for (uint64_t v = 0; v < 256; ++v) {
      s1 += v * histogram[c][v];
      s2 += v * v * histogram[c][v];
    }
    const double mean = s1 / total;
    const double var = s2 / total - mean * mean;
    check(var > 0, kWhere, "dataset ", data.name, " channel ", c, " is constant (value ", mean,
          "), expected some variance to normalize by");
    stats.mean.push_back(mean / 255.0);
    stats.std.push_back(std::sqrt(var) / 255.0);
  }
  return stats;
}

torch::Tensor gather_normalize(const torch::Tensor& images, const std::vector<int64_t>& indices,
                               const ChannelStats& stats, const std::vector<AugmentParams>* params,
                               int64_t pad) {
  constexpr const char* kWhere = "gather_normalize";
  check_images(images, kWhere);
  const int64_t n = images.size(0), channels = images.size(1);
  const int64_t height = images.size(2), width = images.size(3);
  const std::vector<Table> tables = normalization_tables(stats, channels, kWhere);
  check(pad >= 0, kWhere, "pad ", pad, ", expected >= 0");
  const int64_t batch = static_cast<int64_t>(indices.size());
  check(params == nullptr || static_cast<int64_t>(params->size()) == batch, kWhere, "params: ",
        params ? params->size() : 0, " entries, expected one per index (", batch, ")");
  for (int64_t i = 0; i < batch; ++i) {
    check(indices[i] >= 0 && indices[i] < n, kWhere, "indices[", i, "] = ", indices[i],
          ", expected 0..", n - 1);
    if (params) {
      const AugmentParams& a = (*params)[i];
      check(a.dy >= 0 && a.dy <= 2 * pad && a.dx >= 0 && a.dx <= 2 * pad, kWhere, "params[", i,
            "]: offset (", a.dy, ", ", a.dx, "), expected 0..", 2 * pad, " (pad ", pad, ")");
    }
  }

  torch::Tensor out = torch::empty({batch, channels, height, width}, torch::kFloat32);
  const uint8_t* src = images.data_ptr<uint8_t>();
  float* dst = out.data_ptr<float>();
  const int64_t plane = height * width;
  // One source row with `pad` zero bytes on each side: the crop then reads
  // it without bounds checks.
  std::vector<uint8_t> row(width + 2 * pad, 0);
  for (int64_t i = 0; i < batch; ++i) {
    const uint8_t* image = src + indices[i] * channels * plane;
    float* o = dst + i * channels * plane;
    if (params == nullptr) {
      for (int64_t c = 0; c < channels; ++c) {
        const Table& t = tables[c];
        const uint8_t* p = image + c * plane;
        float* q = o + c * plane;
        for (int64_t k = 0; k < plane; ++k) q[k] = t[p[k]];
      }
      continue;
    }
    const AugmentParams& a = (*params)[i];
    for (int64_t c = 0; c < channels; ++c) {
      const Table& t = tables[c];
      for (int64_t y = 0; y < height; ++y) {
        float* q = o + c * plane + y * width;
        const int64_t sy = y + a.dy - pad;
        if (sy < 0 || sy >= height) {
          std::fill(q, q + width, t[0]);
          continue;
        }
        std::copy_n(image + c * plane + sy * width, width, row.data() + pad);
        const uint8_t* r = row.data() + a.dx;  // r[x]: column x of the crop
        if (a.flip) {
          for (int64_t x = 0; x < width; ++x) q[x] = t[r[width - 1 - x]];
        } else {
          for (int64_t x = 0; x < width; ++x) q[x] = t[r[x]];
        }
      }
    }
  }
  return out;
}

torch::Tensor normalize(const torch::Tensor& images, const ChannelStats& stats) {
  check_images(images, "normalize");
  std::vector<int64_t> all(images.size(0));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  return gather_normalize(images, all, stats);
}

}  // namespace maqd::data
