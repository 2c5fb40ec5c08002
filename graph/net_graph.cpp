#include "graph/net_graph.hpp"

#include "graph/graph_builder.hpp"

namespace strata {

namespace {

GraphBuilder from_strings(std::vector<LayerEntry> layers,
                          const std::vector<Connection>& connections, const PortShapes& inputs,
                          const PortShapes& outputs) {
  GraphBuilder b;
  for (auto& l : layers)
    b.add(std::move(l));
  for (const auto& c : connections)
    b.connect(GraphBuilder::Endpoint::text(c.from), GraphBuilder::Endpoint::text(c.to));
  for (const auto& [name, shape] : inputs)
    b.input_shape(name, shape);
  for (const auto& [name, shape] : outputs)
    b.output_shape(name, shape);
  return b;
}

}  // namespace

NetGraph::NetGraph(std::vector<LayerEntry> layers, const std::vector<Connection>& connections,
                   const PortShapes& inputs, const PortShapes& outputs)
    : NetGraph(from_strings(std::move(layers), connections, inputs, outputs)) {}

NetGraph::NetGraph(GraphBuilder builder) : Net({}, {}) {
  builder.build(*this);
}

}  // namespace strata
