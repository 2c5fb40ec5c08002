#include "graph/dot.hpp"

#include <doctest/doctest.h>

#include <regex>

#include "graph/net_chain.hpp"
#include "graph/net_graph.hpp"
#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/total.hpp"

using namespace strata;

namespace {

size_t count(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

}  // namespace

TEST_CASE("NetDot: one box per layer, one edge per connection, nested nets as clusters") {
  // Fan-out (conv feeds norm and add) and nesting (a chain inside the graph).
  NetChain inner({{"n", InstanceNormalizationLayer()}, {"r", ElementwiseLayer("Ramp")}});
  NetGraph net({{"conv", ConvolutionLayer(4, {3, 3}).padding_size(1)},
                {"block", inner},
                {"add", TotalLayer()}},
               {{"#Input", "conv"},
                {"conv", "block"},
                {"block", "add"},
                {"conv", "add"},
                {"add", "#Output"}},
               {{"Input", {2, 8, 8}}});
  const std::string dot = NetDot(net);
  CAPTURE(dot);
  CHECK(dot.rfind("digraph net {", 0) == 0);
  // Leaf layers: conv, block/n, block/r, add.
  CHECK(count(dot, "class=layer") == 4);
  // Edges: the graph's 5 connections, and the chain's 3 (Input → n → r → Output).
  CHECK(count(dot, " -> ") == 8);
  CHECK(count(dot, "subgraph \"cluster_block\"") == 1);
  CHECK(
      dot.find("\"block/n\" [class=layer, label=\"n\\nInstanceNormalizationLayer\\n[4, 8, 8]\"]") !=
      std::string::npos);
  // Fan-out: two edges leave conv; into the chain through its port.
  CHECK(count(dot, "\"conv\" -> ") == 2);
  CHECK(dot.find("\"conv\" -> \"block#Input\"") != std::string::npos);
  CHECK(dot.find("\"block#Output\" -> \"add\"") != std::string::npos);
  CHECK(dot.find("\"add\" -> \"#Output\"") != std::string::npos);
}

TEST_CASE("NetDot: a chain, and a layer alone") {
  NetChain chain({ConvolutionLayer(2, 1), ElementwiseLayer("Tanh")}, Input({1, 4}));
  const std::string dot = NetDot(chain);
  CHECK(count(dot, "class=layer") == 2);
  CHECK(count(dot, " -> ") == 3);
  CHECK(dot.find("\"1\" -> \"2\"") != std::string::npos);
  const std::string one = NetDot(ElementwiseLayer("Tanh"));
  CHECK(count(one, "class=layer") == 1);
  CHECK(count(one, " -> ") == 2);
}
