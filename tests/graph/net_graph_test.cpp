#include "graph/net_graph.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/instance_normalization.hpp"
#include "support/gradcheck.hpp"
#include "train/initialize.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

InstanceNormalizationLayer norm(float gamma, float beta) {
  InstanceNormalizationLayer l;
  l.set_array("Gamma", Tensor({2}, gamma));
  l.set_array("Beta", Tensor({2}, beta));
  return l;
}

}  // namespace

TEST_CASE("NetGraph with fan-out and two outputs") {
  NetGraph net({{"a", norm(2, 1)}, {"b", norm(3, -1)}, {"c", norm(0.5, 0)}},
               {{"#Input", "a"}, {"#Input", "b"}, {"a", "c"}, {"c", "#First"}, {"b", "#Second"}},
               {{"Input", {2, 4}}});
  REQUIRE(net.inputs().size() == 1);
  REQUIRE(net.outputs().size() == 2);
  CHECK(net.outputs()[0].name == "First");
  CHECK(net.outputs()[1].shape == Shape{2, 4});

  Tensor x = random_tensor({3, 2, 4}, 1);
  std::vector<Tensor> y(2);
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y[0], &y[1]};
  auto ws = net.make_workspace();
  net.forward(in, out, ws.get(), {});
  CHECK(y[0] == net.layer(2).operator()(net.layer(0)(x)));
  CHECK(y[1] == net.layer(1)(x));

  // The input's gradient sums the contributions of both branches.
  auto report = strata::testing::check_gradients(net, {x});
  CAPTURE(report.worst);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("NetGraph nests inside a chain and a chain inside a graph") {
  NetChain inner({norm(1.5, 0.5), norm(0.7, 0.1)});
  NetGraph graph({{"inner", inner}, {"last", norm(1, 0)}},
                 {{"#Input", "inner"}, {"inner", "last"}, {"last", "#Output"}});
  NetChain net({{"g", graph}, norm(2, 0)}, Input({2, 3}));
  CHECK(net.outputs()[0].shape == Shape{2, 3});
  CHECK(NetExtract(net, "g/inner/2/Gamma")[0] == doctest::Approx(0.7f));
  auto report = strata::testing::check_gradients(net, {random_tensor({2, 2, 3}, 2)});
  CAPTURE(report.worst);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("NetGraph errors name the layers and ports") {
  auto l = norm(1, 0);
  CHECK_THROWS_WITH_AS(
      NetGraph({{"a", l}, {"b", l}}, {{"#Input", "a"}, {"a", "b"}, {"b", "a"}, {"b", "#Output"}}),
      doctest::Contains("a.Input is connected twice"), Error);
  CHECK_THROWS_WITH_AS(NetGraph({{"a", l}, {"b", l}}, {{"#Input", "a"}, {"a", "#Output"}}),
                       "NetGraph: b.Input is not connected", Error);
  CHECK_THROWS_WITH_AS(NetGraph({{"a", l}}, {{"#Input", "a"}, {"a", "nope"}, {"a", "#Output"}}),
                       "NetGraph: connection a -> nope: no layer named \"nope\" (there are: a)",
                       Error);
  CHECK_THROWS_WITH_AS(NetGraph({{"a", l}}, {{"#Input", "a"}, {"a", "a.Input"}, {"a", "#Output"}}),
                       doctest::Contains("a is connected to itself"), Error);
  CHECK_THROWS_WITH_AS(NetGraph({{"a", l}}, {{"#Input", "a.Foo"}, {"a", "#Output"}}),
                       doctest::Contains("no input port named \"Foo\" (there are: Input)"), Error);
  CHECK_THROWS_WITH_AS(
      NetGraph({{"a", l}, {"b", l}, {"c", l}},
               {{"#Input", "a"}, {"a", "b"}, {"c", "b"}, {"b", "c"}, {"c", "#Output"}}),
      doctest::Contains("b.Input is connected twice"), Error);
  CHECK_THROWS_WITH_AS(NetGraph({{"a", l}}, {{"a", "#Output"}}), doctest::Contains("#Input"),
                       Error);
  CHECK_THROWS_WITH_AS(
      NetGraph({{"a", l}}, {{"#Input", "a"}, {"a", "#Output"}}, {{"Image", {2, 3}}}),
      doctest::Contains("input #Image has a shape but no connection"), Error);
  CHECK_THROWS_WITH_AS(
      NetGraph({{"a", l}, {"b", l}}, {{"#Input", "a"}, {"a", "#Output"}, {"b", "#Output"}}),
      doctest::Contains("#Output is connected twice"), Error);
}

TEST_CASE("NetGraph refuses cycles, naming the layers in them") {
  auto l = norm(1, 0);
  // a -> b -> a through single-input layers is caught as a double connection;
  // a cycle among otherwise complete ports needs a graph where each input is
  // bound once: x feeds a, b feeds c, c feeds b.
  CHECK_THROWS_WITH_AS(NetGraph({{"a", l}, {"b", l}, {"c", l}},
                                {{"#Input", "a"}, {"c", "b"}, {"b", "c"}, {"a", "#Output"}}),
                       doctest::Contains("cycle through: b, c"), Error);
}
