// The scalar kernels of the kernel table (Isa::kScalar): the core's
// definitions (scalar_kernels.h), which every ISA variant must match bit
// for bit, adapted to ConvView; and requant_input's counting loop.

#include "kernels/internal.h"

namespace maqd_rt::kernels::scalar {

void conv_u8(const ConvView& view, const void* in, int32_t* out, int32_t row_begin,
             int32_t row_end, int32_t oc_begin, int32_t oc_end, void*) {
  const size_t per_output = size_t(view.shape.kernel) * view.shape.kernel * view.shape.in_channels;
  conv_u8_rows(view.shape, view.codes + size_t(oc_begin) * per_output, static_cast<const uint8_t*>(in),
               out, row_begin, row_end, oc_begin, oc_end);
}

void conv_i16(const ConvView& view, const void* in, int32_t* out, int32_t row_begin,
              int32_t row_end, int32_t oc_begin, int32_t oc_end, void*) {
  const size_t per_output = size_t(view.shape.kernel) * view.shape.kernel * view.shape.in_channels;
  conv_i16_rows(view.shape, view.codes + size_t(oc_begin) * per_output,
                static_cast<const int16_t*>(in), out, row_begin, row_end, oc_begin, oc_end);
}

void requant_input(const int32_t* thresholds, const int32_t* flip, const int32_t* base,
                   int32_t count, int32_t channels, const int32_t* in, int64_t pixels,
                   uint8_t* out, int32_t first_channel) {
  for (int64_t p = 0; p < pixels; ++p) {
    for (int32_t c = first_channel; c < channels; ++c) {
      const size_t index = size_t(p) * channels + c;
      const int32_t x = in[index] ^ flip[c];
      int32_t level = base[c];
      for (int32_t k = 0; k < count; ++k) level -= thresholds[size_t(c) * count + k] > x;
      out[index] = uint8_t(level);
    }
  }
}

}  // namespace maqd_rt::kernels::scalar
