#include "layers/deconvolution.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "convolution_support.hpp"
#include "core/error.hpp"
#include "core/threads.hpp"
#include "graph/net_chain.hpp"
#include "layers/convolution.hpp"
#include "layers/registry.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"
#include "train/initialize.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::compare_tensors;
using strata::testing::forward_backward;
using strata::testing::initialized;
using strata::testing::random_tensor;

namespace {

Shape inferred_output(DeconvolutionLayer layer, const Shape& input) {
  layer.constrain_input(0, input);
  layer.infer_shapes();
  return layer.outputs()[0].shape;
}

}  // namespace

TEST_CASE("DeconvolutionLayer matches PyTorch's conv_transpose1d/2d/3d (forward and backward)") {
  strata::testing::check_reference_file("deconvolution.json");
}

TEST_CASE("DeconvolutionLayer options: defaults, C++ setters and JSON") {
  SUBCASE("defaults") {
    DeconvolutionLayer layer(16, {4, 4});
    CHECK(layer.type() == "DeconvolutionLayer");
    CHECK(layer.options() == nlohmann::json{{"OutputChannels", 16},
                                            {"KernelSize", {4, 4}},
                                            {"Stride", 1},
                                            {"PaddingSize", 0},
                                            {"OutputPadding", 0},
                                            {"Dilation", 1},
                                            {"ChannelGroups", 1},
                                            {"Biases", true}});
    CHECK(layer.missing_arrays() == std::vector<std::string>{"Weights", "Biases"});
    CHECK(layer.arrays()[DeconvolutionLayer::kWeights].init.fans == Initializer::Fans::InOut);
  }
  SUBCASE("chained setters, and Biases false removes the array") {
    auto layer = DeconvolutionLayer(8, 3).stride({2, 1}).padding_size({{1, 0}, {0, 2}});
    layer.output_padding({1, 0}).dilation(2).channel_groups(2);
    CHECK(layer.options()["Stride"] == nlohmann::json{2, 1});
    CHECK(layer.options()["PaddingSize"] == nlohmann::json{{1, 0}, {0, 2}});
    CHECK(layer.options()["OutputPadding"] == nlohmann::json{1, 0});
    CHECK(layer.options()["Dilation"] == 2);
    CHECK(layer.options()["ChannelGroups"] == 2);
    CHECK(layer.output_padding()[0] == 1);
    layer.biases(false);
    CHECK(layer.options()["Biases"] == false);
    CHECK(layer.arrays().size() == 1);
    CHECK(layer.missing_arrays() == std::vector<std::string>{"Weights"});
    CHECK_THROWS_WITH_AS(layer.array("Biases"), doctest::Contains("no array named \"Biases\""),
                         Error);
    layer.biases(true);
    CHECK(layer.missing_arrays() == std::vector<std::string>{"Weights", "Biases"});
  }
  SUBCASE("options() round-trips through set_option, also via the registry") {
    auto layer = DeconvolutionLayer(6, {3, 2, 1})
                     .stride({2, 2, 1})
                     .padding_size({{1, 0}, {0, 1}, {2, 2}})
                     .output_padding({1, 0, 0})
                     .dilation({1, 1, 2})
                     .channel_groups(3)
                     .biases(false);
    auto copy = make_layer("DeconvolutionLayer");
    const auto options = layer.options();
    for (const auto& [key, value] : options.items())
      copy->set_option(key, value);
    CHECK(copy->options() == layer.options());
    CHECK(copy->arrays().size() == 1);
    auto fresh = make_layer("DeconvolutionLayer");
    CHECK(fresh->options()["OutputChannels"].is_null());
    CHECK(fresh->options()["KernelSize"].is_null());
  }
  SUBCASE("bad values name the option") {
    DeconvolutionLayer layer;
    CHECK_THROWS_WITH_AS(layer.set_option("OutputChannels", 0),
                         "OutputChannels: expected an integer of at least 1, got 0", Error);
    CHECK_THROWS_WITH_AS(layer.set_option("OutputPadding", -1),
                         doctest::Contains("OutputPadding: expected an integer of at least 0"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("OutputPadding", {1, 2, 3, 4}),
                         doctest::Contains("OutputPadding: expected one integer or a list of 1 "
                                           "to 3"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Stride", 0),
                         doctest::Contains("Stride: expected an integer of at least 1, got 0"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", -1),
                         doctest::Contains("PaddingSize: expected an integer of at least 0"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Biases", 1), "Biases: expected true or false, got 1",
                         Error);
    CHECK_THROWS_WITH_AS(
        layer.set_option("OutputPaddings", 1),
        "unknown option \"OutputPaddings\" for DeconvolutionLayer (options: OutputChannels, "
        "KernelSize, Stride, PaddingSize, OutputPadding, Dilation, ChannelGroups, Biases)",
        Error);
    CHECK_THROWS_WITH_AS(DeconvolutionLayer(4, 3).output_padding({0, -1}),
                         "OutputPadding: expected integers of at least 0, got [0, -1]", Error);
  }
}

TEST_CASE("DeconvolutionLayer shape inference") {
  SUBCASE("output shapes in 1, 2 and 3 dimensions") {
    // (in − 1)·Stride + Dilation·(KernelSize − 1) + 1 − before − after + OutputPadding
    auto one = DeconvolutionLayer(4, 3).stride(2).padding_size(1).output_padding(1);
    one.constrain_input(0, Shape{3, 9});
    one.infer_shapes();
    CHECK(one.outputs()[0].shape == Shape{4, 18});
    CHECK(one.arrays()[0].shape == Shape{3, 4, 3});
    CHECK(one.arrays()[1].shape == Shape{4});

    auto two = DeconvolutionLayer(16, {3, 2}).padding_size({{1, 0}, {0, 2}}).dilation({1, 2});
    CHECK(inferred_output(two, Shape{8, 10, 7}) == Shape{16, 11, 7});

    auto three = DeconvolutionLayer(6, {3, 3, 1})
                     .channel_groups(2)
                     .stride({1, 2, 3})
                     .output_padding({0, 1, 2});
    three.constrain_input(0, Shape{4, 5, 6, 7});
    three.infer_shapes();
    CHECK(three.outputs()[0].shape == Shape{6, 7, 14, 21});
    CHECK(three.arrays()[0].shape == Shape{4, 3, 3, 3, 1});
    CHECK(three.shapes_known());
  }
  SUBCASE("a single-number KernelSize takes the rank of the input") {
    DeconvolutionLayer layer(2, 2);
    layer.constrain_input(0, Shape{1, 4, 4, 4});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{2, 5, 5, 5});
    CHECK(layer.arrays()[0].shape == Shape{1, 2, 2, 2, 2});
  }
  SUBCASE("input channels and rank from Weights, Weights from the input") {
    auto layer = DeconvolutionLayer(6, 3).channel_groups(3);
    layer.set_array("Weights", Tensor({9, 2, 3, 3}, 0.5f));
    CHECK(layer.inputs()[0].shape == Shape{9, kUnknownDim, kUnknownDim});
    CHECK(layer.outputs()[0].shape == Shape{6, kUnknownDim, kUnknownDim});
    CHECK(layer.arrays()[1].shape == Shape{6});
    layer.constrain_input(0, Shape{kUnknownDim, 5, 5});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{6, 7, 7});

    auto from_input = DeconvolutionLayer(4, {2, 3}).channel_groups(2);
    from_input.constrain_input(0, Shape{6, kUnknownDim, kUnknownDim});
    from_input.infer_shapes();
    CHECK(from_input.arrays()[0].shape == Shape{6, 2, 2, 3});
  }
  SUBCASE("input sizes from the output, for any stride") {
    auto layer = DeconvolutionLayer(4, {3, 4, 2})
                     .stride({2, 3, 1})
                     .padding_size({{1, 0}, {1, 1}, {0, 0}})
                     .output_padding({1, 2, 0});
    layer.constrain_input(0, Shape{2, kUnknownDim, kUnknownDim, kUnknownDim});
    layer.constrain_output(0, Shape{4, 9, 13, 6});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{2, 4, 4, 5});
    // And forward again: the same output.
    CHECK(inferred_output(DeconvolutionLayer(layer), Shape{2, 4, 4, 5}) == Shape{4, 9, 13, 6});
  }
  SUBCASE("an output size no input gives") {
    auto layer = DeconvolutionLayer(4, 3).stride(2).padding_size(1);
    layer.constrain_output(0, Shape{4, 6});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Output: size 6 in spatial dimension 1 cannot come from any input (the "
                         "sizes that can are 1, 3, 5, …)",
                         Error);
    auto small = DeconvolutionLayer(4, {1, 5});
    small.constrain_output(0, Shape{4, 3, 3});
    CHECK_THROWS_WITH_AS(small.infer_shapes(),
                         "Output: size 3 in spatial dimension 2 cannot come from any input (the "
                         "sizes that can are 5, 6, …)",
                         Error);
  }
  SUBCASE("OutputPadding must be less than Stride or Dilation") {
    auto layer = DeconvolutionLayer(4, 3).output_padding(1);
    layer.constrain_input(0, Shape{2, 5});
    CHECK_THROWS_WITH_AS(
        layer.infer_shapes(),
        "OutputPadding: expected less than Stride (1) or Dilation (1) in spatial dimension 1, "
        "got 1",
        Error);
    auto per_dim = DeconvolutionLayer(4, 3).stride({2, 2}).dilation({1, 3}).output_padding({1, 3});
    CHECK_THROWS_WITH_AS(
        per_dim.infer_shapes(),
        "OutputPadding: expected less than Stride (2) or Dilation (3) in spatial dimension 2, "
        "got 3",
        Error);
    // Below the dilation is enough (PyTorch's rule).
    auto dilated = DeconvolutionLayer(4, 3).dilation(3).output_padding(2);
    CHECK(inferred_output(dilated, Shape{2, 5}) == Shape{4, 13});
  }
  SUBCASE("PaddingSize that crops the whole output") {
    auto layer = DeconvolutionLayer(4, 2).padding_size({{2, 1}});
    layer.constrain_input(0, Shape{2, 2});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "PaddingSize: crops 2 before and 1 after from 3 output positions in "
                         "spatial dimension 1 (Input size 2), which leaves none",
                         Error);
  }
  SUBCASE("a missing required option") {
    DeconvolutionLayer layer;
    layer.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), "OutputChannels: required option is missing", Error);
    layer.output_channels(4);
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), "KernelSize: required option is missing", Error);
    layer.kernel_size(3);
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{4, 10, 10});
  }
  SUBCASE("channels not divisible by ChannelGroups") {
    auto layer = DeconvolutionLayer(4, 3).channel_groups(2);
    layer.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input: expected a channel count divisible by ChannelGroups (2), got 3",
                         Error);
    auto odd = DeconvolutionLayer(3, 3).channel_groups(2);
    CHECK_THROWS_WITH_AS(odd.infer_shapes(),
                         "OutputChannels: expected a multiple of ChannelGroups (2), got 3", Error);
    auto weights = DeconvolutionLayer(4, 3).channel_groups(2);
    CHECK_THROWS_WITH_AS(weights.set_array("Weights", Tensor({3, 2, 3})),
                         "Weights: expected a first dimension (input channels) divisible by "
                         "ChannelGroups (2), got 3",
                         Error);
  }
  SUBCASE("wrong Weights shape") {
    DeconvolutionLayer layer(16, {3, 3});
    CHECK_THROWS_WITH_AS(layer.set_array("Weights", Tensor({3, 16, 5, 5})),
                         "Weights: expected [?, 16, 3, 3] ([input channels, OutputChannels / "
                         "ChannelGroups, KernelSize…]), but it is [3, 16, 5, 5]",
                         Error);
    DeconvolutionLayer known(16, {3, 3});
    known.constrain_input(0, Shape{3, 8, 8});
    known.infer_shapes();
    CHECK_THROWS_WITH_AS(known.set_array("Weights", Tensor({16, 3, 3, 3})),
                         "Weights: expected shape [3, 16, 3, 3], got [16, 3, 3, 3]", Error);
    DeconvolutionLayer flat(16, 3);
    CHECK_THROWS_WITH_AS(flat.set_array("Weights", Tensor({16, 3})),
                         "Weights: expected rank 3 to 5 ([in, out / groups, kernel…]), got [16, 3]",
                         Error);
  }
  SUBCASE("ranks that disagree") {
    auto layer = DeconvolutionLayer(4, {3, 3}).output_padding({1, 1, 1});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "OutputPadding: expected 2 values (one per spatial dimension, as "
                         "KernelSize), got 3",
                         Error);
    DeconvolutionLayer two(4, {3, 3});
    two.constrain_input(0, Shape{3, 8, 8, 8});
    CHECK_THROWS_WITH_AS(two.infer_shapes(),
                         "Input: expected [?, ?, ?] (channels and 2 spatial dimensions), but it "
                         "is [3, 8, 8, 8]",
                         Error);
    DeconvolutionLayer flat(4, 3);
    flat.constrain_input(0, Shape{12});
    CHECK_THROWS_WITH_AS(flat.infer_shapes(),
                         "Input: expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), "
                         "got [12]",
                         Error);
  }
  SUBCASE("changing an option after inference re-infers") {
    DeconvolutionLayer layer(4, 3);
    layer.constrain_input(0, Shape{2, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{4, 10, 10});
    layer.stride(2).output_padding(1).output_channels(5);
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{5, 18, 18});
    CHECK(layer.arrays()[0].shape == Shape{2, 5, 3, 3});
  }
}

TEST_CASE("DeconvolutionLayer checks a batch applied directly") {
  auto layer = initialized(DeconvolutionLayer(2, 3).stride(2), {3, 4}, 1);
  Tensor y;
  Tensor wrong({1, 4, 4});
  const Tensor* in[] = {&wrong};
  Tensor* out[] = {&y};
  CHECK_THROWS_WITH_AS(layer.forward(in, out, nullptr, RunContext{}),
                       "Input: [1, 4, 4] does not fit Weights [3, 2, 3] with ChannelGroups 1",
                       Error);
  Tensor x({1, 3, 4}), dy({1, 2, 8}), dx;
  layer.forward(std::array<const Tensor*, 1>{&x}, out, nullptr, RunContext{});
  CHECK(y.shape() == Dims{1, 2, 9});
  const Tensor* outc[] = {&y};
  const Tensor* gout[] = {&dy};
  Tensor* gin[] = {&dx};
  const Tensor* xin[] = {&x};
  CHECK_THROWS_WITH_AS(layer.backward(xin, outc, gout, nullptr, gin, {}),
                       "Output gradient: expected [1, 2, 9], got [1, 2, 8]", Error);
  CHECK_THROWS_WITH_AS(DeconvolutionLayer(2, 3)(Tensor({3, 4})), doctest::Contains("NetInitialize"),
                       Error);
}

TEST_CASE("DeconvolutionLayer gradients match finite differences") {
  struct Case {
    const char* name;
    DeconvolutionLayer layer;
    Dims batch;
  };
  std::vector<Case> cases = {
      {"1d", DeconvolutionLayer(3, 3).padding_size(1), {2, 2, 7}},
      {"1d stride dilation output padding",
       DeconvolutionLayer(2, {3}).stride(2).dilation(2).output_padding(1),
       {2, 3, 5}},
      {"2d asymmetric padding",
       DeconvolutionLayer(3, {3, 2}).stride(2).padding_size({{1, 0}, {2, 1}}),
       {2, 2, 4, 3}},
      {"2d groups no biases",
       DeconvolutionLayer(4, 3).channel_groups(2).stride({2, 1}).output_padding({1, 0}).biases(
           false),
       {2, 4, 3, 3}},
      {"2d 1x1 stride 2", DeconvolutionLayer(3, 1).stride(2), {2, 4, 3, 3}},
      // Stride 1, rows of 16 or more: the direct kernel both ways.
      {"2d wide rows, dilation, groups",
       DeconvolutionLayer(4, {3, 3})
           .dilation({1, 2})
           .padding_size({{1, 1}, {2, 1}})
           .channel_groups(2),
       {1, 4, 3, 20}},
      {"3d",
       DeconvolutionLayer(2, {2, 3, 2})
           .padding_size({1, 1, 0})
           .stride({1, 2, 2})
           .output_padding({0, 1, 1}),
       {1, 2, 2, 3, 2}},
      // 32 output channels × 9 kernel positions × 16 × 16 input positions:
      // several column tiles.
      {"2d several tiles", DeconvolutionLayer(32, 3).stride(2).padding_size(1), {1, 2, 16, 16}},
  };
  uint64_t seed = 20;
  for (auto& c : cases) {
    CAPTURE(c.name);
    auto layer = initialized(c.layer, Dims(c.batch.begin() + 1, c.batch.end()), seed++);
    auto report = check_gradients(layer, {random_tensor(c.batch, seed++)});
    CAPTURE(report.worst);
    CHECK(report.checked > 20);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("DeconvolutionLayer is the input gradient of ConvolutionLayer") {
  // The same Weights: a convolution from [3, 11, 9] to [4, 5, 5]; its input
  // gradient for dy is the deconvolution of dy, output padding making up the
  // size the convolution's floor loses.
  auto conv = ConvolutionLayer(4, {3, 2}).stride(2).padding_size({{1, 0}, {0, 1}});
  conv.constrain_input(0, Shape{3, 11, 9});
  conv.infer_shapes();
  REQUIRE(conv.outputs()[0].shape == Shape{4, 5, 5});
  const Tensor w = random_tensor({4, 3, 3, 2}, 1);
  conv.set_array("Weights", w);
  conv.set_array("Biases", Tensor({4}));
  auto deconv = DeconvolutionLayer(3, {3, 2})
                    .stride(2)
                    .padding_size({{1, 0}, {0, 1}})
                    .output_padding({1, 0})
                    .biases(false);
  deconv.set_array("Weights", w);
  const Tensor x = random_tensor({2, 3, 11, 9}, 2);
  const auto grads = forward_backward(conv, x, 3);
  const Tensor dy = random_tensor(grads[0].shape(), 3);
  const Tensor y = deconv(dy);
  CHECK(compare_tensors(y, grads[1], 1e-5, 1e-5) <= 1.0);
}

TEST_CASE("DeconvolutionLayer gives bit-identical results on 1, 2 and 3 threads") {
  // Each path: GEMMs and col2im (stride 2), the direct kernel (stride 1, wide
  // rows), small images side by side, tiled GEMMs; batches larger than the
  // chunks of the Weights gradient.
  const std::vector<std::pair<DeconvolutionLayer, Dims>> cases = {
      {initialized(DeconvolutionLayer(16, 3).stride(2).padding_size(1).output_padding(1),
                   {32, 16, 16}, 1),
       {9, 32, 16, 16}},
      {initialized(DeconvolutionLayer(6, {3, 3}).padding_size(1).channel_groups(2), {4, 6, 24}, 2),
       {11, 4, 6, 24}},
      {initialized(DeconvolutionLayer(4, 2).stride(1).dilation(2), {3, 3, 4}, 3), {37, 3, 3, 4}},
      {initialized(DeconvolutionLayer(3, {2, 2, 2}).stride(2), {2, 3, 3, 3}, 4), {10, 2, 3, 3, 3}},
      {initialized(DeconvolutionLayer(32, 3).stride(2), {4, 16, 16}, 7), {9, 4, 16, 16}},
  };
  const int threads = strata::num_threads();
  for (const auto& [layer, shape] : cases) {
    CAPTURE(to_string(shape));
    const Tensor x = random_tensor(shape, 5);
    strata::set_num_threads(1);
    const auto one = forward_backward(layer, x, 6);
    for (int n : {2, 3}) {
      CAPTURE(n);
      strata::set_num_threads(n);
      auto ws = layer.make_workspace();
      for (int again = 0; again < 2; ++again) {  // cold and warm workspace
        const auto many = forward_backward(layer, x, 6, ws.get());
        for (size_t i = 0; i < one.size(); ++i) {
          CAPTURE(i);
          CHECK(one[i] == many[i]);  // bitwise
        }
      }
    }
  }
  strata::set_num_threads(threads);
}

TEST_CASE("DeconvolutionLayer in a net: NetInitialize and a JSON round trip") {
  NetChain net({DeconvolutionLayer(4, 3).stride(2).padding_size({{1, 0}}).output_padding(1),
                DeconvolutionLayer(2, {2}).channel_groups(2).biases(false)},
               Input({3, 5}));
  CHECK(net.layer(0).outputs()[0].shape == Shape{4, 11});
  CHECK(net.layer(1).outputs()[0].shape == Shape{2, 12});
  NetInitialize(net, {.seed = 3});
  const Tensor& w = *net.layer(0).array("Weights");
  CHECK(w.shape() == Dims{3, 4, 3});
  for (float b : net.layer(0).array("Biases")->values())
    CHECK(b == 0.0f);
  CHECK(net.layer(1).array("Weights")->shape() == Dims{4, 1, 2});
  // Kaiming with Weights read as [in, out, k…]: fan_in = in·k = 64·3 (not
  // out·k = 12, as PyTorch's ConvTranspose default would take it).
  NetChain wide({DeconvolutionLayer(4, 3)}, Input({64, 5}));
  NetInitialize(wide, {.method = InitMethod::Kaiming, .seed = 3});
  const Tensor& ww = *wide.layer(0).array("Weights");
  double sum2 = 0;
  for (float v : ww.values())
    sum2 += double(v) * v;
  CHECK(std::sqrt(sum2 / ww.size()) == doctest::Approx(std::sqrt(2.0 / 192)).epsilon(0.1));

  const nlohmann::json written = net_to_json(net);
  CHECK(written["layers"][0]["type"] == "DeconvolutionLayer");
  CHECK(written["layers"][0]["PaddingSize"] == nlohmann::json{{1, 0}});
  CHECK(written["layers"][0]["OutputPadding"] == 1);
  CHECK(written["layers"][1]["Biases"] == false);
  auto again = net_from_json(written);
  CHECK(net_to_json(*again) == written);
  const auto layers = again->children();
  REQUIRE(layers.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(layers[i].second->options() == net.layer(i).options());
    CHECK(*layers[i].second->array("Weights") == *net.layer(i).array("Weights"));
  }
  const Tensor x = random_tensor({2, 3, 5}, 4);
  CHECK((*again)(x) == net(x));
}

TEST_CASE("DeconvolutionLayer applies to one example and to a batch") {
  auto layer = initialized(DeconvolutionLayer(2, 3).stride(2), {3, 4, 4}, 8);
  Tensor a = random_tensor({3, 4, 4}, 1), b = random_tensor({3, 4, 4}, 2);
  Tensor batch({2, 3, 4, 4});
  std::copy(a.values().begin(), a.values().end(), batch.values().begin());
  std::copy(b.values().begin(), b.values().end(), batch.values().begin() + a.size());
  Tensor ya = layer(a), yb = layer(batch);
  CHECK(ya.shape() == Dims{2, 9, 9});
  CHECK(yb.shape() == Dims{2, 2, 9, 9});
  for (int64_t i = 0; i < ya.size(); ++i)
    CHECK(ya[i] == yb[i]);
}
