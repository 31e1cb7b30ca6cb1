// NEON kernels for every AArch64 CPU (no flags needed: Advanced SIMD is
// part of the architecture). The direct conv itself is in neon_conv.h.
#include "kernels/internal.h"

#if MAQD_RT_NEON_KERNELS
#include "kernels/neon_conv.h"

namespace maqd_rt::kernels::neon {

void conv_u8_smlal(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                   int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  neon_conv<NeonMode::kSmlal>(conv, static_cast<const uint8_t*>(in), out, row_begin, row_end,
                              oc_begin, oc_end, scratch);
}

void conv_i16_smlal(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                    int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  neon_conv<NeonMode::kSmlal>(conv, static_cast<const int16_t*>(in), out, row_begin, row_end,
                              oc_begin, oc_end, scratch);
}

}  // namespace maqd_rt::kernels::neon
#endif
