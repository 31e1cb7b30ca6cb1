#include "scalar_kernels.h"

#include <type_traits>

#include "conv_windows.h"

namespace maqd_rt::kernels {

void input_lut_u8(const uint8_t* in, const int32_t* lut, int64_t elements, int32_t channels,
                  uint8_t* out) {
  for (int64_t i = 0, c = 0; i < elements; ++i) {
    out[i] = uint8_t(lut[c * 256 + in[i]]);
    if (++c == channels) c = 0;
  }
}

void input_lut_i16(const uint8_t* in, const int32_t* lut, int64_t elements, int32_t channels,
                   int16_t* out) {
  for (int64_t i = 0, c = 0; i < elements; ++i) {
    out[i] = int16_t(lut[c * 256 + in[i]]);
    if (++c == channels) c = 0;
  }
}

namespace scalar {
namespace {

// One tap: Σ weights[i] · pixel[i], added modulo 2^32.
template <typename Input>
uint32_t dot(const int8_t* weights, const Input* pixel, int32_t n, uint32_t sum) {
  for (int32_t i = 0; i < n; ++i) sum += uint32_t(int32_t(weights[i]) * int32_t(pixel[i]));
  return sum;
}

template <typename Input, typename Output>
void pool_sum(const Input* in, Output* out, int32_t in_height, int32_t in_width, int32_t channels) {
  using Unsigned = std::make_unsigned_t<Output>;
  const int32_t out_height = in_height / 2, out_width = in_width / 2;
  const size_t row = size_t(in_width) * channels;
  for (int32_t h = 0; h < out_height; ++h) {
    for (int32_t w = 0; w < out_width; ++w) {
      const Input* top = in + size_t(2 * h) * row + size_t(2 * w) * channels;
      const Input* bottom = top + row;
      Output* target = out + (size_t(h) * out_width + w) * channels;
      for (int32_t c = 0; c < channels; ++c) {
        target[c] = Output(Unsigned(top[c]) + Unsigned(top[c + channels]) + Unsigned(bottom[c]) +
                           Unsigned(bottom[c + channels]));
      }
    }
  }
}

}  // namespace

void conv_u8_rows(const ConvShape& shape, const int8_t* codes, const uint8_t* in, int32_t* out,
                  int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end) {
  // A lambda, not the function's address, so that the tap loop inlines.
  conv_windows(shape, codes, in, out, row_begin, row_end, oc_begin, oc_end,
               [](const int8_t* w, const uint8_t* x, int32_t n, uint32_t sum) { return dot(w, x, n, sum); });
}

void conv_i16_rows(const ConvShape& shape, const int8_t* codes, const int16_t* in, int32_t* out,
                   int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end) {
  conv_windows(shape, codes, in, out, row_begin, row_end, oc_begin, oc_end,
               [](const int8_t* w, const int16_t* x, int32_t n, uint32_t sum) { return dot(w, x, n, sum); });
}

void pool_sum_u8(const uint8_t* in, int16_t* out, int32_t in_height, int32_t in_width,
                 int32_t channels) {
  pool_sum(in, out, in_height, in_width, channels);
}
void pool_sum_i16(const int16_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels) {
  pool_sum(in, out, in_height, in_width, channels);
}
void pool_sum_i32(const int32_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels) {
  pool_sum(in, out, in_height, in_width, channels);
}

void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out, int32_t first_channel) {
  const int32_t count = levels - 1;
  // Largest power of two ≤ count: the first step of the binary search.
  int32_t top_step = 1;
  while (top_step * 2 <= count) top_step *= 2;
  for (int64_t p = 0; p < pixels; ++p) {
    for (int32_t c = first_channel; c < channels; ++c) {
      const size_t index = size_t(p) * channels + c;
      uint64_t z = 0;
      for (int32_t j = 0; j < num_inputs; ++j) {
        z += uint64_t(multipliers[size_t(j) * channels + c]) * uint64_t(int64_t(inputs[j][index]));
      }
      const int64_t value = int64_t(z);
      const int64_t* row = thresholds + size_t(c) * count;
      int32_t level = 0;
      if (levels <= kRequantLinearMaxLevels) {
        for (int32_t k = 0; k < count; ++k) level += value >= row[k];
      } else {
        // Branch-free upper bound: level = #{k : row[k] ≤ value}.
        for (int32_t step = top_step; step > 0; step /= 2) {
          if (level + step <= count && row[level + step - 1] <= value) level += step;
        }
      }
      out[index] = uint8_t(level);
    }
  }
}

}  // namespace scalar

void gap_linear(const GapInput* inputs, int32_t input_count, int64_t pixels, int32_t channels,
                const float* scale, const float* offset, const float* weight, const float* bias,
                int32_t classes, float* feature, float* logits) {
  for (int32_t c = 0; c < channels; ++c) feature[c] = offset[c];
  for (int32_t j = 0; j < input_count; ++j) {
    const GapInput& in = inputs[j];
    for (int32_t c = 0; c < channels; ++c) {
      int64_t sum = 0;
      switch (in.dtype) {
        case DType::kU8: {
          const uint8_t* p = static_cast<const uint8_t*>(in.data);
          for (int64_t q = 0; q < pixels; ++q) sum += p[q * channels + c];
          break;
        }
        case DType::kI16: {
          const int16_t* p = static_cast<const int16_t*>(in.data);
          for (int64_t q = 0; q < pixels; ++q) sum += p[q * channels + c];
          break;
        }
        default: {
          const int32_t* p = static_cast<const int32_t*>(in.data);
          for (int64_t q = 0; q < pixels; ++q) sum += p[q * channels + c];
          break;
        }
      }
      feature[c] += scale[size_t(j) * channels + c] * float(sum);
    }
  }
  for (int32_t k = 0; k < classes; ++k) {
    float acc = bias[k];
    for (int32_t c = 0; c < channels; ++c) acc += weight[size_t(k) * channels + c] * feature[c];
    logits[k] = acc;
  }
}

}  // namespace maqd_rt::kernels
