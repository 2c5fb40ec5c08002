#include "graph/graph_builder.hpp"

#include <map>

#include "core/error.hpp"

namespace strata {

namespace {

// An endpoint as the graph sees it: a port of the graph (`layer` names it) or
// a port of a layer, given or not.
struct End {
  bool graph;
  GraphBuilder::Ref layer;
  std::optional<GraphBuilder::Ref> port;
  std::optional<std::string> text;  // as written, for an endpoint given as text
};

End parse_endpoint(const std::string& text) {
  if (text.empty()) throw Error("empty endpoint");
  if (text[0] == '#') {
    if (text.size() == 1) throw Error("\"#\" needs a port name, such as #Input");
    return {true, text.substr(1), {}, text};
  }
  const auto dot = text.find('.');
  if (dot == std::string::npos) return {false, text, {}, text};
  const std::string port = text.substr(dot + 1);
  return {false, text.substr(0, dot),
          port.empty() ? std::nullopt : std::optional<GraphBuilder::Ref>(port), text};
}

// Adds a port unless it is there; `index` finds ports by name (a graph may
// have very many).
void add_port(std::vector<Port>& ports, std::map<std::string, size_t>& index,
              const std::string& name) {
  if (index.emplace(name, ports.size()).second) ports.push_back({name, Shape()});
}

// A port by index or name among `ports` (a layer's inputs or outputs).
size_t port_index(const Layer& l, const std::string& layer, const GraphBuilder::Ref& ref,
                  bool input) {
  if (!ref.index) return input ? l.input_index(ref.name) : l.output_index(ref.name);
  const size_t count = input ? l.inputs().size() : l.outputs().size();
  if (*ref.index >= count)
    throw Error(layer + " has no " + (input ? "input" : "output") + " port " +
                std::to_string(*ref.index) + " (it has " + std::to_string(count) + ")");
  return *ref.index;
}

}  // namespace

GraphBuilder::Endpoint GraphBuilder::Endpoint::graph(std::string name) {
  Endpoint e(std::move(name));
  e.graph_ = true;
  return e;
}

GraphBuilder::Endpoint GraphBuilder::Endpoint::text(std::string text) {
  Endpoint e(text);
  e.text_ = std::move(text);
  return e;
}

size_t GraphBuilder::add(LayerEntry layer) {
  layers_.push_back(std::move(layer));
  return layers_.size() - 1;
}

void GraphBuilder::connect(Endpoint from, Endpoint to) {
  links_.push_back({std::move(from), std::move(to)});
}

void GraphBuilder::input_shape(std::string name, Shape shape) {
  input_shapes_.emplace_back(std::move(name), std::move(shape));
}

void GraphBuilder::output_shape(std::string name, Shape shape) {
  output_shapes_.emplace_back(std::move(name), std::move(shape));
}

NetGraph GraphBuilder::finish() && {
  return NetGraph(std::move(*this));
}

void GraphBuilder::build(NetGraph& g) {
  using Source = Net::Source;
  constexpr size_t kUnset = Net::kNetPort - 1;
  auto& nodes = g.nodes_;
  try {
    g.set_layers(std::move(layers_));
    if (nodes.empty()) throw Error("a graph needs at least one layer");

    // Every endpoint as the graph sees it; the graph's own ports, in order of
    // first use.
    std::vector<End> froms, tos;
    froms.reserve(links_.size());
    tos.reserve(links_.size());
    auto end_of = [](const Endpoint& e) {
      if (e.text_) return parse_endpoint(*e.text_);
      if (e.graph_ && e.layer_.name.empty()) throw Error("\"#\" needs a port name, such as #Input");
      return End{e.graph_, e.layer_, e.port_, std::nullopt};
    };
    std::map<std::string, size_t> input_index, output_index;
    for (const auto& link : links_) {
      froms.push_back(end_of(link.from));
      tos.push_back(end_of(link.to));
      if (froms.back().graph) add_port(g.inputs_, input_index, froms.back().layer.name);
      if (tos.back().graph) add_port(g.outputs_, output_index, tos.back().layer.name);
    }
    for (const auto& in : g.inputs_)
      if (output_index.count(in.name))
        throw Error("#" + in.name + " is used both as a source and as a destination");
    if (g.inputs_.empty()) throw Error("no connection comes from an input of the graph (#Input)");
    if (g.outputs_.empty()) throw Error("no connection goes to an output of the graph (#Output)");
    auto declare = [](std::vector<Port>& ports, const std::map<std::string, size_t>& index,
                      const PortShapes& shapes, const char* what) {
      for (const auto& [name, shape] : shapes) {
        const auto it = index.find(name);
        if (it == index.end())
          throw Error(std::string(what) + " #" + name + " has a shape but no connection");
        ports[it->second].shape = shape;
      }
    };
    declare(g.inputs_, input_index, input_shapes_, "input");
    declare(g.outputs_, output_index, output_shapes_, "output");

    auto layer_of = [&](const Ref& ref) {
      if (!ref.index) return g.layer_index(ref.name);
      if (*ref.index >= nodes.size())
        throw Error("no layer " + std::to_string(*ref.index) + " (there are " +
                    std::to_string(nodes.size()) + ", from 0)");
      return *ref.index;
    };
    // How a connection reads in an error: as written, or as it would be.
    auto describe = [&](const End& e, bool source) {
      if (e.text) return *e.text;
      if (e.graph) return "#" + e.layer.name;
      std::optional<size_t> k;
      try {
        k = layer_of(e.layer);
      } catch (Error&) {
      }
      std::string s = k               ? nodes[*k].name
                      : e.layer.index ? "layer " + std::to_string(*e.layer.index)
                                      : e.layer.name;
      if (!e.port) return s;
      if (!e.port->index) return s + "." + e.port->name;
      const size_t p = *e.port->index;
      const auto* ports =
          k ? &(source ? nodes[*k].layer->outputs() : nodes[*k].layer->inputs()) : nullptr;
      return s + "." + (ports && p < ports->size() ? (*ports)[p].name : std::to_string(p));
    };
    auto context = [&](size_t i) {
      return "connection " + describe(froms[i], true) + " -> " + describe(tos[i], false);
    };

    // Layers with any number of inputs get one per connection into them.
    std::vector<size_t> variadic_count(nodes.size(), 0);
    for (size_t i = 0; i < links_.size(); ++i) {
      try {
        const End& to = tos[i];
        if (to.graph) continue;
        const size_t k = layer_of(to.layer);
        if (nodes[k].layer->variadic_inputs()) {
          if (to.port)
            throw Error("connect to \"" + nodes[k].name +
                        "\" without a port; its inputs are bound in the order listed");
          ++variadic_count[k];
        }
      } catch (Error& e) {
        throw e.add_context(context(i));
      }
    }
    for (size_t k = 0; k < nodes.size(); ++k) {
      Layer& l = *nodes[k].layer;
      if (l.variadic_inputs() && variadic_count[k] > 0) l.set_input_count(variadic_count[k]);
      nodes[k].sources.assign(l.inputs().size(), Source{kUnset, 0});
    }
    std::vector<size_t> bound(nodes.size(), 0);
    std::vector<Source> output_sources(g.outputs_.size(), Source{kUnset, 0});

    // Each connection as strings, for writing the graph back out.
    g.connections_.clear();
    g.connections_.reserve(links_.size());
    for (size_t i = 0; i < links_.size(); ++i) {
      try {
        const End &from = froms[i], &to = tos[i];
        Source src;
        std::string from_text, to_text;
        if (from.graph) {
          src = {Net::kNetPort, input_index.at(from.layer.name)};
          from_text = "#" + from.layer.name;
        } else {
          const size_t k = layer_of(from.layer);
          const Layer& l = *nodes[k].layer;
          const std::string& name = nodes[k].name;
          if (!from.port && l.outputs().size() != 1)
            throw Error(name + " has several outputs; name one, as " + name + "." +
                        l.outputs()[0].name);
          src = {k, from.port ? port_index(l, name, *from.port, false) : 0};
          from_text = from.port ? name + "." + l.outputs()[src.port].name : name;
        }
        if (to.graph) {
          const size_t o = output_index.at(to.layer.name);
          if (output_sources[o].node != kUnset)
            throw Error("#" + to.layer.name + " is connected twice");
          output_sources[o] = src;
          to_text = "#" + to.layer.name;
        } else {
          const size_t k = layer_of(to.layer);
          const std::string& name = nodes[k].name;
          if (src.node == k) throw Error(name + " is connected to itself");
          Layer& l = *nodes[k].layer;
          size_t p;
          if (l.variadic_inputs()) {
            p = bound[k]++;
          } else if (!to.port) {
            if (l.inputs().size() != 1)
              throw Error(name + " has several inputs; name one, as " + name + "." +
                          l.inputs()[0].name);
            p = 0;
          } else {
            p = port_index(l, name, *to.port, true);
          }
          if (nodes[k].sources[p].node != kUnset)
            throw Error(name + "." + l.inputs()[p].name + " is connected twice");
          nodes[k].sources[p] = src;
          to_text = to.port ? name + "." + l.inputs()[p].name : name;
        }
        g.connections_.push_back(
            {from.text ? *from.text : from_text, to.text ? *to.text : to_text});
      } catch (Error& e) {
        throw e.add_context(context(i));
      }
    }
    for (const auto& n : nodes)
      for (size_t p = 0; p < n.sources.size(); ++p)
        if (n.sources[p].node == kUnset)
          throw Error(n.name + "." + n.layer->inputs()[p].name + " is not connected");
    for (size_t i = 0; i < g.outputs_.size(); ++i)
      if (output_sources[i].node == kUnset)
        throw Error("#" + g.outputs_[i].name + " is not connected");
    g.finish(std::move(output_sources));
  } catch (Error& e) {
    throw e.add_context("NetGraph");
  }
}

}  // namespace strata
