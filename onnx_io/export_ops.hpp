// What the export mappings (onnx_io/export_ops.cpp) share: the Emitter that
// adds nodes and initializers to the graph, and the table from a strata
// layer type to the function that maps one layer.
#pragma once

#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "layers/layer.hpp"

namespace strata {
struct OnnxExportOptions;
}

namespace strata::onnx_io {

using Attributes = std::vector<onnx::AttributeProto>;

onnx::AttributeProto attr(const std::string& name, int64_t v);
onnx::AttributeProto attr(const std::string& name, double v);
onnx::AttributeProto attr(const std::string& name, const std::string& v);
onnx::AttributeProto attr(const std::string& name, const std::vector<int64_t>& v);

// Adds to one graph; every tensor name it gives is unique.
class Emitter {
 public:
  Emitter(onnx::GraphProto& graph, int opset) : graph_(graph), opset_(opset) {}
  int opset() const { return opset_; }

  // A node of `op` named after the layer path (the path itself for a layer's
  // first node, "path/Op" for more); returns its output, named `output_base`
  // or "path/Op".
  std::string node(const std::string& path, const std::string& op, std::vector<std::string> inputs,
                   const Attributes& attrs = {}, const std::string& output_base = {});
  // Initializers; each returns its (unique) name.
  std::string initializer(const std::string& name, const Dims& dims, std::span<const float> values);
  std::string initializer(const std::string& name, const Tensor& value);
  std::string scalar(const std::string& name, float value);
  std::string ints(const std::string& name, const std::vector<int64_t>& values);

  std::string fresh(const std::string& base);
  bool used(const std::string& name) const { return used_.count(name) > 0; }

 private:
  onnx::GraphProto& graph_;
  int opset_;
  std::set<std::string> used_;
  std::set<std::string> node_names_;
};

// One layer being mapped: its path and the tensors feeding its input ports.
struct LayerCall {
  const Layer& layer;
  std::string path;
  std::vector<std::string> inputs;

  const Dims& in_dims(size_t i = 0) const { return layer.inputs().at(i).shape.dims(); }
  const Dims& out_dims(size_t i = 0) const { return layer.outputs().at(i).shape.dims(); }
  // The tensor name of the layer's output port i (for the last node).
  std::string output_name(size_t i = 0) const { return path + "/" + layer.outputs().at(i).name; }
};

// "path (Type): why", as an Error.
[[noreturn]] void refuse(const LayerCall& call, const std::string& why);

// Maps one layer; returns one tensor name per output port.
using ExportMapping = std::function<std::vector<std::string>(Emitter&, const LayerCall&)>;
const std::map<std::string, ExportMapping, std::less<>>& export_table();

onnx::ModelProto build_model(const Layer& net, const OnnxExportOptions& options);

}  // namespace strata::onnx_io
