#include "layers/catenate.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/registry.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("CatenateLayer matches PyTorch's cat along the channels (forward and backward)") {
  strata::testing::check_reference_file("catenate.json");
}

TEST_CASE("CatenateLayer ports") {
  CatenateLayer layer;
  CHECK(layer.type() == "CatenateLayer");
  CHECK(layer.variadic_inputs());
  CHECK(layer.options() == nlohmann::json::object());
  REQUIRE(layer.inputs().size() == 2);
  CHECK(layer.inputs()[1].name == "Input2");
  CHECK(make_layer("CatenateLayer")->inputs().size() == 2);
  layer.set_input_count(3);
  CHECK(layer.inputs()[2].name == "Input3");
  CHECK_THROWS_WITH_AS(layer.set_input_count(0), doctest::Contains("at least 1 input"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Level", 1), doctest::Contains("\"Level\""), Error);
}

TEST_CASE("CatenateLayer gradients match finite differences") {
  CatenateLayer layer(3);
  auto report =
      check_gradients(layer, {random_tensor({2, 1, 3, 2}, 1), random_tensor({2, 3, 3, 2}, 2),
                              random_tensor({2, 2, 3, 2}, 3)});
  CAPTURE(report.worst);
  CHECK(report.checked > 30);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("CatenateLayer shape inference") {
  SUBCASE("forward: channels add up, the rest is shared") {
    CatenateLayer layer(3);
    layer.constrain_input(0, Shape{2, 8, 8});
    layer.constrain_input(1, Shape{3, kUnknownDim, 8});
    layer.constrain_input(2, Shape{1, 8, kUnknownDim});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{6, 8, 8});
    CHECK(layer.inputs()[1].shape == Shape{3, 8, 8});
    CHECK(layer.inputs()[2].shape == Shape{1, 8, 8});
  }
  SUBCASE("vectors") {
    CatenateLayer layer;
    layer.constrain_input(0, Shape{3});
    layer.constrain_input(1, Shape{4});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{7});
  }
  SUBCASE("backward: the output and all inputs but one fix the last") {
    CatenateLayer layer(3);
    layer.constrain_output(0, Shape{10, 4});
    layer.constrain_input(0, Shape{2, kUnknownDim});
    layer.constrain_input(2, Shape{5, kUnknownDim});
    layer.infer_shapes();
    CHECK(layer.inputs()[1].shape == Shape{3, 4});
    CHECK(layer.inputs()[0].shape == Shape{2, 4});
    CHECK(layer.shapes_known());
  }
  SUBCASE("two unknown channel counts stay unknown") {
    CatenateLayer layer(3);
    layer.constrain_output(0, Shape{10, 4});
    layer.constrain_input(0, Shape{2, 4});
    layer.infer_shapes();
    CHECK(layer.inputs()[1].shape == Shape{kUnknownDim, 4});
    CHECK(layer.inputs()[2].shape == Shape{kUnknownDim, 4});
  }
  SUBCASE("any port's rank is every port's rank") {
    CatenateLayer layer;
    layer.constrain_input(1, Shape::of_rank(3));
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape::of_rank(3));
    CHECK(layer.outputs()[0].shape == Shape::of_rank(3));
  }
  SUBCASE("a spatial mismatch names the input") {
    CatenateLayer layer;
    layer.constrain_input(0, Shape{2, 8, 8});
    layer.constrain_input(1, Shape{2, 8, 7});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input2: expected [2, 8, 8] (the dimensions after the channels as in the "
                         "other ports), but it is [2, 8, 7]",
                         Error);
  }
  SUBCASE("a rank mismatch names the input") {
    CatenateLayer layer;
    layer.constrain_input(0, Shape{2, 8, 8});
    layer.constrain_input(1, Shape{2, 8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input2: expected [?, ?, ?] (the rank of Input1), but it is [2, 8]",
                         Error);
  }
  SUBCASE("an output with the wrong channel count") {
    CatenateLayer layer;
    layer.constrain_input(0, Shape{2, 4});
    layer.constrain_input(1, Shape{3, 4});
    CHECK_THROWS_WITH_AS(
        layer.constrain_output(0, Shape{6, 4}) && layer.infer_shapes(),
        "Output: expected [5, 4] (channels: the sum of the inputs' channels), but it is [6, 4]",
        Error);
  }
  SUBCASE("an output too small for the inputs") {
    CatenateLayer layer(3);
    layer.constrain_output(0, Shape{4});
    layer.constrain_input(0, Shape{2});
    layer.constrain_input(2, Shape{2});
    CHECK_THROWS_WITH_AS(
        layer.infer_shapes(),
        "Input2: Output has 4 channels, but the other inputs already have 4, leaving none", Error);
  }
  SUBCASE("rank 0 is refused") {
    CatenateLayer layer;
    layer.constrain_input(1, Shape(Dims{}));
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input2: expected rank 1 or more (channels first), got []", Error);
  }
}

TEST_CASE("CatenateLayer refuses batches that do not fit together") {
  CatenateLayer layer;
  Tensor a({2, 3, 4}, 1.0f), b({2, 1, 5}, 2.0f), y;
  const Tensor* in[] = {&a, &b};
  Tensor* out[] = {&y};
  CHECK_THROWS_WITH_AS(
      layer.forward(in, out, nullptr, {}),
      "Input2: expected a batch of shape [2, ?, 4] (as Input1 but for the channels), got [2, 1, 5]",
      Error);
  Tensor c({2, 1, 4}, 2.0f);
  const Tensor* ok[] = {&a, &c};
  layer.forward(ok, out, nullptr, {});
  CHECK(y.shape() == Dims{2, 4, 4});
  CHECK(y.at({1, 2, 3}) == 1.0f);
  CHECK(y.at({1, 3, 0}) == 2.0f);
}
