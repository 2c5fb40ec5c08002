#include "graph/graph_builder.hpp"

#include <doctest/doctest.h>

#include <functional>

#include "core/error.hpp"
#include "layers/catenate.hpp"
#include "layers/instance_normalization.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;
using End = GraphBuilder::Endpoint;

namespace {

InstanceNormalizationLayer norm(float gamma, float beta) {
  InstanceNormalizationLayer l;
  l.set_array("Gamma", Tensor({2}, gamma));
  l.set_array("Beta", Tensor({2}, beta));
  return l;
}

std::vector<Tensor> apply(const Layer& net, const Tensor& x) {
  std::vector<Tensor> y(net.outputs().size());
  std::vector<Tensor*> out;
  for (auto& t : y)
    out.push_back(&t);
  const Tensor* in[] = {&x};
  net.forward(in, out, nullptr, {});
  return y;
}

// The message of the Error that `build` throws ("" when it throws none).
std::string error_of(const std::function<void()>& build) {
  try {
    build();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool same_connections(const std::vector<Connection>& a, const std::vector<Connection>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].from != b[i].from || a[i].to != b[i].to) return false;
  return true;
}

// A graph with two inputs and two outputs, to use as a layer with several ports.
NetGraph two_by_two() {
  return NetGraph({{"l", norm(1, 0)}, {"r", norm(2, 0)}},
                  {{"#L", "l"}, {"#R", "r"}, {"l", "#P"}, {"r", "#Q"}});
}

}  // namespace

TEST_CASE("GraphBuilder builds what the string form builds, layers and ports by index or name") {
  GraphBuilder b;
  const size_t a = b.add("a", norm(2, 1));
  b.add("b", norm(3, -1));
  b.add({"c", norm(0.5, 0)});
  CHECK(b.size() == 3);
  b.connect(End::graph("Input"), a);
  b.connect(End::graph("Input"), {"b", "Input"});
  b.connect({a, 0}, "c");
  b.connect("c", End::graph("First"));
  b.connect({1, "Output"}, End::graph("Second"));
  b.input_shape("Input", {2, 4});
  const NetGraph net = std::move(b).finish();

  const NetGraph same(
      {{"a", norm(2, 1)}, {"b", norm(3, -1)}, {"c", norm(0.5, 0)}},
      {{"#Input", "a"}, {"#Input", "b"}, {"a", "c"}, {"c", "#First"}, {"b", "#Second"}},
      {{"Input", {2, 4}}});
  REQUIRE(net.outputs().size() == 2);
  CHECK(net.outputs()[0].name == "First");
  CHECK(net.outputs()[1].name == "Second");
  CHECK(net.outputs()[1].shape == Shape{2, 4});
  const Tensor x = random_tensor({3, 2, 4}, 1);
  CHECK(apply(net, x) == apply(same, x));

  // Written as strings, ports given by index named: the graph can be saved.
  CHECK(same_connections(net.connections(), {{"#Input", "a"},
                                             {"#Input", "b.Input"},
                                             {"a.Output", "c"},
                                             {"c", "#First"},
                                             {"b.Output", "#Second"}}));
  const auto reloaded = net_from_json(net_to_json(net));
  REQUIRE(reloaded->type() == "NetGraph");
  CHECK(same_connections(static_cast<const NetGraph&>(*reloaded).connections(), net.connections()));
  CHECK(apply(*reloaded, x) == apply(net, x));
}

TEST_CASE("GraphBuilder binds a variadic layer's inputs in the order connected") {
  GraphBuilder b;
  b.add("x", norm(1, 0));
  b.add("y", norm(2, 1));
  const size_t cat = b.add("cat", CatenateLayer());
  b.connect(End::graph("Input"), "x");
  b.connect(End::graph("Input"), "y");
  b.connect("y", cat);
  b.connect("x", cat);
  b.connect(End::graph("Input"), cat);
  b.connect(cat, End::graph("Output"));
  b.input_shape("Input", {2, 3});
  const NetGraph net = std::move(b).finish();
  CHECK(net.layer(2).inputs().size() == 3);
  CHECK(net.outputs()[0].shape == Shape{6, 3});

  const Tensor x = random_tensor({1, 2, 3}, 2);
  const Tensor y = apply(net, x)[0];
  const Tensor from_y = net.layer(1)(x), from_x = net.layer(0)(x);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t j = 0; j < 3; ++j) {
      CHECK(y.at({0, c, j}) == from_y.at({0, c, j}));
      CHECK(y.at({0, c + 2, j}) == from_x.at({0, c, j}));
      CHECK(y.at({0, c + 4, j}) == x.at({0, c, j}));
    }
  CHECK(same_connections(net.connections(), {{"#Input", "x"},
                                             {"#Input", "y"},
                                             {"y", "cat"},
                                             {"x", "cat"},
                                             {"#Input", "cat"},
                                             {"cat", "#Output"}}));
}

TEST_CASE("GraphBuilder: graph ports in order of first use, with declared shapes") {
  GraphBuilder b;
  b.add("inner", two_by_two());
  b.output_shape("Q", {2, 5});
  b.input_shape("A", Shape::of_rank(2));
  b.connect(End::graph("B"), {"inner", 1});  // inner.R
  b.connect(End::graph("A"), {0, "L"});
  b.connect({"inner", "Q"}, End::graph("Q"));
  b.connect({0, 0}, End::graph("P"));
  const NetGraph net = std::move(b).finish();
  REQUIRE(net.inputs().size() == 2);
  CHECK(net.inputs()[0].name == "B");
  CHECK(net.inputs()[0].shape == Shape{2, 5});  // inferred through r from Q
  CHECK(net.inputs()[1].name == "A");
  CHECK(net.inputs()[1].shape == Shape{2, kUnknownDim});  // declared rank, channels from l
  CHECK(net.outputs()[0].name == "Q");
  CHECK(same_connections(
      net.connections(),
      {{"#B", "inner.R"}, {"#A", "inner.L"}, {"inner.Q", "#Q"}, {"inner.P", "#P"}}));
}

TEST_CASE("GraphBuilder errors, one by one") {
  const auto l = norm(1, 0);
  // A builder with layers a and b, the given connections, then finish().
  auto build = [&](std::vector<std::pair<End, End>> links, PortShapes inputs = {}) {
    return error_of([&] {
      GraphBuilder b;
      b.add("a", l);
      b.add("b", l);
      for (auto& [from, to] : links)
        b.connect(from, to);
      for (const auto& [name, shape] : inputs)
        b.input_shape(name, shape);
      std::move(b).finish();
    });
  };
  const End in = End::graph("Input"), out = End::graph("Output");

  CHECK(build({{in, 0}, {0, 1}, {1, 0}, {1, out}}) ==
        "NetGraph: connection b -> a: a.Input is connected twice");
  CHECK(build({{in, 0}, {0, out}}) == "NetGraph: b.Input is not connected");
  CHECK(build({{in, 0}, {0, 1}, {1, out}, {0, out}}) ==
        "NetGraph: connection a -> #Output: #Output is connected twice");
  CHECK(build({{in, 0}, {0, 0}, {1, out}}) ==
        "NetGraph: connection a -> a: a is connected to itself");
  CHECK(build({{in, 0}, {0, 1}, {1, out}, {in, 5}}) ==
        "NetGraph: connection #Input -> layer 5: no layer 5 (there are 2, from 0)");
  CHECK(build({{in, 0}, {0, "nope"}, {1, out}}) ==
        "NetGraph: connection a -> nope: no layer named \"nope\" (there are: a, b)");
  CHECK(build({{in, {0, 3}}, {0, 1}, {1, out}}) ==
        "NetGraph: connection #Input -> a.3: a has no input port 3 (it has 1)");
  CHECK(build({{in, 0}, {{0, 1}, 1}, {1, out}}) ==
        "NetGraph: connection a.1 -> b: a has no output port 1 (it has 1)");
  CHECK(build({{in, {0, "Foo"}}, {0, 1}, {1, out}}) ==
        "NetGraph: connection #Input -> a.Foo: no input port named \"Foo\" (there are: Input)");
  CHECK(build({{0, 1}, {1, out}}) ==
        "NetGraph: no connection comes from an input of the graph (#Input)");
  CHECK(build({{in, 0}, {0, 1}}) ==
        "NetGraph: no connection goes to an output of the graph (#Output)");
  CHECK(build({{in, 0}, {0, in}, {1, out}}) ==
        "NetGraph: #Input is used both as a source and as a destination");
  CHECK(build({{End::graph(""), 0}, {0, 1}, {1, out}}) ==
        "NetGraph: \"#\" needs a port name, such as #Input");
  CHECK(build({{in, 0}, {0, 1}, {1, out}}, {{"Image", {2, 3}}}) ==
        "NetGraph: input #Image has a shape but no connection");
  CHECK(build({{in, 0}, {End::text("b.x.y"), 1}, {1, out}}) ==
        "NetGraph: connection b.x.y -> b: no output port named \"x.y\" (there are: Output)");
  // A cycle: b feeds c and c feeds b, each input bound once.
  CHECK(error_of([&] {
          GraphBuilder b;
          b.add("a", l);
          b.add("b", l);
          b.add("c", l);
          b.connect(in, "a");
          b.connect("c", "b");
          b.connect("b", "c");
          b.connect("a", out);
          std::move(b).finish();
        }) == "NetGraph: the connections form a cycle through: b, c");
  // Shapes that conflict across a connection name both ends.
  // Shapes that conflict across a connection name both ends (layers that know
  // their input rank report it on the connection).
  auto ranked = [](float gamma) {
    auto n = norm(gamma, 0);
    n.constrain_input(0, Shape::of_rank(2));
    return n;
  };
  CHECK(error_of([&] {
          GraphBuilder b;
          b.add("a", ranked(1));
          b.add("b", ranked(1));
          b.connect(in, "a");
          b.connect("a", "b");
          b.connect("b", out);
          b.output_shape("Output", {5, 4});
          std::move(b).finish();
        }) == "NetGraph: #Output expects [5, 4], but b.Output gives [2, ?]");
}

TEST_CASE("GraphBuilder errors for layers with several or any number of ports") {
  const End in = End::graph("Input"), out = End::graph("Output");
  auto build = [&](std::vector<std::pair<End, End>> links) {
    return error_of([&] {
      GraphBuilder b;
      b.add("two", two_by_two());
      b.add("cat", CatenateLayer());
      for (auto& [from, to] : links)
        b.connect(from, to);
      std::move(b).finish();
    });
  };
  CHECK(build({{in, "two"}, {"cat", out}}) ==
        "NetGraph: connection #Input -> two: two has several inputs; name one, as two.L");
  CHECK(build({{in, {"two", "L"}}, {in, {"two", "R"}}, {"two", out}}) ==
        "NetGraph: connection two -> #Output: two has several outputs; name one, as two.P");
  CHECK(build({{in, {"cat", 0}}, {"cat", out}}) ==
        "NetGraph: connection #Input -> cat.Input1: connect to \"cat\" without a port; its inputs "
        "are bound in the order listed");
}
