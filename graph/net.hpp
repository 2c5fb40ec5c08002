// Net: the common machinery of NetChain and NetGraph — named layers, the
// connections between their ports, shape inference across connections, and
// execution in a topological order. A Net is itself a Layer, so nets nest.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/layer.hpp"

namespace strata {

// One layer of a net, with the name it is known by there. Converts from any
// layer (copied) so that nets can be written as braced lists:
//   NetChain({ConvolutionLayer(16, {3, 3}), {"norm1", InstanceNormalizationLayer()}})
class LayerEntry {
 public:
  LayerEntry(const Layer& layer) : layer_(layer.clone()) {}  // NOLINT: implicit by design
  LayerEntry(std::string name, const Layer& layer)
      : name_(std::move(name)), layer_(layer.clone()) {}
  LayerEntry(std::unique_ptr<Layer> layer) : layer_(std::move(layer)) {}  // NOLINT
  LayerEntry(std::string name, std::unique_ptr<Layer> layer)
      : name_(std::move(name)), layer_(std::move(layer)) {}
  LayerEntry(const LayerEntry& other) : name_(other.name_), layer_(other.layer_->clone()) {}
  LayerEntry(LayerEntry&&) = default;
  LayerEntry& operator=(LayerEntry other) {
    std::swap(name_, other.name_);
    std::swap(layer_, other.layer_);
    return *this;
  }

  const std::string& name() const { return name_; }
  std::unique_ptr<Layer> release() { return std::move(layer_); }

 private:
  std::string name_;  // empty: named by its 1-based position
  std::unique_ptr<Layer> layer_;
};

// The declared shape of a net's input or output port (one example, no batch).
// (Constructors rather than aggregates, so that Input({1, 8, 8}) compiles
// without C++20's parenthesized aggregate initialization, which clang 14 lacks.)
struct Input {
  Input() = default;
  explicit Input(Shape s) : shape(std::move(s)) {}
  Shape shape;
};
struct Output {
  Output() = default;
  explicit Output(Shape s) : shape(std::move(s)) {}
  Shape shape;
};

class Net : public Layer {
 public:
  Net(const Net& other);
  Net(Net&&) = default;

  size_t size() const { return nodes_.size(); }
  const Layer& layer(size_t i) const { return *nodes_.at(i).layer; }
  // The mutable form is for arrays' values (initializers, optimizers): an
  // option changes through NetSetOption (graph/surgery.hpp), which infers the
  // net's shapes again.
  Layer& layer(size_t i) { return *nodes_.at(i).layer; }
  const std::string& layer_name(size_t i) const { return nodes_.at(i).name; }
  // Index of a layer by name; throws an Error listing the names there are.
  size_t layer_index(std::string_view name) const;
  // The layers that read an output of layer i, in index order.
  const std::vector<size_t>& consumers(size_t i) const;
  // Where the net's output port i comes from.
  struct Source;
  const Source& output_source(size_t i) const { return output_sources_.at(i); }
  // Where input port `port` of layer i comes from.
  const Source& input_source(size_t i, size_t port) const { return nodes_.at(i).sources.at(port); }

  // ---- Class labels (Wolfram's NetDecoder["Class"]): one per element of
  // the net's single Output, a vector of class probabilities or scores, in
  // index order. Empty: the net carries none.
  const std::vector<std::string>& class_labels() const { return class_labels_; }
  // Throws an Error starting "ClassLabels:" unless the net has one output,
  // the labels are distinct and non-empty, and their count equals the
  // Output's size once that is known (checked again whenever shapes are
  // inferred). An empty list removes the labels.
  void set_class_labels(std::vector<std::string> labels);

  std::vector<std::pair<std::string, Layer*>> children() override;
  std::vector<ArrayRef> all_arrays() override;

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;
  void update_state(Workspace* ws) override;

  // Where a port's value comes from: an input port of the net (node ==
  // kNetPort) or an output port of a layer.
  struct Source {
    size_t node;
    size_t port;
  };
  static constexpr size_t kNetPort = static_cast<size_t>(-1);

 protected:
  struct Node {
    std::string name;
    std::unique_ptr<Layer> layer;
    std::vector<Source> sources;  // one per input port of the layer
  };

  Net(std::vector<Port> inputs, std::vector<Port> outputs);
  // For NetChain and NetGraph, whose own assignments are public (a chain
  // assigned a graph through Net& would keep the chain's type).
  Net& operator=(const Net& other);
  Net& operator=(Net&&) = default;
  // Takes the layers, naming unnamed ones by their 1-based position; refuses
  // duplicate or empty names.
  void set_layers(std::vector<LayerEntry> layers);
  // With every source set: checks every port is connected, orders the layers
  // topologically (refusing cycles) and infers shapes.
  void finish(std::vector<Source> output_sources);
  void infer() override;

  std::vector<Node> nodes_;
  std::vector<Source> output_sources_;  // one per output port of the net

 private:
  std::string describe_source(const Source& s) const;
  // After layer k failed to infer: "b.Input expects [16, ?, ?], but a.Output
  // gives [8, ?, ?]" for a connection to or from it whose ends, each on its
  // own (its options and arrays, the connection's rank), disagree; empty
  // when none does.
  std::string blame_connection(size_t k) const;
  const Shape& source_shape(const Source& s) const;
  void check_class_labels(const std::vector<std::string>& labels) const;
  // Merges the shapes at both ends of a connection into input `to_port` of
  // layer `to_node` (kNetPort: into the net's output `to_port`); errors name
  // both ends. Returns whether the source's shape changed.
  bool link(const Source& from, Shape& to_shape, size_t to_node, size_t to_port);

  std::vector<size_t> order_;                   // execution order of nodes_
  std::vector<size_t> by_name_;                 // nodes_ indices sorted by name, for layer_index
  std::vector<std::vector<size_t>> consumers_;  // per node: the nodes reading it
  std::vector<std::vector<int>> uses_;          // per node, per output: how many readers
  std::vector<int> input_uses_;                 // per net input: how many readers
  std::vector<size_t> array_offset_;            // per node: offset into all_arrays()
  std::vector<std::string> class_labels_;
};

}  // namespace strata
