// The paper's architecture notation (Appendix A) and its parser. Pure C++: no
// LibTorch is needed to read an architecture.
//
// Grammar (whitespace is allowed around every token and symbol):
//   arch     := item ('-' item)*
//   item     := layer | '(' arch ')' [repeat]        groups nest
//   repeat   := ('x' | '×') count                    count ≥ 1; ASCII x or U+00D7
//   layer    := xCk                                  conv: x out channels, k×k kernel,
//                                                    stride 1, padding k/2 (k odd)
//             | xBy                                  pre-activation residual block,
//                                                    x channels, stride y ∈ {1, 2}
//             | AP                                   2×2 average pooling (floor)
//             | GAP                                  global average pooling
//
// The output layer. The LAST conv of the expanded sequence is the network's
// output layer: float weights with a bias, no normalization or activation, and
// its channel count is the data set's class count whatever x it is written
// with (the presets write `10C1` for CIFAR-10; `10C1` means "classes × 1×1").
// Only pooling (AP, GAP) may follow it. Every other conv is a hidden layer.
//
// Reading of `xCy`: the appendix's legend calls y the stride, but stride-3
// convs could not run VGG on a 32×32 image and block strides are done by AP,
// so y is read as the kernel size with stride 1 (docs/method.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace maqd {

enum class ArchLayerKind {
  kConv,           // xCk (hidden or, for the last conv, the output layer)
  kAvgPool,        // AP
  kGlobalAvgPool,  // GAP
  kResidualBlock,  // xBy
};
std::string to_string(ArchLayerKind kind);  // "conv" | "ap" | "gap" | "block"

// One layer of the expanded notation.
struct ArchLayer {
  ArchLayerKind kind = ArchLayerKind::kConv;
  int64_t channels = 0;     // x of xCk / xBy as written (before any width multiplier); 0 for pools
  int64_t kernel_size = 0;  // k of xCk; 0 otherwise
  int64_t stride = 1;       // y of xBy; 1 otherwise
  bool is_output = false;   // the last conv: its channels follow the data set, not x
  std::string token;        // as written, e.g. "64C3"
  size_t position = 0;      // byte offset of the token in the notation string

  // Equal layers: same kind, numbers and role (token spelling and position aside).
  friend bool operator==(const ArchLayer& a, const ArchLayer& b) {
    return a.kind == b.kind && a.channels == b.channels && a.kernel_size == b.kernel_size &&
           a.stride == b.stride && a.is_output == b.is_output;
  }
  friend bool operator!=(const ArchLayer& a, const ArchLayer& b) { return !(a == b); }
};

struct ArchPreset {
  const char* name;      // "vgg", "preact-resnet", "cnn9"
  const char* notation;  // SPEC §6 / docs: the paper's Appendix A strings
};

// The presets, in a fixed order.
const std::vector<ArchPreset>& arch_presets();

// The notation of a preset name; any other text is returned unchanged.
std::string resolve_arch(const std::string& name_or_notation);

// Parses a preset name or a notation string into its expanded layer sequence.
// Throws maqd::Error naming the arch string, the position and token, and what
// was expected there. Expansions longer than kMaxArchLayers are refused.
inline constexpr size_t kMaxArchLayers = 100000;
std::vector<ArchLayer> parse_arch(const std::string& name_or_notation);

// The expanded notation in canonical spelling, joined by '-'
// (e.g. "64C3-64C3-AP-10C1-GAP"); parse_arch(format_arch(l)) == l.
std::string format_arch(const std::vector<ArchLayer>& layers);

// The notation as a network with `num_classes` outputs is built: the output
// conv's count as written (the paper writes 10C1 for CIFAR-10) replaced by
// num_classes, e.g. "(64C3)x2-AP-10C1-GAP" → "(64C3)x2-AP-3C1-GAP". What a
// model file records, so that its arch says what it computes.
std::string notation_with_classes(const std::string& notation, int64_t num_classes);

}  // namespace maqd
