// The import driver: reads the model, binds initializers and graph inputs,
// converts the nodes in order through the op table, and builds a NetChain
// when the layers form a chain, a NetGraph otherwise.
#include "onnx_io/import.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/checker.h>
#include <onnx/version_converter/convert.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <system_error>
#include <unordered_map>

#include "core/error.hpp"
#include "graph/graph_builder.hpp"
#include "graph/net_chain.hpp"
#include "onnx_io/converter.hpp"
#include "onnx_io/tensor_proto.hpp"

namespace strata {
namespace onnx_io {

// The opsets of the default domain the converters know.
constexpr int kMinOpset = 1;  // one-node tests declare the opset their op last changed in
constexpr int kMaxOpset = 17;

// '.', '/' and '#' would be read as paths and ports: they become '_'.
std::string path_safe(std::string name) {
  while (!name.empty() && name.front() == '/')
    name.erase(name.begin());
  for (char& c : name)
    if (c == '.' || c == '/' || c == '#' || static_cast<unsigned char>(c) < 0x20) c = '_';
  return name;
}

class Importer {
 public:
  // `declared_opset`: the opset the user's file declares, for messages, when
  // `model` is its conversion to another.
  Importer(const onnx::ModelProto& model, std::filesystem::path model_dir,
           const OnnxImportOptions& options, std::optional<int> declared_opset = std::nullopt)
      : model_(model),
        dir_(std::move(model_dir)),
        options_(options),
        declared_opset_(declared_opset) {}

  int declared_opset() const { return declared_opset_.value_or(opset_); }

  std::unique_ptr<Layer> run() {
    opset_ = default_opset();
    const auto& g = model_.graph();
    count_uses(g);
    for (const auto& t : g.initializer()) {
      const std::string what = "initializer '" + t.name() + "'";
      values_[t.name()] = decode_tensor(t, dir_, options_.max_file_bytes, what);
    }
    if (g.sparse_initializer_size() > 0) throw Error("sparse initializers are not supported");
    bind_inputs(g);
    for (const auto& [name, dims] : options_.input_shapes)
      if (std::find(input_names_.begin(), input_names_.end(), name) == input_names_.end())
        throw Error("--input-shape " + name + ": the graph has no input of that name");
    convert_graph(g);
    return build(g);
  }

  // ---- What Context reaches
  const Value* find(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }
  void set(const std::string& name, Value v) { values_[name] = std::move(v); }
  int uses(const std::string& name) const {
    const auto it = uses_.find(name);
    return it == uses_.end() ? 0 : it->second;
  }
  Computed add_layer(const std::string& node_name, std::unique_ptr<Layer> layer,
                     std::vector<Computed> sources) {
    for (const auto& s : sources)
      if (s.layer == Computed::kSlice)
        throw Error(
            "it reads a Slice of a computed tensor, which is supported only as periodic "
            "padding (Concat of the input's tail, the input and its head)");
    if (layer->variadic_inputs()) layer->set_input_count(sources.size());
    for (size_t i = 0; i < sources.size() && i < layer->inputs().size(); ++i)
      layer->constrain_input(i, sources[i].shape);
    layer->infer_shapes();
    Computed out{layers_.size(), "Output", layer->outputs().at(0).shape};
    layers_.push_back({unique_name(node_name), std::move(layer), std::move(sources)});
    return out;
  }
  Layer* producer(const Computed& v) const {
    return v.layer < layers_.size() ? layers_[v.layer].layer.get() : nullptr;
  }
  const std::vector<Computed>* sources(const Computed& v) const {
    return v.layer < layers_.size() ? &layers_[v.layer].sources : nullptr;
  }
  Computed add_slice(SliceOf slice, Shape shape) {
    slices_.push_back(std::move(slice));
    return Computed{Computed::kSlice, std::to_string(slices_.size() - 1), std::move(shape)};
  }
  const SliceOf* slice_of(const Computed& v) const {
    return v.layer == Computed::kSlice ? &slices_.at(std::stoul(v.port)) : nullptr;
  }

 private:
  int default_opset() const {
    std::optional<int64_t> opset;
    for (const auto& o : model_.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
    if (!opset) throw Error("the model imports no opset of the default ONNX domain");
    if (*opset < kMinOpset || *opset > kMaxOpset)
      throw Error("opset " + std::to_string(*opset) + " is not supported (supported: " +
                  std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
    return static_cast<int>(*opset);
  }

  void count_uses(const onnx::GraphProto& g) {
    for (const auto& n : g.node()) {
      for (const auto& in : n.input())
        ++uses_[in];
      for (const auto& a : n.attribute())  // If's branches read names of this scope
        if (a.has_g()) count_uses(a.g());
    }
    for (const auto& o : g.output())
      ++uses_[o.name()];
  }

  void bind_inputs(const onnx::GraphProto& g) {
    for (const auto& in : g.input()) {
      if (values_.count(in.name())) continue;  // an initializer's declaration (IR < 4)
      const std::string what = "input '" + in.name() + "'";
      if (!in.type().has_tensor_type()) throw Error(what + ": only tensor inputs are supported");
      const auto& tt = in.type().tensor_type();
      if (tt.elem_type() != onnx::TensorProto::FLOAT)
        throw Error(what + ": element type " +
                    onnx::TensorProto::DataType_Name(
                        static_cast<onnx::TensorProto::DataType>(tt.elem_type())) +
                    " is not supported (supported: float)");
      if (!tt.has_shape()) throw Error(what + ": the shape's rank is not given");
      const auto& dims = tt.shape().dim();
      if (dims.empty())
        throw Error(what + ": a scalar input has no batch dimension (supported: rank 1 or more)");
      const std::optional<int64_t> batch =
          dims[0].has_dim_value() ? std::optional<int64_t>(dims[0].dim_value()) : std::nullopt;
      static_batch_ = input_names_.empty() || static_batch_ == batch ? batch : std::nullopt;
      Dims example;
      for (int i = 1; i < dims.size(); ++i) {
        const int64_t d = dims[i].has_dim_value() ? dims[i].dim_value() : kUnknownDim;
        if (dims[i].has_dim_value() && (d < 1 || d > kMaxElements))
          throw Error(what + ": dimension " + std::to_string(i) + " is " + std::to_string(d));
        example.push_back(d);
      }
      if (const auto it = options_.input_shapes.find(in.name());
          it != options_.input_shapes.end()) {
        if (it->second.size() != example.size())
          throw Error("--input-shape " + in.name() + ": " + std::to_string(it->second.size()) +
                      " dimensions given, the input has " + std::to_string(example.size()) +
                      " besides the batch");
        for (size_t i = 0; i < example.size(); ++i) {
          if (it->second[i] < 1)
            throw Error("--input-shape " + in.name() + ": dimensions must be positive");
          if (example[i] != kUnknownDim && example[i] != it->second[i])
            throw Error("--input-shape " + in.name() + ": dimension " + std::to_string(i + 1) +
                        " is " + std::to_string(example[i]) + " in the model");
          example[i] = it->second[i];
        }
      }
      std::string port = path_safe(in.name());
      if (port.empty()) port = "Input";
      input_names_.push_back(in.name());
      input_ports_.push_back(port);
      values_[in.name()] = Computed{Computed::kGraphInput, port, Shape(example)};
    }
    if (input_names_.empty()) throw Error("the graph has no input that is not a constant");
  }

 public:
  void convert_graph(const onnx::GraphProto& g) {
    for (const auto& n : g.node()) {
      if (!n.domain().empty() && n.domain() != "ai.onnx")
        throw Error("node '" + n.name() + "' (" + n.op_type() + "): domain \"" + n.domain() +
                    "\" is not supported (supported: the default ONNX domain)");
      Context ctx(*this, n, opset_);
      const auto& table = op_table();
      const auto it = table.find(n.op_type());
      if (it == table.end()) ctx.fail("op " + n.op_type() + " is not supported");
      check_node(ctx, n);
      try {
        it->second(ctx);
      } catch (const Error& e) {
        const std::string w = ctx.where();
        if (std::string_view(e.what()).starts_with(w)) throw;
        ctx.fail(e.what());
      }
      const auto unread = ctx.unread_attributes();
      if (!unread.empty()) ctx.fail("attribute " + unread.front() + " is not supported");
      for (size_t i = 0; i < ctx.output_count(); ++i) {
        const auto& name = n.output(static_cast<int>(i));
        if (!name.empty() && uses(name) > 0 && !values_.count(name))
          ctx.fail("output " + std::to_string(i) + " ('" + name + "') is not supported");
      }
    }
  }

  // onnx's checker on one node (attribute types, input counts), so that its
  // complaint names the node; nodes of unknown ops are refused first.
  void check_node(const Context& ctx, const onnx::NodeProto& n) {
    try {
      onnx::checker::CheckerContext cc;
      cc.set_ir_version(static_cast<int>(model_.ir_version()));
      std::unordered_map<std::string, int> opsets;
      for (const auto& o : model_.opset_import())
        opsets[o.domain()] = static_cast<int>(o.version());
      cc.set_opset_imports(opsets);
      onnx::checker::LexicalScopeContext lex;
      for (const auto& a : n.attribute())
        if (a.has_g() || a.graphs_size() > 0) {
          for (const auto& [name, v] : values_)
            lex.add(name);
          break;
        }
      onnx::checker::check_node(n, cc, lex);
    } catch (const std::exception& e) {
      std::string m = e.what();
      if (const auto nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
      ctx.fail("the ONNX checker refuses the node: " + m);
    }
  }

 private:
  std::string unique_name(const std::string& node_name) {
    std::string base = path_safe(node_name);
    if (base.empty()) base = "layer";
    std::string name = base;
    for (int k = 2; !names_.insert(name).second; ++k)
      name = base + "_" + std::to_string(k);
    return name;
  }

  std::unique_ptr<Layer> build(const onnx::GraphProto& g) {
    std::vector<std::pair<std::string, Computed>> outputs;
    for (const auto& o : g.output()) {
      const Value* v = find(o.name());
      if (!v) throw Error("output '" + o.name() + "' is not computed by any node");
      if (std::holds_alternative<Constant>(*v))
        throw Error("output '" + o.name() + "' is a constant (it does not depend on an input)");
      // An output may be an input itself (a NetGraph connection from #In to
      // #Out), as long as some layer computes another output.
      const auto& c = std::get<Computed>(*v);
      if (c.layer == Computed::kSlice)
        throw Error("output '" + o.name() +
                    "' is a Slice of a computed tensor (supported only as periodic padding: "
                    "Concat of the input's tail, the input and its head)");
      std::string port = path_safe(o.name());
      if (port.empty()) port = "Output";
      outputs.emplace_back(port, c);
    }
    if (outputs.empty()) throw Error("the graph has no output");
    // Only layers an output depends on are kept (a branch computing nothing used is dropped).
    std::vector<bool> live(layers_.size(), false);
    for (const auto& [port, c] : outputs)
      if (c.layer != Computed::kGraphInput) live[c.layer] = true;
    for (size_t i = layers_.size(); i-- > 0;)
      if (live[i])
        for (const auto& s : layers_[i].sources)
          if (s.layer != Computed::kGraphInput) live[s.layer] = true;

    std::vector<size_t> kept;
    for (size_t i = 0; i < layers_.size(); ++i)
      if (live[i]) kept.push_back(i);
    if (kept.empty())
      for (size_t k = 0; k < outputs.size(); ++k)
        if (outputs[k].second.layer == Computed::kGraphInput)
          throw Error("output '" + g.output(static_cast<int>(k)).name() + "' is the input '" +
                      outputs[k].second.port + "' itself (no layer computes it)");
    std::vector<std::string> used_inputs;
    auto use_input = [&](const Computed& s) {
      if (s.layer == Computed::kGraphInput &&
          std::find(used_inputs.begin(), used_inputs.end(), s.port) == used_inputs.end())
        used_inputs.push_back(s.port);
    };
    for (size_t i : kept)
      for (const auto& s : layers_[i].sources)
        use_input(s);
    for (const auto& [port, c] : outputs)
      use_input(c);
    // The net's inputs in the ONNX graph's order.
    auto position = [&](const std::string& port) {
      return std::find(input_ports_.begin(), input_ports_.end(), port) - input_ports_.begin();
    };
    std::stable_sort(
        used_inputs.begin(), used_inputs.end(),
        [&](const std::string& a, const std::string& b) { return position(a) < position(b); });

    bool chain =
        outputs.size() == 1 && used_inputs.size() == 1 && outputs[0].second.layer == kept.back();
    for (size_t k = 0; chain && k < kept.size(); ++k) {
      const auto& srcs = layers_[kept[k]].sources;
      const size_t expected = k == 0 ? Computed::kGraphInput : kept[k - 1];
      chain = srcs.size() == 1 && srcs[0].layer == expected &&
              (k + 1 == kept.size() || std::count_if(kept.begin(), kept.end(), [&](size_t j) {
                                         for (const auto& s : layers_[j].sources)
                                           if (s.layer == kept[k]) return true;
                                         return false;
                                       }) == 1);
    }
    auto input_shape = [&](const std::string& port) {
      const size_t i = static_cast<size_t>(
          std::find(input_ports_.begin(), input_ports_.end(), port) - input_ports_.begin());
      return std::get<Computed>(values_.at(input_names_.at(i))).shape;
    };
    if (chain && used_inputs[0] == "Input" && outputs[0].first == "Output") {
      std::vector<LayerEntry> entries;
      for (size_t i : kept)
        entries.emplace_back(layers_[i].name, std::move(layers_[i].layer));
      return std::make_unique<NetChain>(std::move(entries), Input{input_shape(used_inputs[0])});
    }
    GraphBuilder b;
    std::vector<size_t> index(layers_.size());
    for (size_t i : kept)
      index[i] = b.add(layers_[i].name, std::move(layers_[i].layer));
    auto endpoint = [&](const Computed& s) {
      return s.layer == Computed::kGraphInput ? GraphBuilder::Endpoint::graph(s.port)
                                              : GraphBuilder::Endpoint(index[s.layer], s.port);
    };
    // The graph's inputs come in the order of their first connection, and a
    // layer's connections bind its inputs in the order given: for each input
    // (in the ONNX graph's order), the first layer reading it is connected up
    // to that input; then the rest.
    std::vector<size_t> next(layers_.size(), 0);  // each layer's next source to connect
    auto connect_until = [&](size_t i, size_t end) {
      for (; next[i] < end; ++next[i])
        b.connect(endpoint(layers_[i].sources[next[i]]), index[i]);
    };
    for (const auto& port : used_inputs) {
      bool done = false;
      for (size_t i : kept) {
        const auto& srcs = layers_[i].sources;
        for (size_t k = 0; !done && k < srcs.size(); ++k)
          if (srcs[k].layer == Computed::kGraphInput && srcs[k].port == port) {
            connect_until(i, k + 1);
            done = true;
          }
        if (done) break;
      }
    }
    for (size_t i : kept)
      connect_until(i, layers_[i].sources.size());
    for (const auto& [port, c] : outputs)
      b.connect(endpoint(c), GraphBuilder::Endpoint::graph(port));
    for (const auto& port : used_inputs)
      b.input_shape(port, input_shape(port));
    return std::make_unique<NetGraph>(std::move(b).finish());
  }

  const onnx::ModelProto& model_;
  std::filesystem::path dir_;
  const OnnxImportOptions& options_;
  std::optional<int> declared_opset_;
  int opset_ = 0;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, int> uses_;
  std::vector<std::string> input_names_, input_ports_;
  std::vector<ImportedLayer> layers_;
  std::vector<SliceOf> slices_;
  std::set<std::string> names_;

 public:
  std::optional<int64_t> static_batch_;
};

// ---- Context

Context::Context(Importer& importer, const onnx::NodeProto& node, int opset)
    : importer_(importer), node_(node), opset_(opset) {}

std::string Context::where() const {
  return "node '" + node_.name() + "' (" + node_.op_type() + ", opset " +
         std::to_string(importer_.declared_opset()) + ")";
}

void Context::fail(const std::string& what) const {
  throw Error(where() + ": " + what);
}

bool Context::has_input(size_t i) const {
  return i < input_count() && !node_.input(static_cast<int>(i)).empty();
}

const Value& Context::input(size_t i) const {
  if (!has_input(i)) fail("input " + std::to_string(i) + " is missing");
  const auto& name = node_.input(static_cast<int>(i));
  const Value* v = importer_.find(name);
  if (!v) fail("input " + std::to_string(i) + " ('" + name + "') is not defined");
  return *v;
}

bool Context::is_constant(size_t i) const {
  return std::holds_alternative<Constant>(input(i));
}

const Constant& Context::constant(size_t i, std::string_view role) const {
  const Value& v = input(i);
  if (!std::holds_alternative<Constant>(v))
    fail("input " + std::to_string(i) + " (" + std::string(role) +
         ") must be a constant (supported: an initializer or a value computed from constants)");
  return std::get<Constant>(v);
}

const Computed& Context::computed(size_t i) const {
  const Value& v = input(i);
  if (!std::holds_alternative<Computed>(v))
    fail("input " + std::to_string(i) + " is a constant (supported: a computed tensor)");
  return std::get<Computed>(v);
}

const onnx::AttributeProto* Context::attr(std::string_view name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) {
      read_.insert(std::string(name));
      return &a;
    }
  return nullptr;
}

bool Context::has_attr(std::string_view name) const {
  return attr(name) != nullptr;
}

void Context::ignore_attr(std::string_view name) const {
  read_.insert(std::string(name));
}

int64_t Context::attr_int(std::string_view name, int64_t fallback) const {
  const auto* a = attr(name);
  return a ? a->i() : fallback;
}

double Context::attr_float(std::string_view name, double fallback) const {
  const auto* a = attr(name);
  return a ? a->f() : fallback;
}

std::string Context::attr_string(std::string_view name, std::string fallback) const {
  const auto* a = attr(name);
  return a ? a->s() : fallback;
}

std::optional<std::vector<int64_t>> Context::attr_ints(std::string_view name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<std::vector<double>> Context::attr_floats(std::string_view name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  return std::vector<double>(a->floats().begin(), a->floats().end());
}

std::vector<std::string> Context::unread_attributes() const {
  std::vector<std::string> out;
  for (const auto& a : node_.attribute())
    if (!read_.count(a.name())) out.push_back(a.name());
  return out;
}

bool Context::output_used(size_t i) const {
  return i < output_count() && !node_.output(static_cast<int>(i)).empty() &&
         importer_.uses(node_.output(static_cast<int>(i))) > 0;
}

void Context::set_output(size_t i, Value value) {
  if (i >= output_count()) fail("has no output " + std::to_string(i));
  importer_.set(node_.output(static_cast<int>(i)), std::move(value));
}

Computed Context::add(std::unique_ptr<Layer> layer, std::vector<Computed> sources) {
  std::string name = node_.name();
  if (name.empty()) name = node_.op_type();
  try {
    return importer_.add_layer(name, std::move(layer), std::move(sources));
  } catch (const Error& e) {
    fail(e.message());
  }
}

Layer* Context::producer(const Computed& value) const {
  return importer_.producer(value);
}

Computed Context::add_slice(SliceOf slice, Shape shape) {
  return importer_.add_slice(std::move(slice), std::move(shape));
}

const SliceOf* Context::slice_of(const Computed& value) const {
  return importer_.slice_of(value);
}

const std::vector<Computed>* Context::producer_sources(const Computed& value) const {
  return importer_.sources(value);
}

int Context::input_uses(size_t i) const {
  return has_input(i) ? importer_.uses(node_.input(static_cast<int>(i))) : 0;
}

void Context::convert_subgraph(const onnx::GraphProto& g) {
  importer_.convert_graph(g);
}

std::optional<int64_t> Context::static_batch() const {
  return importer_.static_batch_;
}

const Value* Context::value(const std::string& name) const {
  return importer_.find(name);
}

// ---- Helpers

bool Constant::all_known() const {
  return std::all_of(tags.begin(), tags.end(), [](uint8_t t) { return t == Known; });
}

Tensor Constant::to_tensor() const {
  std::vector<float> data(values.begin(), values.end());
  return Tensor(dims, std::move(data));
}

Constant Constant::scalar(double v, Type type) {
  return of({}, {v}, type);
}

Constant Constant::of(Dims dims, std::vector<double> values, Type type) {
  Constant c;
  c.type = type;
  c.dims = std::move(dims);
  c.values = std::move(values);
  return c;
}

int64_t normalize_axis(const Context& ctx, int64_t axis, int64_t rank, std::string_view what) {
  if (axis < -rank || axis >= rank)
    ctx.fail(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
             std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

int64_t onnx_rank(const Value& v) {
  if (const auto* c = std::get_if<Constant>(&v)) return static_cast<int64_t>(c->dims.size());
  return static_cast<int64_t>(std::get<Computed>(v).shape.rank()) + 1;
}

std::vector<int64_t> to_ints(const Context& ctx, const Constant& c, std::string_view what) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < c.values.size(); ++i) {
    if (c.tag(i) != Constant::Known)
      ctx.fail(std::string(what) + " depends on the batch size or another size unknown at import");
    const double v = c.values[i];
    // INT64_MAX (PyTorch's Slice end for "to the end") is 2^63 as a double.
    if (v == 0x1p63) {
      out.push_back(std::numeric_limits<int64_t>::max());
      continue;
    }
    if (v != v || v < -0x1p63 || v >= 0x1p63 || v != static_cast<double>(static_cast<int64_t>(v)))
      ctx.fail(std::string(what) + " must hold integers");
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

Dims known_dims(const Context& ctx, const Computed& v, std::string_view what) {
  if (!v.shape.fully_known())
    ctx.fail(std::string(what) + " needs the input's shape, " + v.shape.to_string() +
             " at import (fix it with --input-shape)");
  return v.shape.dims();
}

// onnx's version converter brings opsets 7 to 12 up to 13 (Debian's onnx
// 1.12 converts all but 2 of the 198 backend node tests at those opsets; down
// from 14 and above it fails on about 200 of 925, so those stay as they are).
// Where it fails the model is mapped at its own opset, each converter handling
// the opset differences of its op. Models with external data are left as
// they are (the converter's IR does not carry the locations).
constexpr int kConvertFromOpset = 7, kConvertToOpset = 13;

std::optional<int64_t> declared_opset(const onnx::ModelProto& model) {
  std::optional<int64_t> opset;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  return opset;
}

// Whether the converter may be given the model: it crashes on some
// malformed graphs (a graph output no node computes, for one), so only a
// graph whose nodes are in order, read only names defined before them, are
// of the default domain, have no subgraphs, pass onnx's node checker, and
// define every graph output, with dimensions below 2^31. Anything else is mapped at its own opset,
// where the importer's own checks give the one-line error.
bool safe_to_convert(const onnx::ModelProto& model) {
  const auto& g = model.graph();
  if (g.node_size() == 0) return false;
  std::set<std::string, std::less<>> defined;
  for (const auto& t : g.initializer()) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL) return false;
    defined.insert(t.name());
  }
  // The converter's IR keeps dimensions as 32-bit integers (2^40 comes back
  // as 0).
  auto small_dims = [](const onnx::ValueInfoProto& v) {
    for (const auto& d : v.type().tensor_type().shape().dim())
      if (d.has_dim_value() && (d.dim_value() < 0 || d.dim_value() > (int64_t{1} << 31) - 1))
        return false;
    return true;
  };
  for (const auto& in : g.input()) {
    if (!small_dims(in)) return false;
    defined.insert(in.name());
  }
  for (const auto& v : g.output())
    if (!small_dims(v)) return false;
  for (const auto& v : g.value_info())
    if (!small_dims(v)) return false;
  for (const auto& t : g.initializer())
    for (int64_t d : t.dims())
      if (d < 0 || d > (int64_t{1} << 31) - 1) return false;
  onnx::checker::CheckerContext cc;
  cc.set_ir_version(static_cast<int>(model.ir_version()));
  std::unordered_map<std::string, int> opsets;
  for (const auto& o : model.opset_import())
    opsets[o.domain()] = static_cast<int>(o.version());
  cc.set_opset_imports(opsets);
  onnx::checker::LexicalScopeContext lex;
  for (const auto& n : g.node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") return false;
    for (const auto& a : n.attribute())
      if (a.has_g() || a.graphs_size() > 0) return false;
    for (const auto& in : n.input())
      if (!in.empty() && !defined.count(in)) return false;
    try {
      onnx::checker::check_node(n, cc, lex);
    } catch (const std::exception&) {
      return false;
    }
    for (const auto& out : n.output())
      if (!out.empty()) defined.insert(out);
  }
  for (const auto& o : g.output())
    if (!defined.count(o.name())) return false;
  return true;
}

std::optional<onnx::ModelProto> upgraded(const onnx::ModelProto& model) {
  const auto opset = declared_opset(model);
  if (!opset || *opset < kConvertFromOpset || *opset >= kConvertToOpset) return std::nullopt;
  if (!safe_to_convert(model)) return std::nullopt;
  try {
    return onnx::version_conversion::ConvertVersion(model, kConvertToOpset);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::unique_ptr<Layer> import_model(const onnx::ModelProto& model, const std::string& source,
                                    const std::filesystem::path& dir,
                                    const OnnxImportOptions& options) {
  try {
    if (const auto up = upgraded(model)) {
      Importer importer(*up, dir, options, static_cast<int>(*declared_opset(model)));
      return importer.run();
    }
    Importer importer(model, dir, options);
    return importer.run();
  } catch (Error& e) {
    throw e.add_context(source);
  }
}

onnx::ModelProto parse_model(std::span<const uint8_t> bytes, const std::string& source) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(source + ": over 2 GiB (protobuf's limit; keep the weights as external data)");
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(static_cast<int>(bytes.size()));
  if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    throw Error(source + ": not an ONNX model (malformed or truncated protobuf)");
  if (!model.has_graph()) throw Error(source + ": not an ONNX model (no graph)");
  return model;
}

}  // namespace onnx_io

bool is_onnx_file(const std::filesystem::path& path) {
  return path.extension() == ".onnx";
}

std::unique_ptr<Layer> import_onnx_bytes(std::span<const uint8_t> bytes, const std::string& source,
                                         const std::filesystem::path& model_dir,
                                         const OnnxImportOptions& options) {
  const auto model = onnx_io::parse_model(bytes, source);
  return onnx_io::import_model(model, source, model_dir, options);
}

std::unique_ptr<Layer> import_onnx(const std::filesystem::path& path,
                                   const OnnxImportOptions& options) {
  const std::string source = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw Error(source + ": no such file");
  if (!std::filesystem::is_regular_file(status)) throw Error(source + ": not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(source + ": cannot read the file");
  if (static_cast<int64_t>(size) > options.max_file_bytes)
    throw Error(source + ": " + std::to_string(size) + " bytes, over the limit of " +
                std::to_string(options.max_file_bytes) + " (keep the weights as external data)");
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(size);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    throw Error(source + ": cannot read the file");
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  return import_onnx_bytes(bytes, source, dir, options);
}

}  // namespace strata
