// The scalar kernels: the definitions every ISA variant must match bit for
// bit, and the kernels of Isa::kScalar. Integer sums wrap modulo 2^32 (2^64
// for requant's Z) like the vector instructions do; they are computed in
// unsigned arithmetic because signed overflow is undefined in C++.
#include <type_traits>

#include "kernels/internal.h"

namespace maqd_rt::kernels::scalar {

template <typename Input>
static void conv(const ConvView& conv, const Input* in, int32_t* out, int32_t row_begin,
                 int32_t row_end, int32_t oc_begin, int32_t oc_end) {
  const ConvShape& s = conv.shape;
  const int32_t pad = s.kernel / 2;
  for (int32_t h = row_begin; h < row_end; ++h) {
    for (int32_t w = 0; w < s.width; ++w) {
      for (int32_t o = oc_begin; o < oc_end; ++o) {
        uint32_t sum = 0;
        for (int32_t dy = 0; dy < s.kernel; ++dy) {
          const int32_t y = h + dy - pad;
          if (y < 0 || y >= s.height) continue;
          for (int32_t dx = 0; dx < s.kernel; ++dx) {
            const int32_t x = w + dx - pad;
            if (x < 0 || x >= s.width) continue;
            const int8_t* weights =
                conv.codes + ((size_t(o) * s.kernel + dy) * s.kernel + dx) * s.in_channels;
            const Input* pixel = in + (size_t(y) * s.width + x) * s.in_channels;
            for (int32_t i = 0; i < s.in_channels; ++i) {
              sum += uint32_t(int32_t(weights[i]) * int32_t(pixel[i]));
            }
          }
        }
        out[(size_t(h) * s.width + w) * s.out_channels + o] = int32_t(sum);
      }
    }
  }
}

void conv_u8(const ConvView& view, const void* in, int32_t* out, int32_t row_begin,
             int32_t row_end, int32_t oc_begin, int32_t oc_end, void*) {
  conv(view, static_cast<const uint8_t*>(in), out, row_begin, row_end, oc_begin, oc_end);
}

void conv_i16(const ConvView& view, const void* in, int32_t* out, int32_t row_begin,
              int32_t row_end, int32_t oc_begin, int32_t oc_end, void*) {
  conv(view, static_cast<const int16_t*>(in), out, row_begin, row_end, oc_begin, oc_end);
}

template <typename Input, typename Output>
static void pool_sum(const Input* in, Output* out, int32_t in_height, int32_t in_width,
                     int32_t channels) {
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
             uint8_t* out) {
  const int32_t count = levels - 1;
  // Largest power of two ≤ count: the first step of the binary search.
  int32_t top_step = 1;
  while (top_step * 2 <= count) top_step *= 2;
  for (int64_t p = 0; p < pixels; ++p) {
    for (int32_t c = 0; c < channels; ++c) {
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

void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out) {
  for (int64_t p = 0; p < pixels; ++p) {
    for (int32_t c = 0; c < channels; ++c) {
      const size_t index = size_t(p) * channels + c;
      const int32_t x = in[index] ^ flip[c];
      int32_t level = base[c];
      for (int32_t k = 0; k < count; ++k) level -= thresholds[size_t(c) * count + k] > x;
      out[index] = uint8_t(level);
    }
  }
}

}  // namespace maqd_rt::kernels::scalar
