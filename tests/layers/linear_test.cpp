#include "layers/linear.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

namespace {

LinearLayer with_arrays(int64_t size, int64_t n, uint64_t seed) {
  LinearLayer layer(size);
  layer.set_array("Weights", random_tensor({size, n}, seed));
  layer.set_array("Biases", random_tensor({size}, seed + 1));
  return layer;
}

}  // namespace

TEST_CASE("LinearLayer matches PyTorch's linear (forward and backward)") {
  strata::testing::check_reference_file("linear.json");
}

TEST_CASE("LinearLayer options") {
  LinearLayer unset;
  CHECK(unset.type() == "LinearLayer");
  CHECK_FALSE(unset.size().has_value());
  CHECK(unset.options() == nlohmann::json{{"Size", nullptr}});
  CHECK_THROWS_WITH_AS(unset.infer_shapes(), "Size: required option is missing", Error);

  LinearLayer layer(10);
  CHECK(layer.size() == 10);
  CHECK(layer.options() == nlohmann::json{{"Size", 10}});
  layer.set_option("Size", 4);
  CHECK(layer.size() == 4);
  layer.set_option("Size", nullptr);
  CHECK_FALSE(layer.size().has_value());
  CHECK_THROWS_WITH_AS(layer.set_option("Size", 0), doctest::Contains("Size: expected an integer"),
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Size", 2.5), doctest::Contains("Size"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Size", "ten"), doctest::Contains("Size"), Error);
  CHECK_THROWS_WITH_AS(LinearLayer(-3), "Size: expected a positive integer, got -3", Error);
  CHECK_THROWS_WITH_AS(layer.set_option("OutputSize", 3), doctest::Contains("\"OutputSize\""),
                       Error);
  CHECK(LinearLayer(3).missing_arrays() == std::vector<std::string>{"Weights", "Biases"});
}

TEST_CASE("LinearLayer gradients match finite differences") {
  for (Dims shape : {Dims{4, 5}, Dims{2, 3, 4}, Dims{1, 2, 2, 3}}) {
    CAPTURE(to_string(shape));
    auto layer = with_arrays(3, checked_num_elements(shape) / shape[0], 3);
    auto report = check_gradients(layer, {random_tensor(shape, 11)});
    CAPTURE(report.worst);
    CHECK(report.checked > 10);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("LinearLayer shape inference") {
  SUBCASE("from a vector input") {
    LinearLayer layer(8);
    layer.constrain_input(0, Shape{20});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{8});
    CHECK(layer.arrays()[0].shape == Shape{8, 20});
    CHECK(layer.arrays()[1].shape == Shape{8});
    CHECK(layer.shapes_known());
  }
  SUBCASE("a higher-rank input is flattened") {
    LinearLayer layer(8);
    layer.constrain_input(0, Shape{3, 4, 5});
    layer.infer_shapes();
    CHECK(layer.arrays()[0].shape == Shape{8, 60});
    CHECK(layer.outputs()[0].shape == Shape{8});
  }
  SUBCASE("the output is known before the input") {
    LinearLayer layer(8);
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{8});
    CHECK(layer.arrays()[0].shape == Shape{8, kUnknownDim});
    CHECK_FALSE(layer.shapes_known());
  }
  SUBCASE("present Weights fix a vector input") {
    LinearLayer layer(2);
    layer.set_array("Weights", Tensor({2, 6}, 0.5f));
    layer.constrain_input(0, Shape::of_rank(1));
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{6});
  }
  SUBCASE("present Weights fix the one unknown dimension of an input") {
    LinearLayer layer(2);
    layer.set_array("Weights", Tensor({2, 12}, 0.5f));
    layer.constrain_input(0, Shape{3, kUnknownDim});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 4});
  }
  SUBCASE("Weights that do not divide are an error naming Input") {
    LinearLayer layer(2);
    layer.set_array("Weights", Tensor({2, 10}, 0.5f));
    CHECK_THROWS_WITH_AS(layer.constrain_input(0, Shape{3, kUnknownDim}) && layer.infer_shapes(),
                         "Input: [3, ?] cannot have 10 elements, the columns of Weights [2, 10]",
                         Error);
  }
  SUBCASE("Weights of the wrong width are an error naming Weights") {
    LinearLayer layer(2);
    layer.set_array("Weights", Tensor({2, 10}, 0.5f));
    CHECK_THROWS_WITH_AS(
        layer.constrain_input(0, Shape{3, 4}) && layer.infer_shapes(),
        "Weights: expected [2, 12] (Size, then the 12 elements of Input [3, 4]), but it is [2, 10]",
        Error);
  }
  SUBCASE("Weights with the wrong number of rows") {
    LinearLayer layer(3);
    layer.infer_shapes();
    CHECK_THROWS_WITH_AS(layer.set_array("Weights", Tensor({2, 10}, 0.5f)),
                         "Weights: expected shape [3, ?], got [2, 10]", Error);
  }
  SUBCASE("an Output that disagrees with Size") {
    LinearLayer layer(3);
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{4}) && layer.infer_shapes(),
                         "Output: expected [3] (Size), but it is [4]", Error);
  }
}

TEST_CASE("LinearLayer computes W x + b for one example") {
  LinearLayer layer(2);
  layer.set_array("Weights", Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  layer.set_array("Biases", Tensor({2}, {0.5f, -1}));
  layer.constrain_input(0, Shape{3});
  layer.infer_shapes();
  Tensor y = layer(Tensor({3}, {1, -1, 2}));
  CHECK(y == Tensor({2}, {1 - 2 + 6 + 0.5f, 4 - 5 + 12 - 1}));
  CHECK_THROWS_WITH_AS(layer(Tensor({4}, 1.0f)), doctest::Contains("Input: expected [3], got [4]"),
                       Error);
}

TEST_CASE("LinearLayer gives the same result for any thread count") {
  auto layer = with_arrays(96, 200, 1);
  Tensor x = random_tensor({64, 200}, 2), y1, y2;
  const int threads = strata::num_threads();
  const Tensor* in[] = {&x};
  Tensor* o1[] = {&y1};
  Tensor* o2[] = {&y2};
  strata::set_num_threads(1);
  layer.forward(in, o1, nullptr, {});
  strata::set_num_threads(std::max(2, threads));
  layer.forward(in, o2, nullptr, {});
  strata::set_num_threads(threads);
  CHECK(y1 == y2);
}
