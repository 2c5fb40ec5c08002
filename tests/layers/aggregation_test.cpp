#include "layers/aggregation.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/registry.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"
#include "train/initialize.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

TEST_CASE("AggregationLayer matches PyTorch's amax, amin, mean and sum") {
  strata::testing::check_reference_file("aggregation.json");
}

TEST_CASE("AggregationLayer options") {
  AggregationLayer layer;
  CHECK(layer.type() == "AggregationLayer");
  CHECK(layer.options() == nlohmann::json{{"Function", nullptr}});
  CHECK(!layer.function());
  layer.constrain_input(0, Shape{3, 4});
  CHECK_THROWS_WITH_AS(layer.infer_shapes(), "Function: required option is missing", Error);
  layer.function("Min");
  CHECK(layer.function() == AggregationFunction::Min);
  CHECK(layer.options() == nlohmann::json{{"Function", "Min"}});
  CHECK(AggregationLayer("Total").function() == AggregationFunction::Total);
  CHECK(AggregationLayer(AggregationFunction::Mean).options()["Function"] == "Mean");
  CHECK(to_string(AggregationFunction::Max) == "Max");
  CHECK_THROWS_WITH_AS(layer.set_option("Function", "Median"),
                       "Function: expected \"Max\", \"Min\", \"Mean\" or \"Total\", got \"Median\"",
                       Error);
  CHECK_THROWS_WITH_AS(AggregationLayer("Sum"), doctest::Contains("Function: expected"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Levels", 2), doctest::Contains("\"Levels\""), Error);
  auto copy = make_layer("AggregationLayer");
  copy->set_option("Function", "Min");
  CHECK(copy->options() == layer.options());
}

TEST_CASE("AggregationLayer gradients match finite differences") {
  for (const char* f : {"Max", "Min", "Mean", "Total"})
    for (Dims shape : {Dims{2, 3, 7}, Dims{2, 2, 4, 5}, Dims{1, 2, 3, 2, 3}}) {
      CAPTURE(f);
      CAPTURE(to_string(shape));
      // Distinct values far apart, so that a step does not change the extreme.
      Tensor x = random_tensor(shape, 11);
      for (int64_t i = 0; i < x.size(); ++i)
        x[i] += static_cast<float>((i * 7919) % x.size());
      testing::GradCheckOptions o;
      o.step = 1e-2;
      auto report = check_gradients(AggregationLayer(f), {x}, o);
      CAPTURE(report.worst);
      CHECK(report.checked > 10);
      CHECK(report.max_error <= 1.0);
    }
}

TEST_CASE("AggregationLayer: ties, NaN and the gradient of the first extreme") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // One example, two channels of 4: ties in channel 0, a NaN in channel 1.
  Tensor x({1, 2, 4}, std::vector<float>{5, 1, 5, -2, 0, nan, 3, nan});
  Tensor dy({1, 2}, std::vector<float>{10, 20});
  for (auto f : {AggregationFunction::Max, AggregationFunction::Min}) {
    AggregationLayer layer(f);
    Tensor y, dx;
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    auto ws = layer.make_workspace();
    layer.forward(in, out, ws.get(), {});
    CHECK(y[0] == (f == AggregationFunction::Max ? 5 : -2));
    CHECK(std::isnan(y[1]));
    const Tensor* outs[] = {&y};
    const Tensor* gouts[] = {&dy};
    Tensor* gins[] = {&dx};
    // With the forward's indices and, without a workspace, finding them again.
    for (Workspace* w : {ws.get(), static_cast<Workspace*>(nullptr)}) {
      layer.backward(in, outs, gouts, w, gins, {});
      if (f == AggregationFunction::Max)
        CHECK(std::vector<float>(dx.values().begin(), dx.values().end()) ==
              std::vector<float>{10, 0, 0, 0, 0, 20, 0, 0});
      else
        CHECK(std::vector<float>(dx.values().begin(), dx.values().end()) ==
              std::vector<float>{0, 0, 0, 10, 0, 20, 0, 0});
    }
  }
  // Mean and Total propagate NaN too.
  for (const char* f : {"Mean", "Total"}) {
    AggregationLayer layer(f);
    layer.constrain_input(0, Shape{2, 4});
    const Tensor y = layer(x);
    CHECK(y.shape() == Dims{1, 2});
    CHECK(y[0] == doctest::Approx(f == std::string("Mean") ? 9.0 / 4 : 9.0));
    CHECK(std::isnan(y[1]));
  }
}

TEST_CASE("AggregationLayer shape inference works in both directions") {
  SUBCASE("[C, d1, …] gives [C]") {
    AggregationLayer layer("Max");
    layer.constrain_input(0, Shape{16, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{16});
    CHECK(layer.shapes_known());
  }
  SUBCASE("the output fixes the input's channels") {
    AggregationLayer layer("Mean");
    layer.constrain_input(0, Shape::of_rank(4));
    layer.constrain_output(0, Shape{5});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{5, kUnknownDim, kUnknownDim, kUnknownDim});
  }
  SUBCASE("a rank-1 input is an error naming Input") {
    AggregationLayer layer("Max");
    layer.constrain_input(0, Shape{8});
    CHECK_THROWS_WITH_AS(
        layer.infer_shapes(),
        "Input: expected rank 2 or more (channels, then the dimensions to aggregate), got [8]",
        Error);
  }
  SUBCASE("channels that disagree") {
    AggregationLayer layer("Max");
    layer.constrain_output(0, Shape{4});
    layer.constrain_input(0, Shape{3, 2});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), doctest::Contains("Output"), Error);
  }
  SUBCASE("the output has rank 1") {
    AggregationLayer layer("Max");
    CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{4, 1}), doctest::Contains("Output"),
                         Error);
  }
  SUBCASE("a batch without dimensions to aggregate is refused by forward") {
    AggregationLayer layer("Total");
    Tensor x({2, 3}), y;
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    CHECK_THROWS_WITH_AS(layer.forward(in, out, nullptr, {}),
                         doctest::Contains("Input: expected a batch of rank 3 or more"), Error);
  }
}

TEST_CASE("AggregationLayer in a net file round-trips") {
  const auto net = parse_net(R"({"format": "strata-net", "version": 1, "type": "NetChain",
    "Input": [3, 6, 6],
    "layers": [{"type": "ConvolutionLayer", "OutputChannels": 4, "KernelSize": 3},
               {"type": "AggregationLayer", "name": "gap", "Function": "Mean"},
               {"type": "LinearLayer", "Size": 2}]})",
                             "gap.json");
  CHECK(net->outputs()[0].shape == Shape{2});
  NetInitialize(*net);
  const auto doc = net_to_json(*net);
  CHECK(doc["layers"][1]["Function"] == "Mean");
  const auto again = net_from_json(doc);
  CHECK(net_to_json(*again) == doc);
  const Tensor x = random_tensor({2, 3, 6, 6}, 3);
  CHECK((*again)(x) == (*net)(x));
}
