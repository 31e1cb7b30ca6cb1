// Networks built from the notation: shapes, parameter counts against closed
// forms, the residual blocks' spatial sizes, gradients, the float output
// layer, quantized weight levels, the activation hook, names and cloning.
// Small widths and batches keep the suite fast.
#include "maqd/nn/network.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/seed.h"
#include "maqd/error.h"
#include "maqd/nn/conv.h"
#include "maqd/ops/code_conv.h"

namespace {

using maqd::ArchLayerKind;
using maqd::Network;
using maqd::NetworkOptions;

NetworkOptions options(const std::string& arch, int64_t in_channels, int64_t size,
                       int64_t classes = 10, double width = 0.125) {
  NetworkOptions o;
  o.arch = arch;
  o.width = width;
  o.in_channels = in_channels;
  o.num_classes = classes;
  o.image_height = o.image_width = size;
  return o;
}

NetworkOptions quantized(NetworkOptions o, int64_t weight_levels = 3, int64_t act_levels = 2) {
  maqd::WeightQuantOptions w;
  w.levels = weight_levels;
  maqd::ActivationQuantOptions a;
  a.levels = act_levels;
  o.weight_quant = w;
  o.act_quant = a;
  return o;
}

std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const maqd::Error& e) {
    return e.what();
  }
  return "";
}

const char* const kPresets[] = {"vgg", "preact-resnet", "cnn9"};

TEST(Network, LogitsHaveOneRowPerSampleAndOneColumnPerClass) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  // (in_channels, size, classes): MNIST-like and CIFAR-like.
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> datasets = {{1, 28, 10}, {3, 32, 7}};
  for (const char* arch : kPresets)
    for (const auto& [channels, size, classes] : datasets) {
      SCOPED_TRACE(std::string(arch) + " " + std::to_string(channels) + "×" + std::to_string(size));
      Network net(quantized(options(arch, channels, size, classes)));
      const torch::Tensor logits = net->forward(torch::randn({2, channels, size, size}));
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, classes}));
      EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
      net->eval();
      EXPECT_EQ(net->forward(torch::randn({3, channels, size, size})).sizes(),
                (std::vector<int64_t>{3, classes}));
    }
}

TEST(Network, WidthOneVggConvWeightsMatchTheClosedForm) {
  Network net(options("vgg", 3, 32, 10, /*width=*/1.0));
  // (in, out) of the sixteen 3×3 hidden convs, from the appendix by hand.
  std::vector<std::pair<int64_t, int64_t>> convs = {{3, 64},    {64, 64},   {64, 128},
                                                    {128, 128}, {128, 256}, {256, 256},
                                                    {256, 256}, {256, 256}, {256, 512}};
  for (int i = 0; i < 7; ++i) convs.push_back({512, 512});
  int64_t want_weights = 0, want_norm = 0;
  for (const auto& [in, out] : convs) {
    want_weights += in * out * 3 * 3;
    want_norm += 2 * out;  // LBN: g_c and b_c
  }
  // 9·(3·64 + 64·64 + 64·128 + 128·128 + 128·256 + 3·256·256 + 256·512 + 7·512·512)
  EXPECT_EQ(want_weights, 9 * 2224320);

  const std::vector<maqd::NamedConv> hidden = net->hidden_convs();
  ASSERT_EQ(hidden.size(), convs.size());
  int64_t got_weights = 0;
  for (size_t i = 0; i < hidden.size(); ++i) {
    const torch::Tensor& w = hidden[i].conv->weight;
    EXPECT_EQ(w.sizes(), (std::vector<int64_t>{convs[i].second, convs[i].first, 3, 3})) << i;
    EXPECT_FALSE(hidden[i].conv->bias.defined()) << i;
    got_weights += w.numel();
  }
  EXPECT_EQ(got_weights, want_weights);
  EXPECT_EQ(net->output_conv()->weight.numel(), 512 * 10);
  EXPECT_EQ(net->output_conv()->bias.numel(), 10);

  int64_t total = 0;
  for (const torch::Tensor& p : net->parameters()) total += p.numel();
  EXPECT_EQ(total, want_weights + want_norm + 512 * 10 + 10);
}

// Each hidden conv knows the grid its input lies on (ops/code_conv.h): the
// image is float, an activation's values are m/(M_a − 1), and a 2×2 average
// of them m/4(M_a − 1); a residual block's sum is float again.
TEST(Network, HiddenConvsKnowTheirInputGrid) {
  Network vgg(quantized(options("vgg", 1, 28, 10, 0.25), /*weight_levels=*/3, /*act_levels=*/4));
  // conv5, conv9 and conv13 follow an AP.
  const std::vector<int64_t> want = {0, 3, 3, 3, 12, 3, 3, 3, 12, 3, 3, 3, 12, 3, 3, 3};
  const std::vector<maqd::NamedConv> convs = vgg->hidden_convs();
  ASSERT_EQ(convs.size(), want.size());
  for (size_t i = 0; i < convs.size(); ++i)
    EXPECT_EQ(convs[i].conv->options().input_code_denominator, want[i]) << convs[i].name;

  Network resnet(quantized(options("preact-resnet", 3, 32), 3, 8));
  // Every path begins with norm → Q_a, the first one too.
  for (const maqd::NamedConv& conv : resnet->hidden_convs())
    EXPECT_EQ(conv.conv->options().input_code_denominator, 7) << conv.name;

  Network float_vgg(options("vgg", 1, 28));
  for (const maqd::NamedConv& conv : float_vgg->hidden_convs())
    EXPECT_EQ(conv.conv->options().input_code_denominator, 0) << conv.name;
}

// A conv told its input grid runs its forward pass on codes (where oneDNN is
// built in) and gives what the float convolution of the same effective
// weight gives; an input off that grid is refused, not silently wrong.
TEST(Network, ConvOnAnInputGridAgreesWithTheFloatConv) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  maqd::ConvOptions o;
  o.in_channels = 8;
  o.out_channels = 16;
  o.quant = maqd::WeightQuantOptions{};
  o.quant->levels = 15;
  o.input_code_denominator = 7;
  maqd::Conv conv(o);
  const torch::Tensor x = torch::randint(0, 8, {2, 8, 9, 9}).to(torch::kFloat) / 7;
  const torch::Tensor y = conv->forward(x);
  conv->weight_override = conv->effective_weight().detach();
  const torch::Tensor y_float = conv->forward(x);
  EXPECT_LE((y - y_float).abs().max().item<double>(), 1e-6 * y_float.abs().max().item<double>());
  conv->weight_override = torch::Tensor();
  if (!maqd::code_conv_available(x, conv->effective_weight(), 7, 7)) GTEST_SKIP() << "no oneDNN";
  EXPECT_NE(error_of([&] { conv->forward(x + 0.01); }).find("code_conv: input"), std::string::npos);
}

TEST(Network, PreActResNetReachesOnePixelAndSkipsLaterPools) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  // Block output sizes and whether each block's stride-2 AP runs, by hand.
  const std::map<int64_t, std::pair<std::vector<int64_t>, std::vector<bool>>> expected = {
      {32, {{32, 32, 16, 8, 4, 2, 1, 1}, {false, false, true, true, true, true, true, false}}},
      {28, {{28, 28, 14, 7, 3, 1, 1, 1}, {false, false, true, true, true, true, false, false}}},
  };
  for (const auto& [size, want] : expected) {
    SCOPED_TRACE("image " + std::to_string(size));
    NetworkOptions o = options("preact-resnet", 3, size);
    o.norm = maqd::NormKind::kLayer;  // LN's per-coordinate affine needs every size right
    Network net(o);
    std::vector<int64_t> sizes;
    std::vector<bool> pools;
    for (const maqd::LayerInfo& layer : net->layers())
      if (layer.kind == ArchLayerKind::kResidualBlock) {
        EXPECT_EQ(layer.out_height, layer.out_width);
        sizes.push_back(layer.out_height);
        pools.push_back(layer.pools);
        EXPECT_EQ(layer.block->pools(), layer.pools);
      }
    EXPECT_EQ(sizes, want.first);
    EXPECT_EQ(pools, want.second);
    EXPECT_EQ(net->forward(torch::randn({2, 3, size, size})).sizes(), (std::vector<int64_t>{2, 10}));
  }
}

TEST(Network, LayerInfoDescribesEveryLayer) {
  Network net(options("cnn9", 1, 28, 10, 0.25));
  const std::vector<maqd::LayerInfo> layers = net->layers();
  ASSERT_EQ(layers.size(), 13u);
  const std::vector<std::string> names = {"conv1", "conv2", "pool1", "conv3", "conv4",
                                          "pool2", "conv5", "conv6", "pool3", "conv7",
                                          "conv8", "output", "gap1"};
  const std::vector<int64_t> out_channels = {16, 16, 16, 32, 32, 32, 64, 64, 64, 128, 128, 10, 10};
  const std::vector<int64_t> out_sizes = {28, 28, 14, 14, 14, 7, 7, 7, 3, 3, 3, 3, 1};
  int64_t channels = 1, size = 28;
  for (size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE(layers[i].name);
    EXPECT_EQ(layers[i].name, names[i]);
    EXPECT_EQ(layers[i].in_channels, channels);
    EXPECT_EQ(layers[i].in_height, size);
    EXPECT_EQ(layers[i].out_channels, out_channels[i]);
    EXPECT_EQ(layers[i].out_height, out_sizes[i]);
    EXPECT_EQ(layers[i].out_width, out_sizes[i]);
    const bool hidden = layers[i].kind == ArchLayerKind::kConv && !layers[i].is_output;
    EXPECT_EQ(bool(layers[i].norm), hidden);
    EXPECT_EQ(bool(layers[i].activation), hidden);
    EXPECT_EQ(bool(layers[i].conv), layers[i].kind == ArchLayerKind::kConv);
    EXPECT_FALSE(layers[i].block);
    channels = out_channels[i];
    size = out_sizes[i];
  }
  EXPECT_TRUE(layers[11].is_output);
  EXPECT_EQ(layers[11].token, "10C1");
  EXPECT_EQ(layers[2].kind, ArchLayerKind::kAvgPool);
  EXPECT_EQ(layers[12].kind, ArchLayerKind::kGlobalAvgPool);
}

TEST(Network, ModulesHaveStableReadableNames) {
  Network vgg(options("vgg", 3, 32));
  const auto vgg_modules = vgg->named_modules("", /*include_self=*/false);
  for (const char* name : {"conv1", "norm1", "act1", "conv16", "norm16", "act16", "output"})
    EXPECT_TRUE(vgg_modules.contains(name)) << name;
  EXPECT_FALSE(vgg_modules.contains("conv17"));
  const auto vgg_params = vgg->named_parameters();
  for (const char* name : {"conv1.weight", "conv16.weight", "output.weight", "output.bias"})
    EXPECT_TRUE(vgg_params.contains(name)) << name;

  Network res(options("8C3-16B2-(32B1)x2-10C1-GAP", 3, 32));
  const auto res_modules = res->named_modules("", false);
  for (const char* name :
       {"conv1", "norm1", "act1", "block1", "block1.branch", "block1.branch.norm1",
        "block1.branch.act1", "block1.branch.conv1", "block1.branch.norm2", "block1.branch.act2",
        "block1.branch.conv2", "block1.branch.norm3", "block1.shortcut.norm1",
        "block1.shortcut.act1", "block1.shortcut.conv1", "block1.shortcut.norm2",
        "block3.shortcut.conv1", "output"})
    EXPECT_TRUE(res_modules.contains(name)) << name;
  EXPECT_FALSE(res_modules.contains("block1.branch.conv3"));
  EXPECT_FALSE(res_modules.contains("block1.shortcut.conv2"));

  // The accessors list modules under the names they are registered with, in forward order.
  const std::vector<std::string> conv_names = {
      "conv1",          "block1.branch.conv1", "block1.branch.conv2", "block1.shortcut.conv1",
      "block2.branch.conv1", "block2.branch.conv2", "block2.shortcut.conv1",
      "block3.branch.conv1", "block3.branch.conv2", "block3.shortcut.conv1"};
  const std::vector<maqd::NamedConv> convs = res->hidden_convs();
  ASSERT_EQ(convs.size(), conv_names.size());
  for (size_t i = 0; i < convs.size(); ++i) {
    EXPECT_EQ(convs[i].name, conv_names[i]);
    EXPECT_EQ(res_modules[convs[i].name].get(), convs[i].conv.get()) << convs[i].name;
  }
  const std::vector<maqd::NamedActivation> acts = res->activations();
  ASSERT_EQ(acts.size(), conv_names.size());
  for (size_t i = 0; i < acts.size(); ++i) {
    std::string want = conv_names[i];
    want.replace(want.rfind("conv"), 4, "act");
    EXPECT_EQ(acts[i].name, want);
    EXPECT_EQ(res_modules[acts[i].name].get(), acts[i].activation.get()) << acts[i].name;
  }
}

TEST(Network, GradientsReachEveryParameter) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (const char* arch : kPresets)
    for (const bool quant : {false, true}) {
      SCOPED_TRACE(std::string(arch) + (quant ? " quantized" : " float"));
      NetworkOptions o = options(arch, 3, 32);
      if (quant) o = quantized(o);
      Network net(o);
      // The one known dead end: block1's 1×1 shortcut conv sees the 3-channel
      // image, so its fan-in is 3, WS bounds |Ŵ| by √2 and s·|Ŵ| < 1/2 rounds
      // every ternary weight to 0. Nothing reaches the parameters before it,
      // nor the gain of the norm after it (its input is 0).
      std::set<std::string> dead;
      if (quant && std::string(arch) == "preact-resnet") {
        torch::NoGradGuard no_grad;
        const maqd::Conv& conv = net->hidden_convs()[2].conv;
        ASSERT_EQ(net->hidden_convs()[2].name, "block1.shortcut.conv1");
        EXPECT_EQ(conv->effective_weight().count_nonzero().item<int64_t>(), 0);
        for (const auto& p : net->named_parameters())
          if (p.key().rfind("block1.shortcut.norm1.", 0) == 0 ||
              p.key().rfind("block1.shortcut.norm2.lbn.weight", 0) == 0)
            dead.insert(p.key());
        EXPECT_EQ(dead.size(), 3u);
      }
      const torch::Tensor logits = net->forward(torch::randn({4, 3, 32, 32}));
      torch::nn::functional::cross_entropy(logits, torch::randint(10, {4}, torch::kLong)).backward();
      size_t count = 0;
      for (const auto& p : net->named_parameters()) {
        ++count;
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
        const double norm = p.value().grad().abs().sum().item<double>();
        if (dead.count(p.key()))
          EXPECT_EQ(norm, 0.0) << p.key();
        else
          EXPECT_GT(norm, 0.0) << p.key();
      }
      EXPECT_GT(count, 0u);
    }
}

TEST(Network, OutputLayerIsFloatWithBiasAndFollowsTheClassCount) {
  Network net(quantized(options("vgg", 3, 32, /*classes=*/7)));
  const maqd::Conv& out = net->output_conv();
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->options().bias);
  EXPECT_FALSE(out->options().quant.has_value());
  EXPECT_FALSE(out->options().weight_standardization);
  EXPECT_EQ(out->options().kernel_size, 1);
  EXPECT_EQ(out->options().in_channels, 64);  // 512 × ⅛
  EXPECT_EQ(out->options().out_channels, 7);  // the class count, not the 10 of "10C1"
  ASSERT_TRUE(out->bias.defined());
  EXPECT_EQ(out->bias.numel(), 7);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(out->effective_weight(), out->weight));
  EXPECT_GT(std::get<0>(torch::_unique(out->weight)).numel(), 100);
  // It is the output layer, not a hidden conv.
  for (const maqd::NamedConv& c : net->hidden_convs()) EXPECT_NE(c.conv.get(), out.get());
  EXPECT_EQ(net->layers()[19].conv.get(), out.get());
  EXPECT_TRUE(net->layers()[19].is_output);
}

TEST(Network, QuantizedConvWeightsTakeMwValues) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (const int64_t levels : {3, 5}) {
    SCOPED_TRACE("M_w " + std::to_string(levels));
    Network net(quantized(options("vgg", 3, 32), levels));
    const double delta = double(levels - 1) / 2;  // Δ_w, the default (M_w − 1)/2
    const std::vector<maqd::NamedConv> convs = net->quantized_convs();
    ASSERT_EQ(convs.size(), 16u);
    torch::NoGradGuard no_grad;
    for (const maqd::NamedConv& c : convs) {
      // Gaussian weights: LibTorch's uniform initialization standardizes to
      // |Ŵ| ≤ √3, which never reaches the outer levels of M_w ≥ 5.
      c.conv->weight.normal_();
      SCOPED_TRACE(c.name);
      const torch::Tensor values = std::get<0>(torch::_unique(c.conv->effective_weight()));
      // Every value is an integer code / Δ_w in [−1, 1] ...
      const torch::Tensor codes = values * delta;
      EXPECT_TRUE(torch::allclose(codes, codes.round(), 0, 1e-5));
      EXPECT_LE(values.abs().max().item<double>(), 1.0 + 1e-6);
      EXPECT_LE(values.numel(), levels);
      // ... and layers with thousands of weights use all M_w of them.
      if (c.conv->weight.numel() >= 2000) EXPECT_EQ(values.numel(), levels);
    }
  }
  // Without weight quantization no conv is quantized, yet every hidden conv is listed.
  Network plain(options("vgg", 3, 32));
  EXPECT_TRUE(plain->quantized_convs().empty());
  EXPECT_EQ(plain->hidden_convs().size(), 16u);
}

TEST(Network, ActivationHookSeesOneOutputPerActivation) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (const char* arch : {"vgg", "preact-resnet"}) {
    SCOPED_TRACE(arch);
    Network net(quantized(options(arch, 3, 32), 3, /*act_levels=*/4));
    const std::vector<maqd::NamedActivation> acts = net->activations();
    const std::vector<maqd::NamedConv> convs = net->hidden_convs();
    EXPECT_EQ(acts.size(), std::string(arch) == "vgg" ? 16u : 24u);
    std::vector<std::pair<size_t, torch::Tensor>> seen;
    net->set_activation_hook(
        [&](size_t index, const torch::Tensor& output) { seen.emplace_back(index, output.detach()); });
    net->forward(torch::randn({2, 3, 32, 32}));
    ASSERT_EQ(seen.size(), acts.size());
    for (size_t i = 0; i < seen.size(); ++i) {
      SCOPED_TRACE(acts[i].name);
      EXPECT_EQ(seen[i].first, i);
      // Q_a with M_a = 4: values m/3.
      const torch::Tensor codes = seen[i].second * 3;
      EXPECT_TRUE(torch::allclose(codes, codes.round(), 0, 1e-5));
      EXPECT_GE(seen[i].second.min().item<double>(), 0.0);
      EXPECT_LE(seen[i].second.max().item<double>(), 1.0);
      // VGG: act i follows conv i. Blocks: act i feeds conv i (pre-activation).
      const maqd::ConvOptions& conv = convs[i].conv->options();
      EXPECT_EQ(seen[i].second.size(1),
                std::string(arch) == "vgg" ? conv.out_channels : conv.in_channels);
    }
    net->clear_activation_hook();
    net->forward(torch::randn({2, 3, 32, 32}));
    EXPECT_EQ(seen.size(), acts.size());
  }
  // Not quantized: ReLU outputs.
  Network relu(options("cnn9", 1, 28));
  size_t calls = 0;
  relu->set_activation_hook([&](size_t, const torch::Tensor& output) {
    ++calls;
    EXPECT_GE(output.min().item<double>(), 0.0);
  });
  relu->forward(torch::randn({2, 1, 28, 28}));
  EXPECT_EQ(calls, 8u);
}

TEST(Network, CloneIsADeepCopyWithItsOwnAccessors) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  Network net(quantized(options("8C3-AP-16B2-10C1-GAP", 3, 16)));
  net->forward(torch::randn({4, 3, 16, 16}));  // move the running statistics
  net->eval();
  const torch::Tensor x = torch::randn({2, 3, 16, 16});
  const torch::Tensor y = net->forward(x);

  size_t hook_calls = 0;
  net->set_activation_hook([&](size_t, const torch::Tensor&) { ++hook_calls; });
  Network copy(std::dynamic_pointer_cast<maqd::NetworkImpl>(net->clone()));
  ASSERT_TRUE(copy);
  copy->forward(x);
  EXPECT_EQ(hook_calls, 0u);  // the clone does not report to the original's hook
  net->clear_activation_hook();
  EXPECT_TRUE(torch::allclose(copy->forward(x), y));
  const auto modules = copy->named_modules("", false);
  ASSERT_EQ(copy->hidden_convs().size(), net->hidden_convs().size());
  for (const maqd::NamedConv& c : copy->hidden_convs()) {
    EXPECT_EQ(modules[c.name].get(), c.conv.get()) << c.name;
    EXPECT_NE(c.conv.get(), net->named_modules("", false)[c.name].get()) << c.name;
  }
  for (const maqd::LayerInfo& layer : copy->layers())
    if (layer.conv) EXPECT_EQ(modules[layer.name].get(), layer.conv.get()) << layer.name;
  EXPECT_EQ(copy->output_conv().get(), modules["output"].get());
  {
    torch::NoGradGuard no_grad;
    copy->output_conv()->bias.add_(1.0);
  }
  EXPECT_TRUE(torch::allclose(copy->forward(x), y + 1.0, 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(net->forward(x), y));
}

TEST(Network, WidthMultiplierRoundsAndKeepsAtLeastOneChannel) {
  EXPECT_EQ(maqd::scaled_channels(64, 0.125), 8);
  EXPECT_EQ(maqd::scaled_channels(64, 0.3), 19);   // 19.2
  EXPECT_EQ(maqd::scaled_channels(10, 0.25), 3);   // 2.5 rounds away from zero
  EXPECT_EQ(maqd::scaled_channels(3, 0.1), 1);     // 0.3 → at least 1
  EXPECT_EQ(maqd::scaled_channels(512, 2.0), 1024);
  Network net(options("(64C3)x2-64B2-10C1-GAP", 3, 8, 10, 0.3));
  const std::vector<maqd::LayerInfo> layers = net->layers();
  EXPECT_EQ(layers[0].out_channels, 19);
  EXPECT_EQ(layers[1].out_channels, 19);
  EXPECT_EQ(layers[2].out_channels, 19);
  EXPECT_EQ(layers[3].out_channels, 10);  // the output layer is never scaled
}

TEST(Network, BadOptionsAndArchitecturesAreErrors) {
  const auto build = [](NetworkOptions o) { return [o] { Network net(o); }; };
  NetworkOptions o = options("cnn9", 3, 32);
  o.width = 0;
  EXPECT_NE(error_of(build(o)).find("width"), std::string::npos);
  o = options("cnn9", 3, 32, 0);
  EXPECT_NE(error_of(build(o)).find("num_classes"), std::string::npos);
  o = options("cnn9", 0, 32);
  EXPECT_NE(error_of(build(o)).find("in_channels"), std::string::npos);

  std::string message = error_of(build(options("8C3-10C1", 3, 32)));
  EXPECT_NE(message.find("32×32"), std::string::npos) << message;
  EXPECT_NE(message.find("GAP"), std::string::npos) << message;

  message = error_of(build(options("(8C3-AP)x6-10C1-GAP", 3, 32)));  // 32 → 1 after five APs
  EXPECT_NE(message.find("'AP'"), std::string::npos) << message;
  EXPECT_NE(message.find("1×1"), std::string::npos) << message;

  message = error_of(build(options("8C3-bad-10C1-GAP", 3, 32)));
  EXPECT_NE(message.find("'bad'"), std::string::npos) << message;

  Network net(options("cnn9", 3, 32));
  message = error_of([&] { net->forward(torch::randn({2, 3, 28, 28})); });
  EXPECT_NE(message.find("[2, 3, 28, 28]"), std::string::npos) << message;
  message = error_of([&] { net->forward(torch::randn({2, 1, 32, 32})); });
  EXPECT_NE(message.find("expected [N, 3, 32, 32]"), std::string::npos) << message;
}

}  // namespace

namespace {

// Evaluation with the normalizations folded into the convs computes what the
// unfolded network computes: float64, after a few training steps so that the
// running statistics and affine parameters are not their initial values.
// Float64 makes a flipped code (a value within rounding of a threshold)
// practically impossible, so the logits must agree to rounding.
TEST(Network, FoldedEvaluationMatchesUnfolded) {
  MAQD_SEEDED(seed);
  torch::manual_seed(seed);
  for (const char* arch : {"vgg", "cnn9", "preact-resnet"}) {
    for (bool quant : {false, true}) {
      for (maqd::NormKind norm : {maqd::NormKind::kLayerBatch, maqd::NormKind::kBatch}) {
        SCOPED_TRACE(std::string(arch) + (quant ? " quantized " : " float ") + maqd::to_string(norm));
        NetworkOptions o = options(arch, 3, 16);
        if (quant) o = quantized(o, 15, 8);
        o.norm = norm;
        Network net(o);
        net->to(torch::kDouble);
        torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.05));
        for (int step = 0; step < 2; ++step) {
          sgd.zero_grad();
          net->forward(torch::randn({4, 3, 16, 16}, torch::kDouble)).pow(2).mean().backward();
          sgd.step();
        }
        net->eval();
        const torch::Tensor x = torch::randn({3, 3, 16, 16}, torch::kDouble);
        torch::NoGradGuard no_grad;
        const torch::Tensor plain = net->forward(x);
        net->fold_normalization();
        const torch::Tensor folded = net->forward(x);
        net->unfold_normalization();
        const torch::Tensor again = net->forward(x);
        EXPECT_LT((folded - plain).abs().max().item<double>(),
                  1e-9 * std::max(1.0, plain.abs().max().item<double>()));
        EXPECT_TRUE(torch::equal(again, plain)) << "unfold_normalization() did not restore";
        // Folding is for evaluation only: training mode ignores it.
        net->fold_normalization();
        net->train();
        EXPECT_NO_THROW(net->forward(x));
        net->unfold_normalization();
      }
    }
  }
}

}  // namespace
