#include "layers/flatten.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("FlattenLayer matches PyTorch's flatten (forward and backward)") {
  strata::testing::check_reference_file("flatten.json");
}

TEST_CASE("FlattenLayer has no options") {
  FlattenLayer layer;
  CHECK(layer.type() == "FlattenLayer");
  CHECK(layer.options() == nlohmann::json::object());
  CHECK_THROWS_WITH_AS(layer.set_option("Levels", 1), doctest::Contains("\"Levels\""), Error);
}

TEST_CASE("FlattenLayer gradients match finite differences") {
  FlattenLayer layer;
  auto report = check_gradients(layer, {random_tensor({2, 3, 2, 2}, 11)});
  CAPTURE(report.worst);
  CHECK(report.checked > 10);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("FlattenLayer shape inference") {
  SUBCASE("from the input") {
    FlattenLayer layer;
    layer.constrain_input(0, Shape{3, 4, 5});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{60});
  }
  SUBCASE("the output is a vector even before the input is known") {
    FlattenLayer layer;
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape::of_rank(1));
  }
  SUBCASE("the output fixes one unknown input dimension") {
    FlattenLayer layer;
    layer.constrain_input(0, Shape{3, kUnknownDim, 5});
    layer.constrain_output(0, Shape{60});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 4, 5});
  }
  SUBCASE("two unknown input dimensions stay unknown") {
    FlattenLayer layer;
    layer.constrain_input(0, Shape{kUnknownDim, kUnknownDim});
    layer.constrain_output(0, Shape{60});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{kUnknownDim, kUnknownDim});
  }
  SUBCASE("an output that cannot be the input's size names Input") {
    FlattenLayer layer;
    layer.constrain_input(0, Shape{3, kUnknownDim});
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{10}) && layer.infer_shapes(),
                         "Input: [3, ?] cannot hold the 10 elements of Output [10]", Error);
  }
  SUBCASE("a known output that disagrees") {
    FlattenLayer layer;
    layer.constrain_input(0, Shape{3, 4});
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{10}) && layer.infer_shapes(),
                         "Output: expected [12] (the elements of Input [3, 4]), but it is [10]",
                         Error);
  }
  SUBCASE("rank 0 is refused") {
    FlattenLayer layer;
    layer.constrain_input(0, Shape(Dims{}));
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), "Input: expected rank 1 or more, got []", Error);
  }
}

TEST_CASE("FlattenLayer keeps row-major order") {
  FlattenLayer layer;
  layer.constrain_input(0, Shape{2, 3});
  CHECK(layer(Tensor({2, 3}, {1, 2, 3, 4, 5, 6})) == Tensor({6}, {1, 2, 3, 4, 5, 6}));
}
