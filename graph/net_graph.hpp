// NetGraph: named layers and the connections between their ports, as in the
// net format's NetGraph section.
//
// A connection is {source, destination}. An endpoint is a layer name, a
// `layer.Port` for a named port, or `#Port` for a port of the graph itself
// (`#Input`, `#Output`, or any name: a `#Name` used as a source is a graph
// input, as a destination a graph output). Several connections into a layer
// with any number of inputs (TotalLayer, CatenateLayer) bind its inputs in the
// order listed.
//
//   NetGraph net({{"conv", ConvolutionLayer(8, {3, 3}).padding_size(1)},
//                 {"norm", InstanceNormalizationLayer()}, {"add", TotalLayer()}},
//                {{"#Input", "conv"}, {"conv", "norm"}, {"norm", "add"},
//                 {"#Input", "add"}, {"add", "#Output"}},
//                {{"Input", {8, 16, 16}}});
//
// To build a graph from calls (layers and ports by index or name), use
// GraphBuilder (graph/graph_builder.hpp); this form is built on it.
#pragma once

#include <map>

#include "graph/net.hpp"

namespace strata {

struct Connection {
  std::string from;
  std::string to;
};

// Shapes declared for a graph's ports, by port name.
using PortShapes = std::vector<std::pair<std::string, Shape>>;

class GraphBuilder;

class NetGraph : public Net {
 public:
  NetGraph(std::vector<LayerEntry> layers, const std::vector<Connection>& connections,
           const PortShapes& inputs = {}, const PortShapes& outputs = {});
  // What GraphBuilder::finish() makes.
  explicit NetGraph(GraphBuilder builder);

  NetGraph(const NetGraph&) = default;
  NetGraph(NetGraph&&) = default;
  NetGraph& operator=(const NetGraph&) = default;
  NetGraph& operator=(NetGraph&&) = default;

  std::string type() const override { return "NetGraph"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<NetGraph>(*this); }

  // The connections as given, or as strings for those given to a
  // GraphBuilder by index or name (for writing the graph back out).
  const std::vector<Connection>& connections() const { return connections_; }

 private:
  friend class GraphBuilder;
  std::vector<Connection> connections_;
};

}  // namespace strata
