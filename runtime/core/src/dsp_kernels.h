// The conv kernels for CPUs with the Arm DSP extension (ARMv7E-M: Cortex-M4,
// M7, M33 with DSP): SMLAD multiplies two pairs of 16-bit halves and adds
// both products to a 32-bit sum in one instruction, so four u8 × s8 (or
// i16 × s8) products take two. They compute exactly what the scalar
// conv_u8_rows / conv_i16_rows compute (the same integers, summed modulo
// 2^32 in another order); tests/firmware/dsp_kernels_test.cpp compares
// them under QEMU on random shapes and values. Declared everywhere, defined
// only where __ARM_FEATURE_DSP is (kHaveDspKernels), unless the build
// defines MAQD_RT_CORE_SCALAR=1, which pins the core to the scalar kernels
// (the core's counterpart of the hosted runtime's MAQD_ISA=scalar).
#pragma once

#include <cstdint>

#include "scalar_kernels.h"

namespace maqd_rt::kernels::dsp {

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !(defined(MAQD_RT_CORE_SCALAR) && MAQD_RT_CORE_SCALAR)
inline constexpr bool kHaveDspKernels = true;
#else
inline constexpr bool kHaveDspKernels = false;
#endif

// As scalar::conv_u8_rows and scalar::conv_i16_rows.
void conv_u8_rows(const ConvShape& shape, const int8_t* codes, const uint8_t* in, int32_t* out,
                  int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end);
void conv_i16_rows(const ConvShape& shape, const int8_t* codes, const int16_t* in, int32_t* out,
                   int32_t row_begin, int32_t row_end, int32_t oc_begin, int32_t oc_end);

}  // namespace maqd_rt::kernels::dsp
