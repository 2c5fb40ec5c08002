// The functions ElementwiseLayer gained in issue 12 (Abs … Power), their
// options (Range, Exponent) and their values at NaN, ±inf, ±0 and kinks.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/elementwise.hpp"
#include "layers/linear.hpp"
#include "layers/registry.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"
#include "train/initialize.hpp"
#include "train/net_train.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::GradCheckOptions;
using strata::testing::random_tensor;

namespace {

const char* const kNewFunctions[] = {"Abs",  "Exp",      "Log",        "Sqrt",     "Square",
                                     "Sin",  "Cos",      "Erf",        "Softsign", "Swish",
                                     "Mish", "HardTanh", "HardSigmoid"};

float decode(const nlohmann::json& v) {
  if (v.is_number()) return v.get<float>();
  const std::string s = v.get<std::string>();
  if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
  return s == "inf" ? std::numeric_limits<float>::infinity()
                    : -std::numeric_limits<float>::infinity();
}

// NaN matches NaN, an infinity itself, a finite number within tolerance.
bool same_value(float actual, float expected) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  return std::abs(double(actual) - expected) <= 1e-5 + 1e-4 * std::abs(expected);
}

// y = f(x) and dx for dy = 1.
std::pair<Tensor, Tensor> value_and_derivative(const Layer& layer, const Tensor& x) {
  Tensor y, dx, dy(x.shape(), 1.0f);
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  layer.forward(in, out, nullptr, RunContext{});
  const Tensor* outs[] = {&y};
  const Tensor* gouts[] = {&dy};
  Tensor* gins[] = {&dx};
  layer.backward(in, outs, gouts, nullptr, gins, {});
  return {y, dx};
}

}  // namespace

TEST_CASE("ElementwiseLayer matches PyTorch for Abs … Power (forward and backward)") {
  strata::testing::check_reference_file("elementwise_functions.json");
}

TEST_CASE("ElementwiseLayer at NaN, ±inf, ±0 and kinks matches PyTorch") {
  const auto file = strata::testing::load_test_data("elementwise_edges.json");
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    auto layer = make_layer("ElementwiseLayer");
    for (const auto& [key, value] : c.at("options").items())
      layer->set_option(key, value);
    std::vector<float> xs;
    for (const auto& v : c.at("x"))
      xs.push_back(decode(v));
    const int64_t n = static_cast<int64_t>(xs.size());
    layer->constrain_input(0, Shape{n});
    layer->infer_shapes();
    const auto [y, dx] = value_and_derivative(*layer, Tensor({1, n}, xs));
    for (int64_t i = 0; i < n; ++i) {
      CAPTURE(xs[i]);
      CAPTURE(y[i]);
      CAPTURE(dx[i]);
      CHECK(same_value(y[i], decode(c["y"][i])));
      CHECK(same_value(dx[i], decode(c["dx"][i])));
    }
  }
}

TEST_CASE("ElementwiseLayer keeps NaN through Ramp and the clip-like functions") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x({1, 3}, {nan, -2.0f, 5.0f});
  for (ElementwiseLayer layer :
       {ElementwiseLayer("Ramp"), ElementwiseLayer("HardTanh"), ElementwiseLayer("HardSigmoid"),
        ElementwiseLayer("LeakyRamp"), ElementwiseLayer("Clip").range(-1, 1)}) {
    CAPTURE(to_string(*layer.function()));
    layer.constrain_input(0, Shape{3});
    const Tensor y = layer(x);
    CHECK(std::isnan(y[0]));
    CHECK(std::isfinite(y[1]));
    CHECK(std::isfinite(y[2]));
  }
}

TEST_CASE("ElementwiseLayer Log, Sqrt and Power give IEEE results outside their domain") {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x({1, 3}, {-1.0f, 0.0f, 4.0f});
  auto run = [&](ElementwiseLayer layer) {
    layer.constrain_input(0, Shape{3});
    return value_and_derivative(layer, x);
  };
  const auto [log, dlog] = run(ElementwiseLayer("Log"));
  CHECK(std::isnan(log[0]));
  CHECK(log[1] == -inf);
  CHECK(dlog[1] == inf);
  const auto [sqrt, dsqrt] = run(ElementwiseLayer("Sqrt"));
  CHECK(std::isnan(sqrt[0]));
  CHECK(sqrt[2] == 2.0f);
  CHECK(dsqrt[1] == inf);
  const auto [pow, dpow] = run(ElementwiseLayer("Power").exponent(1.5));
  CHECK(std::isnan(pow[0]));
  CHECK(pow[2] == doctest::Approx(8.0));
  CHECK(run(ElementwiseLayer("Power").exponent(3)).first[0] == -1.0f);  // integer: fine
}

TEST_CASE("ElementwiseLayer Power 0 is 1 everywhere, and its gradient 0 whatever flows back") {
  // PyTorch's pow_backward for exponent 0 is zeros_like(x): a NaN or infinite
  // output gradient does not pass through (the importer makes ONNX constants
  // tensors as Power 0 of x, times the constant).
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ElementwiseLayer layer = ElementwiseLayer("Power").exponent(0);
  layer.constrain_input(0, Shape{4});
  const Tensor x({1, 4}, {-inf, 0.0f, nan, -2.0f});
  Tensor y, dx, dy({1, 4}, {nan, inf, 1.0f, -inf});
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  layer.forward(in, out, nullptr, RunContext{});
  CHECK(y == Tensor({1, 4}, {1.0f, 1.0f, 1.0f, 1.0f}));
  const Tensor* outs[] = {&y};
  const Tensor* gouts[] = {&dy};
  Tensor* gins[] = {&dx};
  layer.backward(in, outs, gouts, nullptr, gins, {});
  CHECK(dx == Tensor({1, 4}, {0.0f, 0.0f, 0.0f, 0.0f}));
}

TEST_CASE("ElementwiseLayer gradients of Abs … Power match finite differences") {
  // Away from every kink (0, ±1, ±3, the Clip bounds) by at least 0.1; Log,
  // Sqrt and fractional powers on positive numbers.
  Tensor x = random_tensor({3, 4, 5}, 12, -4.0f, 4.0f);
  for (float& v : x.values())
    for (float kink : {0.0f, -1.0f, 1.0f, -3.0f, 3.0f, 0.5f})
      if (std::abs(v - kink) < 0.1f) v = kink + (v < kink ? -0.1f : 0.1f);
  Tensor positive = random_tensor({3, 4, 5}, 13, 0.2f, 4.0f);
  std::vector<std::pair<ElementwiseLayer, const Tensor*>> layers;
  for (const char* name : kNewFunctions) {
    const std::string n = name;
    layers.push_back({ElementwiseLayer(name), n == "Log" || n == "Sqrt" ? &positive : &x});
  }
  layers.push_back({ElementwiseLayer("Clip").range(-1, 0.5), &x});
  for (double p : {2.5, -1.5, 0.5})
    layers.push_back({ElementwiseLayer("Power").exponent(p), &positive});
  for (double p : {0.0, 1.0, 2.0, 3.0})
    layers.push_back({ElementwiseLayer("Power").exponent(p), &x});
  for (auto& [layer, input] : layers) {
    CAPTURE(layer.options().dump());
    GradCheckOptions options;
    options.step = 1e-3;  // Exp and Power 3 curve strongly on [−4, 4]
    auto report = check_gradients(layer, {*input}, options);
    CAPTURE(report.worst);
    CHECK(report.checked > 10);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("ElementwiseLayer Abs … HardSigmoid stay finite for huge inputs") {
  Tensor x({1, 6}, {-1e30f, -3e4f, -100.0f, 100.0f, 3e4f, 1e30f});
  std::vector<ElementwiseLayer> layers;
  for (const char* name :
       {"Abs", "Sin", "Cos", "Erf", "Softsign", "Swish", "Mish", "HardTanh", "HardSigmoid"})
    layers.emplace_back(name);
  layers.push_back(ElementwiseLayer("Clip").range(-2, 3));
  for (auto& layer : layers) {
    CAPTURE(to_string(*layer.function()));
    layer.constrain_input(0, Shape{6});
    const auto [y, dx] = value_and_derivative(layer, x);
    for (int64_t i = 0; i < 6; ++i) {
      CHECK(std::isfinite(y[i]));
      CHECK(std::isfinite(dx[i]));
    }
  }
}

TEST_CASE("ElementwiseLayer Range and Exponent: values, defaults and errors") {
  CHECK(ElementwiseLayer("Clip").options() ==
        nlohmann::json{{"Function", "Clip"}, {"Range", nullptr}});
  CHECK(ElementwiseLayer("Clip").range(-1, 2).options() ==
        nlohmann::json{{"Function", "Clip"}, {"Range", {-1.0, 2.0}}});
  CHECK(ElementwiseLayer("Power").exponent(3).options() ==
        nlohmann::json{{"Function", "Power"}, {"Exponent", 3.0}});
  CHECK(ElementwiseLayer("Power").exponent(-0.5).exponent() == -0.5);
  CHECK(*ElementwiseLayer("Clip").range(0.5, 0.5).range() == std::array<double, 2>{0.5, 0.5});
  for (const char* name : kNewFunctions) {
    CHECK(ElementwiseLayer(name).options() == nlohmann::json{{"Function", name}});
    CHECK(to_string(elementwise_function(name)) == name);
  }
  CHECK(to_string(elementwise_function("Clip")) == "Clip");
  CHECK(to_string(elementwise_function("Power")) == "Power");

  CHECK_THROWS_WITH_AS(ElementwiseLayer("Clip").infer_shapes(),
                       "Range: required option is missing for Clip", Error);
  CHECK_THROWS_WITH_AS(ElementwiseLayer("Power").infer_shapes(),
                       "Exponent: required option is missing for Power", Error);

  ElementwiseLayer clip("Clip");
  CHECK_THROWS_WITH_AS(clip.range(2, 1),
                       "Range: expected [low, high] with finite low <= high, got [2, 1]", Error);
  CHECK_THROWS_WITH_AS(clip.range(0, INFINITY),
                       "Range: expected [low, high] with finite low <= high, got [0, inf]", Error);
  CHECK_THROWS_WITH_AS(clip.range(NAN, 1),
                       "Range: expected [low, high] with finite low <= high, got [nan, 1]", Error);
  CHECK_THROWS_WITH_AS(clip.set_option("Range", nlohmann::json{1.5, -0.5}),
                       "Range: expected [low, high] with finite low <= high, got [1.5, -0.5]",
                       Error);
  CHECK_THROWS_WITH_AS(clip.set_option("Range", 1),
                       "Range: expected [low, high], two numbers, got 1", Error);
  CHECK_THROWS_WITH_AS(clip.set_option("Range", nlohmann::json{1, 2, 3}),
                       "Range: expected [low, high], two numbers, got [1,2,3]", Error);
  CHECK_THROWS_WITH_AS(clip.set_option("Range", nlohmann::json{"a", 2}),
                       "Range: expected [low, high], two numbers, got [\"a\",2]", Error);
  CHECK_FALSE(clip.range());  // a refused value leaves the option as it was

  ElementwiseLayer power("Power");
  CHECK_THROWS_WITH_AS(power.exponent(INFINITY), "Exponent: expected a finite number, got inf",
                       Error);
  CHECK_THROWS_WITH_AS(power.set_option("Exponent", "two"),
                       "Exponent: expected a number, got \"two\"", Error);
  power.set_option("Exponent", 2);
  CHECK(power.exponent() == 2.0);
  power.set_option("Exponent", nullptr);
  CHECK_FALSE(power.exponent());
}

TEST_CASE("ElementwiseLayer Range belongs to Clip and Exponent to Power, in either order") {
  CHECK_THROWS_WITH_AS(ElementwiseLayer("Tanh").range(0, 1),
                       "Range: only Clip has a Range option, but Function is Tanh", Error);
  CHECK_THROWS_WITH_AS(ElementwiseLayer("Clip").exponent(2),
                       "Exponent: only Power has an Exponent option, but Function is Clip", Error);
  CHECK_THROWS_WITH_AS(ElementwiseLayer("Power").alpha(0.1),
                       "Alpha: only LeakyRamp has an Alpha option, but Function is Power", Error);
  CHECK_THROWS_WITH_AS(ElementwiseLayer("LeakyRamp").range(0, 1),
                       "Range: only Clip has a Range option, but Function is LeakyRamp", Error);

  // JSON objects come in key order, so an option may arrive before Function.
  ElementwiseLayer layer;
  layer.set_option("Range", nlohmann::json{-2, 2});
  CHECK(layer.options() == nlohmann::json{{"Function", nullptr}, {"Range", {-2.0, 2.0}}});
  CHECK_THROWS_WITH_AS(layer.set_option("Function", "Power"),
                       "Range: only Clip has a Range option, but Function is Power", Error);
  layer.set_option("Function", "Clip");
  CHECK(layer.options() == nlohmann::json{{"Function", "Clip"}, {"Range", {-2.0, 2.0}}});
  layer.set_option("Range", nullptr);
  layer.set_option("Function", "Power");  // Range no longer given: fine
  CHECK(layer.options() == nlohmann::json{{"Function", "Power"}, {"Exponent", nullptr}});

  ElementwiseLayer other;
  other.set_option("Exponent", 0.5);
  CHECK_THROWS_WITH_AS(other.set_option("Function", "Sqrt"),
                       "Exponent: only Power has an Exponent option, but Function is Sqrt", Error);
  other.set_option("Function", "Power");
  CHECK(other.options() == nlohmann::json{{"Function", "Power"}, {"Exponent", 0.5}});
  CHECK_THROWS_WITH_AS(other.set_option("Slope", 3),
                       doctest::Contains("(options: Function, Alpha, Range, Exponent)"), Error);
}

TEST_CASE("ElementwiseLayer Clip and Power survive a JSON round trip") {
  for (const char* layer_json :
       {R"({"type": "ElementwiseLayer", "Function": "Clip", "Range": [-0.25, 0.5]})",
        R"({"type": "ElementwiseLayer", "Range": [0, 0], "Function": "Clip"})",
        R"({"type": "ElementwiseLayer", "Function": "Power", "Exponent": 3})",
        R"({"type": "ElementwiseLayer", "Exponent": 2.5, "Function": "Power"})",
        R"({"type": "ElementwiseLayer", "Function": "Mish"})"}) {
    CAPTURE(layer_json);
    const auto layer = nlohmann::json::parse(layer_json);
    const nlohmann::json doc = {{"format", "strata-net"},
                                {"version", 1},
                                {"type", "NetChain"},
                                {"Input", {2, 3, 4}},
                                {"layers", {layer}}};
    auto net = net_from_json(doc);
    const nlohmann::json written = net_to_json(*net);
    nlohmann::json options = layer;
    options.erase("type");
    CHECK(written["layers"][0].size() == options.size() + 1);
    for (const auto& [key, value] : options.items())
      CHECK(written["layers"][0][key] == value);
    auto again = net_from_json(written);
    CHECK(net_to_json(*again) == written);
    Tensor x = random_tensor({2, 2, 3, 4}, 5, 0.0f, 2.0f);
    CHECK((*again)(x) == (*net)(x));
  }
}

TEST_CASE("ElementwiseLayer Log on negative inputs: NetTrain stops with its NaN error") {
  NetChain net({ElementwiseLayer("Log"), LinearLayer(3)}, Input({2}));
  Dataset data{random_tensor({8, 2}, 1, 0.1f, 1.0f), random_tensor({8, 3}, 2)};
  data.inputs[2 * 5 + 1] = -0.5f;  // example 5, in the second batch of 4
  SGD sgd(0.1);
  TrainOptions options{.batch_size = 4, .rounds = 2, .shuffle = false, .quiet = true};
  NetInitialize(net, {.seed = 1});
  // The existing error of NetTrain; Log(−0.5) may be a NaN with its sign bit
  // set ("-nan").
  std::string message = "no error";
  try {
    NetTrain(net, data, options, sgd);
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message.starts_with("round 1, batch 2: the loss is "));
  CHECK(message.find("nan; training stopped") != std::string::npos);
  for (const auto& [path, t] : NetExtractArrays(net))
    for (float v : t.values())
      CHECK(std::isfinite(v));
}
