#include "layers/total.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/registry.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("TotalLayer matches the sum of PyTorch tensors (forward and backward)") {
  strata::testing::check_reference_file("total.json");
}

TEST_CASE("TotalLayer ports") {
  TotalLayer layer;
  CHECK(layer.type() == "TotalLayer");
  CHECK(layer.variadic_inputs());
  CHECK(layer.options() == nlohmann::json::object());
  REQUIRE(layer.inputs().size() == 2);
  CHECK(layer.inputs()[0].name == "Input1");
  CHECK(layer.inputs()[1].name == "Input2");
  CHECK(make_layer("TotalLayer")->inputs().size() == 2);

  layer.constrain_input(0, Shape{3});
  layer.set_input_count(4);
  REQUIRE(layer.inputs().size() == 4);
  CHECK(layer.inputs()[3].name == "Input4");
  CHECK(layer.inputs()[0].shape == Shape{3});
  CHECK(layer.input_index("Input3") == 2);
  CHECK(TotalLayer(1).inputs().size() == 1);
  CHECK_THROWS_WITH_AS(layer.set_input_count(0), doctest::Contains("at least 1 input"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Inputs", 3), doctest::Contains("\"Inputs\""), Error);
}

TEST_CASE("TotalLayer gradients match finite differences") {
  TotalLayer layer(3);
  auto report = check_gradients(layer, {random_tensor({2, 3, 4}, 1), random_tensor({2, 3, 4}, 2),
                                        random_tensor({2, 3, 4}, 3)});
  CAPTURE(report.worst);
  CHECK(report.checked > 30);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("TotalLayer shape inference unifies every port") {
  SUBCASE("partial knowledge from several inputs") {
    TotalLayer layer(3);
    layer.constrain_input(0, Shape{3, kUnknownDim});
    layer.constrain_input(2, Shape{kUnknownDim, 5});
    layer.infer_shapes();
    for (const auto& p : layer.inputs())
      CHECK(p.shape == Shape{3, 5});
    CHECK(layer.outputs()[0].shape == Shape{3, 5});
  }
  SUBCASE("the output fixes the inputs") {
    TotalLayer layer;
    layer.constrain_output(0, Shape{7});
    layer.infer_shapes();
    CHECK(layer.inputs()[1].shape == Shape{7});
  }
  SUBCASE("a conflict names the port") {
    TotalLayer layer(3);
    layer.constrain_input(0, Shape{3, 4});
    layer.constrain_input(2, Shape{3, 5});
    CHECK_THROWS_WITH_AS(
        layer.infer_shapes(),
        "Input3: expected [3, 4] (same as the other inputs and Output), but it is [3, 5]", Error);
  }
  SUBCASE("a rank conflict") {
    TotalLayer layer;
    layer.constrain_input(0, Shape{3, 4});
    CHECK_THROWS_WITH_AS(layer.constrain_input(1, Shape{12}) && layer.infer_shapes(),
                         doctest::Contains("Input2: expected [3, 4]"), Error);
  }
}

TEST_CASE("TotalLayer refuses batches of different shapes") {
  TotalLayer layer;
  Tensor a({2, 3}, 1.0f), b({2, 4}, 1.0f), y;
  const Tensor* in[] = {&a, &b};
  Tensor* out[] = {&y};
  CHECK_THROWS_WITH_AS(layer.forward(in, out, nullptr, {}),
                       "Input2: expected a batch of shape [2, 3] (same as Input1), got [2, 4]",
                       Error);
  Tensor c({2, 3}, 2.0f);
  const Tensor* ok[] = {&a, &c};
  layer.forward(ok, out, nullptr, {});
  CHECK(y == Tensor({2, 3}, 3.0f));
}
