#include "layers/reshape.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("ReshapeLayer matches PyTorch's reshape (forward and backward)") {
  strata::testing::check_reference_file("reshape.json");
}

TEST_CASE("ReshapeLayer options") {
  ReshapeLayer unset;
  CHECK(unset.type() == "ReshapeLayer");
  CHECK(unset.options() == nlohmann::json{{"Dimensions", nullptr}});
  CHECK_THROWS_WITH_AS(unset.infer_shapes(), "Dimensions: required option is missing", Error);

  ReshapeLayer layer({4, -1});
  CHECK(layer.dimensions() == Dims{4, -1});
  CHECK(layer.options() == nlohmann::json{{"Dimensions", {4, -1}}});
  layer.set_option("Dimensions", {2, 3, 2});
  CHECK(layer.dimensions() == Dims{2, 3, 2});
  layer.set_option("Dimensions", nullptr);
  CHECK_FALSE(layer.dimensions().has_value());

  CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", {-1, 2, -1}),
                       "Dimensions: at most one dimension may be -1 (inferred), got [-1, 2, -1]",
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", {3, 0}),
                       doctest::Contains("Dimensions: expected an integer of at least 1, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(ReshapeLayer({3, -2}),
                       "Dimensions: expected positive integers (or one -1, inferred), got [3, -2]",
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", 12),
                       "Dimensions: expected a list of positive integers, got 12", Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", nlohmann::json::array()),
                       doctest::Contains("Dimensions: expected a non-empty list"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", {2.5}), doctest::Contains("Dimensions"),
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Dimensions", {1 << 30, 1 << 30}),
                       doctest::Contains("Dimensions: shape"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Shape", {2}), doctest::Contains("\"Shape\""), Error);
}

TEST_CASE("ReshapeLayer gradients match finite differences") {
  ReshapeLayer layer({3, -1});
  auto report = check_gradients(layer, {random_tensor({2, 2, 3, 2}, 11)});
  CAPTURE(report.worst);
  CHECK(report.checked > 10);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("ReshapeLayer shape inference") {
  SUBCASE("fixed dimensions") {
    ReshapeLayer layer({4, 3});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{4, 3});
    layer.constrain_input(0, Shape{2, 6});
    layer.infer_shapes();
    CHECK(layer.shapes_known());
  }
  SUBCASE("-1 is inferred from the input") {
    ReshapeLayer layer({-1, 4});
    layer.constrain_input(0, Shape{3, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{6, 4});
  }
  SUBCASE("-1 stays unknown while the input is") {
    ReshapeLayer layer({-1, 4});
    layer.constrain_input(0, Shape{3, kUnknownDim});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{kUnknownDim, 4});
  }
  SUBCASE("the dimensions fix one unknown input dimension") {
    ReshapeLayer layer({24});
    layer.constrain_input(0, Shape{2, kUnknownDim, 3});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{2, 4, 3});
  }
  SUBCASE("a known output fixes -1 and then the input") {
    ReshapeLayer layer({-1, 4});
    layer.constrain_output(0, Shape{5, kUnknownDim});
    layer.constrain_input(0, Shape{kUnknownDim, 2});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{5, 4});
    CHECK(layer.inputs()[0].shape == Shape{10, 2});
  }
  SUBCASE("element counts that disagree name Input and Dimensions") {
    ReshapeLayer layer({4, 4});
    CHECK_THROWS_WITH_AS(layer.constrain_input(0, Shape{3, 5}) && layer.infer_shapes(),
                         "Input: [3, 5] has 15 elements, but Dimensions [4, 4] has 16", Error);
  }
  SUBCASE("-1 that cannot divide") {
    ReshapeLayer layer({-1, 4});
    CHECK_THROWS_WITH_AS(layer.constrain_input(0, Shape{3, 5}) && layer.infer_shapes(),
                         "Input: [3, 5] has 15 elements, which Dimensions [-1, 4] cannot hold",
                         Error);
  }
  SUBCASE("an input that cannot hold the dimensions") {
    ReshapeLayer layer({5, 5});
    CHECK_THROWS_WITH_AS(layer.constrain_input(0, Shape{kUnknownDim, 4}) && layer.infer_shapes(),
                         "Input: [?, 4] cannot hold the 25 elements of Dimensions [5, 5]", Error);
  }
  SUBCASE("an output that contradicts Dimensions") {
    ReshapeLayer layer({5, 5});
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{5}) && layer.infer_shapes(),
                         "Output: expected [5, 5] (Dimensions [5, 5]), but it is [5]", Error);
  }
}

TEST_CASE("ReshapeLayer keeps row-major order and checks batches") {
  ReshapeLayer layer({3, 2});
  layer.constrain_input(0, Shape{2, 3});
  layer.infer_shapes();
  CHECK(layer(Tensor({2, 3}, {1, 2, 3, 4, 5, 6})) == Tensor({3, 2}, {1, 2, 3, 4, 5, 6}));
  ReshapeLayer free({-1, 2});
  Tensor x({1, 7});
  Tensor y;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  CHECK_THROWS_WITH_AS(
      free.forward(in, out, nullptr, {}),
      "Input: an example of shape [7] has 7 elements, which Dimensions [-1, 2] cannot hold", Error);
}
