#include "layers/parametric_ramp.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

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
using strata::testing::random_tensor;

TEST_CASE("ParametricRampLayer matches PyTorch's prelu (forward and backward)") {
  strata::testing::check_reference_file("parametric_ramp.json");
}

TEST_CASE("ParametricRampLayer has no options and one Slope") {
  ParametricRampLayer layer;
  CHECK(layer.type() == "ParametricRampLayer");
  CHECK(layer.options() == nlohmann::json::object());
  CHECK_THROWS_WITH_AS(layer.set_option("Alpha", 0.1), doctest::Contains("\"Alpha\""), Error);
  CHECK(layer.missing_arrays() == std::vector<std::string>{"Slope"});
  CHECK(layer.arrays()[0].trainable);
  CHECK(layer.traits().rectifier);
}

TEST_CASE("ParametricRampLayer gradients match finite differences") {
  for (Dims shape : {Dims{3, 4}, Dims{2, 3, 7}, Dims{2, 2, 4, 3}, Dims{1, 2, 3, 2, 2}}) {
    CAPTURE(to_string(shape));
    ParametricRampLayer layer;
    layer.set_array("Slope", random_tensor({shape[1]}, 4, -0.5f, 0.8f));
    // Away from the kink, so that a step does not cross it.
    Tensor x = random_tensor(shape, 11);
    for (float& v : x.values())
      v += v > 0 ? 0.1f : -0.1f;
    auto report = check_gradients(layer, {x});
    CAPTURE(report.worst);
    CHECK(report.checked > 5);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("ParametricRampLayer Slope gradient: long planes, any thread count") {
  ParametricRampLayer layer;
  layer.set_array("Slope", Tensor({3}, std::vector<float>{0.25f, -0.1f, 0.5f}));
  const Tensor x = random_tensor({4, 3, 2100}, 2, -1.0f, 0.5f);
  const Tensor dy = random_tensor(x.shape(), 3);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor y, dx, ds;
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    auto ws = layer.make_workspace();
    layer.forward(in, out, ws.get(), {Mode::Training, nullptr});
    const Tensor* outs[] = {&y};
    const Tensor* gouts[] = {&dy};
    Tensor* gins[] = {&dx};
    Tensor* garr[] = {&ds};
    layer.backward(in, outs, gouts, ws.get(), gins, garr);
    return std::vector<float>(ds.values().begin(), ds.values().end());
  };
  const int before = num_threads();
  const auto one = run(1), two = run(2), three = run(3);
  set_num_threads(before);
  CHECK(one == two);
  CHECK(one == three);
  for (int64_t c = 0; c < 3; ++c) {
    double want = 0;
    for (int64_t e = 0; e < 4; ++e)
      for (int64_t i = 0; i < 2100; ++i) {
        const int64_t k = (e * 3 + c) * 2100 + i;
        if (x[k] <= 0) want += static_cast<double>(dy[k]) * x[k];
      }
    CHECK(one[c] == doctest::Approx(want).epsilon(1e-5));
  }
}

TEST_CASE("ParametricRampLayer shape inference works in both directions") {
  SUBCASE("from the input") {
    ParametricRampLayer layer;
    layer.constrain_input(0, Shape{16, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{16, 8, 8});
    CHECK(layer.arrays()[0].shape == Shape{16});
    CHECK(layer.shapes_known());
  }
  SUBCASE("from the output") {
    ParametricRampLayer layer;
    layer.constrain_output(0, Shape{5});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{5});
    CHECK(layer.arrays()[0].shape == Shape{5});
  }
  SUBCASE("a present Slope fixes the channel count") {
    ParametricRampLayer layer;
    layer.set_array("Slope", Tensor({6}, 0.25f));
    layer.constrain_input(0, Shape::of_rank(3));
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{6, kUnknownDim, kUnknownDim});
    CHECK(layer.outputs()[0].shape == Shape{6, kUnknownDim, kUnknownDim});
  }
  SUBCASE("a wrong channel count is an error naming Slope") {
    ParametricRampLayer layer;
    layer.set_array("Slope", Tensor({6}, 0.25f));
    CHECK_THROWS_WITH_AS(
        layer.constrain_input(0, Shape{8, 4}) && layer.infer_shapes(),
        doctest::Contains("Slope: expected [8] (one per Input channel), but it is [6]"), Error);
  }
  SUBCASE("a Slope of the wrong shape is refused") {
    ParametricRampLayer layer;
    layer.constrain_input(0, Shape{8, 4});
    layer.infer_shapes();
    CHECK_THROWS_WITH_AS(layer.set_array("Slope", Tensor({8, 1}, 0.25f)),
                         "Slope: expected shape [8], got [8, 1]", Error);
  }
  SUBCASE("a rank-0 input is refused") {
    ParametricRampLayer layer;
    layer.constrain_input(0, Shape(Dims{}));
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input: expected rank 1 or more (channels first), got []", Error);
  }
}

TEST_CASE("ParametricRampLayer: NetInitialize, Kaiming before it, and a JSON round trip") {
  NetChain net({ConvolutionLayer(8, {3, 3}), ParametricRampLayer()}, Input({2, 6, 6}));
  CHECK(net.layer(1).arrays()[0].shape == Shape{8});
  NetInitialize(net);
  const Tensor& slope = *net.layer(1).array("Slope");
  for (float v : slope.values())
    CHECK(v == 0.25f);
  // Weights feeding a rectifier get Kaiming: standard deviation sqrt(2 / fan_in).
  const Tensor& w = *net.layer(0).array("Weights");
  double ss = 0;
  for (float v : w.values())
    ss += static_cast<double>(v) * v;
  CHECK(std::sqrt(ss / w.size()) == doctest::Approx(std::sqrt(2.0 / 18)).epsilon(0.15).scale(0));

  net.layer(1).set_array("Slope", random_tensor({8}, 5));
  const auto doc = net_to_json(net);
  CHECK(doc["layers"][1]["type"] == "ParametricRampLayer");
  CHECK(doc["layers"][1].contains("Slope"));
  const auto again = net_from_json(doc);
  CHECK(net_to_json(*again) == doc);
  const Tensor x = random_tensor({2, 2, 6, 6}, 3);
  CHECK((*again)(x) == net(x));
}
