#include "layers/resize.hpp"

#include <doctest/doctest.h>

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

TEST_CASE("ResizeLayer matches PyTorch's F.interpolate (forward and backward)") {
  strata::testing::check_reference_file("resize.json");
}

TEST_CASE("ResizeLayer options: defaults, C++ setters and JSON") {
  SUBCASE("defaults") {
    ResizeLayer layer;
    CHECK(layer.type() == "ResizeLayer");
    CHECK(layer.resampling() == Resampling::Linear);
    CHECK(layer.options() ==
          nlohmann::json{{"Dimensions", nullptr}, {"Scale", nullptr}, {"Resampling", "Linear"}});
    CHECK(layer.arrays().empty());
  }
  SUBCASE("setters and round trip") {
    auto layer = ResizeLayer().scale({2, 1.5}).resampling(Resampling::Nearest);
    CHECK(layer.options() == nlohmann::json{{"Dimensions", nullptr},
                                            {"Scale", {2.0, 1.5}},
                                            {"Resampling", "Nearest"}});
    CHECK(ResizeLayer().scale(2).options()["Scale"] == 2.0);
    CHECK(ResizeLayer().dimensions({8, 6}).options()["Dimensions"] == nlohmann::json{8, 6});
    layer.resampling("Linear");
    CHECK(layer.resampling() == Resampling::Linear);
    auto copy = make_layer("ResizeLayer");
    const auto options = layer.options();
    for (const auto& [key, value] : options.items())
      copy->set_option(key, value);
    CHECK(copy->options() == options);
  }
  SUBCASE("bad values name the option") {
    ResizeLayer layer;
    CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", {0, 4}),
                         "Dimensions: expected sizes from 1 to 2147483648 (a resize to size 0 is "
                         "empty), got [0,4]",
                         Error);
    CHECK_THROWS_WITH_AS(layer.dimensions({4, 0}),
                         doctest::Contains("(a resize to size 0 is empty), got [4,0]"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", 8),
                         "Dimensions: expected a list of 1 to 3 positive integers (the output's "
                         "spatial sizes), got 8",
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", {1, 2, 3, 4}),
                         doctest::Contains("Dimensions: expected a list of 1 to 3"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Scale", -1),
                         "Scale: expected positive finite factors, got -1.0", Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Scale", {2, 0}),
                         "Scale: expected positive finite factors, got [2.0,0.0]", Error);
    CHECK_THROWS_WITH_AS(layer.scale(std::numeric_limits<double>::infinity()),
                         doctest::Contains("Scale: expected positive finite factors"), Error);
    CHECK_THROWS_WITH_AS(layer.scale(std::numeric_limits<double>::quiet_NaN()),
                         doctest::Contains("Scale: expected positive finite factors"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Scale", "big"),
                         "Scale: expected a positive number or a list of 1 to 3 (one per spatial "
                         "dimension), got \"big\"",
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Resampling", "Cubic"),
                         "Resampling: expected \"Linear\" or \"Nearest\", got \"Cubic\"", Error);
    CHECK(layer.options()["Scale"].is_null());  // a refused value changes nothing
  }
}

TEST_CASE("ResizeLayer shape inference") {
  SUBCASE("Dimensions give the output sizes, with or without the input's") {
    auto layer = ResizeLayer().dimensions({6, 9});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{kUnknownDim, 6, 9});
    CHECK(layer.inputs()[0].shape == Shape::of_rank(3));
    layer.constrain_output(0, Shape{4, 6, 9});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{4, kUnknownDim, kUnknownDim});
  }
  SUBCASE("Scale: floor(in · s) in 1, 2 and 3 dimensions") {
    auto one = ResizeLayer().scale(2.5);
    one.constrain_input(0, Shape{3, 7});
    one.infer_shapes();
    CHECK(one.outputs()[0].shape == Shape{3, 17});

    auto two = ResizeLayer().scale({1.7, 0.6});
    two.constrain_input(0, Shape{2, 5, kUnknownDim});
    two.infer_shapes();
    CHECK(two.outputs()[0].shape == Shape{2, 8, kUnknownDim});

    auto three = ResizeLayer().scale(0.5).resampling(Resampling::Nearest);
    three.constrain_input(0, Shape{1, 4, 5, 7});
    three.infer_shapes();
    CHECK(three.outputs()[0].shape == Shape{1, 2, 2, 3});
    CHECK(three.shapes_known());
  }
  SUBCASE("errors") {
    ResizeLayer neither;
    neither.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(neither.infer_shapes(),
                         "Dimensions, Scale: expected exactly one of them (the output's sizes or "
                         "the factors), got neither",
                         Error);
    auto both = ResizeLayer().dimensions({4, 4}).scale(2);
    CHECK_THROWS_WITH_AS(both.infer_shapes(),
                         "Dimensions, Scale: expected exactly one of them (the output's sizes or "
                         "the factors), got both",
                         Error);

    auto empty = ResizeLayer().scale({1, 0.2});
    empty.constrain_input(0, Shape{3, 8, 3});
    CHECK_THROWS_WITH_AS(
        empty.infer_shapes(),
        "Scale: 0.2 makes spatial dimension 2 of size 3 empty (floor(3 · 0.2) = 0)", Error);

    auto ranks = ResizeLayer().dimensions({4, 4});
    ranks.constrain_input(0, Shape{3, 8});
    CHECK_THROWS_WITH_AS(ranks.infer_shapes(),
                         "Input: expected [?, ?, ?] (channels and 2 spatial dimensions, as "
                         "Dimensions), but it is [3, 8]",
                         Error);

    auto flat = ResizeLayer().scale(2);
    flat.constrain_input(0, Shape{8});
    CHECK_THROWS_WITH_AS(flat.infer_shapes(),
                         "Input: expected rank 2 to 4 (channels, then 1 to 3 spatial "
                         "dimensions), got [8]",
                         Error);

    auto channels = ResizeLayer().scale(2);
    channels.constrain_input(0, Shape{3, 4});
    channels.constrain_output(0, Shape{2, 8});
    CHECK_THROWS_WITH_AS(channels.infer_shapes(), doctest::Contains("Output: expected [3, 8]"),
                         Error);
  }
}

TEST_CASE("ResizeLayer gradients match finite differences") {
  struct Case {
    const char* name;
    ResizeLayer layer;
    Dims batch;
  };
  std::vector<Case> cases;
  for (Resampling r : {Resampling::Linear, Resampling::Nearest}) {
    cases.push_back({"1d up", ResizeLayer().dimensions({9}).resampling(r), {2, 2, 5}});
    cases.push_back({"1d down", ResizeLayer().scale(0.6).resampling(r), {1, 2, 7}});
    cases.push_back({"2d", ResizeLayer().scale({1.7, 0.6}).resampling(r), {1, 2, 4, 5}});
    cases.push_back({"3d", ResizeLayer().dimensions({3, 5, 2}).resampling(r), {1, 2, 2, 3, 3}});
  }
  for (auto& c : cases) {
    CAPTURE(c.name);
    CAPTURE(static_cast<int>(c.layer.resampling()));
    c.layer.constrain_input(0, Shape(Dims(c.batch.begin() + 1, c.batch.end())));
    c.layer.infer_shapes();
    auto report = check_gradients(c.layer, {random_tensor(c.batch, 3)});
    CAPTURE(report.worst);
    CHECK(report.checked > 10);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("ResizeLayer values: doubling a row, example and batch, checks on the batch") {
  const Tensor x({1, 1, 2}, std::vector<float>{1, 2});
  auto twice = ResizeLayer().scale(2);
  twice.constrain_input(0, Shape{1, 2});
  CHECK(twice(x) == Tensor({1, 1, 4}, std::vector<float>{1, 1.25f, 1.75f, 2}));
  auto nearest = ResizeLayer().dimensions({4}).resampling(Resampling::Nearest);
  nearest.constrain_input(0, Shape{1, 2});
  CHECK(nearest(x) == Tensor({1, 1, 4}, std::vector<float>{1, 1, 2, 2}));

  auto layer = ResizeLayer().dimensions({5, 3});
  layer.constrain_input(0, Shape{2, 3, 4});
  layer.infer_shapes();
  const Tensor a = random_tensor({2, 3, 4}, 1);
  const Tensor ya = layer(a);
  CHECK(ya.shape() == Dims{2, 5, 3});
  CHECK(layer(a.reshaped({1, 2, 3, 4})).reshaped({2, 5, 3}) == ya);

  // A bare layer checks what it is given.
  auto bare = ResizeLayer().scale({2, 2});
  Tensor y;
  const Tensor wrong = random_tensor({1, 2, 3}, 2);
  const Tensor* in[] = {&wrong};
  Tensor* out[] = {&y};
  CHECK_THROWS_WITH_AS(
      bare.forward(in, out, nullptr, RunContext{}),
      "Input: expected a batch with 2 spatial dimensions (as Scale), got [1, 2, 3]", Error);
  const Tensor small = random_tensor({1, 1, 2}, 2);
  const Tensor* in2[] = {&small};
  CHECK_THROWS_WITH_AS(ResizeLayer().scale(0.4).forward(in2, out, nullptr, RunContext{}),
                       "Scale: 0.4 makes spatial dimension 1 of size 2 empty (floor(2 · 0.4) = 0)",
                       Error);
}

TEST_CASE("ResizeLayer round-trips through a net file") {
  for (const ResizeLayer& layer :
       {ResizeLayer().dimensions({6, 5}), ResizeLayer().scale(1.5).resampling(Resampling::Nearest),
        ResizeLayer().scale({0.5, 2.25})}) {
    NetChain net({layer}, Input(Shape{2, 4, 4}));
    const nlohmann::json doc = net_to_json(net);
    CHECK_FALSE(doc["layers"][0].contains(layer.dimensions() ? "Scale" : "Dimensions"));
    auto again = net_from_json(doc);
    CHECK(net_to_json(*again) == doc);
    CHECK(again->outputs()[0].shape == net.outputs()[0].shape);
    const Tensor x = random_tensor({2, 2, 4, 4}, 6);
    CHECK((*again)(x) == net(x));
  }
  const auto doc = nlohmann::json::parse(R"({"format": "strata-net", "version": 1,
    "type": "NetChain", "Input": [2, 4, 6],
    "layers": [{"type": "ResizeLayer", "Scale": [2, 0.5], "Resampling": "Nearest"}]})");
  CHECK(net_from_json(doc)->outputs()[0].shape == Shape{2, 8, 3});
  const auto both = nlohmann::json::parse(R"({"format": "strata-net", "version": 1,
    "type": "NetChain", "Input": [2, 4, 6],
    "layers": [{"type": "ResizeLayer", "Scale": 2, "Dimensions": [3, 3]}]})");
  CHECK_THROWS_WITH_AS(net_from_json(both), doctest::Contains("got both"), Error);
}
