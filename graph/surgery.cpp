#include "graph/surgery.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_graph.hpp"
#include "layers/registry.hpp"

namespace strata {

namespace {

// One layer of the net being made: rebuilt without arrays (so that its shapes
// are inferred afresh), and the arrays to give it back.
struct Part {
  std::string name;  // empty: named by its position
  std::unique_ptr<Layer> layer;
  std::vector<std::pair<std::string, Tensor>> arrays;
  std::vector<char> keep;  // per array: still to be given back
  std::string must_fit;    // an array that must fit (NetReplacePart's)
};

Part make_part(std::string name, const Layer& layer) {
  Part p{std::move(name), nullptr, {}, {}, {}};
  if (dynamic_cast<const Net*>(&layer)) {
    p.layer = layer.clone();  // nested nets stay as they are
    return p;
  }
  p.layer = make_layer(layer.type());
  const nlohmann::json options = layer.options();
  for (const auto& [key, value] : options.items())
    p.layer->set_option(key, value);
  for (const auto& slot : layer.arrays())
    if (slot.value) p.arrays.emplace_back(slot.name, *slot.value);
  p.keep.assign(p.arrays.size(), 1);
  return p;
}

// The parts of a net, unnamed layers (named by their position) unnamed again.
std::vector<Part> parts_of(const Net& net) {
  std::vector<Part> parts;
  for (size_t i = 0; i < net.size(); ++i) {
    const std::string& name = net.layer_name(i);
    parts.push_back(make_part(name == std::to_string(i + 1) ? "" : name, net.layer(i)));
  }
  return parts;
}

std::vector<LayerEntry> entries(const std::vector<Part>& parts) {
  std::vector<LayerEntry> out;
  for (const auto& p : parts)
    out.emplace_back(p.name, p.layer->clone());
  return out;
}

// Builds with `make`, then gives the arrays back one by one; an array that
// does not fit is dropped with a note and the net built again without it (a
// failed inference may have left shapes half-merged).
template <typename Make>
auto assemble(std::vector<Part> parts, Make make, SurgeryNotes* notes) {
  for (;;) {
    auto net = make(entries(parts));
    bool again = false;
    for (size_t i = 0; i < parts.size() && !again; ++i)
      for (size_t a = 0; a < parts[i].arrays.size() && !again; ++a) {
        if (!parts[i].keep[a]) continue;
        const auto& [array, value] = parts[i].arrays[a];
        const std::string path = net->layer_name(i) + "/" + array;
        try {
          net->layer(i).set_array(array, value);
          net->infer_shapes();
        } catch (Error& e) {
          if (parts[i].must_fit == array) throw e.add_context(path);
          if (notes)
            notes->push_back(path + ": " + to_string(value.shape()) + " no longer fits (" +
                             e.message() + "); made Automatic");
          parts[i].keep[a] = 0;
          again = true;
        }
      }
    if (!again) return net;
  }
}

NetChain chain_of(std::vector<Part> parts, const Shape& input, SurgeryNotes* notes) {
  if (parts.empty()) throw Error("the result would have no layers");
  auto net = assemble(
      std::move(parts),
      [&](std::vector<LayerEntry> e) {
        return std::make_unique<NetChain>(std::move(e), Input{input});
      },
      notes);
  return std::move(*net);
}

std::unique_ptr<Layer> rebuild(const Net& net, std::vector<Part> parts, SurgeryNotes* notes) {
  if (const auto* graph = dynamic_cast<const NetGraph*>(&net)) {
    PortShapes inputs, outputs;
    for (const auto& p : graph->inputs())
      inputs.emplace_back(p.name, p.shape);
    for (const auto& p : graph->outputs())
      outputs.emplace_back(p.name, p.shape);
    auto made = assemble(
        std::move(parts),
        [&](std::vector<LayerEntry> e) {
          return std::make_unique<NetGraph>(std::move(e), graph->connections(), inputs, outputs);
        },
        notes);
    return made;
  }
  if (dynamic_cast<const NetChain*>(&net))
    return std::make_unique<NetChain>(chain_of(std::move(parts), net.inputs()[0].shape, notes));
  throw Error("a " + net.type() + " has no layers to replace");
}

// The old net's class labels on the new one, while its Output still has one
// class per label; otherwise they are dropped, with a note.
void carry_labels(const Layer& old, Layer& made, SurgeryNotes* notes) {
  const auto* from = dynamic_cast<const Net*>(&old);
  auto* to = dynamic_cast<Net*>(&made);
  if (!from || !to || from->class_labels().empty()) return;
  try {
    to->set_class_labels(from->class_labels());
  } catch (const Error& e) {
    if (notes) notes->push_back(e.message() + "; dropped the labels");
  }
}

// A 1-based position, negative from the end, as an index; `what` names it.
size_t index_of(int64_t position, size_t size, const std::string& what) {
  const auto n = static_cast<int64_t>(size);
  const int64_t k = position < 0 ? n + position : position - 1;
  if (position == 0 || k < 0 || k >= n)
    throw Error(what + " " + std::to_string(position) + " is out of range: the chain has " +
                std::to_string(n) + " layers (positions 1.." + std::to_string(n) + " or -" +
                std::to_string(n) + "..-1)");
  return static_cast<size_t>(k);
}

const Net& as_net(const Layer& layer, std::string_view path) {
  const auto* net = dynamic_cast<const Net*>(&layer);
  if (!net)
    throw Error("\"" + std::string(path) + "\": a " + layer.type() + " has no layers inside");
  return *net;
}

// The index of the layer a path's first part names: a name, else a position.
size_t find_layer(const Net& net, const std::string& part) {
  for (size_t i = 0; i < net.size(); ++i)
    if (net.layer_name(i) == part) return i;
  if (!part.empty() && part.size() < 10 &&
      part.find_first_not_of("0123456789") == std::string::npos) {
    const size_t k = std::stoul(part);
    if (k >= 1 && k <= net.size()) return k - 1;
  }
  return net.layer_index(part);  // throws, listing the names
}

std::pair<std::string, std::string> head_and_rest(std::string_view path) {
  const size_t slash = path.find('/');
  if (path.empty() || slash == 0)
    throw Error("path \"" + std::string(path) + "\" has an empty part");
  if (slash == std::string_view::npos) return {std::string(path), ""};
  return {std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

}  // namespace

NetChain NetTake(const NetChain& net, int64_t start, int64_t end, SurgeryNotes* notes) {
  const size_t a = index_of(start, net.size(), "NetTake: start");
  const size_t b = index_of(end, net.size(), "NetTake: end");
  if (a > b)
    throw Error("NetTake: start " + std::to_string(start) + " comes after end " +
                std::to_string(end));
  std::vector<Part> all = parts_of(net), parts;
  for (size_t i = a; i <= b; ++i)
    parts.push_back(std::move(all[i]));
  NetChain made = chain_of(std::move(parts), net.layer(a).inputs()[0].shape, notes);
  carry_labels(net, made, notes);
  return made;
}

NetChain NetDrop(const NetChain& net, int64_t n, SurgeryNotes* notes) {
  const auto size = static_cast<int64_t>(net.size());
  if (n == 0) return NetTake(net, 1, size, notes);
  if (n >= size || -n >= size)
    throw Error("NetDrop: dropping " + std::to_string(n < 0 ? -n : n) + " of the chain's " +
                std::to_string(size) + " layers would leave none");
  return n > 0 ? NetTake(net, n + 1, size, notes) : NetTake(net, 1, size + n, notes);
}

NetChain NetAppend(const NetChain& net, std::vector<LayerEntry> layers, SurgeryNotes* notes) {
  std::vector<Part> parts = parts_of(net);
  NetChain added(std::move(layers));  // names and checks the new layers
  for (size_t i = 0; i < added.size(); ++i) {
    const std::string& name = added.layer_name(i);
    parts.push_back(make_part(name == std::to_string(i + 1) ? "" : name, added.layer(i)));
  }
  NetChain made = chain_of(std::move(parts), net.inputs()[0].shape, notes);
  carry_labels(net, made, notes);
  return made;
}

NetChain NetPrepend(const NetChain& net, std::vector<LayerEntry> layers, SurgeryNotes* notes) {
  std::vector<Part> parts;
  NetChain added(std::move(layers));
  for (size_t i = 0; i < added.size(); ++i) {
    const std::string& name = added.layer_name(i);
    parts.push_back(make_part(name == std::to_string(i + 1) ? "" : name, added.layer(i)));
  }
  for (auto& p : parts_of(net))
    parts.push_back(std::move(p));
  NetChain made = chain_of(std::move(parts), added.inputs()[0].shape, notes);
  carry_labels(net, made, notes);
  return made;
}

std::unique_ptr<Layer> NetReplacePart(const Layer& layer, std::string_view path,
                                      const Layer& replacement, SurgeryNotes* notes) {
  const Net& net = as_net(layer, path);
  const auto [head, rest] = head_and_rest(path);
  const size_t k = find_layer(net, head);
  std::vector<Part> parts = parts_of(net);
  const std::string name = parts[k].name;
  if (rest.empty()) {
    parts[k] = make_part(name, replacement);
  } else {
    parts[k] = make_part(name, *NetReplacePart(net.layer(k), rest, replacement, notes));
  }
  try {
    auto made = rebuild(net, std::move(parts), notes);
    carry_labels(net, *made, notes);
    return made;
  } catch (Error& e) {
    throw e.add_context("NetReplacePart \"" + std::string(path) + "\"");
  }
}

std::unique_ptr<Layer> NetReplacePart(const Layer& layer, std::string_view path, Tensor value,
                                      SurgeryNotes* notes) {
  const Net& net = as_net(layer, path);
  const auto [head, rest] = head_and_rest(path);
  if (rest.empty()) throw Error("\"" + std::string(path) + "\" is a layer, not an array");
  const size_t k = find_layer(net, head);
  std::vector<Part> parts = parts_of(net);
  if (dynamic_cast<const Net*>(&net.layer(k))) {
    parts[k] =
        make_part(parts[k].name, *NetReplacePart(net.layer(k), rest, std::move(value), notes));
  } else {
    Part& p = parts[k];
    p.layer->array_index(rest);  // throws, listing the arrays there are
    bool found = false;
    for (size_t a = 0; a < p.arrays.size(); ++a)
      if (p.arrays[a].first == rest) {
        p.arrays[a].second = std::move(value);
        found = true;
      }
    if (!found) {
      p.arrays.emplace_back(rest, std::move(value));
      p.keep.push_back(1);
    }
    p.must_fit = rest;
  }
  try {
    auto made = rebuild(net, std::move(parts), notes);
    carry_labels(net, *made, notes);
    return made;
  } catch (Error& e) {
    throw e.add_context("NetReplacePart \"" + std::string(path) + "\"");
  }
}

std::unique_ptr<Layer> NetSetOption(const Layer& net, std::string_view path,
                                    const nlohmann::json& value, SurgeryNotes* notes) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos)
    throw Error("\"" + std::string(path) + "\": expected LAYER/OPTION, as \"l1/Size\"");
  const std::string_view where = path.substr(0, slash);
  const std::string key(path.substr(slash + 1));
  if (net_path_kind(net, path) != NetPathKind::Option)
    throw Error("\"" + std::string(path) + "\" is not an option");
  auto changed = NetExtractLayer(net, where).clone();
  try {
    changed->set_option(key, value);
  } catch (Error& e) {
    throw e.add_context(std::string(where));
  }
  return NetReplacePart(net, where, *changed, notes);
}

NetChain NetSetOption(const NetChain& net, std::string_view path, const nlohmann::json& value,
                      SurgeryNotes* notes) {
  auto made = NetSetOption(static_cast<const Layer&>(net), path, value, notes);
  return std::move(dynamic_cast<NetChain&>(*made));
}

}  // namespace strata
