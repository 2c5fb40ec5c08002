#include "graph/extract.hpp"

#include <optional>

#include "core/error.hpp"

namespace strata {

namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    parts.emplace_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (parts.back().empty()) throw Error("path \"" + std::string(path) + "\" has an empty part");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// What exists directly in a layer: its child layers, arrays and options.
std::string listing(const Layer& layer) {
  std::string s;
  auto add = [&](const std::string& what) { s += (s.empty() ? "" : ", ") + what; };
  for (const auto& [name, child] : layer.children())
    add(name);
  for (const auto& a : layer.arrays())
    add(a.name);
  const auto options = layer.options();
  for (const auto& [key, value] : options.items())
    add(key);
  for (const auto& port : layer.inputs())
    add(port.name);
  for (const auto& port : layer.outputs())
    add(port.name);
  return s.empty() ? "nothing" : s;
}

using Kind = NetPathKind;

struct Found {
  Kind kind;
  Layer* layer;      // the layer itself, or the one holding the array/option
  std::string name;  // the array or option name
};

Found resolve(Layer& net, std::string_view path) {
  const auto parts = split(path);
  Layer* current = &net;
  std::string where = net.type();
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    bool found = false;
    const auto children = current->children();
    for (auto& [name, child] : children)
      if (name == part) {
        current = child;
        found = true;
        break;
      }
    // A position, when no layer has that name.
    if (!found && !part.empty() && part.size() < 10 &&
        part.find_first_not_of("0123456789") == std::string::npos) {
      const size_t k = std::stoul(part);
      if (k >= 1 && k <= children.size()) {
        current = children[k - 1].second;
        found = true;
      }
    }
    if (found) {
      where += "/" + part;
      continue;
    }
    std::optional<Kind> kind;
    for (const auto& a : current->arrays())
      if (a.name == part) kind = Kind::Array;
    if (!kind && current->options().contains(part)) kind = Kind::Option;
    for (const auto& port : current->inputs())
      if (!kind && port.name == part) kind = Kind::Port;
    for (const auto& port : current->outputs())
      if (!kind && port.name == part) kind = Kind::Port;
    if (kind && last) return {*kind, current, part};
    // A path goes through layers only: nothing is taken from an array (no
    // indexing), an option or a port.
    if (kind) {
      const char* what = *kind == Kind::Array    ? "an array"
                         : *kind == Kind::Option ? "an option"
                                                 : "a port";
      std::string prefix;
      for (size_t j = 0; j <= i; ++j)
        prefix += (j ? "/" : "") + parts[j];
      throw Error("\"" + prefix + "\" is " + what + "; \"" + parts[i + 1] +
                  "\" cannot be taken from it (a path ends at an array, option or port)");
    }
    throw Error("no \"" + part + "\" in " + where + " (it has: " + listing(*current) + ")");
  }
  return {Kind::Layer, current, {}};
}

}  // namespace

NetPathKind net_path_kind(const Layer& net, std::string_view path) {
  return resolve(const_cast<Layer&>(net), path).kind;
}

Tensor NetExtract(const Layer& net, std::string_view path) {
  const Found f = resolve(const_cast<Layer&>(net), path);
  if (f.kind == Kind::Layer)
    throw Error("\"" + std::string(path) + "\" is a layer; use NetExtractLayer");
  if (f.kind == Kind::Option)
    throw Error("\"" + std::string(path) + "\" is an option; use NetExtractOption");
  if (f.kind == Kind::Port)
    throw Error("\"" + std::string(path) + "\" is a port; use NetExtractPortShape");
  const Tensor* t = f.layer->array(f.name);
  if (!t) throw Error(std::string(path) + " is not initialized (call NetInitialize first)");
  return *t;
}

const Layer& NetExtractLayer(const Layer& net, std::string_view path) {
  const Found f = resolve(const_cast<Layer&>(net), path);
  if (f.kind != Kind::Layer) throw Error("\"" + std::string(path) + "\" is not a layer");
  return *f.layer;
}

nlohmann::json NetExtractOption(const Layer& net, std::string_view path) {
  const Found f = resolve(const_cast<Layer&>(net), path);
  if (f.kind != Kind::Option) throw Error("\"" + std::string(path) + "\" is not an option");
  return f.layer->options()[f.name];
}

Shape NetExtractPortShape(const Layer& net, std::string_view path) {
  const Found f = resolve(const_cast<Layer&>(net), path);
  if (f.kind != Kind::Port) throw Error("\"" + std::string(path) + "\" is not a port");
  for (const auto& port : f.layer->inputs())
    if (port.name == f.name) return port.shape;
  return f.layer->outputs()[f.layer->output_index(f.name)].shape;
}

std::vector<std::pair<std::string, Tensor>> NetExtractArrays(const Layer& net) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& ref : net.all_arrays())
    if (const auto& v = ref.layer->arrays()[ref.index].value) out.emplace_back(ref.path, *v);
  return out;
}

void NetReplaceArray(Layer& net, std::string_view path, Tensor value) {
  const Found f = resolve(net, path);
  if (f.kind != Kind::Array) throw Error("\"" + std::string(path) + "\" is not an array");
  try {
    f.layer->set_array(f.name, std::move(value));
  } catch (Error& e) {
    throw e.add_context(std::string(path));
  }
  net.infer_shapes();
}

}  // namespace strata
