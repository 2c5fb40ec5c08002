#include "layers/convolution.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "convolution_support.hpp"
#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/registry.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::forward_backward;
using strata::testing::initialized;
using strata::testing::random_tensor;

namespace {

// Runs forward and backward, in a fresh workspace, with a random output
// gradient; returns {y, dx, dWeights, dBiases}.
std::vector<Tensor> run(const ConvolutionLayer& layer, const Tensor& x, uint64_t seed) {
  auto ws = layer.make_workspace();
  return forward_backward(layer, x, seed, ws.get());
}

// The definition, written out with plain loops over the padded input (in
// double): an independent check of the tiled im2col path.
Tensor naive_convolution(const ConvolutionLayer& layer, const Tensor& x) {
  const Tensor& w = *layer.array("Weights");
  const Tensor* b = layer.biases() ? layer.array("Biases") : nullptr;
  const size_t r = x.rank() - 2;
  const int64_t batch = x.dim(0), cin = x.dim(1), cout = w.dim(0), groups = layer.channel_groups();
  const int64_t cin_g = cin / groups, cout_g = cout / groups;
  // Pad to 3 spatial dimensions with size-1 leading ones.
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, k{1, 1, 1}, s{1, 1, 1}, dil{1, 1, 1},
      pb{0, 0, 0};
  for (size_t d = 0; d < r; ++d) {
    const size_t e = d + 3 - r;
    in[e] = x.dim(2 + d);
    k[e] = (*layer.kernel_size())[d];
    s[e] = layer.stride()[d];
    dil[e] = layer.dilation()[d];
    pb[e] = layer.padding_size().before(d);
    const int64_t pa = layer.padding_size().after(d);
    out[e] = (in[e] + pb[e] + pa - dil[e] * (k[e] - 1) - 1) / s[e] + 1;
  }
  Dims shape{batch, cout};
  for (size_t d = 0; d < r; ++d)
    shape.push_back(out[d + 3 - r]);
  Tensor y(shape);
  int64_t at = 0;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t od = 0; od < out[0]; ++od)
        for (int64_t oh = 0; oh < out[1]; ++oh)
          for (int64_t ow = 0; ow < out[2]; ++ow) {
            double acc = b ? (*b)[o] : 0.0;
            const int64_t g = o / cout_g;
            for (int64_t c = 0; c < cin_g; ++c)
              for (int64_t a = 0; a < k[0]; ++a)
                for (int64_t bh = 0; bh < k[1]; ++bh)
                  for (int64_t bw = 0; bw < k[2]; ++bw) {
                    const int64_t id = od * s[0] + a * dil[0] - pb[0];
                    const int64_t ih = oh * s[1] + bh * dil[1] - pb[1];
                    const int64_t iw = ow * s[2] + bw * dil[2] - pb[2];
                    if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2])
                      continue;
                    const int64_t xi =
                        (((n * cin + g * cin_g + c) * in[0] + id) * in[1] + ih) * in[2] + iw;
                    const int64_t wi = (((o * cin_g + c) * k[0] + a) * k[1] + bh) * k[2] + bw;
                    acc += static_cast<double>(x[xi]) * w[wi];
                  }
            y[at++] = static_cast<float>(acc);
          }
  return y;
}

void check_close(const Tensor& a, const Tensor& b, double tol) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (1.0 + std::abs(b[i])));
  CHECK(worst <= tol);
}

}  // namespace

TEST_CASE("ConvolutionLayer matches PyTorch's conv1d/conv2d/conv3d (forward and backward)") {
  strata::testing::check_reference_file("convolution.json");
}

TEST_CASE("ConvolutionLayer options: defaults, C++ setters and JSON") {
  SUBCASE("defaults") {
    ConvolutionLayer layer(16, {3, 3});
    CHECK(layer.type() == "ConvolutionLayer");
    CHECK(layer.options() == nlohmann::json{{"OutputChannels", 16},
                                            {"KernelSize", {3, 3}},
                                            {"Stride", 1},
                                            {"PaddingSize", 0},
                                            {"Dilation", 1},
                                            {"ChannelGroups", 1},
                                            {"Biases", true}});
    CHECK(layer.missing_arrays() == std::vector<std::string>{"Weights", "Biases"});
  }
  SUBCASE("chained setters, in every form") {
    auto layer =
        ConvolutionLayer(8, 3).stride({2, 1}).padding_size(1).dilation(2).channel_groups(2);
    CHECK(layer.options()["KernelSize"] == 3);
    CHECK(layer.options()["Stride"] == nlohmann::json{2, 1});
    CHECK(layer.options()["PaddingSize"] == 1);
    CHECK(layer.options()["Dilation"] == 2);
    CHECK(layer.options()["ChannelGroups"] == 2);
    layer.padding_size({1, 2});
    CHECK(layer.options()["PaddingSize"] == nlohmann::json{1, 2});
    layer.padding_size({{1, 0}, {0, 2}});
    CHECK(layer.options()["PaddingSize"] == nlohmann::json{{1, 0}, {0, 2}});
    CHECK(layer.padding_size().before(0) == 1);
    CHECK(layer.padding_size().after(1) == 2);
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
    auto layer = ConvolutionLayer(6, {3, 2, 1})
                     .stride({1, 2, 1})
                     .padding_size({{1, 0}, {0, 1}, {2, 2}})
                     .dilation({1, 1, 2})
                     .channel_groups(3)
                     .biases(false);
    auto copy = make_layer("ConvolutionLayer");
    const auto options = layer.options();
    for (const auto& [key, value] : options.items())
      copy->set_option(key, value);
    CHECK(copy->options() == layer.options());
    CHECK(copy->arrays().size() == 1);
    // Unset required options are null, and null is accepted back.
    auto fresh = make_layer("ConvolutionLayer");
    CHECK(fresh->options()["OutputChannels"].is_null());
    CHECK(fresh->options()["KernelSize"].is_null());
    const auto unset = fresh->options();
    for (const auto& [key, value] : unset.items())
      copy->set_option(key, value);
    CHECK(copy->options() == fresh->options());
  }
  SUBCASE("bad values name the option") {
    ConvolutionLayer layer;
    CHECK_THROWS_WITH_AS(layer.set_option("OutputChannels", 0),
                         "OutputChannels: expected an integer of at least 1, got 0", Error);
    CHECK_THROWS_WITH_AS(layer.set_option("KernelSize", "3"),
                         doctest::Contains("KernelSize: expected an integer or a list"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("KernelSize", nlohmann::json::array()),
                         doctest::Contains("KernelSize: expected one integer or a list of 1 to 3"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("KernelSize", {1, 2, 3, 4}),
                         doctest::Contains("KernelSize: expected one integer or a list of 1 to 3"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Stride", {1, 0}),
                         doctest::Contains("Stride: expected an integer of at least 1, got 0"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Dilation", 1.5),
                         doctest::Contains("Dilation: expected an integer"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", -1),
                         doctest::Contains("PaddingSize: expected an integer of at least 0"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", {{1, 2, 3}}),
                         doctest::Contains("PaddingSize: expected an integer, a list of integers "
                                           "or a list of [before, after] pairs"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", {{1, 2}, 3}),
                         doctest::Contains("PaddingSize: expected"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("ChannelGroups", 0),
                         doctest::Contains("ChannelGroups: expected an integer of at least 1"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Biases", 1), "Biases: expected true or false, got 1",
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Padding", 1),
                         doctest::Contains("unknown option \"Padding\" for ConvolutionLayer"),
                         Error);
    CHECK_THROWS_WITH_AS(ConvolutionLayer(4, {3, 0}),
                         "KernelSize: expected integers of at least 1, got [3, 0]", Error);
    CHECK_THROWS_WITH_AS(ConvolutionLayer(4, 3).padding_size({{1, -1}}),
                         doctest::Contains("PaddingSize: expected integers of at least 0"), Error);
  }
}

TEST_CASE("ConvolutionLayer shape inference") {
  SUBCASE("output shapes in 1, 2 and 3 dimensions") {
    auto layer = ConvolutionLayer(4, 3).padding_size(1).stride(2);
    layer.constrain_input(0, Shape{3, 9});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{4, 5});
    CHECK(layer.arrays()[0].shape == Shape{4, 3, 3});
    CHECK(layer.arrays()[1].shape == Shape{4});

    auto two = ConvolutionLayer(16, {3, 2}).padding_size({{1, 0}, {0, 0}}).dilation({1, 2});
    two.constrain_input(0, Shape{8, 10, 7});
    two.infer_shapes();
    CHECK(two.outputs()[0].shape == Shape{16, 9, 5});
    CHECK(two.arrays()[0].shape == Shape{16, 8, 3, 2});

    auto three = ConvolutionLayer(6, {3, 3, 1}).channel_groups(2).stride({1, 2, 3});
    three.constrain_input(0, Shape{4, 5, 6, 7});
    three.infer_shapes();
    CHECK(three.outputs()[0].shape == Shape{6, 3, 2, 3});
    CHECK(three.arrays()[0].shape == Shape{6, 2, 3, 3, 1});
    CHECK(three.shapes_known());
  }
  SUBCASE("a single-number KernelSize takes the rank of the input") {
    ConvolutionLayer layer(2, 2);
    layer.constrain_input(0, Shape{1, 4, 4, 4});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{2, 3, 3, 3});
    CHECK(layer.arrays()[0].shape == Shape{2, 1, 2, 2, 2});
  }
  SUBCASE("input channels and rank from Weights") {
    auto layer = ConvolutionLayer(6, 3).channel_groups(3);
    layer.set_array("Weights", Tensor({6, 2, 3, 3}, 0.5f));
    CHECK(layer.inputs()[0].shape == Shape{6, kUnknownDim, kUnknownDim});
    CHECK(layer.outputs()[0].shape == Shape{6, kUnknownDim, kUnknownDim});
    CHECK(layer.arrays()[1].shape == Shape{6});
    layer.constrain_input(0, Shape{kUnknownDim, 5, 5});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{6, 3, 3});
  }
  SUBCASE("input sizes from the output where the stride is 1") {
    auto layer = ConvolutionLayer(4, {3, 3}).stride({1, 2}).padding_size({{1, 0}, {0, 0}});
    layer.constrain_input(0, Shape{2, kUnknownDim, kUnknownDim});
    layer.constrain_output(0, Shape{4, 6, 3});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{2, 7, kUnknownDim});
  }
  SUBCASE("a missing required option") {
    ConvolutionLayer layer;
    layer.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), "OutputChannels: required option is missing", Error);
    layer.output_channels(4);
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), "KernelSize: required option is missing", Error);
    layer.kernel_size(3);
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{4, 6, 6});
  }
  SUBCASE("an input too small for the kernel") {
    auto layer = ConvolutionLayer(4, 3).dilation(2).padding_size(1);
    layer.constrain_input(0, Shape{3, 8, 2});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input: size 2 in spatial dimension 2 (4 with padding) is smaller than "
                         "the kernel, which spans 5 with dilation 2",
                         Error);
    // And when a batch is applied directly.
    ConvolutionLayer direct(1, 3);
    direct.set_array("Weights", Tensor({1, 1, 3}, 1.0f));
    direct.set_array("Biases", Tensor({1}, 0.0f));
    Tensor y;
    Tensor x({1, 1, 2});
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    CHECK_THROWS_WITH_AS(direct.forward(in, out, nullptr, RunContext{}),
                         doctest::Contains("Input: size 2 in spatial dimension 1"), Error);
  }
  SUBCASE("input channels not divisible by ChannelGroups") {
    auto layer = ConvolutionLayer(4, 3).channel_groups(2);
    layer.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input: expected a channel count divisible by ChannelGroups (2), got 3",
                         Error);
    auto odd = ConvolutionLayer(3, 3).channel_groups(2);
    CHECK_THROWS_WITH_AS(odd.infer_shapes(),
                         "OutputChannels: expected a multiple of ChannelGroups (2), got 3", Error);
  }
  SUBCASE("wrong Weights shape") {
    ConvolutionLayer layer(16, {3, 3});
    CHECK_THROWS_WITH_AS(layer.set_array("Weights", Tensor({16, 3, 5, 5})),
                         "Weights: expected [16, ?, 3, 3] ([OutputChannels, input channels / "
                         "ChannelGroups, KernelSize…]), but it is [16, 3, 5, 5]",
                         Error);
    ConvolutionLayer known(16, {3, 3});
    known.constrain_input(0, Shape{3, 8, 8});
    known.infer_shapes();
    CHECK_THROWS_WITH_AS(known.set_array("Weights", Tensor({16, 4, 3, 3})),
                         "Weights: expected shape [16, 3, 3, 3], got [16, 4, 3, 3]", Error);
    ConvolutionLayer late(16, {3, 3});
    late.set_array("Weights", Tensor({16, 4, 3, 3}));
    CHECK(late.inputs()[0].shape == Shape{4, kUnknownDim, kUnknownDim});
    CHECK_THROWS_WITH_AS(late.constrain_input(0, Shape{3, 8, 8}),
                         "Input: expected [3, 8, 8], but it is [4, ?, ?]", Error);
  }
  SUBCASE("ranks that disagree") {
    auto layer = ConvolutionLayer(4, {3, 3}).stride({1, 1, 1});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Stride: expected 2 values (one per spatial dimension, as KernelSize), "
                         "got 3",
                         Error);
    ConvolutionLayer two(4, {3, 3});
    two.constrain_input(0, Shape{3, 8, 8, 8});
    CHECK_THROWS_WITH_AS(two.infer_shapes(),
                         "Input: expected [?, ?, ?] (channels and 2 spatial dimensions), but it "
                         "is [3, 8, 8, 8]",
                         Error);
    ConvolutionLayer flat(4, 3);
    flat.constrain_input(0, Shape{12});
    CHECK_THROWS_WITH_AS(flat.infer_shapes(),
                         "Input: expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), "
                         "got [12]",
                         Error);
  }
  SUBCASE("changing an option after inference re-infers") {
    ConvolutionLayer layer(4, 3);
    layer.constrain_input(0, Shape{2, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{4, 6, 6});
    layer.padding_size(1).output_channels(5);
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{5, 8, 8});
    CHECK(layer.arrays()[0].shape == Shape{5, 2, 3, 3});
  }
}

TEST_CASE("ConvolutionLayer gradients match finite differences") {
  struct Case {
    const char* name;
    ConvolutionLayer layer;
    Dims batch;
  };
  std::vector<Case> cases = {
      {"1d", ConvolutionLayer(3, 3).padding_size(1), {2, 2, 7}},
      {"1d stride dilation", ConvolutionLayer(2, {3}).stride(2).dilation(2), {2, 3, 11}},
      {"2d asymmetric padding",
       ConvolutionLayer(3, {3, 2}).padding_size({{1, 0}, {2, 1}}),
       {2, 2, 5, 4}},
      {"2d groups no biases",
       ConvolutionLayer(4, 3).channel_groups(2).stride({2, 1}).biases(false),
       {2, 4, 5, 5}},
      {"2d 1x1", ConvolutionLayer(3, 1), {2, 4, 3, 3}},
      // Rows of 16 or more: the direct kernel (forward and input gradient),
      // with a partial last step.
      {"2d wide rows, dilation, groups",
       ConvolutionLayer(6, {3, 3})
           .dilation({1, 2})
           .padding_size({{1, 1}, {3, 2}})
           .channel_groups(2),
       {1, 4, 5, 20}},
      {"2d dilation, uneven padding",
       ConvolutionLayer(2, {3, 3}).dilation({2, 1}).padding_size({{2, 1}, {0, 2}}),
       {2, 2, 6, 5}},
      {"3d",
       ConvolutionLayer(2, {2, 3, 2}).padding_size({1, 1, 0}).stride({1, 2, 1}),
       {1, 2, 3, 4, 3}},
      // 32 input channels × 9 kernel positions and 16 × 16 positions: several
      // column tiles per example.
      {"2d several tiles", ConvolutionLayer(3, 3).padding_size(1), {1, 32, 16, 16}},
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

TEST_CASE("ConvolutionLayer's tiled kernel matches the definition, for any thread count") {
  // Large enough for several column tiles per example, a batch larger than
  // the 16 weight-gradient chunks, and every option at once.
  auto layer = initialized(ConvolutionLayer(6, {3, 3})
                               .stride({1, 2})
                               .padding_size({{2, 1}, {1, 0}})
                               .dilation({2, 1})
                               .channel_groups(2),
                           {64, 16, 40}, 3);
  const Tensor x = random_tensor({18, 64, 16, 40}, 4);
  const int threads = strata::num_threads();
  strata::set_num_threads(1);
  const auto one = run(layer, x, 5);
  strata::set_num_threads(std::max(2, threads));
  const auto many = run(layer, x, 5);
  strata::set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i) {
    CAPTURE(i);
    CHECK(one[i] == many[i]);  // bitwise
  }
  check_close(one[0], naive_convolution(layer, x), 1e-5);

  // Stride 1 with rows of 16 or more: the direct kernel (no im2col).
  auto wide = initialized(
      ConvolutionLayer(12, {3, 5}).padding_size({{1, 2}, {2, 1}}).dilation({2, 1}), {5, 9, 37}, 16);
  const Tensor wx = random_tensor({3, 5, 9, 37}, 17);
  check_close(wide(wx), naive_convolution(wide, wx), 1e-5);

  // A 1×1 convolution reads the input directly (no im2col).
  auto pointwise = initialized(ConvolutionLayer(5, 1), {40, 50, 50}, 6);
  const Tensor px = random_tensor({2, 40, 50, 50}, 7);
  check_close(pointwise(px), naive_convolution(pointwise, px), 1e-5);
}

TEST_CASE("ConvolutionLayer puts small images side by side and splits them back") {
  // Small images share a GEMM (several examples' columns side by side) and go
  // through the cached index map; the batch is not a multiple of anything.
  for (const auto& layer :
       {initialized(ConvolutionLayer(6, {3, 3}).padding_size(1).channel_groups(2), {4, 5, 6}, 11),
        initialized(ConvolutionLayer(3, {2, 3}).stride({2, 1}).dilation({1, 2}), {3, 7, 8}, 12),
        initialized(ConvolutionLayer(4, 1), {3, 4, 4}, 13)}) {
    const int64_t batch = 37;
    Dims shape{batch};
    for (int64_t d : layer.inputs()[0].shape.dims())
      shape.push_back(d);
    const Tensor x = random_tensor(shape, 14);
    const auto all = run(layer, x, 15);
    check_close(all[0], naive_convolution(layer, x), 1e-5);
    // Each example alone (one image per GEMM) gives the same outputs and
    // input gradients, and the Weights and Biases gradients add up.
    Tensor dw_sum(all[2].shape()), db_sum(all[3].shape());
    const int64_t in_size = x.size() / batch, out_size = all[0].size() / batch;
    for (int64_t n = 0; n < batch; ++n) {
      Dims one = shape;
      one[0] = 1;
      Tensor xn(one);
      std::copy_n(x.data() + n * in_size, in_size, xn.data());
      Tensor y, dx, dw, db;
      const Tensor* in[] = {&xn};
      Tensor* out[] = {&y};
      auto ws = layer.make_workspace();
      layer.forward(in, out, ws.get(), RunContext{});
      Tensor dy(y.shape());
      const Tensor dy_all = random_tensor(all[0].shape(), 15);  // as run() made it
      std::copy_n(dy_all.data() + n * out_size, out_size, dy.data());
      const Tensor* outc[] = {&y};
      const Tensor* gout[] = {&dy};
      Tensor* gin[] = {&dx};
      std::vector<Tensor*> garr{&dw};
      if (layer.biases()) garr.push_back(&db);
      layer.backward(in, outc, gout, ws.get(), gin, garr);
      for (int64_t i = 0; i < out_size; ++i)
        REQUIRE(y[i] == doctest::Approx(all[0][n * out_size + i]).epsilon(1e-5));
      for (int64_t i = 0; i < in_size; ++i)
        REQUIRE(dx[i] == doctest::Approx(all[1][n * in_size + i]).epsilon(1e-4));
      dw_sum.vec() += dw.vec();
      if (layer.biases()) db_sum.vec() += db.vec();
    }
    CHECK(strata::testing::compare_tensors(all[2], dw_sum, 1e-4, 1e-4) <= 1.0);
    if (layer.biases()) CHECK(strata::testing::compare_tensors(all[3], db_sum, 1e-4, 1e-4) <= 1.0);
  }
}

TEST_CASE("ConvolutionLayer applies to one example and to a batch") {
  auto layer = initialized(ConvolutionLayer(2, 3).padding_size(1), {3, 4, 4}, 8);
  Tensor a = random_tensor({3, 4, 4}, 1), b = random_tensor({3, 4, 4}, 2);
  Tensor batch({2, 3, 4, 4});
  std::copy(a.values().begin(), a.values().end(), batch.values().begin());
  std::copy(b.values().begin(), b.values().end(), batch.values().begin() + a.size());
  Tensor ya = layer(a), yb = layer(batch);
  CHECK(ya.shape() == Dims{2, 4, 4});
  CHECK(yb.shape() == Dims{2, 2, 4, 4});
  for (int64_t i = 0; i < ya.size(); ++i)
    CHECK(ya[i] == yb[i]);
  CHECK_THROWS_WITH_AS(ConvolutionLayer(2, 3)(a), doctest::Contains("NetInitialize"), Error);
}
