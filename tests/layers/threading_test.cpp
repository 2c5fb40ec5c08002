#include "layers/threading.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "graph/net_graph.hpp"
#include "layers/registry.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"
#include "train/initialize.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

namespace {

constexpr int64_t U = kUnknownDim;
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor run(const Layer& layer, const std::vector<Tensor>& xs) {
  std::vector<const Tensor*> in;
  for (const auto& x : xs)
    in.push_back(&x);
  Tensor y;
  Tensor* out[] = {&y};
  auto ws = layer.make_workspace();
  layer.forward(in, out, ws.get(), {});
  return y;
}

// The gradients of every input for the output gradient dy.
std::vector<Tensor> run_backward(const Layer& layer, const std::vector<Tensor>& xs,
                                 const Tensor& dy) {
  std::vector<const Tensor*> in;
  for (const auto& x : xs)
    in.push_back(&x);
  Tensor y;
  Tensor* out[] = {&y};
  auto ws = layer.make_workspace();
  layer.forward(in, out, ws.get(), {});
  std::vector<Tensor> dx(xs.size());
  std::vector<Tensor*> dxp;
  for (auto& t : dx)
    dxp.push_back(&t);
  const Tensor* outc[] = {&y};
  const Tensor* dyp[] = {&dy};
  layer.backward(in, outc, dyp, ws.get(), dxp, {});
  return dx;
}

// Values on a grid offset by `offset`: inputs made with different offsets
// differ by at least 0.05 everywhere, so finite differences never cross a
// kink of Max or Min.
Tensor grid(const Dims& dims, uint64_t seed, float offset) {
  Tensor t = random_tensor(dims, seed);
  for (float& v : t.values())
    v = std::round(v * 5.0f) / 5.0f + offset;
  return t;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

}  // namespace

TEST_CASE("ThreadingLayer matches PyTorch's broadcasting ops (forward and backward)") {
  strata::testing::check_reference_file("threading.json");
}

TEST_CASE("ThreadingLayer options, ports and input counts") {
  ThreadingLayer layer;
  CHECK(layer.type() == "ThreadingLayer");
  CHECK(layer.variadic_inputs());
  CHECK(layer.options() == nlohmann::json{{"Function", nullptr}});
  REQUIRE(layer.inputs().size() == 2);
  CHECK(layer.inputs()[1].name == "Input2");
  CHECK_THROWS_WITH_AS(layer.infer_shapes(), "Function: required option is missing", Error);
  layer.set_option("Function", "Times");
  CHECK(layer.function() == ThreadingFunction::Times);
  CHECK(layer.options() == nlohmann::json{{"Function", "Times"}});
  CHECK_THROWS_WITH_AS(layer.set_option("Function", "Mean"),
                       "Function: expected \"Plus\", \"Subtract\", \"Times\", \"Divide\", "
                       "\"Max\", \"Min\" or \"Power\", got \"Mean\"",
                       Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Inputs", 3), doctest::Contains("\"Inputs\""), Error);

  layer.constrain_input(0, Shape{3});
  layer.set_input_count(4);
  REQUIRE(layer.inputs().size() == 4);
  CHECK(layer.inputs()[3].name == "Input4");
  CHECK(layer.inputs()[0].shape == Shape{3});
  CHECK_THROWS_WITH_AS(layer.set_input_count(1), "ThreadingLayer needs at least 2 inputs, got 1",
                       Error);
  CHECK_THROWS_WITH_AS(layer.function("Subtract"),
                       "Function: Subtract takes exactly 2 inputs, got 4", Error);
  CHECK_THROWS_WITH_AS(ThreadingLayer("Power", 3), "Function: Power takes exactly 2 inputs, got 3",
                       Error);
  ThreadingLayer divide("Divide");
  CHECK_THROWS_WITH_AS(divide.set_input_count(3), "Function: Divide takes exactly 2 inputs, got 3",
                       Error);
  CHECK(ThreadingLayer(ThreadingFunction::Max, 5).inputs().size() == 5);
  CHECK_THROWS_WITH_AS(ThreadingLayer("Mean"), doctest::Contains("Function: expected \"Plus\""),
                       Error);

  auto made = make_layer("ThreadingLayer");
  CHECK(made->inputs().size() == 2);
  CHECK(made->options() == nlohmann::json{{"Function", nullptr}});
}

TEST_CASE("ThreadingLayer gradients match finite differences") {
  for (const char* f : {"Plus", "Subtract", "Times", "Divide", "Max", "Min", "Power"}) {
    CAPTURE(f);
    ThreadingLayer layer(f);
    std::vector<Tensor> xs;
    if (std::string(f) == "Power") {
      xs = {random_tensor({2, 3, 1}, 1, 0.5f, 2.0f), random_tensor({2, 4}, 2, -2.0f, 2.0f)};
    } else if (std::string(f) == "Divide") {
      xs = {random_tensor({2, 3, 1}, 1), random_tensor({2, 4}, 2, 0.5f, 1.5f)};
    } else {
      xs = {grid({2, 3, 1}, 1, 0.05f), grid({2, 4}, 2, 0.15f)};
    }
    auto report = check_gradients(layer, xs);
    CAPTURE(report.worst);
    CHECK(report.checked >= 14);
    CHECK(report.max_error <= 1.0);
  }
  for (const char* f : {"Plus", "Times", "Max", "Min"}) {
    CAPTURE(f);
    ThreadingLayer layer(f, 3);
    auto report = check_gradients(
        layer, {grid({2, 2, 1, 3}, 3, 0.05f), grid({2, 4, 1}, 4, 0.15f), grid({2, 1}, 5, 0.1f)});
    CAPTURE(report.worst);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("ThreadingLayer shape inference broadcasts both ways") {
  SUBCASE("inputs to output") {
    ThreadingLayer layer("Times");
    layer.constrain_input(0, Shape{3, 4, 5});
    layer.constrain_input(1, Shape{3, 1, 1});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{3, 4, 5});
    ThreadingLayer rank("Plus");
    rank.constrain_input(0, Shape{5});
    rank.constrain_input(1, Shape{3, 4, 1});
    rank.infer_shapes();
    CHECK(rank.outputs()[0].shape == Shape{3, 4, 5});
  }
  SUBCASE("output and one input to the other") {
    ThreadingLayer layer("Subtract");
    layer.constrain_output(0, Shape{3, 4});
    layer.constrain_input(0, Shape{1, 4});
    layer.infer_shapes();
    CHECK(layer.inputs()[1].shape == Shape{3, U});
  }
  SUBCASE("an output dimension of 1 is 1 in every input") {
    ThreadingLayer layer("Max", 3);
    layer.constrain_output(0, Shape{1, 5});
    layer.constrain_input(0, Shape::of_rank(2));
    layer.constrain_input(1, Shape::of_rank(2));
    layer.constrain_input(2, Shape{5});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{1, U});
    CHECK(layer.inputs()[1].shape == Shape{1, U});
  }
  SUBCASE("two inputs that do not broadcast are both named") {
    ThreadingLayer layer("Plus", 3);
    layer.constrain_input(0, Shape{3, 4});
    layer.constrain_input(2, Shape{5, 4});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Input1 and Input3: [3, 4] and [5, 4] do not broadcast: dimension 0 is "
                         "3 and 5",
                         Error);
  }
  SUBCASE("an input that does not broadcast to the output") {
    ThreadingLayer layer("Divide");
    layer.constrain_output(0, Shape{5, 4});
    layer.constrain_input(1, Shape{3, 4});
    CHECK_THROWS_WITH_AS(
        layer.infer_shapes(),
        "Input2 and Output: [3, 4] does not broadcast to [5, 4]: dimension 0 is 3 and 5", Error);
    ThreadingLayer more("Plus");
    more.constrain_output(0, Shape{4});
    more.constrain_input(0, Shape{3, 4});
    CHECK_THROWS_WITH_AS(
        more.infer_shapes(),
        "Input1 and Output: [3, 4] does not broadcast to [4]: it has more dimensions", Error);
  }
  SUBCASE("an output no input reaches") {
    ThreadingLayer layer("Plus");
    layer.constrain_output(0, Shape{3, 4});
    layer.constrain_input(0, Shape{1, 4});
    layer.constrain_input(1, Shape{4});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(),
                         "Output: [1, 4] and [4] do not broadcast to [3, 4]: no input has "
                         "dimension 0 of 3",
                         Error);
  }
}

TEST_CASE("ThreadingLayer IEEE results and the gradients at the edges") {
  SUBCASE("Divide by zero") {
    ThreadingLayer layer("Divide");
    const Tensor a({1, 4}, {1.0f, -1.0f, 0.0f, 2.0f}), b({1, 4}, {0.0f, 0.0f, 0.0f, 4.0f});
    const Tensor y = run(layer, {a, b});
    CHECK(y[0] == kInf);
    CHECK(y[1] == -kInf);
    CHECK(std::isnan(y[2]));
    CHECK(y[3] == 0.5f);
    const auto d = run_backward(layer, {a, b}, Tensor({1, 4}, 1.0f));
    // As PyTorch: 1/b and −y/b.
    CHECK(d[0][0] == kInf);
    CHECK(d[1][0] == -kInf);
    CHECK(d[1][1] == kInf);
    CHECK(std::isnan(d[1][2]));
    CHECK(d[1][3] == -0.125f);
  }
  SUBCASE("Power of a negative base, and at 0") {
    ThreadingLayer layer("Power");
    const Tensor x({1, 5}, {-8.0f, -2.0f, 0.0f, 0.0f, 0.0f});
    const Tensor e({1, 5}, {1.0f / 3, 2.0f, 2.0f, -1.0f, 0.0f});
    const Tensor y = run(layer, {x, e});
    CHECK(std::isnan(y[0]));
    CHECK(y[1] == 4.0f);
    CHECK(y[2] == 0.0f);
    CHECK(y[3] == kInf);
    CHECK(y[4] == 1.0f);
    const auto d = run_backward(layer, {x, e}, Tensor({1, 5}, 1.0f));
    CHECK(std::isnan(d[0][0]));
    CHECK(d[0][1] == -4.0f);
    CHECK(d[0][2] == 0.0f);
    CHECK(d[0][3] == -kInf);
    CHECK(d[0][4] == 0.0f);  // exponent 0
    // The exponent's gradient y·log(x): NaN for x < 0 (even an integer
    // exponent, as PyTorch), 0 at x = 0 with e ≥ 0, −inf with e < 0.
    CHECK(std::isnan(d[1][0]));
    CHECK(std::isnan(d[1][1]));
    CHECK(d[1][2] == 0.0f);
    CHECK(d[1][3] == -kInf);
    CHECK(d[1][4] == 0.0f);
  }
  SUBCASE("Max and Min: NaN propagates, ties and NaN go to the first input") {
    for (const char* f : {"Max", "Min"}) {
      CAPTURE(f);
      ThreadingLayer layer(f, 3);
      const Tensor a({1, 4}, {1.0f, kNaN, 2.0f, 5.0f});
      const Tensor b({1, 4}, {kNaN, 1.0f, 2.0f, 5.0f});
      const Tensor c({1, 4}, {kNaN, 0.0f, 2.0f, 5.0f});
      const Tensor y = run(layer, {a, b, c});
      CHECK(std::isnan(y[0]));
      CHECK(std::isnan(y[1]));
      CHECK(y[2] == 2.0f);
      const auto d = run_backward(layer, {a, b, c}, Tensor({1, 4}, 1.0f));
      CHECK(d[0] == Tensor({1, 4}, {0.0f, 1.0f, 1.0f, 1.0f}));
      CHECK(d[1] == Tensor({1, 4}, {1.0f, 0.0f, 0.0f, 0.0f}));
      CHECK(d[2] == Tensor({1, 4}, 0.0f));
    }
  }
  SUBCASE("Max to an input repeated along a dimension sums where it won") {
    ThreadingLayer layer("Max");
    const Tensor a({1, 2, 1}, {0.0f, 10.0f});
    const Tensor b({1, 3}, {-1.0f, 1.0f, 0.0f});
    CHECK(run(layer, {a, b}) == Tensor({1, 2, 3}, {0.0f, 1.0f, 0.0f, 10.0f, 10.0f, 10.0f}));
    const auto d = run_backward(layer, {a, b}, Tensor({1, 2, 3}, 1.0f));
    CHECK(d[0] == Tensor({1, 2, 1}, {2.0f, 3.0f}));  // the tie at 0 is a's
    CHECK(d[1] == Tensor({1, 3}, {0.0f, 1.0f, 0.0f}));
  }
}

TEST_CASE("ThreadingLayer gives the same bits on any number of threads") {
  const int threads = num_threads();
  for (const char* f : {"Plus", "Times", "Max", "Power"}) {
    CAPTURE(f);
    ThreadingLayer layer(f);
    // Long rows for the pieces, and an input repeated along 3 dimensions.
    const std::vector<Tensor> xs = {random_tensor({3, 8, 40, 60}, 1, 0.5f, 2.0f),
                                    random_tensor({3, 8, 1, 1}, 2)};
    const Tensor dy = random_tensor({3, 8, 40, 60}, 3);
    set_num_threads(1);
    const Tensor y1 = run(layer, xs);
    const auto d1 = run_backward(layer, xs, dy);
    set_num_threads(4);
    const Tensor y4 = run(layer, xs);
    const auto d4 = run_backward(layer, xs, dy);
    set_num_threads(threads);
    CHECK(same_bits(y1, y4));
    CHECK(same_bits(d1[0], d4[0]));
    CHECK(same_bits(d1[1], d4[1]));
  }
  SUBCASE("the same shapes: one flat loop") {
    ThreadingLayer layer("Plus", 3);
    const std::vector<Tensor> xs = {random_tensor({2, 50000}, 1), random_tensor({2, 50000}, 2),
                                    random_tensor({2, 50000}, 3)};
    const Tensor y = run(layer, xs);
    for (int64_t i = 0; i < y.size(); i += 997)
      CHECK(y[i] == (xs[0][i] + xs[1][i]) + xs[2][i]);
  }
}

TEST_CASE("ThreadingLayer in a NetGraph: two branches, a JSON round trip") {
  // Squeeze-and-excitation style: the input times one number per channel.
  const nlohmann::json doc = nlohmann::json::parse(R"({
    "format": "strata-net", "version": 1, "type": "NetGraph", "Input": [3, 4, 5],
    "layers": [
      {"name": "act", "type": "ElementwiseLayer", "Function": "Tanh"},
      {"name": "gate", "type": "ConvolutionLayer", "OutputChannels": 3, "KernelSize": [4, 5]},
      {"name": "times", "type": "ThreadingLayer", "Function": "Times"}
    ],
    "connections": [["#Input", "act"], ["#Input", "gate"], ["act", "times"], ["gate", "times"],
                    ["times", "#Output"]]
  })");
  auto net = net_from_json(doc);
  CHECK(net->outputs()[0].shape == Shape{3, 4, 5});
  NetInitialize(*net, {.seed = 3});
  const nlohmann::json written = net_to_json(*net);
  auto again = net_from_json(written);
  CHECK(net_to_json(*again) == written);
  const nlohmann::json& times = written["layers"][2];
  CHECK(times["type"] == "ThreadingLayer");
  CHECK(times["Function"] == "Times");
  const Tensor x = random_tensor({2, 3, 4, 5}, 4);
  CHECK((*again)(x) == (*net)(x));
  auto report = check_gradients(*net, {x});
  CAPTURE(report.worst);
  CHECK(report.max_error <= 1.0);

  // Three connections into a two-input function.
  nlohmann::json three = doc;
  three["layers"][2]["Function"] = "Subtract";
  three["connections"].push_back(nlohmann::json::array({"#Input", "times"}));
  CHECK_THROWS_WITH_AS(net_from_json(three),
                       doctest::Contains("Function: Subtract takes exactly 2 inputs, got 3"),
                       Error);
}
