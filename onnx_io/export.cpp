// The export driver: walks the net (containers recursively, a NetGraph's
// layers in dependency order), maps each layer through the table of
// onnx_io/export_ops.cpp, names the graph's ports, then checks the model with
// onnx's checker and strict shape inference before anything is written.
#include "onnx_io/export.hpp"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "graph/net.hpp"
#include "onnx_io/export_ops.hpp"
#include "serialization/atomic_file.hpp"

namespace strata {
namespace onnx_io {

// ---- Emitter

std::string Emitter::fresh(const std::string& base) {
  std::string name = base;
  for (int k = 2; used_.count(name); ++k)
    name = base + "_" + std::to_string(k);
  used_.insert(name);
  return name;
}

std::string Emitter::node(const std::string& path, const std::string& op,
                          std::vector<std::string> inputs, const Attributes& attrs,
                          const std::string& output_base) {
  auto* n = graph_.add_node();
  std::string name = path;
  if (node_names_.count(name)) name = path + "/" + op;
  for (int k = 2; node_names_.count(name); ++k)
    name = path + "/" + op + "_" + std::to_string(k);
  node_names_.insert(name);
  n->set_name(name);
  n->set_op_type(op);
  for (auto& i : inputs)
    n->add_input(i);
  const std::string out = fresh(output_base.empty() ? path + "/" + op : output_base);
  n->add_output(out);
  for (const auto& a : attrs)
    *n->add_attribute() = a;
  return out;
}

std::string Emitter::initializer(const std::string& name, const Dims& dims,
                                 std::span<const float> values) {
  auto* t = graph_.add_initializer();
  const std::string unique = fresh(name);
  t->set_name(unique);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims)
    t->add_dims(d);
  t->set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return unique;
}

std::string Emitter::initializer(const std::string& name, const Tensor& value) {
  return initializer(name, value.shape(), value.values());
}

std::string Emitter::scalar(const std::string& name, float value) {
  return initializer(name, {}, std::span<const float>(&value, 1));
}

std::string Emitter::ints(const std::string& name, const std::vector<int64_t>& values) {
  auto* t = graph_.add_initializer();
  const std::string unique = fresh(name);
  t->set_name(unique);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (auto v : values)
    t->add_int64_data(v);
  return unique;
}

onnx::AttributeProto attr(const std::string& name, int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}
onnx::AttributeProto attr(const std::string& name, double v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(static_cast<float>(v));
  return a;
}
onnx::AttributeProto attr(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}
onnx::AttributeProto attr(const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (auto x : v)
    a.add_ints(x);
  return a;
}

[[noreturn]] void refuse(const LayerCall& call, const std::string& why) {
  throw Error(call.path + " (" + call.layer.type() + "): " + why);
}

namespace {

void set_value_info(onnx::ValueInfoProto& v, const std::string& name, const Shape& shape) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("N");
  for (auto d : shape.dims())
    s->add_dim()->set_dim_value(d);
}

// Emits a layer reading `inputs` (tensor names, one per input port); returns
// one tensor name per output port.
std::vector<std::string> emit(Emitter& e, const Layer& layer, const std::string& path,
                              const std::vector<std::string>& inputs) {
  const LayerCall call{layer, path, inputs};
  for (const auto& p : layer.inputs())
    if (!p.shape.fully_known())
      refuse(call, "the shape of " + p.name + " is not known (" + p.shape.to_string() + ")");
  if (const auto* net = dynamic_cast<const Net*>(&layer)) {
    // Dependency order: a layer once every source is emitted.
    std::vector<std::vector<std::string>> outs(net->size());
    std::vector<bool> done(net->size(), false);
    const auto source_name = [&](const Net::Source& s) -> const std::string* {
      if (s.node == Net::kNetPort) return &inputs.at(s.port);
      return done[s.node] ? &outs[s.node].at(s.port) : nullptr;
    };
    for (size_t left = net->size(); left > 0;) {
      const size_t before = left;
      for (size_t i = 0; i < net->size(); ++i) {
        if (done[i]) continue;
        std::vector<std::string> in;
        bool ready = true;
        for (size_t p = 0; p < net->layer(i).inputs().size() && ready; ++p) {
          const auto* n = source_name(net->input_source(i, p));
          if (n)
            in.push_back(*n);
          else
            ready = false;
        }
        if (!ready) continue;
        const std::string child =
            path.empty() ? net->layer_name(i) : path + "/" + net->layer_name(i);
        outs[i] = emit(e, net->layer(i), child, in);
        done[i] = true;
        --left;
      }
      if (left == before) refuse(call, "the layers form a cycle");
    }
    std::vector<std::string> result;
    for (size_t o = 0; o < net->outputs().size(); ++o)
      result.push_back(*source_name(net->output_source(o)));
    return result;
  }
  if (const auto missing = layer.missing_arrays(); !missing.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += (list.empty() ? "" : ", ") + m;
    refuse(call, "array " + list + " is Automatic (run NetInitialize, strata init, first)");
  }
  for (const auto& p : layer.outputs())
    if (!p.shape.fully_known())
      refuse(call, "the shape of " + p.name + " is not known (" + p.shape.to_string() + ")");
  const auto& table = export_table();
  const auto it = table.find(layer.type());
  if (it == table.end()) refuse(call, "ONNX export has no mapping for this layer type");
  auto result = it->second(e, call);
  if (result.size() != layer.outputs().size())
    refuse(call, "internal error: the mapping gives the wrong number of outputs");
  return result;
}

// Renames tensor `from` to `to` everywhere in the graph.
void rename(onnx::GraphProto& g, const std::string& from, const std::string& to) {
  for (auto& n : *g.mutable_node()) {
    for (auto& i : *n.mutable_input())
      if (i == from) i = to;
    for (auto& o : *n.mutable_output())
      if (o == from) o = to;
  }
}

}  // namespace

onnx::ModelProto build_model(const Layer& net, const OnnxExportOptions& options) {
  if (options.opset < kMinExportOpset || options.opset > kMaxExportOpset)
    throw Error("ONNX export: opset " + std::to_string(options.opset) + " is not supported (" +
                std::to_string(kMinExportOpset) + " to " + std::to_string(kMaxExportOpset) + ")");
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("strata");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  auto& g = *model.mutable_graph();
  g.set_name(net.type());
  Emitter e(g, options.opset);

  std::vector<std::string> inputs;
  for (const auto& p : net.inputs()) {
    if (!p.shape.fully_known())
      throw Error("net input " + p.name + ": its shape is not known (" + p.shape.to_string() +
                  "); give the net's input shape");
    set_value_info(*g.add_input(), e.fresh(p.name), p.shape);
    inputs.push_back(p.name);
  }
  const bool is_net = dynamic_cast<const Net*>(&net) != nullptr;
  const auto outs = emit(e, net, is_net ? "" : net.type(), inputs);

  // Graph outputs keep the net's port names: the producing tensor is renamed
  // when it is a node's own, else an Identity gives the name.
  std::map<std::string, int> uses;
  for (const auto& o : outs)
    ++uses[o];
  const auto is_input = [&](const std::string& n) {
    return std::find(inputs.begin(), inputs.end(), n) != inputs.end();
  };
  for (size_t o = 0; o < outs.size(); ++o) {
    const auto& port = net.outputs()[o];
    if (uses[outs[o]] == 1 && !is_input(outs[o]) && !e.used(port.name)) {
      rename(g, outs[o], port.name);
    } else {
      if (e.used(port.name))
        throw Error("net output " + port.name +
                    ": the name is also an input's; ONNX needs "
                    "distinct names");
      auto* n = g.add_node();
      n->set_op_type("Identity");
      n->set_name(port.name);
      n->add_input(outs[o]);
      n->add_output(port.name);
    }
    e.fresh(port.name);
    if (!port.shape.fully_known())
      throw Error("net output " + port.name + ": its shape is not known");
    set_value_info(*g.add_output(), port.name, port.shape);
  }

  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, true));
  } catch (const std::exception& ex) {
    std::string what = ex.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw Error("ONNX export: internal error: the model fails onnx's checker: " + what);
  }
  return model;
}

}  // namespace onnx_io

std::string export_onnx_bytes(const Layer& net, const OnnxExportOptions& options) {
  return onnx_io::build_model(net, options).SerializeAsString();
}

void export_onnx(const Layer& net, const std::filesystem::path& path,
                 const OnnxExportOptions& options) {
  const std::string bytes = export_onnx_bytes(net, options);
  write_file_atomically(path, bytes);
}

}  // namespace strata
