// NEON kernels for Armv8.2 CPUs with the dot product (SDOT), compiled with
// -march=armv8.2-a+dotprod (runtime/CMakeLists.txt) and run only where
// the CPU reports it (isa.cpp). SDOT multiplies signed bytes, so inputs in
// [0, 127] take it; larger ones take neon.cpp's SMLAL kernel.
#include "kernels/internal.h"

#if MAQD_RT_NEON_KERNELS
#if !defined(__ARM_FEATURE_DOTPROD)
#error "neondot.cpp needs -march=armv8.2-a+dotprod (runtime/CMakeLists.txt)"
#endif
#include "kernels/neon_conv.h"

namespace maqd_rt::kernels::neondot {

void conv_u8_sdot(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                  int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  neon_conv<NeonMode::kSdot>(conv, static_cast<const uint8_t*>(in), out, row_begin, row_end,
                             oc_begin, oc_end, scratch);
}

void conv_i16_sdot(const ConvView& conv, const void* in, int32_t* out, int32_t row_begin,
                   int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  neon_conv<NeonMode::kSdot>(conv, static_cast<const int16_t*>(in), out, row_begin, row_end,
                             oc_begin, oc_end, scratch);
}

}  // namespace maqd_rt::kernels::neondot
#endif
