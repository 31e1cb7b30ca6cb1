// A naive interpreter of maqd_rt::Model, written for the tests from the
// formulas in maqd_rt/model.hpp alone: one image at a time, every tensor in
// its own int64 buffer, plain loops, none of the engine's planning, tiling,
// threads or kernels. The engine's results are checked against it, and the
// core's one-image Inference against the engine, bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt/core/inference.h"
#include "maqd_rt/core/model_view.h"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"
#include "maqd_rt/model.hpp"

namespace maqd_test {

struct NaiveRun {
  std::vector<std::vector<int64_t>> tensors;  // every integer tensor, NHWC
  std::vector<float> logits;
};

inline NaiveRun naive_run(const maqd_rt::Model& m, const uint8_t* image) {
  using maqd_rt::OpKind;
  NaiveRun r;
  r.tensors.resize(m.tensors.size());
  r.tensors[0].assign(image, image + m.tensors[0].elements());
  for (const maqd_rt::Op& op : m.ops) {
    const maqd_rt::TensorDesc& in = m.tensors[size_t(op.inputs[0])];
    const maqd_rt::TensorDesc& out = m.tensors[size_t(op.output)];
    const std::vector<int64_t>& x = r.tensors[size_t(op.inputs[0])];
    std::vector<int64_t>& y = r.tensors[size_t(op.output)];
    y.assign(size_t(out.elements()), 0);
    const int64_t channels = out.channels;
    switch (op.kind) {
      case OpKind::kInputLut:
        for (size_t e = 0; e < y.size(); ++e) y[e] = op.lut[size_t(int64_t(e) % channels * 256 + x[e])];
        break;
      case OpKind::kConv: {
        const int64_t k = op.kernel, p = k / 2, ci = in.channels;
        for (int64_t h = 0; h < out.height; ++h)
          for (int64_t w = 0; w < out.width; ++w)
            for (int64_t o = 0; o < channels; ++o) {
              int64_t sum = 0;
              for (int64_t dy = 0; dy < k; ++dy)
                for (int64_t dx = 0; dx < k; ++dx) {
                  const int64_t yy = h + dy - p, xx = w + dx - p;
                  if (yy < 0 || yy >= in.height || xx < 0 || xx >= in.width) continue;
                  for (int64_t i = 0; i < ci; ++i)
                    sum += int64_t(op.weights[size_t(((o * k + dy) * k + dx) * ci + i)]) *
                           x[size_t((yy * in.width + xx) * ci + i)];
                }
              y[size_t((h * out.width + w) * channels + o)] = sum;
            }
        break;
      }
      case OpKind::kPoolSum:
        for (int64_t h = 0; h < out.height; ++h)
          for (int64_t w = 0; w < out.width; ++w)
            for (int64_t c = 0; c < channels; ++c) {
              int64_t sum = 0;
              for (int64_t a = 0; a < 2; ++a)
                for (int64_t b = 0; b < 2; ++b) sum += x[size_t(((2 * h + a) * in.width + 2 * w + b) * channels + c)];
              y[size_t((h * out.width + w) * channels + c)] = sum;
            }
        break;
      case OpKind::kRequant: {
        const int64_t steps = op.levels - 1;
        for (size_t e = 0; e < y.size(); ++e) {
          const int64_t c = int64_t(e) % channels;
          int64_t z = 0;
          for (size_t j = 0; j < op.inputs.size(); ++j)
            z += op.multipliers[size_t(int64_t(j) * channels + c)] * r.tensors[size_t(op.inputs[j])][e];
          int64_t code = 0;
          for (int64_t t = 0; t < steps; ++t) code += z >= op.thresholds[size_t(c * steps + t)];
          y[e] = code;
        }
        break;
      }
      case OpKind::kGapLinear: {
        const int64_t c_in = in.channels, classes = channels;
        std::vector<float> features(size_t(c_in), 0.0f);
        for (int64_t c = 0; c < c_in; ++c) {
          float f = 0.0f;
          for (size_t j = 0; j < op.inputs.size(); ++j) {
            const std::vector<int64_t>& t = r.tensors[size_t(op.inputs[j])];
            int64_t sum = 0;
            for (int64_t pixel = 0; pixel < in.height * in.width; ++pixel) sum += t[size_t(pixel * c_in + c)];
            f += op.scale[size_t(int64_t(j) * c_in + c)] * float(sum);
          }
          features[size_t(c)] = f + op.offset[size_t(c)];
        }
        r.logits.assign(size_t(classes), 0.0f);
        for (int64_t k = 0; k < classes; ++k) {
          float logit = op.bias[size_t(k)];
          for (int64_t c = 0; c < c_in; ++c) logit += op.weight[size_t(k * c_in + c)] * features[size_t(c)];
          r.logits[size_t(k)] = logit;
        }
        y.clear();
        break;
      }
    }
  }
  return r;
}

// The engine with 1, 2 and 3 threads, at batch 1 and 5 (five images from
// `images`), with the arena's buffers shared between tensors and with every
// tensor kept: logits as the naive interpreter's (to float rounding: the
// head adds in its own order), and at batch 1 every integer tensor exactly.
inline void expect_engine_matches_naive(const maqd_rt::Model& model, const std::vector<uint8_t>& images) {
  const size_t image_bytes = size_t(model.input().elements());
  ASSERT_GE(images.size(), 5 * image_bytes);
  const size_t classes = size_t(model.num_classes());
  std::vector<NaiveRun> expected;
  for (size_t b = 0; b < 5; ++b) expected.push_back(naive_run(model, images.data() + b * image_bytes));
  for (int threads : {1, 2, 3})
    for (int64_t batch : {1, 5})
      for (bool keep : {false, true}) {
        maqd_rt::EngineOptions options;
        options.threads = threads;
        options.keep_tensors = keep;
        maqd_rt::Engine engine(model, options);
        std::vector<float> logits(size_t(batch) * classes);
        engine.run(images.data(), batch, logits.data());
        const std::string where = "threads " + std::to_string(threads) + " batch " + std::to_string(batch) +
                                  (keep ? " keep_tensors" : "");
        for (int64_t b = 0; b < batch; ++b)
          for (size_t k = 0; k < classes; ++k) {
            const float want = expected[size_t(b)].logits[k];
            EXPECT_NEAR(logits[size_t(b) * classes + k], want, 1e-5f * (1.0f + std::fabs(want)))
                << where << " image " << b << " class " << k;
          }
        if (!keep || batch != 1) continue;
        for (size_t i = 0; i + 1 < model.ops.size(); ++i) {
          const int32_t t = model.ops[i].output;
          const maqd_rt::TensorDesc& d = model.tensors[size_t(t)];
          const std::vector<int64_t>& want = expected[0].tensors[size_t(t)];
          const void* data = engine.tensor_data(t);
          size_t differ = 0;
          for (size_t e = 0; e < want.size(); ++e) {
            int64_t got = 0;
            switch (d.dtype) {
              case maqd_rt::DType::kU8: got = static_cast<const uint8_t*>(data)[e]; break;
              case maqd_rt::DType::kI16: got = static_cast<const int16_t*>(data)[e]; break;
              case maqd_rt::DType::kI32: got = static_cast<const int32_t*>(data)[e]; break;
              default: break;
            }
            differ += got != want[e];
          }
          EXPECT_EQ(differ, 0u) << where << ": tensor " << t << " (op " << i << " '" << model.ops[i].name
                                << "'): " << differ << " of " << want.size() << " values differ";
        }
      }
}

// The core's Inference (the firmware's path: the file's bytes read in place,
// a caller's arena, scalar kernels) computes the engine's logits bit for
// bit, on `count` images.
inline void expect_core_matches_engine(const maqd_rt::Model& model, const std::vector<uint8_t>& images,
                                       size_t count) {
  const std::vector<uint8_t> bytes = maqd_rt::write_model(model);
  std::vector<uint64_t> aligned_bytes((bytes.size() + 7) / 8);  // 8-byte aligned copy
  std::memcpy(aligned_bytes.data(), bytes.data(), bytes.size());
  maqd_rt::ModelView view;
  maqd_rt::Diagnostic d;
  ASSERT_TRUE(view.open(reinterpret_cast<const uint8_t*>(aligned_bytes.data()), bytes.size(), &d)) << d.message;
  maqd_rt::Inference inference;
  ASSERT_FALSE(inference.prepare(view, aligned_bytes.data(), 8, &d));  // far too small
  ASSERT_EQ(d.status, maqd_rt::Status::kLimitExceeded) << d.message;
  // The arena prepare asks for: the table's bytes, then the whole plan's,
  // which is exactly what it uses (8 bytes fewer fail).
  std::vector<uint64_t> arena(1);
  int retries = 0;
  while (!inference.prepare(view, arena.data(), arena.size() * 8, &d)) {
    ASSERT_EQ(d.status, maqd_rt::Status::kLimitExceeded) << d.message;
    ASSERT_GT(d.arena_needed, arena.size() * 8) << d.message;
    ASSERT_LE(++retries, 2) << d.message;
    arena.resize(size_t((d.arena_needed + 7) / 8));
  }
  ASSERT_EQ(inference.arena_bytes(), arena.size() * 8);
  {
    maqd_rt::Inference smaller;
    EXPECT_FALSE(smaller.prepare(view, arena.data(), arena.size() * 8 - 8, &d));
    EXPECT_EQ(d.arena_needed, arena.size() * 8) << d.message;
    d.arena_needed = 12345;
    maqd_rt::Inference unaligned;  // another failure leaves no figure behind
    EXPECT_FALSE(unaligned.prepare(view, reinterpret_cast<uint8_t*>(arena.data()) + 1, 64, &d));
    EXPECT_EQ(d.status, maqd_rt::Status::kBadArgument);
    EXPECT_EQ(d.arena_needed, 0u);
  }
  const size_t image_bytes = size_t(model.input().elements());
  const size_t classes = size_t(model.num_classes());
  ASSERT_EQ(size_t(inference.num_classes()), classes);
  maqd_rt::Engine engine(model, maqd_rt::EngineOptions{});
  ASSERT_GE(images.size(), count * image_bytes);
  for (size_t b = 0; b < count; ++b) {
    std::vector<float> want(classes), got(classes);
    engine.run(images.data() + b * image_bytes, 1, want.data());
    ASSERT_TRUE(inference.run(images.data() + b * image_bytes, got.data(), &d)) << d.message;
    EXPECT_EQ(std::memcmp(want.data(), got.data(), classes * sizeof(float)), 0)
        << "image " << b << ": the core's logits differ from the engine's (first: " << got[0] << " vs "
        << want[0] << ")";
  }
}

}  // namespace maqd_test
