// NaN in, NaN out, where PyTorch's is: every registered layer type, each
// function of those with several, against tests/data/nan_propagation.json
// (tests/data/make_nan_propagation.py). A NaN must neither vanish (relu, max
// pooling and clamp keep it in PyTorch) nor spread further than PyTorch's.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "kernels/elementwise_functions.hpp"
#include "layers/elementwise.hpp"
#include "layers/registry.hpp"
#include "support/reference.hpp"

using namespace strata;
using namespace strata::testing;

namespace {

std::string listed(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (int64_t i : v) {
    s += std::to_string(i);
    s += ' ';
  }
  s += ']';
  return s;
}

}  // namespace

TEST_CASE("NaN propagates through every layer type as in PyTorch") {
  const auto file = load_test_data("nan_propagation.json");
  std::set<std::string> covered;
  for (const auto& c : file.at("cases")) {
    const std::string type = c.at("type"), name = c.at("name");
    CAPTURE(type);
    CAPTURE(name);
    covered.insert(type);
    auto layer = layer_for_case(type, c);
    std::vector<Tensor> inputs;
    for (const auto& t : c.at("inputs"))
      inputs.push_back(tensor_from_json(t));
    for (const auto& p : c.at("nan"))
      inputs[p[0].get<size_t>()][p[1].get<int64_t>()] = std::nanf("");
    auto ws = layer->make_workspace();
    const std::vector<Tensor> outputs = forward_case(*layer, inputs, c, ws.get());
    const auto& expected = c.at("nan_out");
    REQUIRE(expected.size() == outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      std::vector<int64_t> nan;
      for (int64_t i = 0; i < outputs[k].size(); ++i)
        if (std::isnan(outputs[k][i])) nan.push_back(i);
      CHECK(listed(nan) == listed(expected[k].get<std::vector<int64_t>>()));
    }
  }
  // A layer type added to the registry needs its case.
  for (const auto& type : layer_types()) {
    CAPTURE(type);
    CHECK(covered.count(type) == 1);
  }
  // And so does a function added to ElementwiseLayer.
  for (int f = 0; f <= static_cast<int>(ElementwiseFunction::Power); ++f) {
    const std::string name = to_string(static_cast<ElementwiseFunction>(f));
    bool found = false;
    for (const auto& c : file.at("cases"))
      found = found || c.value("options", nlohmann::json::object()).value("Function", "") == name;
    CAPTURE(name);
    CHECK(found);
  }
}

TEST_CASE("NaN propagates through the threaded elementwise loops") {
  // Long enough to be split over the threads, with NaN at the ends of pieces.
  const int64_t n = 3 * elementwise::kParallelMin + 5;
  std::vector<float> x(static_cast<size_t>(n), -1.5f), y(x.size());
  for (int64_t i : {int64_t{0}, elementwise::kParallelMin - 1, elementwise::kParallelMin, n - 1})
    x[static_cast<size_t>(i)] = std::nanf("");
  elementwise::apply(elementwise::Ramp{}, x.data(), y.data(), n);
  int64_t nans = 0;
  for (int64_t i = 0; i < n; ++i) {
    nans += std::isnan(y[i]);
    if (!std::isnan(x[i])) CHECK(y[i] == 0.0f);
  }
  CHECK(nans == 4);
}
