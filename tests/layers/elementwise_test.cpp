#include "layers/elementwise.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("ElementwiseLayer matches PyTorch's activations (forward and backward)") {
  strata::testing::check_reference_file("elementwise.json");
}

TEST_CASE("ElementwiseLayer constructors and options") {
  CHECK(ElementwiseLayer("Ramp").function() == ElementwiseFunction::Ramp);
  CHECK(ElementwiseLayer(ElementwiseFunction::GELU).function() == ElementwiseFunction::GELU);
  CHECK(ElementwiseLayer("GELU").options() == nlohmann::json{{"Function", "GELU"}});
  CHECK(ElementwiseLayer("LeakyRamp").options() ==
        nlohmann::json{{"Function", "LeakyRamp"}, {"Alpha", 0.01}});
  CHECK(ElementwiseLayer("LeakyRamp").alpha(0.3).alpha() == doctest::Approx(0.3));
  for (const char* name :
       {"Ramp", "Tanh", "LogisticSigmoid", "ELU", "SELU", "GELU", "Softplus", "LeakyRamp"})
    CHECK(to_string(elementwise_function(name)) == name);

  ElementwiseLayer unset;
  CHECK(unset.type() == "ElementwiseLayer");
  CHECK(unset.options() == nlohmann::json{{"Function", nullptr}});
  CHECK_THROWS_WITH_AS(unset.infer_shapes(), "Function: required option is missing", Error);

  CHECK_THROWS_WITH_AS(ElementwiseLayer("ReLU"),
                       doctest::Contains("Function: unknown function \"ReLU\" (known: Ramp, Tanh"),
                       Error);
  ElementwiseLayer layer;
  CHECK_THROWS_WITH_AS(layer.set_option("Function", 3), doctest::Contains("Function: expected a "),
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Slope", 3), doctest::Contains("\"Slope\""), Error);
}

TEST_CASE("ElementwiseLayer Alpha belongs to LeakyRamp only, in either order") {
  CHECK_THROWS_WITH_AS(ElementwiseLayer("Tanh").alpha(0.1),
                       "Alpha: only LeakyRamp has an Alpha option, but Function is Tanh", Error);
  // JSON objects come in key order, so Alpha may arrive before Function.
  ElementwiseLayer layer;
  layer.set_option("Alpha", 0.2);
  CHECK_THROWS_WITH_AS(layer.set_option("Function", "Ramp"),
                       "Alpha: only LeakyRamp has an Alpha option, but Function is Ramp", Error);
  layer.set_option("Function", "LeakyRamp");
  CHECK(layer.alpha() == doctest::Approx(0.2));
  CHECK(layer.options() == nlohmann::json{{"Function", "LeakyRamp"}, {"Alpha", 0.2}});
  CHECK_THROWS_WITH_AS(layer.set_option("Alpha", "steep"), doctest::Contains("Alpha"), Error);
  layer.set_option("Alpha", nullptr);
  CHECK(layer.alpha() == doctest::Approx(0.01));
  layer.set_option("Function", "Ramp");  // Alpha no longer given: fine
}

TEST_CASE("ElementwiseLayer gradients match finite differences") {
  // Inputs kept away from 0, where Ramp, LeakyRamp and SELU have a kink.
  Tensor x = random_tensor({3, 4, 5}, 11, -3.0f, 3.0f);
  for (float& v : x.values())
    if (std::abs(v) < 0.1f) v = v < 0 ? v - 0.1f : v + 0.1f;
  for (const char* name :
       {"Ramp", "Tanh", "LogisticSigmoid", "ELU", "SELU", "GELU", "Softplus", "LeakyRamp"}) {
    CAPTURE(name);
    ElementwiseLayer layer(name);
    if (layer.function() == ElementwiseFunction::LeakyRamp) layer.alpha(0.3);
    auto report = check_gradients(layer, {x});
    CAPTURE(report.worst);
    CHECK(report.checked > 10);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("ElementwiseLayer is finite for huge inputs") {
  Tensor x({1, 6}, {-1e30f, -3e4f, -100.0f, 100.0f, 3e4f, 1e30f});
  for (const char* name :
       {"Ramp", "Tanh", "LogisticSigmoid", "ELU", "SELU", "GELU", "Softplus", "LeakyRamp"}) {
    CAPTURE(name);
    ElementwiseLayer layer(name);
    layer.constrain_input(0, Shape{6});
    Tensor y = layer(x);
    Tensor dx;
    const Tensor* in[] = {&x};
    const Tensor* out[] = {&y};
    Tensor dy({1, 6}, 1.0f);
    const Tensor* gout[] = {&dy};
    Tensor* gin[] = {&dx};
    layer.backward(in, out, gout, nullptr, gin, {});
    for (int64_t i = 0; i < 6; ++i) {
      CHECK(std::isfinite(y[i]));
      CHECK(std::isfinite(dx[i]));
    }
  }
  ElementwiseLayer softplus("Softplus");
  softplus.constrain_input(0, Shape{6});
  CHECK(softplus(x)[5] == 1e30f);
  CHECK(softplus(x)[0] == 0.0f);
}

TEST_CASE("ElementwiseLayer shape inference") {
  SUBCASE("any shape passes through") {
    ElementwiseLayer layer("Tanh");
    layer.constrain_input(0, Shape{3, kUnknownDim, 5});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{3, kUnknownDim, 5});
  }
  SUBCASE("the output fixes the input") {
    ElementwiseLayer layer("Ramp");
    layer.constrain_input(0, Shape{3, kUnknownDim});
    layer.constrain_output(0, Shape{kUnknownDim, 7});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 7});
    CHECK(layer.outputs()[0].shape == Shape{3, 7});
  }
  SUBCASE("a conflict names the port") {
    ElementwiseLayer layer("Ramp");
    layer.constrain_input(0, Shape{3, 4});
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{3, 5}) && layer.infer_shapes(),
                         "Output: expected [3, 4] (same as Input), but it is [3, 5]", Error);
  }
}
