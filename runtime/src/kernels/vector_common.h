// Plain helpers shared by the vector kernel files (avx2, avx512, neon,
// neondot). Everything is in an anonymous namespace, so each ISA file
// compiles its own private copy (see internal.h for why that matters).
#pragma once

#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/internal.h"

namespace maqd_rt::kernels {
namespace {

// unroll<N>(f) calls f(integral_constant<int, i>) for i = 0..N-1. The
// tiles index their accumulator arrays only through it: with constant
// indices from the start, GCC keeps the arrays in registers (with plain
// loops and #pragma unroll it kept them on the stack).
template <typename F, int... I>
inline void unroll_sequence(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, typename F>
inline void unroll(F&& f) {
  unroll_sequence(f, std::make_integer_sequence<int, N>{});
}

inline int32_t imin(int32_t a, int32_t b) { return a < b ? a : b; }
inline int32_t imax(int32_t a, int32_t b) { return a > b ? a : b; }

// Copies the input rows that output rows [row_begin, row_end) read into
// `padded`: pixel (y, x) of the input lands at (y + p, x + p), each pixel
// `units` 4-byte units long with the channels beyond in_channels zero, and
// the p pixels either side of a row zero. Rows beyond the map are never
// read (the kernels skip those dy), so they are not written.
template <typename Input, typename Stored>
void copy_padded_rows(const ConvShape& s, const Input* in, int32_t row_begin, int32_t row_end,
                      int32_t units, Stored* padded) {
  const int32_t pad = s.kernel / 2;
  const int32_t per_pixel = units * 4 / int32_t(sizeof(Stored));
  const size_t row_elements = size_t(s.width + 2 * pad) * per_pixel;
  const int32_t first = imax(0, row_begin - pad), last = imin(s.height, row_end + pad);
  for (int32_t r = first; r < last; ++r) {
    Stored* row = padded + size_t(r + pad) * row_elements;
    std::memset(row, 0, size_t(pad) * per_pixel * sizeof(Stored));
    std::memset(row + size_t(pad + s.width) * per_pixel, 0, size_t(pad) * per_pixel * sizeof(Stored));
    const Input* source = in + size_t(r) * s.width * s.in_channels;
    Stored* target = row + size_t(pad) * per_pixel;
    if (per_pixel == s.in_channels) {  // no channel padding: one contiguous (vectorized) run
      if constexpr (sizeof(Input) == sizeof(Stored)) {
        std::memcpy(target, source, size_t(s.width) * s.in_channels * sizeof(Stored));
      } else {
        const size_t count = size_t(s.width) * s.in_channels;
        for (size_t i = 0; i < count; ++i) target[i] = Stored(source[i]);
      }
      continue;
    }
    for (int32_t x = 0; x < s.width; ++x) {
      for (int32_t i = 0; i < s.in_channels; ++i) target[i] = Stored(source[i]);
      for (int32_t i = s.in_channels; i < per_pixel; ++i) target[i] = Stored(0);
      source += s.in_channels;
      target += per_pixel;
    }
  }
}

// Copies the input rows that output rows [row_begin, row_end) read into
// the direct layout's scratch (internal.h): padded like copy_padded_rows,
// or dx-packed, where pixel (y, x) holds inputs (y, x + dx − p) for dx in
// [0, k), zero beyond the map, in rows of width pixels.
template <typename Input, typename Stored>
void copy_direct_rows(const ConvShape& s, const DirectLayout& layout, const Input* in,
                      int32_t row_begin, int32_t row_end, Stored* target) {
  if (!layout.dx_packed) return copy_padded_rows(s, in, row_begin, row_end, layout.units, target);
  const int32_t pad = s.kernel / 2;
  const int32_t per_pixel = layout.units * 4 / int32_t(sizeof(Stored));
  const int32_t first = imax(0, row_begin - pad), last = imin(s.height, row_end + pad);
  for (int32_t r = first; r < last; ++r) {
    const Input* source = in + size_t(r) * s.width * s.in_channels;
    Stored* row = target + size_t(r + pad) * s.width * per_pixel;
    std::memset(row, 0, size_t(s.width) * per_pixel * sizeof(Stored));
    // Column x + dx − pad lies inside the map for x in [x_begin, x_end).
    for (int32_t dx = 0; dx < s.kernel; ++dx) {
      const int32_t x_begin = imax(0, pad - dx), x_end = imin(s.width, s.width + pad - dx);
      const Input* from = source + size_t(x_begin + dx - pad) * s.in_channels;
      Stored* to = row + size_t(x_begin) * per_pixel + dx * s.in_channels;
      if (s.in_channels == 1) {  // the usual case (a grey image's first layer), as a plain strided copy
        for (int32_t x = x_begin; x < x_end; ++x, ++from, to += per_pixel) *to = Stored(*from);
        continue;
      }
      for (int32_t x = x_begin; x < x_end; ++x, from += s.in_channels, to += per_pixel)
        for (int32_t i = 0; i < s.in_channels; ++i) to[i] = Stored(from[i]);
    }
  }
}

// Splits [0, width) into the fewest tiles of at most max_pixels, as even as
// possible (a 28-wide row with 12-pixel tiles runs 9, 9, 10, not 12, 12, 4).
struct PixelTiles {
  int32_t count, width;
  int32_t begin(int32_t i) const { return int32_t(int64_t(i) * width / count); }
};
inline PixelTiles split_row(int32_t width, int32_t max_pixels) {
  return PixelTiles{(width + max_pixels - 1) / max_pixels, width};
}

// The lanes of the block starting at channel `base` that fall in [begin, end).
inline uint32_t lane_mask(int32_t base, int32_t lanes, int32_t begin, int32_t end) {
  const int32_t lo = imax(begin - base, 0), hi = imin(end - base, lanes);
  if (hi <= lo) return 0;
  const uint32_t upto_hi = hi >= 32 ? ~0u : (1u << hi) - 1;
  return upto_hi & ~((1u << lo) - 1);
}

// What every tile over a padded row buffer reads (the direct layout's
// input rows, direct_layout in internal.h, or the table kernels' tables):
// where its pixels' input, its block's weights and its output start, and
// which kernel rows lie inside the map. Each ISA's tile adds its lane masks.
struct TileGeometry {
  const uint8_t* in;         // padded input at (row h, column w0): its dy = 0, dx = 0 pixel
  size_t row_bytes;          // between padded rows
  int32_t pixel_bytes;       // between padded pixels
  int32_t dy_begin, dy_end;  // the dy whose input row lies inside the map
  int32_t steps_per_dy;      // the steps a tile takes per window row
  const uint8_t* weights;    // first block's weights at dy = 0
  size_t block_bytes;        // between blocks' weights
  int32_t* out;              // out at (h, w0), channel of the first block's lane 0
  int32_t out_pixel;         // out_channels

  // The conv's fixed fields: step_bytes of a block's weights per step.
  void set_conv(const ConvShape& s, int32_t pixel_bytes_, int32_t row_pixels, int32_t steps_per_dy_,
                int32_t step_bytes) {
    pixel_bytes = pixel_bytes_;
    row_bytes = size_t(row_pixels) * pixel_bytes;
    steps_per_dy = steps_per_dy_;
    block_bytes = size_t(s.kernel) * steps_per_dy * step_bytes;
    out_pixel = s.out_channels;
  }
  // The same for the direct layout (4-byte units; k · units, (dx, unit)
  // pairs or units where dx-packed), blocks of block_lanes int32 lanes.
  void set_direct(const ConvShape& s, const DirectLayout& layout, int32_t block_lanes) {
    set_conv(s, layout.units * 4, layout.row_pixels, layout.steps_per_dy, block_lanes * 4);
  }
  // Output row h.
  void set_row(const ConvShape& s, int32_t h) {
    const int32_t pad = s.kernel / 2;
    dy_begin = imax(0, pad - h);
    dy_end = imin(s.kernel, s.height + pad - h);
  }
  // The tile of output row h from column w0, first channel `channel`.
  void set_pixels(const ConvShape& s, const uint8_t* padded, int32_t* out_map, int32_t h,
                  int32_t w0, int32_t channel) {
    in = padded + size_t(h) * row_bytes + size_t(w0) * pixel_bytes;
    out = out_map + (size_t(h) * s.width + w0) * s.out_channels + channel;
  }
};

}  // namespace
}  // namespace maqd_rt::kernels
