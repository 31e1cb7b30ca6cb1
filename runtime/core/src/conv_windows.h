// The one walk over a stride-1 conv's output pixels, output channels and
// kernel taps (padding kernel/2, zero outside the map), shared by the
// scalar and the DSP conv kernels; `dot(weights, pixel, in_channels, sum)`
// adds one tap's products to the sum, modulo 2^32. Included only by the
// core's kernel sources (plain, without ISA flags).
#pragma once

#include <cstddef>
#include <cstdint>

#include "scalar_kernels.h"

namespace maqd_rt::kernels {

// out[h][w][o] for rows [row_begin, row_end) and output channels
// [oc_begin, oc_end); `codes` holds those channels' codes only.
template <typename Input, typename Dot>
void conv_windows(const ConvShape& s, const int8_t* codes, const Input* in, int32_t* out, int32_t row_begin,
                  int32_t row_end, int32_t oc_begin, int32_t oc_end, Dot dot) {
  const int32_t pad = s.kernel / 2;
  const size_t per_output = size_t(s.kernel) * size_t(s.kernel) * size_t(s.in_channels);
  for (int32_t h = row_begin; h < row_end; ++h) {
    for (int32_t w = 0; w < s.width; ++w) {
      for (int32_t o = oc_begin; o < oc_end; ++o) {
        const int8_t* own = codes + size_t(o - oc_begin) * per_output;
        uint32_t sum = 0;
        for (int32_t dy = 0; dy < s.kernel; ++dy) {
          const int32_t y = h + dy - pad;
          if (y < 0 || y >= s.height) continue;
          for (int32_t dx = 0; dx < s.kernel; ++dx) {
            const int32_t x = w + dx - pad;
            if (x < 0 || x >= s.width) continue;
            sum = dot(own + (size_t(dy) * s.kernel + dx) * s.in_channels,
                      in + (size_t(y) * s.width + x) * s.in_channels, s.in_channels, sum);
          }
        }
        out[(size_t(h) * s.width + w) * s.out_channels + o] = int32_t(sum);
      }
    }
  }
}

}  // namespace maqd_rt::kernels
