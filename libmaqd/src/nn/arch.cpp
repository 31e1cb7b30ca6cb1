// A recursive-descent parser of the architecture notation (grammar in
// maqd/nn/arch.h). Groups are expanded while parsing; the output layer is
// marked once the whole sequence is known.
#include "maqd/nn/arch.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "maqd/error.h"

namespace maqd {
namespace {

constexpr int64_t kMaxNumber = 1000000;  // channels, kernel sizes, repeat counts
constexpr int kMaxDepth = 64;            // nesting of '(' groups

const char* const kExpectedLayer = "a layer (xCk, xBy, AP, GAP) or a '(' group";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  std::vector<ArchLayer> parse() {
    std::vector<ArchLayer> layers = sequence(0);
    skip_space();
    if (pos_ < text_.size()) {
      if (text_[pos_] == ')') fail(pos_, ")", "'-' or the end of the string (this ')' closes no group)");
      fail(pos_, word_at(pos_), "'-' between layers, or the end of the string");
    }
    return layers;
  }

  [[noreturn]] void fail(size_t position, const std::string& token, const std::string& expected) const {
    std::ostringstream out;
    out << "arch \"" << text_ << "\": at position " << position << ", ";
    if (token.empty())
      out << "the end of the string";
    else
      out << "token '" << token << "'";
    out << ": expected " << expected;
    throw Error(out.str());
  }

 private:
  std::vector<ArchLayer> sequence(int depth) {
    std::vector<ArchLayer> layers;
    for (;;) {
      std::vector<ArchLayer> part = item(depth);
      append(layers, part, 1, pos_);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '-') {
        ++pos_;
        continue;
      }
      return layers;
    }
  }

  std::vector<ArchLayer> item(int depth) {
    skip_space();
    if (pos_ >= text_.size()) fail(pos_, "", kExpectedLayer);
    const char c = text_[pos_];
    if (c == '(') return group(depth);
    if (c == '-' || c == ')') fail(pos_, std::string(1, c), kExpectedLayer);
    return {layer()};
  }

  std::vector<ArchLayer> group(int depth) {
    const size_t open = pos_;
    if (depth >= kMaxDepth)
      fail(open, "(", "at most " + std::to_string(kMaxDepth) + " nested groups");
    ++pos_;  // '('
    std::vector<ArchLayer> inner = sequence(depth + 1);
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != ')')
      fail(pos_, pos_ < text_.size() ? word_at(pos_) : "",
           "'-' or ')' closing the group opened at position " + std::to_string(open));
    ++pos_;  // ')'
    skip_space();
    int64_t count = 1;
    const size_t repeat_at = pos_;
    if (consume_times()) {
      skip_space();
      const size_t count_at = pos_;
      if (pos_ >= text_.size() || !is_digit(text_[pos_]))
        fail(count_at, pos_ < text_.size() ? word_at(pos_) : "",
             "a repeat count (an integer ≥ 1) after the 'x' at position " + std::to_string(repeat_at));
      const std::string digits = read_digits();
      count = to_number(digits, count_at, "the repeat count");
      if (count < 1) fail(count_at, digits, "a repeat count ≥ 1");
    }
    std::vector<ArchLayer> layers;
    append(layers, inner, count, open);
    return layers;
  }

  ArchLayer layer() {
    const size_t start = pos_;
    const std::string word = read_word();
    ArchLayer layer;
    layer.token = word;
    layer.position = start;
    if (word == "AP") {
      layer.kind = ArchLayerKind::kAvgPool;
      return layer;
    }
    if (word == "GAP") {
      layer.kind = ArchLayerKind::kGlobalAvgPool;
      return layer;
    }
    // xCk or xBy: digits, one letter, digits, nothing else.
    size_t i = 0;
    while (i < word.size() && is_digit(word[i])) ++i;
    const size_t letter = i;
    size_t j = letter + 1;
    while (j < word.size() && is_digit(word[j])) ++j;
    const bool shaped = letter > 0 && letter < word.size() &&
                        (word[letter] == 'C' || word[letter] == 'B') && j > letter + 1 &&
                        j == word.size();
    if (!shaped) {
      std::string expected = kExpectedLayer;
      if (j < word.size() && letter > 0 && (word[letter] == 'C' || word[letter] == 'B') &&
          (word[j] == 'x' || word[j] == '\xC3'))
        expected += "; a repetition applies to a parenthesized group, e.g. (" +
                    word.substr(0, j) + ")" + word.substr(j);
      if (text_.find_first_of("-(") == std::string::npos) {
        expected += ", or the name of a preset:";
        for (const ArchPreset& preset : arch_presets()) expected += std::string(" ") + preset.name;
      }
      fail(start, word, expected);
    }
    const int64_t x = to_number(word.substr(0, letter), start, "the channel count x");
    const int64_t y = to_number(word.substr(letter + 1), start, "the number after the letter");
    if (x < 1) fail(start, word, "a channel count x ≥ 1");
    layer.channels = x;
    if (word[letter] == 'C') {
      layer.kind = ArchLayerKind::kConv;
      if (y < 1 || y % 2 == 0)
        fail(start, word, "an odd kernel size k ≥ 1 in xCk (padding k/2 keeps the spatial size), got " +
                              std::to_string(y));
      layer.kernel_size = y;
    } else {
      layer.kind = ArchLayerKind::kResidualBlock;
      if (y != 1 && y != 2) fail(start, word, "a block stride y of 1 or 2 in xBy, got " + std::to_string(y));
      layer.stride = y;
    }
    return layer;
  }

  // Appends `count` copies of `part`, refusing expansions past kMaxArchLayers.
  void append(std::vector<ArchLayer>& layers, const std::vector<ArchLayer>& part, int64_t count,
              size_t position) const {
    const size_t room = kMaxArchLayers - layers.size();
    if (part.size() > room || static_cast<size_t>(count) > room / part.size())
      fail(position, word_at(position),
           "an expansion of at most " + std::to_string(kMaxArchLayers) + " layers");
    for (int64_t r = 0; r < count; ++r) layers.insert(layers.end(), part.begin(), part.end());
  }

  // 'x' or the UTF-8 encoding of '×' (U+00D7: C3 97).
  bool consume_times() {
    if (pos_ < text_.size() && text_[pos_] == 'x') {
      ++pos_;
      return true;
    }
    if (text_.compare(pos_, 2, "\xC3\x97") == 0) {
      pos_ += 2;
      return true;
    }
    return false;
  }

  int64_t to_number(const std::string& digits, size_t position, const std::string& what) const {
    int64_t value = 0;
    for (char c : digits) {
      value = value * 10 + (c - '0');
      if (value > kMaxNumber)
        fail(position, word_at(position), what + " of at most " + std::to_string(kMaxNumber));
    }
    return value;
  }

  std::string read_digits() {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string read_word() {
    const size_t start = pos_;
    pos_ = word_end(pos_);
    return text_.substr(start, pos_ - start);
  }

  size_t word_end(size_t from) const {
    size_t end = from;
    while (end < text_.size() && !is_space(text_[end]) && text_[end] != '-' && text_[end] != '(' &&
           text_[end] != ')')
      ++end;
    return end;
  }

  // The token starting at `from`, for messages: a word, or a single symbol.
  std::string word_at(size_t from) const {
    if (from >= text_.size()) return "";
    const size_t end = word_end(from);
    return end > from ? text_.substr(from, end - from) : std::string(1, text_[from]);
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  const std::string& text_;
  size_t pos_ = 0;
};

}  // namespace

std::string to_string(ArchLayerKind kind) {
  switch (kind) {
    case ArchLayerKind::kConv: return "conv";
    case ArchLayerKind::kAvgPool: return "ap";
    case ArchLayerKind::kGlobalAvgPool: return "gap";
    case ArchLayerKind::kResidualBlock: return "block";
  }
  return "?";
}

const std::vector<ArchPreset>& arch_presets() {
  static const std::vector<ArchPreset> presets = {
      {"vgg", "(64C3)x2-(128C3)x2-AP-(256C3)x4-AP-(512C3)x4-AP-(512C3)x4-10C1-GAP"},
      {"preact-resnet", "64B1-128B1-256B2-256B2-512B2-512B2-512B2-512B2-10C1-GAP"},
      // The paper's "non-quantized 9-layer CNN" is not specified; this is maqd's definition.
      {"cnn9", "(64C3)x2-AP-(128C3)x2-AP-(256C3)x2-AP-(512C3)x2-10C1-GAP"},
  };
  return presets;
}

std::string resolve_arch(const std::string& name_or_notation) {
  for (const ArchPreset& preset : arch_presets())
    if (name_or_notation == preset.name) return preset.notation;
  return name_or_notation;
}

std::vector<ArchLayer> parse_arch(const std::string& name_or_notation) {
  const std::string text = resolve_arch(name_or_notation);
  Parser parser(text);
  std::vector<ArchLayer> layers = parser.parse();

  size_t output = layers.size();
  for (size_t i = layers.size(); i-- > 0;)
    if (layers[i].kind == ArchLayerKind::kConv) {
      output = i;
      break;
    }
  if (output == layers.size())
    parser.fail(text.size(), "",
                "at least one conv: the last conv xCk is the output layer (e.g. 10C1 before GAP)");
  layers[output].is_output = true;
  for (size_t i = output + 1; i < layers.size(); ++i)
    if (layers[i].kind == ArchLayerKind::kResidualBlock)
      parser.fail(layers[i].position, layers[i].token,
                  "only AP or GAP after the output layer '" + layers[output].token + "' at position " +
                      std::to_string(layers[output].position) +
                      " (the last conv is the output layer)");
  return layers;
}

std::string format_arch(const std::vector<ArchLayer>& layers) {
  std::string out;
  for (const ArchLayer& layer : layers) {
    if (!out.empty()) out += '-';
    switch (layer.kind) {
      case ArchLayerKind::kConv:
        out += std::to_string(layer.channels) + "C" + std::to_string(layer.kernel_size);
        break;
      case ArchLayerKind::kAvgPool: out += "AP"; break;
      case ArchLayerKind::kGlobalAvgPool: out += "GAP"; break;
      case ArchLayerKind::kResidualBlock:
        out += std::to_string(layer.channels) + "B" + std::to_string(layer.stride);
        break;
    }
  }
  return out;
}

std::string notation_with_classes(const std::string& notation, int64_t num_classes) {
  const std::string resolved = resolve_arch(notation);
  std::vector<ArchLayer> layers = parse_arch(resolved);
  const auto output = std::find_if(layers.begin(), layers.end(), [](const ArchLayer& l) { return l.is_output; });
  if (output == layers.end() || output->channels == num_classes) return resolved;
  output->channels = num_classes;
  // The count rewritten where it is written; where that token stands for
  // more than the output layer (inside a repeated group), the expanded form.
  const std::string written = std::to_string(parse_arch(resolved)[size_t(output - layers.begin())].channels);
  std::string rewritten = resolved;
  rewritten.replace(output->position, written.size(), std::to_string(num_classes));
  return parse_arch(rewritten) == layers ? rewritten : format_arch(layers);
}

}  // namespace maqd
