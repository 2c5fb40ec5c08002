#include "layers/local_response_normalization.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "layers/registry.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("LocalResponseNormalizationLayer matches PyTorch's LocalResponseNorm") {
  strata::testing::check_reference_file("local_response_normalization.json");
}

TEST_CASE("LocalResponseNormalizationLayer defaults and options") {
  LocalResponseNormalizationLayer layer;
  CHECK(layer.type() == "LocalResponseNormalizationLayer");
  CHECK(layer.options() ==
        nlohmann::json{{"ChannelWindowSize", 2}, {"Alpha", 1.0}, {"Beta", 0.5}, {"Bias", 1.0}});
  layer.channel_window_size(0).alpha(1e-4).beta(0.75).bias(2);
  CHECK(layer.channel_window_size() == 0);
  CHECK(layer.alpha() == 1e-4);
  CHECK(layer.beta() == 0.75);
  CHECK(layer.bias() == 2);
  layer.set_option("ChannelWindowSize", 3);
  CHECK(layer.channel_window_size() == 3);
  CHECK_THROWS_WITH_AS(layer.set_option("ChannelWindowSize", -1),
                       "ChannelWindowSize: expected an integer of at least 0, got -1", Error);
  CHECK_THROWS_WITH_AS(layer.channel_window_size(-2),
                       doctest::Contains("ChannelWindowSize: expected an integer of at least 0"),
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("ChannelWindowSize", 1.5),
                       "ChannelWindowSize: expected an integer, got 1.5", Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Beta", "half"), doctest::Contains("Beta: expected"),
                       Error);
  CHECK_THROWS_WITH_AS(layer.alpha(std::numeric_limits<double>::infinity()),
                       doctest::Contains("Alpha"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Size", 5), doctest::Contains("\"Size\""), Error);
  CHECK(layer.traits().transparent_to_activation);
  CHECK(layer.arrays().empty());
}

TEST_CASE("LocalResponseNormalizationLayer gradients match finite differences") {
  struct Case {
    Dims shape;
    int64_t n;
    double alpha, beta, bias;
  };
  for (const Case& c :
       {Case{{2, 5, 7}, 2, 1.0, 0.5, 1.0}, Case{{2, 4, 3, 3}, 1, 2.0, 0.75, 1.5},
        Case{{1, 6, 2, 3, 2}, 3, 3.0, 1.3, 0.5}, Case{{1, 20, 3}, 4, 1.5, 1.0, 1.0}}) {
    CAPTURE(to_string(c.shape));
    auto layer =
        LocalResponseNormalizationLayer().channel_window_size(c.n).alpha(c.alpha).beta(c.beta).bias(
            c.bias);
    const Tensor x = random_tensor(c.shape, 11, -2.0f, 2.0f);
    for (Mode mode : {Mode::Inference, Mode::Training}) {
      testing::GradCheckOptions o;
      o.mode = mode;
      o.step = 1e-3;
      auto report = check_gradients(layer, {x}, o);
      CAPTURE(report.worst);
      CHECK(report.checked > 10);
      CHECK(report.max_error <= 1.0);
    }
  }
}

TEST_CASE("LocalResponseNormalizationLayer shape inference works in both directions") {
  SUBCASE("from the input") {
    LocalResponseNormalizationLayer layer;
    layer.constrain_input(0, Shape{16, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{16, 8, 8});
    CHECK(layer.shapes_known());
  }
  SUBCASE("from the output") {
    LocalResponseNormalizationLayer layer;
    layer.constrain_output(0, Shape{3, kUnknownDim, 5});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, kUnknownDim, 5});
  }
  SUBCASE("a rank-1 input is an error naming Input") {
    LocalResponseNormalizationLayer layer;
    layer.constrain_input(0, Shape{8});
    CHECK_THROWS_WITH_AS(
        layer.infer_shapes(),
        "Input: expected rank 2 or more (channels, then spatial dimensions), got [8]", Error);
  }
  SUBCASE("a rank-1 output too") {
    LocalResponseNormalizationLayer layer;
    layer.constrain_output(0, Shape{8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), doctest::Contains("Output: expected rank 2 or more"),
                         Error);
  }
  SUBCASE("a batch without spatial dimensions is refused by forward") {
    LocalResponseNormalizationLayer layer;
    Tensor x({2, 3}), y;
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    CHECK_THROWS_WITH_AS(layer.forward(in, out, nullptr, {}),
                         doctest::Contains("Input: expected a batch of rank 3 or more"), Error);
  }
}

TEST_CASE("LocalResponseNormalizationLayer in a net file round-trips") {
  const auto net = parse_net(R"({"format": "strata-net", "version": 1, "type": "NetChain",
    "Input": [6, 4, 4],
    "layers": [{"type": "LocalResponseNormalizationLayer", "name": "lrn",
                "ChannelWindowSize": 1, "Alpha": 0.001, "Beta": 0.75, "Bias": 2}]})",
                             "lrn.json");
  const auto doc = net_to_json(*net);
  const auto again = net_from_json(doc);
  CHECK(net_to_json(*again) == doc);
  CHECK(doc["layers"][0]["ChannelWindowSize"] == 1);
  CHECK(doc["layers"][0]["Beta"] == 0.75);
  const Tensor x = random_tensor({2, 6, 4, 4}, 3, -30.0f, 30.0f);
  CHECK((*again)(x) == (*net)(x));
  // Defaults are left out of the file.
  const auto plain = net_to_json(*make_layer("LocalResponseNormalizationLayer"));
  CHECK(!plain.contains("Alpha"));
}

TEST_CASE("LocalResponseNormalizationLayer: large values, NaN, and the IEEE cases") {
  auto layer = LocalResponseNormalizationLayer().channel_window_size(1);
  layer.constrain_input(0, Shape{4, 2});
  // x² in double: 1e30 does not overflow; y ≈ x / (|x| / sqrt(3)) for the one large channel.
  Tensor x({4, 2}, std::vector<float>{1e30f, 1, 0, 1, 0, 1, 0, 1});
  Tensor y = layer(x);
  CHECK(y[0] == doctest::Approx(std::sqrt(3.0)));
  CHECK(std::isfinite(y[2]));
  CHECK(y[7] == doctest::Approx(1 / std::sqrt(1 + 2.0 / 3)));
  // A NaN reaches its window only.
  x[2] = std::numeric_limits<float>::quiet_NaN();
  y = layer(x);
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[2]));
  CHECK(std::isnan(y[4]));
  CHECK(y[6] == 0);
  CHECK(y[7] == doctest::Approx(1 / std::sqrt(1 + 2.0 / 3)));
  // Bias 0 and an all-zero window: 0 / 0.
  layer.bias(0);
  CHECK(std::isnan(layer(Tensor({4, 2}, 0.0f))[0]));
}
