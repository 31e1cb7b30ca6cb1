// The architecture notation parser: presets expand to the exact layer
// sequences of the paper's Appendix A (written out here by hand), the group
// syntax, and errors that name the arch string, the position and the token.
#include "maqd/nn/arch.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd/error.h"

namespace {

using maqd::ArchLayer;
using maqd::ArchLayerKind;

ArchLayer conv(int64_t x, int64_t k, bool output = false) {
  ArchLayer l;
  l.kind = ArchLayerKind::kConv;
  l.channels = x;
  l.kernel_size = k;
  l.is_output = output;
  return l;
}
ArchLayer block(int64_t x, int64_t y) {
  ArchLayer l;
  l.kind = ArchLayerKind::kResidualBlock;
  l.channels = x;
  l.stride = y;
  return l;
}
ArchLayer ap() {
  ArchLayer l;
  l.kind = ArchLayerKind::kAvgPool;
  return l;
}
ArchLayer gap() {
  ArchLayer l;
  l.kind = ArchLayerKind::kGlobalAvgPool;
  return l;
}

void expect_layers(const std::vector<ArchLayer>& got, const std::vector<ArchLayer>& want) {
  ASSERT_EQ(got.size(), want.size()) << maqd::format_arch(got);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i], want[i]) << "layer " << i << " '" << got[i].token << "' of "
                               << maqd::format_arch(got);
}

// The message of the maqd::Error that parse_arch throws ("" when none).
std::string parse_error(const std::string& text) {
  try {
    maqd::parse_arch(text);
  } catch (const maqd::Error& e) {
    return e.what();
  }
  return "";
}

TEST(ArchParser, VggPresetIsTheAppendixSequence) {
  // (64C3)×2-(128C3)×2-AP-(256C3)×4-AP-(512C3)×4-AP-(512C3)×4-10C1-GAP
  const std::vector<ArchLayer> want = {
      conv(64, 3),  conv(64, 3),  conv(128, 3), conv(128, 3), ap(),
      conv(256, 3), conv(256, 3), conv(256, 3), conv(256, 3), ap(),
      conv(512, 3), conv(512, 3), conv(512, 3), conv(512, 3), ap(),
      conv(512, 3), conv(512, 3), conv(512, 3), conv(512, 3), conv(10, 1, true),
      gap()};
  const std::vector<ArchLayer> got = maqd::parse_arch("vgg");
  expect_layers(got, want);

  std::vector<int64_t> hidden;
  for (const ArchLayer& l : got)
    if (l.kind == ArchLayerKind::kConv && !l.is_output) {
      EXPECT_EQ(l.kernel_size, 3);
      hidden.push_back(l.channels);
    }
  EXPECT_EQ(hidden, (std::vector<int64_t>{64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512,
                                          512, 512, 512, 512}));
}

TEST(ArchParser, PreActResNetPresetIsTheAppendixSequence) {
  expect_layers(maqd::parse_arch("preact-resnet"),
                {block(64, 1), block(128, 1), block(256, 2), block(256, 2), block(512, 2),
                 block(512, 2), block(512, 2), block(512, 2), conv(10, 1, true), gap()});
}

TEST(ArchParser, Cnn9PresetHasEightHiddenConvsAndTheOutput) {
  expect_layers(maqd::parse_arch("cnn9"),
                {conv(64, 3), conv(64, 3), ap(), conv(128, 3), conv(128, 3), ap(), conv(256, 3),
                 conv(256, 3), ap(), conv(512, 3), conv(512, 3), conv(10, 1, true), gap()});
}

TEST(ArchParser, PresetNamesResolveToTheirNotation) {
  ASSERT_EQ(maqd::arch_presets().size(), 3u);
  for (const maqd::ArchPreset& preset : maqd::arch_presets()) {
    SCOPED_TRACE(preset.name);
    EXPECT_EQ(maqd::resolve_arch(preset.name), preset.notation);
    expect_layers(maqd::parse_arch(preset.name), maqd::parse_arch(preset.notation));
  }
  EXPECT_EQ(maqd::resolve_arch("8C3-10C1-GAP"), "8C3-10C1-GAP");
}

TEST(ArchParser, AsciiAndUnicodeRepetitionAgreeAndSpacesAreAllowed) {
  const std::vector<ArchLayer> want = {conv(16, 3), conv(16, 3), conv(16, 3), ap(),
                                       conv(10, 1, true), gap()};
  expect_layers(maqd::parse_arch("(16C3)x3-AP-10C1-GAP"), want);
  expect_layers(maqd::parse_arch("(16C3)\u00d73-AP-10C1-GAP"), want);
  expect_layers(maqd::parse_arch(" ( 16C3 ) \u00d7 3 - AP -10C1- GAP "), want);
  // The paper's own spacing: "(64C3) × 2-(128C3) × 2-...".
  expect_layers(maqd::parse_arch("(16C3) x 3-AP-10C1-GAP"), want);
}

TEST(ArchParser, GroupsNestAndMayOmitTheCount) {
  expect_layers(maqd::parse_arch("((16C3)x2-AP)x2-(32C3)-10C1-GAP"),
                {conv(16, 3), conv(16, 3), ap(), conv(16, 3), conv(16, 3), ap(), conv(32, 3),
                 conv(10, 1, true), gap()});
  expect_layers(maqd::parse_arch("(8B1-(16B2)x2)x2-10C1-GAP"),
                {block(8, 1), block(16, 2), block(16, 2), block(8, 1), block(16, 2), block(16, 2),
                 conv(10, 1, true), gap()});
}

TEST(ArchParser, OnlyTheLastConvIsTheOutputLayer) {
  const std::vector<ArchLayer> layers = maqd::parse_arch("(8C3-AP)x2-GAP");
  // The second copy of 8C3 is the last conv: the output layer, followed by pooling only.
  expect_layers(layers, {conv(8, 3), ap(), conv(8, 3, true), ap(), gap()});
  // Its written channel count is kept as written (the network replaces it by the class count).
  EXPECT_EQ(layers[2].channels, 8);
  // A GAP before the output conv is allowed (a linear classifier on pooled features).
  expect_layers(maqd::parse_arch("8C3-GAP-10C1"), {conv(8, 3), gap(), conv(10, 1, true)});
}

TEST(ArchParser, TokensKeepTheirSpellingAndPosition) {
  const std::string text = "(8C3)x2-AP-10C1-GAP";
  const std::vector<ArchLayer> layers = maqd::parse_arch(text);
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(layers[0].token, "8C3");
  EXPECT_EQ(layers[0].position, 1u);
  EXPECT_EQ(layers[1].position, 1u);  // the repeated copy points at the same token
  EXPECT_EQ(layers[2].token, "AP");
  EXPECT_EQ(layers[2].position, text.find("AP"));
  EXPECT_EQ(layers[3].position, text.find("10C1"));
  EXPECT_EQ(layers[4].position, text.find("GAP"));
}

TEST(ArchParser, FormatGivesTheExpandedCanonicalNotation) {
  EXPECT_EQ(maqd::format_arch(maqd::parse_arch("(8C3)x2-AP-(16B2)\u00d72-010C1-GAP")),
            "8C3-8C3-AP-16B2-16B2-10C1-GAP");
  for (const maqd::ArchPreset& preset : maqd::arch_presets()) {
    const std::vector<ArchLayer> layers = maqd::parse_arch(preset.name);
    expect_layers(maqd::parse_arch(maqd::format_arch(layers)), layers);
  }
  EXPECT_EQ(maqd::to_string(ArchLayerKind::kConv), "conv");
  EXPECT_EQ(maqd::to_string(ArchLayerKind::kAvgPool), "ap");
  EXPECT_EQ(maqd::to_string(ArchLayerKind::kGlobalAvgPool), "gap");
  EXPECT_EQ(maqd::to_string(ArchLayerKind::kResidualBlock), "block");
}

struct BadArch {
  std::string text;
  std::vector<std::string> mentions;  // besides the arch string itself
};

TEST(ArchParser, BadNotationIsAnErrorNamingArchPositionAndToken) {
  const std::vector<BadArch> cases = {
      {"64C3-foo-10C1-GAP", {"position 5", "'foo'", "xCk, xBy, AP, GAP"}},
      {"64C3x2-10C1-GAP", {"position 0", "'64C3x2'", "(64C3)x2"}},
      {"64c3-10C1-GAP", {"position 0", "'64c3'"}},
      {"(64C3-10C1-GAP", {"end of the string", "')' closing the group opened at position 0"}},
      {"(64C3)x0-10C1-GAP", {"position 7", "'0'", "repeat count"}},
      {"(64C3)x-10C1-GAP", {"position 7", "'-'", "repeat count"}},
      {"(64C3)y2-10C1-GAP", {"position 6", "'y2'", "'-' between layers"}},
      {"64C2-10C1-GAP", {"position 0", "'64C2'", "odd kernel size", "got 2"}},
      {"64C0-10C1-GAP", {"'64C0'", "odd kernel size"}},
      {"0C3-10C1-GAP", {"'0C3'", "channel count"}},
      {"64B3-10C1-GAP", {"'64B3'", "stride y of 1 or 2", "got 3"}},
      {"64B-10C1-GAP", {"'64B'"}},
      {"C3-10C1-GAP", {"'C3'"}},
      {"", {"position 0", "end of the string"}},
      {"64C3--10C1-GAP", {"position 5", "'-'"}},
      {"64C3-10C1-GAP-", {"position 14", "end of the string"}},
      {"()-10C1-GAP", {"position 1", "')'"}},
      {"64C3-10C1-GAP)", {"position 13", "')'", "closes no group"}},
      {"(64C3)x2(128C3)x2-10C1-GAP", {"position 8", "'('", "'-' between layers"}},
      {"AP-GAP", {"at least one conv", "output layer"}},
      {"10C1-64B1-GAP", {"position 5", "'64B1'", "only AP or GAP after the output layer '10C1'"}},
      {"99999999999C3-10C1-GAP", {"'99999999999C3'", "at most 1000000"}},
      {"((8C3)x1000)x1000-10C1-GAP", {"position 0", "expansion of at most 100000 layers"}},
      {"vgg16", {"'vgg16'", "preset", "vgg", "preact-resnet", "cnn9"}},
  };
  for (const BadArch& bad : cases) {
    SCOPED_TRACE("arch \"" + bad.text + "\"");
    const std::string message = parse_error(bad.text);
    ASSERT_FALSE(message.empty()) << "no error";
    EXPECT_NE(message.find("arch \"" + bad.text + "\""), std::string::npos) << message;
    for (const std::string& part : bad.mentions)
      EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in: " << message;
  }
}

// What a model file records as its arch: the output count as built.
TEST(ArchNotation, OutputCountFollowsTheClasses) {
  EXPECT_EQ(maqd::notation_with_classes("(64C3)x2-AP-10C1-GAP", 3), "(64C3)x2-AP-3C1-GAP");
  EXPECT_EQ(maqd::notation_with_classes("(64C3)x2-AP-10C1-GAP", 10), "(64C3)x2-AP-10C1-GAP");
  EXPECT_EQ(maqd::notation_with_classes("8C3-AP-10C1-AP-GAP", 100), "8C3-AP-100C1-AP-GAP");
  EXPECT_EQ(maqd::notation_with_classes("vgg", 100),
            "(64C3)x2-(128C3)x2-AP-(256C3)x4-AP-(512C3)x4-AP-(512C3)x4-100C1-GAP");
  // Inside a repeated group the token is also a hidden layer: the expanded
  // form, with only the output changed.
  EXPECT_EQ(maqd::notation_with_classes("(8C3-10C1)x2-GAP", 3), "8C3-10C1-8C3-3C1-GAP");
}

TEST(ArchParser, DeepNestingIsRefusedNotOverflowed) {
  const std::string text = std::string(100, '(') + "8C3" + std::string(100, ')') + "-10C1-GAP";
  const std::string message = parse_error(text);
  EXPECT_NE(message.find("nested groups"), std::string::npos) << message;
}

}  // namespace
