// Each conv kernel of maqd-rt on the layers of VGG 1/4 (28x28 inputs), one
// thread: giga multiply-adds per second and the share of the arithmetic
// limit of the instruction the kernel is built on (limits.h), measured in
// the same run. Every ISA this CPU runs, or those MAQD_ISA allows.
//
//   bench_runtime_kernels [--seconds S] [--rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kernels/internal.h"
#include "limits.h"

namespace k = maqd_rt::kernels;
using maqd_bench::Instruction;

namespace maqd_bench {

const char* instruction_name(Instruction instruction) {
  switch (instruction) {
    case Instruction::kAvx2Maddubs: return "vpmaddubsw+vpaddw";
    case Instruction::kAvx2Maddwd: return "vpmaddwd+vpaddd";
    case Instruction::kAvx2ShufbTernary: return "vpshufb x2+vpsubb+vpaddb";
    case Instruction::kAvx2ShufbBinary: return "vpshufb+vpaddb";
    case Instruction::kAvx512Dpbusd: return "vpdpbusd";
    case Instruction::kAvx512Dpwssd: return "vpdpwssd";
    case Instruction::kAvx512PopcntTernary: return "and+vpopcntd x2";
    case Instruction::kAvx512ShufbTernary: return "vpshufb zmm x2+sub+add";
  }
  return "?";
}

double limit_macs_per_second(Instruction instruction, int64_t iterations) {
  int64_t macs = 0;
  double seconds = 0;
  switch (instruction) {
    case Instruction::kAvx2Maddubs: seconds = avx2::maddubs_seconds(iterations, &macs); break;
    case Instruction::kAvx2Maddwd: seconds = avx2::maddwd_seconds(iterations, &macs); break;
    case Instruction::kAvx2ShufbTernary: seconds = avx2::shufb_ternary_seconds(iterations, &macs); break;
    case Instruction::kAvx2ShufbBinary: seconds = avx2::shufb_binary_seconds(iterations, &macs); break;
    case Instruction::kAvx512Dpbusd: seconds = avx512::dpbusd_seconds(iterations, &macs); break;
    case Instruction::kAvx512Dpwssd: seconds = avx512::dpwssd_seconds(iterations, &macs); break;
    case Instruction::kAvx512PopcntTernary: seconds = avx512::popcnt_ternary_seconds(iterations, &macs); break;
    case Instruction::kAvx512ShufbTernary: seconds = avx512::shufb_ternary_seconds(iterations, &macs); break;
  }
  return double(macs) / seconds;
}

}  // namespace maqd_bench

namespace {

using Clock = std::chrono::steady_clock;

// The limit loop of a kernel table entry's instruction.
Instruction instruction_of(const k::ConvKernel& kernel) {
  const std::string name = kernel.instruction;
  if (name == "vpshufb") return Instruction::kAvx2ShufbTernary;
  if (name == "vpshufb weight tables") return Instruction::kAvx2ShufbBinary;
  if (name == "vpshufb zmm") return Instruction::kAvx512ShufbTernary;
  if (name == "vpmaddubsw") return Instruction::kAvx2Maddubs;
  if (name == "vpmaddwd") return Instruction::kAvx2Maddwd;
  if (name == "vpopcntd") return Instruction::kAvx512PopcntTernary;
  if (name == "vpdpwssd") return Instruction::kAvx512Dpwssd;
  return Instruction::kAvx512Dpbusd;
}

template <typename F>
double median_seconds_per_call(F&& call, double min_seconds, int rounds) {
  std::vector<double> per_call;
  for (int r = 0; r < rounds; ++r) {
    int64_t calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      call();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < min_seconds);
    per_call.push_back(elapsed / double(calls));
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

struct Layer {
  int32_t side, in, out;
};

struct Codes {
  const char* name;
  int32_t input_max;  // the producer's largest value
  int max_code;       // codes drawn from [-max_code, max_code]
  bool i16_input;     // after a pool: i16 tensor
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"maqd-rt conv kernels: GMAC/s and share of the instruction's limit, one thread"};
  double seconds = 0.2;
  int rounds = 3;
  app.add_option("--seconds", seconds, "Minimum time per measurement")->capture_default_str();
  app.add_option("--rounds", rounds, "Measurements per kernel (the median is printed)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::vector<Layer> layers{{28, 16, 16}, {28, 16, 32}, {28, 32, 32}, {14, 32, 64},
                                  {14, 64, 64}, {7, 64, 128}, {7, 128, 128}, {3, 128, 128}};
  // (M_w, M_a) pairs as the exporter writes them: codes ≤ (M_w − 1)/2,
  // inputs ≤ M_a − 1, or 4·(M_a − 1) as i16 after a 2x2 pool.
  const std::vector<Codes> kinds{{"(3,2) binary", 1, 1, false},    {"(3,2) after pool", 4, 1, true},
                                 {"(3,4) 2-bit", 3, 1, false},     {"(3,4) after pool", 12, 1, true},
                                 {"(15,8) 3-bit", 7, 7, false},
                                 {"(255,8) 3-bit", 7, 127, false}, {"(255,8) after pool", 28, 127, true}};

  std::vector<k::Isa> isas = k::available_isas();
  const k::Isa cap = k::detect_isa();
  isas.erase(std::remove_if(isas.begin(), isas.end(),
                            [&](k::Isa isa) { return isa == k::Isa::kScalar || k::isa_level(isa) > k::isa_level(cap); }),
             isas.end());
  if (isas.empty()) {
    std::printf("no vector ISA on this CPU (or MAQD_ISA=scalar): nothing to measure\n");
    return 0;
  }

  std::printf("limits (one thread, %d rounds; multiply-adds per second of a register-only loop):\n", rounds);
  std::vector<std::pair<Instruction, double>> limits;
  for (k::Isa isa : isas) {
    const std::vector<Instruction> instructions =
        isa == k::Isa::kAvx2 ? std::vector<Instruction>{Instruction::kAvx2Maddubs, Instruction::kAvx2Maddwd,
                                                        Instruction::kAvx2ShufbTernary,
                                                        Instruction::kAvx2ShufbBinary}
        : k::cpu_features().vpopcntdq
            ? std::vector<Instruction>{Instruction::kAvx512Dpbusd, Instruction::kAvx512Dpwssd,
                                       Instruction::kAvx512PopcntTernary, Instruction::kAvx512ShufbTernary}
            : std::vector<Instruction>{Instruction::kAvx512Dpbusd, Instruction::kAvx512Dpwssd,
                                       Instruction::kAvx512ShufbTernary};
    for (Instruction instruction : instructions) {
      std::vector<double> values;
      for (int r = 0; r < rounds; ++r) values.push_back(maqd_bench::limit_macs_per_second(instruction, 20'000'000));
      std::sort(values.begin(), values.end());
      const double limit = values[values.size() / 2];
      limits.push_back({instruction, limit});
      std::printf("  %-7s %-20s %8.1f GMAC/s\n", k::isa_name(isa), maqd_bench::instruction_name(instruction),
                  limit / 1e9);
    }
  }

  std::printf("\n%-7s %-20s %-16s %-50s %8s %8s %7s\n", "isa", "codes", "layer", "kernel", "us", "GMAC/s",
              "limit");
  std::mt19937_64 rng(1);
  for (k::Isa isa : isas)
    for (const Codes& kind : kinds)
      for (const Layer& layer : layers) {
        const k::ConvShape shape{layer.side, layer.side, layer.in, layer.out, 3};
        std::uniform_int_distribution<int> code(-kind.max_code, kind.max_code), value(0, kind.input_max);
        std::vector<int8_t> codes(size_t(layer.out) * 9 * layer.in);
        for (int8_t& c : codes) c = int8_t(code(rng));
        const k::PreparedConv conv = k::prepare_conv(shape, codes.data(), kind.input_max, isa);
        std::vector<uint8_t> scratch(k::conv_scratch_bytes(conv));
        std::vector<int32_t> out(size_t(layer.side) * layer.side * layer.out);
        const size_t pixels = size_t(layer.side) * layer.side * layer.in;
        std::vector<uint8_t> in8(pixels);
        std::vector<int16_t> in16(pixels);
        for (size_t i = 0; i < pixels; ++i) in16[i] = int16_t(in8[i] = uint8_t(value(rng) & 0xFF));
        if (kind.i16_input)
          for (int16_t& v : in16) v = int16_t(value(rng));
        const double per_call = median_seconds_per_call(
            [&] {
              if (kind.i16_input)
                k::conv_i16(conv, in16.data(), out.data(), 0, layer.side, 0, layer.out, scratch.data());
              else
                k::conv_u8(conv, in8.data(), out.data(), 0, layer.side, 0, layer.out, scratch.data());
            },
            seconds, rounds);
        const double macs = double(layer.side) * layer.side * layer.out * 9 * layer.in;
        const k::ConvKernel& kernel = *(kind.i16_input ? conv.i16_kernel : conv.u8_kernel);
        const Instruction instruction = instruction_of(kernel);
        double limit = 0;
        for (const auto& [i, l] : limits)
          if (i == instruction) limit = l;
        char name[32];
        std::snprintf(name, sizeof name, "%dx%dx%d->%d", layer.side, layer.side, layer.in, layer.out);
        std::printf("%-7s %-20s %-16s %-50s %8.2f %8.1f %6.1f%%\n", k::isa_name(isa), kind.name, name,
                    kernel.name, per_call * 1e6, macs / per_call / 1e9,
                    100 * macs / per_call / limit);
        // Where the kernel has a requant epilogue, also the pair as the
        // engine runs it (binary codes out, as in the (3, 2) model).
        const std::vector<int64_t> ones(size_t(layer.out), 1), zeros(size_t(layer.out), 0);
        k::InputThresholds binary;
        if (k::prepare_input_thresholds(ones.data(), zeros.data(), 2, layer.out, &binary) &&
            k::fuses_requant(conv, kind.i16_input, binary)) {
          std::vector<uint8_t> codes_out(out.size());
          const void* in = kind.i16_input ? static_cast<const void*>(in16.data()) : in8.data();
          const double fused = median_seconds_per_call(
              [&] {
                k::conv_requant(conv, in, kind.i16_input, binary, codes_out.data(), 0, layer.side, 0, layer.out,
                                scratch.data());
              },
              seconds, rounds);
          const std::string with = std::string(kernel.name) + ", requant";
          std::printf("%-7s %-20s %-16s %-50s %8.2f %8.1f %6.1f%%\n", k::isa_name(isa), kind.name, name,
                      with.c_str(), fused * 1e6, macs / fused / 1e9, 100 * macs / fused / limit);
        }
      }
  return 0;
}
