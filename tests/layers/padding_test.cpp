#include "layers/padding.hpp"

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

TEST_CASE("PaddingLayer matches PyTorch's F.pad in every mode (forward and backward)") {
  strata::testing::check_reference_file("padding.json");
}

TEST_CASE("PaddingLayer options: defaults, C++ setters and JSON") {
  SUBCASE("defaults") {
    PaddingLayer layer({{0, 0}, {1, 2}});
    CHECK(layer.type() == "PaddingLayer");
    CHECK(layer.padding() == PaddingFill{PaddingMode::Constant, 0});
    CHECK(layer.options() == nlohmann::json{{"PaddingSize", {{0, 0}, {1, 2}}}, {"Padding", 0.0}});
    CHECK(layer.arrays().empty());
    CHECK(make_layer("PaddingLayer")->options()["PaddingSize"].is_null());
  }
  SUBCASE("a number or a mode") {
    auto layer = PaddingLayer({{1, 1}}).padding(PaddingMode::Reflected);
    CHECK(layer.options()["Padding"] == "Reflected");
    layer.padding(0.5);
    CHECK(layer.padding() == PaddingFill{PaddingMode::Constant, 0.5});
    CHECK(layer.options()["Padding"] == 0.5);
    layer.padding("Periodic");
    CHECK(layer.padding().mode == PaddingMode::Periodic);
    layer.set_option("Padding", "Fixed");
    CHECK(layer.padding().mode == PaddingMode::Fixed);
    layer.set_option("Padding", -3);
    CHECK(layer.padding() == PaddingFill{PaddingMode::Constant, -3});
    auto copy = make_layer("PaddingLayer");
    const auto options = layer.options();
    for (const auto& [key, value] : options.items())
      copy->set_option(key, value);
    CHECK(copy->options() == options);
  }
  SUBCASE("bad values name the option") {
    PaddingLayer layer;
    CHECK_THROWS_WITH_AS(layer.set_option("Padding", "Mirror"),
                         "Padding: expected a number, \"Fixed\", \"Reflected\" or \"Periodic\", "
                         "got \"Mirror\"",
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Padding", true),
                         "Padding: expected a number, \"Fixed\", \"Reflected\" or \"Periodic\", "
                         "got true",
                         Error);
    CHECK_THROWS_WITH_AS(layer.padding(std::numeric_limits<double>::infinity()),
                         "Padding: expected a finite number, got inf", Error);
    CHECK_THROWS_WITH_AS(layer.padding("Constant"), doctest::Contains("Padding: expected"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", 1),
                         "PaddingSize: expected a list of [before, after] pairs, one per dimension "
                         "of an example, got 1",
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", {{1, 2, 3}}),
                         doctest::Contains("PaddingSize: expected a list of [before, after]"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", {{1, -1}}),
                         doctest::Contains("PaddingSize: expected an integer of at least 0"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.padding_size({{0, 1}, {-2, 0}}),
                         "PaddingSize: expected integers from 0 to 2147483648, got [[0,1],[-2,0]]",
                         Error);
    CHECK_THROWS_WITH_AS(layer.padding_size({}),
                         doctest::Contains("PaddingSize: expected a [before, after] pair"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Mode", "Fixed"),
                         doctest::Contains("unknown option \"Mode\" for PaddingLayer"), Error);
  }
}

TEST_CASE("PaddingLayer shape inference") {
  SUBCASE("forward, in 1 to 4 dimensions, channels included") {
    PaddingLayer one({{2, 3}});
    one.constrain_input(0, Shape{4});
    one.infer_shapes();
    CHECK(one.outputs()[0].shape == Shape{9});

    PaddingLayer three({{1, 0}, {0, 0}, {2, 2}});
    three.constrain_input(0, Shape{3, 5, kUnknownDim});
    three.infer_shapes();
    CHECK(three.outputs()[0].shape == Shape{4, 5, kUnknownDim});

    PaddingLayer four({{0, 0}, {1, 1}, {1, 1}, {0, 3}});
    four.constrain_input(0, Shape{2, 3, 4, 5});
    four.infer_shapes();
    CHECK(four.outputs()[0].shape == Shape{2, 5, 6, 8});
    CHECK(four.shapes_known());
  }
  SUBCASE("backward from the output, and the rank from PaddingSize") {
    PaddingLayer layer({{0, 0}, {1, 2}});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape::of_rank(2));
    layer.constrain_output(0, Shape{3, kUnknownDim});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, kUnknownDim});
    layer.constrain_output(0, Shape{3, 10});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 7});
  }
  SUBCASE("errors") {
    PaddingLayer missing;
    missing.constrain_input(0, Shape{3, 8});
    CHECK_THROWS_WITH_AS(missing.infer_shapes(), "PaddingSize: required option is missing", Error);

    PaddingLayer rank({{0, 0}, {1, 1}});
    rank.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(rank.infer_shapes(),
                         "Input: expected [?, ?] (2 dimensions, one per PaddingSize pair), but it "
                         "is [3, 8, 8]",
                         Error);

    PaddingLayer small({{0, 0}, {2, 2}});
    small.constrain_output(0, Shape{3, 3});
    CHECK_THROWS_WITH_AS(small.infer_shapes(),
                         "Output: size 3 in dimension 2 is smaller than its PaddingSize [2, 2]",
                         Error);

    auto reflected = PaddingLayer({{0, 0}, {1, 3}}).padding(PaddingMode::Reflected);
    reflected.constrain_input(0, Shape{2, 3});
    CHECK_THROWS_WITH_AS(reflected.infer_shapes(),
                         "PaddingSize: Reflected padding must be smaller than the dimension it "
                         "pads, but dimension 2 of Input [2, 3] has size 3 and is padded by [1, 3]",
                         Error);

    auto periodic = PaddingLayer({{4, 0}, {0, 0}}).padding(PaddingMode::Periodic);
    periodic.constrain_input(0, Shape{3, 5});
    CHECK_THROWS_WITH_AS(periodic.infer_shapes(),
                         "PaddingSize: Periodic padding may not exceed the dimension it pads, but "
                         "dimension 1 of Input [3, 5] has size 3 and is padded by [4, 0]",
                         Error);
    // A pad of the whole dimension is allowed, as in PyTorch.
    auto whole = PaddingLayer({{3, 3}, {0, 0}}).padding(PaddingMode::Periodic);
    whole.constrain_input(0, Shape{3, 5});
    CHECK_NOTHROW(whole.infer_shapes());
  }
}

TEST_CASE("PaddingLayer gradients match finite differences") {
  struct Case {
    const char* name;
    PaddingPairs pairs;
    Dims batch;
  };
  const std::vector<Case> cases{{"rank 1", {{2, 3}}, {2, 4}},
                                {"1d", {{0, 0}, {3, 2}}, {2, 2, 4}},
                                {"2d, channels too", {{1, 0}, {2, 1}, {0, 2}}, {1, 2, 3, 3}},
                                {"3d", {{0, 0}, {1, 1}, {0, 2}, {2, 1}}, {1, 2, 2, 3, 3}}};
  for (const auto& c : cases) {
    for (PaddingFill fill :
         {PaddingFill{PaddingMode::Constant, 0.25}, PaddingFill{PaddingMode::Fixed},
          PaddingFill{PaddingMode::Reflected}, PaddingFill{PaddingMode::Periodic}}) {
      CAPTURE(c.name);
      CAPTURE(static_cast<int>(fill.mode));
      PaddingLayer layer(c.pairs);
      if (fill.mode == PaddingMode::Constant)
        layer.padding(fill.value);
      else
        layer.padding(fill.mode);
      layer.constrain_input(0, Shape(Dims(c.batch.begin() + 1, c.batch.end())));
      layer.infer_shapes();
      auto report = check_gradients(layer, {random_tensor(c.batch, 5)});
      CAPTURE(report.worst);
      CHECK(report.checked > 5);
      CHECK(report.max_error <= 1.0);
    }
  }
}

TEST_CASE("PaddingLayer applies to one example and to a batch, and checks the batch") {
  auto layer = PaddingLayer({{0, 0}, {1, 1}, {1, 1}}).padding(PaddingMode::Reflected);
  layer.constrain_input(0, Shape{2, 3, 3});
  layer.infer_shapes();
  const Tensor a = random_tensor({2, 3, 3}, 1);
  const Tensor ya = layer(a);
  CHECK(ya.shape() == Dims{2, 5, 5});
  CHECK(ya[0] == a[4]);  // the corner mirrors (1, 1)
  CHECK(layer(a.reshaped({1, 2, 3, 3})).reshaped({2, 5, 5}) == ya);

  // A bare layer checks the batch it is given.
  auto bare = PaddingLayer({{0, 0}, {2, 0}}).padding(PaddingMode::Reflected);
  Tensor y;
  const Tensor x = random_tensor({1, 2, 2}, 2);
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  CHECK_THROWS_WITH_AS(bare.forward(in, out, nullptr, RunContext{}),
                       "PaddingSize: Reflected padding must be smaller than the dimension it pads, "
                       "but dimension 2 of Input (a batch [1, 2, 2]) has size 2 and is padded by "
                       "[2, 0]",
                       Error);
  const Tensor wrong = random_tensor({1, 2}, 2);
  const Tensor* in2[] = {&wrong};
  CHECK_THROWS_WITH_AS(bare.forward(in2, out, nullptr, RunContext{}),
                       "Input: expected a batch of rank 3 (batch, then one dimension per "
                       "PaddingSize pair), got [1, 2]",
                       Error);
}

TEST_CASE("PaddingLayer round-trips through a net file") {
  for (PaddingFill fill :
       {PaddingFill{PaddingMode::Constant, -1.5}, PaddingFill{PaddingMode::Fixed},
        PaddingFill{PaddingMode::Reflected}, PaddingFill{PaddingMode::Periodic}}) {
    CAPTURE(static_cast<int>(fill.mode));
    PaddingLayer layer({{1, 0}, {2, 1}, {0, 2}});
    if (fill.mode == PaddingMode::Constant)
      layer.padding(fill.value);
    else
      layer.padding(fill.mode);
    NetChain net({layer}, Input(Shape{2, 3, 4}));
    const nlohmann::json doc = net_to_json(net);
    auto again = net_from_json(doc);
    CHECK(net_to_json(*again) == doc);
    CHECK(again->outputs()[0].shape == Shape{3, 6, 6});
    const Tensor x = random_tensor({2, 2, 3, 4}, 6);
    CHECK((*again)(x) == net(x));
  }
  const auto doc = nlohmann::json::parse(R"({"format": "strata-net", "version": 1,
    "type": "NetChain", "Input": [2, 4],
    "layers": [{"type": "PaddingLayer", "PaddingSize": [[0, 0], [1, 2]], "Padding": "Periodic"}]})");
  auto net = net_from_json(doc);
  CHECK(net->outputs()[0].shape == Shape{2, 7});
}
