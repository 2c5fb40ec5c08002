#include "serialization/net_json.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "graph/net_graph.hpp"
#include "layers/registry.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/json_document.hpp"
#include "serialization/tensor_json.hpp"

namespace strata {

namespace {

using nlohmann::json;

// Nesting deeper than this is refused rather than recursed into.
constexpr int kMaxDepth = 64;

std::string kind_of(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

Shape shape_from_json(const json& j, const std::string& where) {
  if (!j.is_array()) throw Error(where + ": expected a shape (a list of sizes), got " + kind_of(j));
  Dims dims;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& d = j[i];
    if (d.is_null()) {
      dims.push_back(kUnknownDim);
    } else if (d.is_number_integer() && d.get<int64_t>() > 0 &&
               d.get<int64_t>() <= (int64_t{1} << 31)) {
      dims.push_back(d.get<int64_t>());
    } else {
      throw Error(where + "[" + std::to_string(i) +
                  "]: expected a positive size or null (a size is at most 2147483648), got " +
                  d.dump());
    }
  }
  Dims known;
  for (int64_t d : dims)
    if (d != kUnknownDim) known.push_back(d);
  try {
    checked_num_elements(known);
  } catch (const Error& e) {
    throw Error(where + ": " + e.message());
  }
  return Shape(dims);
}

json shape_to_json(const Shape& s) {
  json j = json::array();
  for (int64_t d : s.dims())
    j.push_back(d == kUnknownDim ? json(nullptr) : json(d));
  return j;
}

std::string text_of(const json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key)) throw Error(where + ": missing \"" + key + "\"");
  if (!j[key].is_string())
    throw Error(where + "." + key + ": expected a string, got " + kind_of(j[key]));
  return j[key].get<std::string>();
}

void check_keys(const json& j, const std::set<std::string>& allowed, const std::string& where,
                const std::string& what) {
  for (const auto& [key, value] : j.items())
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& k : allowed)
        list += (list.empty() ? "" : ", ") + k;
      throw Error(where + ": unknown key \"" + key + "\" for " + what + " (keys: " + list + ")");
    }
}

std::string describe(const std::string& where, const json& j) {
  return j.contains("name") && j["name"].is_string()
             ? where + " (" + j["name"].get<std::string>() + ")"
             : where;
}

std::unique_ptr<Layer> layer_from_json(const json& j, const std::string& where, int depth,
                                       const std::set<std::string>& extra_keys = {});

// "ClassLabels": ["cat", "dog", …], set on a net that was just built.
std::unique_ptr<Layer> with_class_labels(std::unique_ptr<Net> net, const json& j,
                                         const std::string& prefix) {
  if (!j.contains("ClassLabels")) return net;
  const json& list = j["ClassLabels"];
  const std::string at = prefix + "ClassLabels";
  if (!list.is_array()) throw Error(at + ": expected a list of strings, got " + kind_of(list));
  std::vector<std::string> labels;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string())
      throw Error(at + "[" + std::to_string(i) + "]: expected a string, got " + kind_of(list[i]));
    labels.push_back(list[i].get<std::string>());
  }
  if (labels.empty()) throw Error(at + ": an empty list (leave the key out for no labels)");
  try {
    net->set_class_labels(std::move(labels));
  } catch (Error& e) {
    // The message starts with "ClassLabels:"; give its whole JSON path.
    throw Error(prefix + e.message());
  }
  return net;
}

std::vector<LayerEntry> layers_from_json(const json& j, const std::string& where, int depth) {
  if (!j.contains("layers")) throw Error(where + ": missing \"layers\"");
  const json& list = j["layers"];
  if (!list.is_array()) throw Error(where + ".layers: expected a list, got " + kind_of(list));
  std::vector<LayerEntry> entries;
  const std::string base = where.empty() ? "layers" : where + ".layers";
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = base + "[" + std::to_string(i) + "]";
    auto layer = layer_from_json(list[i], at, depth + 1);
    std::string name = list[i].contains("name") ? text_of(list[i], "name", at) : "";
    if (list[i].contains("name") && name.empty()) throw Error(at + ".name: must not be empty");
    entries.emplace_back(std::move(name), std::move(layer));
  }
  return entries;
}

PortShapes ports_from_json(const json& j, const char* one, const char* many,
                           const std::string& where) {
  PortShapes ports;
  if (j.contains(one)) ports.emplace_back(one, shape_from_json(j[one], where + "." + one));
  if (j.contains(many)) {
    if (!j[many].is_object())
      throw Error(where + "." + many + ": expected an object of port shapes, got " +
                  kind_of(j[many]));
    for (const auto& [name, shape] : j[many].items())
      ports.emplace_back(name, shape_from_json(shape, where + "." + many + "." + name));
  }
  return ports;
}

std::unique_ptr<Layer> layer_from_json(const json& j, const std::string& where, int depth,
                                       const std::set<std::string>& extra_keys) {
  const std::string at = where.empty() ? "net" : where;
  if (depth > kMaxDepth)
    throw Error(at + ": nets nested more than " + std::to_string(kMaxDepth) + " deep");
  if (!j.is_object()) throw Error(at + ": expected a layer object, got " + kind_of(j));
  const std::string type = text_of(j, "type", at);
  const std::string ctx = describe(at, j);
  const std::string prefix = where.empty() ? "" : where + ".";

  if (type == "NetChain") {
    std::set<std::string> allowed = {"type", "name", "layers", "Input", "Output", "ClassLabels"};
    allowed.insert(extra_keys.begin(), extra_keys.end());
    check_keys(j, allowed, ctx, "NetChain");
    Input input{j.contains("Input") ? shape_from_json(j["Input"], prefix + "Input") : Shape()};
    Output output{j.contains("Output") ? shape_from_json(j["Output"], prefix + "Output") : Shape()};
    auto entries = layers_from_json(j, where, depth);
    try {
      return with_class_labels(std::make_unique<NetChain>(std::move(entries), input, output), j,
                               prefix);
    } catch (Error& e) {
      throw e.add_context(where.empty() ? "" : ctx);
    }
  }
  if (type == "NetGraph") {
    std::set<std::string> allowed = {"type",   "name",   "layers",  "connections", "Input",
                                     "Inputs", "Output", "Outputs", "ClassLabels"};
    allowed.insert(extra_keys.begin(), extra_keys.end());
    check_keys(j, allowed, ctx, "NetGraph");
    auto entries = layers_from_json(j, where, depth);
    if (!j.contains("connections")) throw Error(ctx + ": missing \"connections\"");
    const json& cj = j["connections"];
    if (!cj.is_array()) throw Error(prefix + "connections: expected a list");
    std::vector<Connection> connections;
    for (size_t i = 0; i < cj.size(); ++i) {
      const json& c = cj[i];
      if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_string())
        throw Error(prefix + "connections[" + std::to_string(i) +
                    "]: expected [source, destination], two strings, got " + c.dump());
      connections.push_back({c[0].get<std::string>(), c[1].get<std::string>()});
    }
    PortShapes inputs = ports_from_json(j, "Input", "Inputs", at);
    PortShapes outputs = ports_from_json(j, "Output", "Outputs", at);
    try {
      return with_class_labels(
          std::make_unique<NetGraph>(std::move(entries), connections, inputs, outputs), j, prefix);
    } catch (Error& e) {
      throw e.add_context(where.empty() ? "" : ctx);
    }
  }

  if (j.contains("ClassLabels"))
    throw Error((where.empty() ? "" : ctx + ": ") + prefix +
                "ClassLabels: only a NetChain or NetGraph carries class " + "labels (put the " +
                type + " in a NetChain)");
  std::unique_ptr<Layer> layer;
  try {
    layer = make_layer(type);
  } catch (Error& e) {
    throw Error(prefix + "type: " + e.message());
  }
  std::set<std::string> arrays;
  for (const auto& a : layer->arrays())
    arrays.insert(a.name);
  const std::vector<std::string> option_keys = layer->option_keys();
  auto is_option = [&](const std::string& key) {
    return std::find(option_keys.begin(), option_keys.end(), key) != option_keys.end();
  };
  // Options first (they decide which arrays exist and their shapes), then arrays.
  // A key that names both an option and an array (ConvolutionLayer's Biases)
  // is the option when its value is not a tensor object; a key that names
  // only an array is the array, however it is written (so that "Biases": [1,
  // 2, 3] is a wrongly written array, not an unknown option).
  auto is_array = [&](const std::string& key, const json& value) {
    return arrays.count(key) && (value.is_object() || !is_option(key));
  };
  // The JSON path of a key of this layer, its name said once:
  // "layers[0] (conv1).KernelSize".
  auto at_key = [&](const std::string& key) { return where.empty() ? key : ctx + "." + key; };
  for (const auto& [key, value] : j.items()) {
    if (key == "type" || key == "name" || key == "Input" || key == "Output" ||
        extra_keys.count(key) || is_array(key, value))
      continue;
    try {
      layer->set_option(key, value);
    } catch (Error& e) {
      // An option's own message starts with its key: that becomes the path.
      throw e.add_context(e.message().rfind(key + ":", 0) == 0 ? at_key(key) : ctx);
    }
  }
  try {
    if (j.contains("Input"))
      layer->constrain_input(0, shape_from_json(j["Input"], at_key("Input")));
    if (j.contains("Output"))
      layer->constrain_output(0, shape_from_json(j["Output"], at_key("Output")));
    layer->infer_shapes();
  } catch (Error& e) {
    throw e.add_context(!where.empty() && e.message().rfind(at_key(""), 0) == 0 ? "" : ctx);
  }
  for (const auto& a : layer->arrays()) {
    const std::string name = a.name;
    if (!j.contains(name) || !is_array(name, j[name])) continue;
    // Options may have removed the array (Biases: false) — then it is unknown.
    Tensor value = tensor_from_json(j[name], at_key(name));
    try {
      layer->set_array(name, std::move(value));
    } catch (Error& e) {
      throw e.add_context(at_key(name));
    }
  }
  for (const auto& key : arrays)
    if (j.contains(key) && is_array(key, j[key])) {
      bool still = false;
      for (const auto& a : layer->arrays())
        still |= a.name == key;
      if (!still) throw Error(at_key(key) + ": this layer has no such array with these options");
    }
  return layer;
}

json layer_to_json(const Layer& layer, const std::string& name, bool include_defaults) {
  json j;
  j["type"] = layer.type();
  if (!name.empty()) j["name"] = name;
  if (const auto* net = dynamic_cast<const Net*>(&layer)) {
    const auto* as_graph = dynamic_cast<const NetGraph*>(net);
    const bool graph = as_graph != nullptr;
    if (layer.inputs().size() == 1 && layer.inputs()[0].name == "Input") {
      if (layer.inputs()[0].shape.rank_known()) j["Input"] = shape_to_json(layer.inputs()[0].shape);
    } else {
      json ports = json::object();
      for (const auto& p : layer.inputs())
        if (p.shape.rank_known()) ports[p.name] = shape_to_json(p.shape);
      if (!ports.empty()) j["Inputs"] = ports;
    }
    json layers = json::array();
    for (size_t k = 0; k < net->size(); ++k) {
      // Chain layers named by their position need no name.
      const bool positional = !graph && net->layer_name(k) == std::to_string(k + 1);
      layers.push_back(
          layer_to_json(net->layer(k), positional ? "" : net->layer_name(k), include_defaults));
    }
    j["layers"] = layers;
    if (graph) {
      json connections = json::array();
      for (const auto& c : as_graph->connections())
        connections.push_back({c.from, c.to});
      j["connections"] = connections;
    }
    if (!net->class_labels().empty()) j["ClassLabels"] = net->class_labels();
    return j;
  }
  const json defaults = make_layer(layer.type())->options();
  const json options = layer.options();
  for (const auto& [key, value] : options.items())
    if (include_defaults || !defaults.contains(key) || defaults[key] != value) j[key] = value;
  for (const auto& a : layer.arrays())
    if (a.value) j[a.name] = tensor_to_json(*a.value, a.name);
  return j;
}

}  // namespace

std::unique_ptr<Layer> net_from_json(const json& document) {
  if (!document.is_object()) throw Error("expected a net object, got " + kind_of(document));
  if (!document.contains("format") || document["format"] != "strata-net")
    throw Error("not a strata net: expected \"format\": \"strata-net\"");
  if (!document.contains("version")) throw Error("missing \"version\"");
  const json& v = document["version"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1)
    throw Error("version: expected a positive integer, got " + v.dump());
  if (v.get<int64_t>() > kNetFormatVersion)
    throw Error("version " + v.dump() + " is newer than this strata reads (" +
                std::to_string(kNetFormatVersion) + "); upgrade strata");
  return layer_from_json(document, "", 0, {"format", "version"});
}

std::unique_ptr<Layer> parse_net(std::string_view text, std::string_view source) {
  try {
    return net_from_json(parse_json_document(text));
  } catch (Error& e) {
    throw e.add_context(std::string(source));
  }
}

json net_to_json(const Layer& net, bool include_defaults) {
  json j;
  j["format"] = "strata-net";
  j["version"] = kNetFormatVersion;
  json body = layer_to_json(net, "", include_defaults);
  if (!dynamic_cast<const Net*>(&net) && net.inputs().size() == 1 &&
      net.inputs()[0].shape.rank_known())
    body["Input"] = shape_to_json(net.inputs()[0].shape);
  j.update(body);
  return j;
}

std::unique_ptr<Layer> load_net(const std::filesystem::path& path) {
  return parse_net(read_file(path), path.string());
}

void save_net(const std::filesystem::path& path, const Layer& net) {
  write_file_atomically(path, net_to_json(net).dump(1) + "\n");
}

}  // namespace strata
