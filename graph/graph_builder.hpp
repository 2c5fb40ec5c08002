// GraphBuilder: builds a NetGraph from calls rather than "layer.Port"
// strings — for importers (ONNX) and C++ code that refers to layers and
// ports by index or by name.
//
//   GraphBuilder b;
//   const size_t conv = b.add("conv", ConvolutionLayer(8, {3, 3}).padding_size(1));
//   const size_t add = b.add("add", TotalLayer());
//   b.connect(GraphBuilder::Endpoint::graph("Input"), conv);
//   b.connect(conv, add);
//   b.connect(GraphBuilder::Endpoint::graph("Input"), add);
//   b.connect({add, "Output"}, GraphBuilder::Endpoint::graph("Output"));
//   b.input_shape("Input", {8, 16, 16});
//   NetGraph net = std::move(b).finish();
//
// The rules are the string form's (graph/net_graph.hpp), which is built on
// this: a graph port used as a source is a graph input, as a destination a
// graph output, and the graph's ports come in order of first use;
// connections into a layer with any number of inputs (TotalLayer,
// CatenateLayer) bind its inputs in the order connected. Nothing is checked
// until finish(), which reports the first problem as the string form does.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <vector>

#include "graph/net_graph.hpp"

namespace strata {

class GraphBuilder {
 public:
  // A layer or a port, by index (from 0, in the order added) or by name.
  struct Ref {
    template <std::integral T>
    Ref(T i) : index(static_cast<size_t>(i)) {}  // NOLINT: implicit by design
    Ref(std::string n) : name(std::move(n)) {}   // NOLINT
    Ref(const char* n) : name(n) {}              // NOLINT
    std::optional<size_t> index;
    std::string name;  // when there is no index
  };

  // One end of a connection: a port of a layer or of the graph.
  class Endpoint {
   public:
    // A layer's only port (or, into a layer with any number of inputs, its
    // next one).
    Endpoint(Ref layer) : layer_(std::move(layer)) {}  // NOLINT: implicit by design
    Endpoint(Ref layer, Ref port) : layer_(std::move(layer)), port_(std::move(port)) {}
    template <std::integral T>
    Endpoint(T layer) : layer_(layer) {}                       // NOLINT
    Endpoint(std::string layer) : layer_(std::move(layer)) {}  // NOLINT
    Endpoint(const char* layer) : layer_(layer) {}             // NOLINT
    // A port of the graph: an input when it is a source, else an output.
    static Endpoint graph(std::string name);
    // As the string form writes it: "layer", "layer.Port" or "#Port".
    static Endpoint text(std::string text);

   private:
    friend class GraphBuilder;
    Ref layer_;
    std::optional<Ref> port_;
    bool graph_ = false;               // layer_.name names a port of the graph
    std::optional<std::string> text_;  // written as text, parsed by finish()
  };

  // Adds a layer; returns its index. An unnamed layer is named by its
  // 1-based position.
  size_t add(LayerEntry layer);
  size_t add(std::string name, const Layer& layer) { return add({std::move(name), layer}); }
  size_t add(std::string name, std::unique_ptr<Layer> layer) {
    return add({std::move(name), std::move(layer)});
  }
  size_t size() const { return layers_.size(); }

  // From a source (a graph input or a layer's output port) to a destination
  // (a layer's input port or a graph output).
  void connect(Endpoint from, Endpoint to);

  // Declares what is known of the shape of a graph port (one example).
  void input_shape(std::string name, Shape shape);
  void output_shape(std::string name, Shape shape);

  // Checks the connections, orders the layers and infers shapes, throwing an
  // Error that names the connection, layer or port at fault (cycles, ports
  // not connected or connected twice, shapes that conflict across a
  // connection). The graph's connections() are written as strings.
  NetGraph finish() &&;

 private:
  friend class NetGraph;
  struct Link {
    Endpoint from, to;
  };
  void build(NetGraph& graph);

  std::vector<LayerEntry> layers_;
  std::vector<Link> links_;
  PortShapes input_shapes_, output_shapes_;
};

}  // namespace strata
