#include "layers/softmax.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("SoftmaxLayer matches PyTorch's softmax (forward and backward)") {
  strata::testing::check_reference_file("softmax.json");
}

TEST_CASE("SoftmaxLayer has no options") {
  SoftmaxLayer layer;
  CHECK(layer.type() == "SoftmaxLayer");
  CHECK(layer.options() == nlohmann::json::object());
  CHECK(layer.arrays().empty());
  CHECK_THROWS_WITH_AS(layer.set_option("Axis", 1), doctest::Contains("\"Axis\""), Error);
}

TEST_CASE("SoftmaxLayer gradients match finite differences") {
  for (Dims shape : {Dims{3, 6}, Dims{2, 4, 5}, Dims{2, 3, 2, 3}}) {
    CAPTURE(to_string(shape));
    SoftmaxLayer layer;
    auto report = check_gradients(layer, {random_tensor(shape, 11, -2.0f, 2.0f)});
    CAPTURE(report.worst);
    CHECK(report.checked > 10);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("SoftmaxLayer normalizes over channels at every position, across chunks") {
  // 600 positions span several chunks of positions; each position must equal
  // the softmax of its channel vector alone.
  SoftmaxLayer layer;
  layer.constrain_input(0, Shape{5, 600});
  Tensor x = random_tensor({5, 600}, 3, -20.0f, 20.0f);
  Tensor y = layer(x);
  SoftmaxLayer vector;
  vector.constrain_input(0, Shape{5});
  for (int64_t i = 0; i < 600; i += 37) {
    Tensor column({5});
    for (int64_t c = 0; c < 5; ++c)
      column[c] = x.at({c, i});
    Tensor want = vector(column);
    double total = 0;
    for (int64_t c = 0; c < 5; ++c) {
      CHECK(y.at({c, i}) == doctest::Approx(want[c]).epsilon(1e-6));
      total += y.at({c, i});
    }
    CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("SoftmaxLayer is exact for logits of ±1000") {
  SoftmaxLayer layer;
  layer.constrain_input(0, Shape{3});
  Tensor y = layer(Tensor({3}, {1000.0f, -1000.0f, 1000.0f}));
  CHECK(y == Tensor({3}, {0.5f, 0.0f, 0.5f}));
  y = layer(Tensor({3}, {-1000.0f, -1000.0f, -1000.0f}));
  for (int64_t c = 0; c < 3; ++c)
    CHECK(y[c] == doctest::Approx(1.0 / 3));
}

TEST_CASE("SoftmaxLayer shape inference") {
  SUBCASE("the shape passes through both ways") {
    SoftmaxLayer layer;
    layer.constrain_output(0, Shape{10, kUnknownDim});
    layer.constrain_input(0, Shape{kUnknownDim, 4});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{10, 4});
    CHECK(layer.outputs()[0].shape == Shape{10, 4});
  }
  SUBCASE("rank 0 is refused") {
    SoftmaxLayer layer;
    layer.constrain_input(0, Shape(Dims{}));
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), doctest::Contains("Input: expected rank 1 or more"),
                         Error);
  }
  SUBCASE("a conflict names the port") {
    SoftmaxLayer layer;
    layer.constrain_input(0, Shape{10});
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{9}) && layer.infer_shapes(),
                         "Output: expected [10] (same as Input), but it is [9]", Error);
  }
}
