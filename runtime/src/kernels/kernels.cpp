// The public kernel API: weight preparation and dispatch by ISA. Compiled
// without ISA flags; the vector code lives in avx2.cpp and avx512.cpp.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "kernels/internal.h"
#include "maqd_rt/error.hpp"

namespace maqd_rt::kernels {

const std::vector<ConvKernel>& conv_kernel_table() {
  static const std::vector<ConvKernel> table{
      {"scalar u8", Isa::kScalar, false, "scalar", &scalar::conv_u8},
      {"scalar i16", Isa::kScalar, true, "scalar", &scalar::conv_i16},
#if MAQD_RT_X86_KERNELS
      {"avx2 binary x ternary, vpshufb weight tables", Isa::kAvx2, false, "vpshufb weight tables", &avx2::conv_u8_binary_tables, &avx2::conv_requant_u8_binary_tables},
      {"avx2 i16 binary x ternary, vpshufb weight tables", Isa::kAvx2, true, "vpshufb weight tables", &avx2::conv_i16_binary_tables, &avx2::conv_requant_i16_binary_tables},
      {"avx2 ternary x 2-bit, vpshufb tables", Isa::kAvx2, false, "vpshufb", &avx2::conv_u8_tables},
      {"avx2 i16 ternary x 2-bit, vpshufb tables", Isa::kAvx2, true, "vpshufb", &avx2::conv_i16_tables},
      {"avx2 u8 vpmaddubsw int16 sums", Isa::kAvx2, false, "vpmaddubsw", &avx2::conv_u8_sums},
      {"avx2 i16 as u8, vpmaddubsw int16 sums", Isa::kAvx2, true, "vpmaddubsw", &avx2::conv_i16_sums},
      {"avx2 u8 vpmaddubsw widened", Isa::kAvx2, false, "vpmaddubsw", &avx2::conv_u8_periodic},
      {"avx2 i16 as u8, vpmaddubsw widened", Isa::kAvx2, true, "vpmaddubsw", &avx2::conv_i16_periodic},
      {"avx2 u8 as i16, vpmaddwd", Isa::kAvx2, false, "vpmaddwd", &avx2::conv_u8_widened},
      {"avx2 i16 vpmaddwd", Isa::kAvx2, true, "vpmaddwd", &avx2::conv_i16_widened},
      {"avx512 binary x ternary vpopcntd", Isa::kAvx512, false, "vpopcntd", &avx512::conv_u8_binary},
      {"avx512 u8 vpdpbusd", Isa::kAvx512, false, "vpdpbusd", &avx512::conv_u8_dpbusd},
      {"avx512 i16 as u8, vpdpbusd", Isa::kAvx512, true, "vpdpbusd", &avx512::conv_i16_dpbusd},
      {"avx512 i16 vpdpwssd", Isa::kAvx512, true, "vpdpwssd", &avx512::conv_i16_dpwssd},
      {"avx512 ternary x small, vpshufb tables", Isa::kAvx512, false, "vpshufb zmm", &avx512::conv_u8_tables},
      {"avx512 i16 ternary x small, vpshufb tables", Isa::kAvx512, true, "vpshufb zmm", &avx512::conv_i16_tables},
#endif
#if MAQD_RT_NEON_KERNELS
      {"neon u8 as i16, smlal", Isa::kNeon, false, "smlal", &neon::conv_u8_smlal},
      {"neon i16 smlal", Isa::kNeon, true, "smlal", &neon::conv_i16_smlal},
      {"neondot u8 sdot", Isa::kNeonDot, false, "sdot", &neondot::conv_u8_sdot},
      {"neondot i16 as s8, sdot", Isa::kNeonDot, true, "sdot", &neondot::conv_i16_sdot},
#endif
  };
  return table;
}

namespace {

// The table entry running `fn` (every entry point is in the table once).
const ConvKernel* entry(ConvKernelFn* fn) {
  for (const ConvKernel& kernel : conv_kernel_table())
    if (kernel.run == fn) return &kernel;
  throw Error("maqd-rt: a conv kernel is missing from the kernel table");
}

ConvView view_of(const PreparedConv& conv) {
  ConvView view;
  view.shape = conv.shape;
  view.input_max = conv.input_max;
  view.variant = conv.variant;
  view.steps_per_widen = conv.steps_per_widen;
  view.codes = conv.codes.data();
  view.packed = conv.packed.data();
  view.channel_info = conv.channel_info.data();
  return view;
}

// Writes the direct layout (internal.h): [block][dy][dx][unit][lane]
// [per_unit], or [block][dy][unit][lane][per_unit] over the window row's
// k·in_channels inputs where it is dx-packed; with kLanesInnermost
// [...][unit][per_unit][lane] (NEON's multiply by lane). Codes are
// [o][dy][dx][i], so a window row's inputs are contiguous either way.
template <typename Weight, bool kLanesInnermost = false>
void pack_grouped(const ConvShape& s, const int8_t* codes, int32_t lanes, uint8_t* target) {
  constexpr int32_t per_unit = 4 / int32_t(sizeof(Weight));
  const DirectLayout layout = direct_layout(s, per_unit);
  const int32_t rows = layout.dx_packed ? s.kernel : s.kernel * s.kernel;      // per output channel
  const int32_t row_inputs = layout.dx_packed ? s.kernel * s.in_channels : s.in_channels;
  const int32_t blocks = ceil_div(s.out_channels, lanes);
  Weight* out = reinterpret_cast<Weight*>(target);
  for (int32_t b = 0; b < blocks; ++b)
    for (int32_t t = 0; t < rows; ++t)
      for (int32_t u = 0; u < layout.units; ++u)
        for (int32_t n = 0; n < lanes * per_unit; ++n) {
          const int32_t l = kLanesInnermost ? n % lanes : n / per_unit;
          const int32_t j = kLanesInnermost ? n / lanes : n % per_unit;
          const int32_t o = b * lanes + l, i = u * per_unit + j;
          *out++ = (o < s.out_channels && i < row_inputs)
                       ? Weight(codes[(size_t(o) * rows + t) * row_inputs + i])
                       : Weight(0);
        }
}

// Bit j of the returned pair: whether codes[j] is +1 (first) or −1
// (second), for j < count ≤ 32; the bit-serial and table layouts both
// store these sign masks.
std::pair<uint32_t, uint32_t> sign_bits(const int8_t* codes, int32_t count) {
  uint32_t plus = 0, minus = 0;
  for (int32_t j = 0; j < count; ++j) {
    plus |= uint32_t(codes[j] == 1) << j;
    minus |= uint32_t(codes[j] == -1) << j;
  }
  return {plus, minus};
}

// Bit planes [block of 16][dy][word][plus, minus][lane] (internal.h).
void pack_binary(const ConvShape& s, const int8_t* codes, uint8_t* target) {
  const int32_t words = binary_words_per_dy(s);
  const int32_t window_bits = s.kernel * s.in_channels;
  const int32_t blocks = ceil_div(s.out_channels, 16);
  uint32_t* out = reinterpret_cast<uint32_t*>(target);
  for (int32_t b = 0; b < blocks; ++b)
    for (int32_t dy = 0; dy < s.kernel; ++dy)
      for (int32_t word = 0; word < words; ++word, out += 32)
        for (int32_t l = 0; l < 16; ++l) {
          const int32_t o = b * 16 + l;
          if (o >= s.out_channels) {
            out[l] = out[16 + l] = 0;
            continue;
          }
          const auto [plus, minus] = sign_bits(codes + (size_t(o) * s.kernel + dy) * window_bits + word * 32,
                                               std::min(32, window_bits - word * 32));
          out[l] = plus;
          out[16 + l] = minus;
        }
}

bool is_ternary(const ConvShape& s, const int8_t* codes) {
  const size_t count = size_t(s.out_channels) * s.kernel * s.kernel * s.in_channels;
  return std::all_of(codes, codes + count, [](int8_t c) { return c >= -1 && c <= 1; });
}

bool is_binary_ternary(const ConvShape& s, const int8_t* codes, int32_t input_max) {
  return input_max == 1 && is_ternary(s, codes);
}

// Masks of the +1 and −1 codes of each 4-channel group (internal.h): per
// step, each of the block's `lanes` channels' plus and minus masks side by
// side.
void pack_ternary_lut(const ConvShape& s, const int8_t* codes, int32_t lanes, uint8_t* target) {
  const int32_t groups = lut_groups(s), taps = s.kernel * s.kernel;
  const int32_t blocks = ceil_div(s.out_channels, lanes);
  for (int32_t b = 0; b < blocks; ++b)
    for (int32_t t = 0; t < taps; ++t)
      for (int32_t g = 0; g < groups; ++g, target += 2 * lanes)
        for (int32_t l = 0; l < lanes; ++l) {
          const int32_t o = b * lanes + l;
          if (o >= s.out_channels) {
            target[2 * l] = target[2 * l + 1] = 0;
            continue;
          }
          const auto [plus, minus] = sign_bits(codes + (size_t(o) * taps + t) * s.in_channels + g * 4,
                                               std::min(4, s.in_channels - g * 4));
          target[2 * l] = uint8_t(plus);
          target[2 * l + 1] = uint8_t(minus);
        }
}

// The weight tables of kVariantBinaryTables (internal.h): per step, each
// of the block's 4 channels' 16 subset sums of its group's codes.
void pack_binary_tables(const ConvShape& s, const int8_t* codes, uint8_t* target) {
  const int32_t groups = lut_groups(s), taps = s.kernel * s.kernel;
  const int32_t blocks = ceil_div(s.out_channels, 4);
  int8_t* out = reinterpret_cast<int8_t*>(target);
  for (int32_t b = 0; b < blocks; ++b)
    for (int32_t t = 0; t < taps; ++t)
      for (int32_t g = 0; g < groups; ++g)
        for (int32_t l = 0; l < 4; ++l)
          for (int32_t n = 0; n < 16; ++n) {
            const int32_t o = b * 4 + l;
            int32_t sum = 0;
            for (int32_t j = 0; j < 4 && o < s.out_channels && g * 4 + j < s.in_channels; ++j)
              if ((n >> j) & 1) sum += codes[(size_t(o) * taps + t) * s.in_channels + g * 4 + j];
            *out++ = int8_t(sum);
          }
}

// Whether input_max · Σ_{dy,dx,i} |code| ≤ 32767 for every output channel:
// then every partial sum of u8 inputs times codes fits in int16.
bool sums_fit_int16(const ConvShape& s, const int8_t* codes, int32_t input_max) {
  if (input_max < 0 || input_max > 255) return false;
  const size_t per_channel = size_t(s.kernel) * s.kernel * s.in_channels;
  for (int32_t o = 0; o < s.out_channels; ++o) {
    int64_t magnitude = 0;
    for (size_t i = 0; i < per_channel; ++i) magnitude += std::abs(int32_t(codes[o * per_channel + i]));
    if (magnitude * input_max > 32767) return false;
  }
  return true;
}

// kVariantI16Periodic's interval: the most vpmaddubsw results (each at
// most 2 · input_max · max|code| in magnitude) an int16 lane can add up
// without overflow; 0 where a single one could saturate.
int32_t steps_per_widen(const ConvShape& s, const int8_t* codes, int32_t input_max) {
  if (input_max < 1 || input_max > 255) return 0;
  const size_t count = size_t(s.out_channels) * s.kernel * s.kernel * s.in_channels;
  int32_t largest = 1;
  for (size_t i = 0; i < count; ++i) largest = std::max(largest, std::abs(int32_t(codes[i])));
  return 32767 / (2 * input_max * largest);
}

// Table lookup (kVariantTernaryLut): ternary codes, inputs ≤ 12 (int8 table
// entries and sums), int16 totals, and at least one block of `lanes`
// output channels to fill.
bool lut_applies(const ConvShape& s, const int8_t* codes, int32_t input_max, int32_t lanes) {
  return input_max >= 1 && input_max <= 12 && s.out_channels >= lanes &&
         sums_fit_int16(s, codes, input_max) && is_ternary(s, codes);
}
// Lays out `conv` (shape, input_max and codes set) for the table kernels of
// `lanes` channels per block; their unsigned byte sums take up to
// 4·input_max per step.
void prepare_lut(PreparedConv& conv, const int8_t* codes, int32_t lanes, ConvKernelFn* u8,
                 ConvKernelFn* i16) {
  conv.variant = kVariantTernaryLut;
  conv.steps_per_widen = 255 / (4 * conv.input_max);
  conv.packed.resize(lut_weight_bytes(conv.shape, lanes));
  pack_ternary_lut(conv.shape, codes, lanes, conv.packed.data());
  conv.u8_kernel = entry(u8);
  conv.i16_kernel = entry(i16);
}

}  // namespace

PreparedConv prepare_conv(const ConvShape& shape, const int8_t* codes, int32_t input_max,
                          Isa isa) {
  if (shape.kernel <= 0 || shape.kernel % 2 == 0 || shape.height <= 0 || shape.width <= 0 ||
      shape.in_channels <= 0 || shape.out_channels <= 0) {
    throw Error("prepare_conv: bad shape (kernel " + std::to_string(shape.kernel) + ", " +
                std::to_string(shape.height) + "x" + std::to_string(shape.width) + "x" +
                std::to_string(shape.in_channels) + " -> " + std::to_string(shape.out_channels) +
                "); expected positive sizes and an odd kernel");
  }
  const std::vector<Isa> isas = available_isas();
  if (std::find(isas.begin(), isas.end(), isa) == isas.end()) {
    throw Error(std::string("prepare_conv: ISA ") + isa_name(isa) + " is not supported by this CPU");
  }
  PreparedConv conv;
  conv.shape = shape;
  conv.isa = isa;
  conv.input_max = input_max;
  switch (isa) {
    case Isa::kScalar:
      conv.codes.assign(codes, codes + size_t(shape.out_channels) * shape.kernel * shape.kernel *
                                           shape.in_channels);
      conv.u8_kernel = entry(&scalar::conv_u8);
      conv.i16_kernel = entry(&scalar::conv_i16);
      break;
#if MAQD_RT_X86_KERNELS
    case Isa::kAvx2: {
      const int32_t widen = steps_per_widen(shape, codes, input_max);
      // Tables only where a block fills its 32 lanes: on the 16-channel
      // layer vpmaddubsw ran 1.6x faster (one bench_runtime_kernels run);
      // with tables on the wider layers the whole (3, 4) model ran 1.1-1.25x
      // faster (three alternating maqd run pairs, AVX2 pinned). Up to
      // inputs ≤ 12, the 2x2 pool sums of 2-bit codes: on the 32- to
      // 128-channel VGG-1/4 layers tables took 1/1.5 of vpmaddubsw's time at
      // inputs ≤ 4 and 1/1.15 at ≤ 12, though they widen every 2 steps there
      // (fastest of five alternating bench_runtime_kernels runs each).
      // Binary inputs on maps of more than one 32-lane block: the weight
      // tables, 8x the masks' bytes, each serving ⌈positions / 32⌉
      // lookups per image. On an AVX2-only Zen 3 they took about 0.7x the
      // masks' time on the 28x28 and 14x14 VGG-1/4 layers and 0.8x on
      // 7x7; an earlier version took 2.4x on 3x3 (alternating maqd run
      // --profile pairs, docs/results.md, issue 14 round 6).
      if (is_binary_ternary(shape, codes, input_max) && sums_fit_int16(shape, codes, input_max) &&
          binary_table_positions(shape, shape.height) >= kBinaryTablesMinPositions) {
        conv.variant = kVariantBinaryTables;
        conv.steps_per_widen = 127 / 4;  // int8 sums of steps in [−4, 4]
        conv.packed.resize(binary_table_weight_bytes(shape));
        pack_binary_tables(shape, codes, conv.packed.data());
        conv.u8_kernel = entry(&avx2::conv_u8_binary_tables);
        conv.i16_kernel = entry(&avx2::conv_i16_binary_tables);
        break;
      }
      if (lut_applies(shape, codes, input_max, 32)) {
        prepare_lut(conv, codes, 32, &avx2::conv_u8_tables, &avx2::conv_i16_tables);
        break;
      }
      if (sums_fit_int16(shape, codes, input_max)) {
        conv.variant = kVariantI16Sums;
      } else if (widen > 0) {
        conv.variant = kVariantI16Periodic;
        conv.steps_per_widen = widen;
      }
      if (avx2_uses_u8_weights(conv.variant)) {
        conv.packed.resize(direct_weight_bytes(shape, 8, 4));
        pack_grouped<int8_t>(shape, codes, 8, conv.packed.data());
      } else {
        conv.packed.resize(direct_weight_bytes(shape, 8, 2));
        pack_grouped<int16_t>(shape, codes, 8, conv.packed.data());
      }
      const bool sums = conv.variant == kVariantI16Sums, periodic = conv.variant == kVariantI16Periodic;
      conv.u8_kernel = entry(sums ? &avx2::conv_u8_sums : periodic ? &avx2::conv_u8_periodic : &avx2::conv_u8_widened);
      conv.i16_kernel =
          entry(sums ? &avx2::conv_i16_sums : periodic ? &avx2::conv_i16_periodic : &avx2::conv_i16_widened);
      break;
    }
    case Isa::kAvx512: {
      if (cpu_features().vpopcntdq && is_binary_ternary(shape, codes, input_max)) {
        conv.variant = kVariantBinaryTernary;
      } else if (cpu_features().avx2 && lut_applies(shape, codes, input_max, 64)) {
        // Tables on the 64- to 128-channel VGG-1/4 layers ran faster than
        // vpdpbusd (docs/results.md, issue 14 round 5).
        prepare_lut(conv, codes, 64, &avx512::conv_u8_tables, &avx512::conv_i16_tables);
        break;
      }
      const size_t i16_offset = avx512_i16_offset(shape, conv.variant);
      const bool i16 = avx512_needs_i16_weights(input_max, conv.variant);
      conv.packed.resize(i16 ? i16_offset + direct_weight_bytes(shape, 16, 2)
                             : i16_offset);
      if (conv.variant == kVariantBinaryTernary) {
        pack_binary(shape, codes, conv.packed.data());
      } else {
        pack_grouped<int8_t>(shape, codes, 16, conv.packed.data());
      }
      if (i16) pack_grouped<int16_t>(shape, codes, 16, conv.packed.data() + i16_offset);
      const bool binary = conv.variant == kVariantBinaryTernary;
      conv.u8_kernel = entry(binary ? &avx512::conv_u8_binary : &avx512::conv_u8_dpbusd);
      conv.i16_kernel = entry(i16 ? &avx512::conv_i16_dpwssd : &avx512::conv_i16_dpbusd);
      break;
    }
#endif
#if MAQD_RT_NEON_KERNELS
    case Isa::kNeon:
    case Isa::kNeonDot: {
      // SDOT multiplies signed bytes: inputs in [0, 127] (codes below 128,
      // pool sums of codes up to 31) as int8; the rest as int16 (SMLAL,
      // the neon entries: a neondot conv may run a neon kernel).
      const bool sdot = isa == Isa::kNeonDot && input_max >= 0 && input_max <= 127;
      conv.variant = kVariantDirect;
      if (sdot) {
        conv.packed.resize(direct_weight_bytes(shape, 8, 4));
        pack_grouped<int8_t>(shape, codes, 8, conv.packed.data());
        conv.u8_kernel = entry(&neondot::conv_u8_sdot);
        conv.i16_kernel = entry(&neondot::conv_i16_sdot);
      } else {
        conv.packed.resize(direct_weight_bytes(shape, 8, 2));
        pack_grouped<int16_t, true>(shape, codes, 8, conv.packed.data());
        conv.u8_kernel = entry(&neon::conv_u8_smlal);
        conv.i16_kernel = entry(&neon::conv_i16_smlal);
      }
      break;
    }
#endif
    default:
      break;
  }
  return conv;
}

size_t weight_bytes_read(const PreparedConv& conv, bool i16_input) {
  if (conv.isa != Isa::kAvx512 || conv.variant == kVariantTernaryLut) return conv.packed.size();
  const size_t i16_offset = avx512_i16_offset(conv.shape, conv.variant);
  if (conv.packed.size() <= i16_offset) return conv.packed.size();  // no i16 copy
  // (With a copy, the i16 kernel is vpdpwssd on it and the u8 one reads the rest.)
  return i16_input ? conv.packed.size() - i16_offset : i16_offset;
}

size_t conv_scratch_bytes(const PreparedConv& conv) {
  const ConvShape& s = conv.shape;
  // Slack for the vector kernels' full-width loads at a row's end.
  constexpr size_t kSlack = 64;
  // The u8 or the i16 copy (either may be the larger where one is dx-packed).
  const size_t direct_bytes = std::max(direct_input_bytes(s, 4), direct_input_bytes(s, 2));
  switch (conv.isa) {
    case Isa::kScalar:
      return 0;
    case Isa::kAvx2:
      if (conv.variant == kVariantTernaryLut) return lut_table_bytes(s) + kSlack;
      if (conv.variant == kVariantBinaryTables)
        return binary_nibble_bytes(s, s.height) + kSlack;
      return direct_bytes + kSlack;
    case Isa::kAvx512: {
      size_t bytes = direct_bytes;
      if (conv.variant == kVariantTernaryLut) bytes = std::max(bytes, lut_table_bytes(s));
      if (conv.variant == kVariantBinaryTernary) {
        const int32_t pad = s.kernel / 2;
        const size_t rows = (size_t(s.height) + 2 * size_t(pad)) * binary_row_words64(s) * 8;
        const size_t windows = (size_t(s.height) + 2 * size_t(pad)) * s.width * binary_words_per_dy(s) * 4;
        bytes = std::max(bytes, rows + windows);
      }
      return bytes + kSlack;
    }
    case Isa::kNeon:
    case Isa::kNeonDot:
      return direct_bytes + kSlack;
  }
  return 0;
}

void conv_u8(const PreparedConv& conv, const uint8_t* in, int32_t* out, int32_t row_begin,
             int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  conv.u8_kernel->run(view_of(conv), in, out, row_begin, row_end, oc_begin, oc_end, scratch);
}

void conv_i16(const PreparedConv& conv, const int16_t* in, int32_t* out, int32_t row_begin,
              int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  conv.i16_kernel->run(view_of(conv), in, out, row_begin, row_end, oc_begin, oc_end, scratch);
}

bool fuses_requant(const PreparedConv& conv, bool i16_input, const InputThresholds& requant) {
  const ConvKernel* kernel = i16_input ? conv.i16_kernel : conv.u8_kernel;
  return kernel && kernel->run_requant && requant.levels >= 2 && requant.channels == conv.shape.out_channels;
}

void conv_requant(const PreparedConv& conv, const void* in, bool i16_input,
                  const InputThresholds& requant, uint8_t* out, int32_t row_begin,
                  int32_t row_end, int32_t oc_begin, int32_t oc_end, void* scratch) {
  if (!fuses_requant(conv, i16_input, requant))
    throw Error("maqd-rt: conv_requant: this conv's kernel has no requant epilogue, or the requant's " +
                std::to_string(requant.channels) + " channels are not the conv's " +
                std::to_string(conv.shape.out_channels));
  RequantView view;
  view.count = requant.levels - 1;
  view.thresholds = requant.thresholds.data();
  view.flip = requant.flip.data();
  view.base = requant.base.data();
  const ConvKernel* kernel = i16_input ? conv.i16_kernel : conv.u8_kernel;
  kernel->run_requant(view_of(conv), in, view, out, row_begin, row_end, oc_begin, oc_end, scratch);
}

// Pools and LUTs stay scalar for every ISA: they touch each element once
// with an add or a load, a small share of a layer's time next to its conv,
// and the compiler vectorizes the pool loops on its own.
void pool_sum_u8(const uint8_t* in, int16_t* out, int32_t in_height, int32_t in_width,
                 int32_t channels, Isa) {
  scalar::pool_sum_u8(in, out, in_height, in_width, channels);
}
void pool_sum_i16(const int16_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels, Isa) {
  scalar::pool_sum_i16(in, out, in_height, in_width, channels);
}
void pool_sum_i32(const int32_t* in, int32_t* out, int32_t in_height, int32_t in_width,
                  int32_t channels, Isa) {
  scalar::pool_sum_i32(in, out, in_height, in_width, channels);
}

namespace {
bool fit_int32(const int64_t* values, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (values[i] < INT32_MIN || values[i] > INT32_MAX) return false;
  return true;
}
}  // namespace

bool requant_multiplies_int32(const int64_t* multipliers, int32_t num_inputs, int32_t levels,
                              int32_t channels) {
  return levels >= 2 && levels <= kRequantLinearMaxLevels &&
         fit_int32(multipliers, int64_t(num_inputs) * channels);
}

void requant(const int32_t* const* inputs, int32_t num_inputs, const int64_t* multipliers,
             const int64_t* thresholds, int32_t levels, int64_t pixels, int32_t channels,
             uint8_t* out, Isa isa) {
  switch (usable_isa(isa)) {
#if MAQD_RT_X86_KERNELS
    case Isa::kAvx512:
      return avx512::requant(inputs, num_inputs, multipliers, thresholds, levels, pixels,
                             channels, out);
    case Isa::kAvx2:
      if (requant_multiplies_int32(multipliers, num_inputs, levels, channels))
        return avx2::requant(inputs, num_inputs, multipliers, thresholds, levels, pixels,
                             channels, out);
      break;
#endif
#if MAQD_RT_NEON_KERNELS
    case Isa::kNeon:
    case Isa::kNeonDot:
      if (requant_multiplies_int32(multipliers, num_inputs, levels, channels))
        return neon::requant(inputs, num_inputs, multipliers, thresholds, levels, pixels,
                             channels, out);
      break;
#endif
    default:
      break;
  }
  return scalar::requant(inputs, num_inputs, multipliers, thresholds, levels, pixels, channels,
                         out);
}

namespace {
int64_t floor_div(int64_t a, int64_t b) {  // b ≠ 0, not (INT64_MIN, −1)
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t ceil_div64(int64_t a, int64_t b) {  // b > 0
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}
}  // namespace

bool prepare_input_thresholds(const int64_t* multipliers, const int64_t* thresholds, int32_t levels,
                              int32_t channels, InputThresholds* prepared) {
  if (levels < 2 || levels > kRequantInputMaxLevels || channels < 1) return false;
  if (!fit_int32(multipliers, channels)) return false;
  const int32_t count = levels - 1;
  InputThresholds t;
  t.levels = levels;
  t.channels = channels;
  t.thresholds.resize(size_t(channels) * count);
  t.flip.resize(size_t(channels));
  t.base.resize(size_t(channels));
  for (int32_t c = 0; c < channels; ++c) {
    const int64_t m = multipliers[c];
    t.flip[c] = m < 0 ? -1 : 0;
    int32_t never = 0;
    for (int32_t k = 0; k < count; ++k) {
      const int64_t threshold = thresholds[size_t(c) * count + k];
      // What x must satisfy: always, never, or x' ≥ bound with x' = x XOR flip.
      bool always = false, unreachable = false;
      int64_t bound = 0;
      if (m == 0) {
        (threshold <= 0 ? always : unreachable) = true;
      } else if (m > 0) {
        bound = ceil_div64(threshold, m);  // x ≥ bound
        always = bound <= INT32_MIN;
        unreachable = bound > INT32_MAX;
      } else if (threshold == INT64_MIN && m == -1) {
        always = true;  // x ≤ 2^63
      } else {
        const int64_t v = floor_div(threshold, m);  // x ≤ v ⇔ ~x ≥ ~v
        always = v >= INT32_MAX;
        unreachable = v < INT32_MIN;
        bound = ~v;
      }
      // An always-true compare is x' ≥ INT32_MIN; an unreachable one is
      // counted the same way and taken back from base.
      t.thresholds[size_t(c) * count + k] = always || unreachable ? INT32_MIN : int32_t(bound);
      never += unreachable;
    }
    t.base[c] = count - never;
  }
  *prepared = std::move(t);
  return true;
}

void requant_input(const InputThresholds& t, const int32_t* in, int64_t pixels, uint8_t* out,
                   Isa isa) {
  const int32_t count = t.levels - 1;
  switch (usable_isa(isa)) {
#if MAQD_RT_X86_KERNELS
    case Isa::kAvx512:
      return avx512::requant_input(t.thresholds.data(), t.flip.data(), t.base.data(), count,
                                   t.channels, in, pixels, out);
    case Isa::kAvx2:
      return avx2::requant_input(t.thresholds.data(), t.flip.data(), t.base.data(), count,
                                 t.channels, in, pixels, out);
#endif
#if MAQD_RT_NEON_KERNELS
    case Isa::kNeon:
    case Isa::kNeonDot:
      return neon::requant_input(t.thresholds.data(), t.flip.data(), t.base.data(), count,
                                 t.channels, in, pixels, out);
#endif
    default:
      return scalar::requant_input(t.thresholds.data(), t.flip.data(), t.base.data(), count,
                                   t.channels, in, pixels, out);
  }
}

}  // namespace maqd_rt::kernels
