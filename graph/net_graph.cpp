#include "graph/net_graph.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace strata {

namespace {

struct Endpoint {
  bool net_port;      // "#Name"
  std::string layer;  // the layer's name, or the net port's name
  std::string port;   // empty when not given
};

Endpoint parse_endpoint(const std::string& text) {
  if (text.empty()) throw Error("empty endpoint");
  if (text[0] == '#') {
    if (text.size() == 1) throw Error("\"#\" needs a port name, such as #Input");
    return {true, text.substr(1), {}};
  }
  const auto dot = text.find('.');
  if (dot == std::string::npos) return {false, text, {}};
  return {false, text.substr(0, dot), text.substr(dot + 1)};
}

// Adds a port unless it is there; `index` finds ports by name (a graph may
// have very many).
void add_port(std::vector<Port>& ports, std::map<std::string, size_t>& index,
              const std::string& name) {
  if (index.emplace(name, ports.size()).second) ports.push_back({name, Shape()});
}

}  // namespace

NetGraph::NetGraph(std::vector<LayerEntry> layers, const std::vector<Connection>& connections,
                   const PortShapes& inputs, const PortShapes& outputs)
    : Net({}, {}), connections_(connections) {
  try {
    set_layers(std::move(layers));
    if (nodes_.empty()) throw Error("a graph needs at least one layer");

    // The net's own ports, in order of first use.
    std::map<std::string, size_t> input_index, output_index;
    for (const auto& c : connections_) {
      const Endpoint from = parse_endpoint(c.from), to = parse_endpoint(c.to);
      if (from.net_port) add_port(inputs_, input_index, from.layer);
      if (to.net_port) add_port(outputs_, output_index, to.layer);
    }
    for (const auto& in : inputs_)
      if (output_index.count(in.name))
        throw Error("#" + in.name + " is used both as a source and as a destination");
    if (inputs_.empty()) throw Error("no connection comes from an input of the graph (#Input)");
    if (outputs_.empty()) throw Error("no connection goes to an output of the graph (#Output)");
    auto declare = [](std::vector<Port>& ports, const std::map<std::string, size_t>& index,
                      const PortShapes& shapes, const char* what) {
      for (const auto& [name, shape] : shapes) {
        const auto it = index.find(name);
        if (it == index.end())
          throw Error(std::string(what) + " #" + name + " has a shape but no connection");
        ports[it->second].shape = shape;
      }
    };
    declare(inputs_, input_index, inputs, "input");
    declare(outputs_, output_index, outputs, "output");

    // Layers with any number of inputs get one per connection into them.
    std::vector<size_t> variadic_count(nodes_.size(), 0);
    for (const auto& c : connections_) {
      try {
        const Endpoint to = parse_endpoint(c.to);
        if (to.net_port) continue;
        const size_t k = layer_index(to.layer);
        if (nodes_[k].layer->variadic_inputs()) {
          if (!to.port.empty())
            throw Error("connect to \"" + to.layer +
                        "\" without a port; its inputs are bound in the order listed");
          ++variadic_count[k];
        }
      } catch (Error& e) {
        throw e.add_context("connection " + c.from + " -> " + c.to);
      }
    }
    for (size_t k = 0; k < nodes_.size(); ++k) {
      Layer& l = *nodes_[k].layer;
      if (l.variadic_inputs() && variadic_count[k] > 0) l.set_input_count(variadic_count[k]);
      nodes_[k].sources.assign(l.inputs().size(), Source{kNetPort - 1, 0});  // unset
    }
    std::vector<size_t> bound(nodes_.size(), 0);
    std::vector<Source> output_sources(outputs_.size(), Source{kNetPort - 1, 0});

    for (const auto& c : connections_) {
      try {
        const Endpoint from = parse_endpoint(c.from), to = parse_endpoint(c.to);
        Source src;
        if (from.net_port) {
          src = {kNetPort, input_index.at(from.layer)};
        } else {
          const size_t k = layer_index(from.layer);
          const Layer& l = *nodes_[k].layer;
          if (from.port.empty() && l.outputs().size() != 1)
            throw Error(from.layer + " has several outputs; name one, as " + from.layer + "." +
                        l.outputs()[0].name);
          src = {k, from.port.empty() ? 0 : l.output_index(from.port)};
        }
        if (to.net_port) {
          const size_t i = output_index.at(to.layer);
          if (output_sources[i].node != kNetPort - 1)
            throw Error("#" + to.layer + " is connected twice");
          output_sources[i] = src;
          continue;
        }
        const size_t k = layer_index(to.layer);
        if (src.node == k) throw Error(to.layer + " is connected to itself");
        Layer& l = *nodes_[k].layer;
        size_t p;
        if (l.variadic_inputs()) {
          p = bound[k]++;
        } else if (to.port.empty()) {
          if (l.inputs().size() != 1)
            throw Error(to.layer + " has several inputs; name one, as " + to.layer + "." +
                        l.inputs()[0].name);
          p = 0;
        } else {
          p = l.input_index(to.port);
        }
        if (nodes_[k].sources[p].node != kNetPort - 1)
          throw Error(to.layer + "." + l.inputs()[p].name + " is connected twice");
        nodes_[k].sources[p] = src;
      } catch (Error& e) {
        throw e.add_context("connection " + c.from + " -> " + c.to);
      }
    }
    for (const auto& n : nodes_)
      for (size_t p = 0; p < n.sources.size(); ++p)
        if (n.sources[p].node == kNetPort - 1)
          throw Error(n.name + "." + n.layer->inputs()[p].name + " is not connected");
    for (size_t i = 0; i < outputs_.size(); ++i)
      if (output_sources[i].node == kNetPort - 1)
        throw Error("#" + outputs_[i].name + " is not connected");
    finish(std::move(output_sources));
  } catch (Error& e) {
    throw e.add_context("NetGraph");
  }
}

}  // namespace strata
