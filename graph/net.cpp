#include "graph/net.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/registry.hpp"

namespace strata {

namespace {

struct NetWorkspace : Workspace {
  std::vector<std::unique_ptr<Workspace>> children;
  std::vector<std::vector<Tensor>> values;   // per node, per output port
  std::vector<std::vector<Tensor>> grads;    // gradients of those values
  std::vector<std::vector<Tensor>> scratch;  // per node, per input port: gradients to add
  bool forward_done = false;
  // Kept here so that a step allocates nothing once warm.
  std::vector<std::vector<char>> filled;  // per node, per output: gradient received
  std::vector<char> in_filled;            // per net input: gradient received
  std::vector<char> needed;               // per node: its backward has work to do
  std::vector<const Tensor*> args, outs, gouts;
  std::vector<Tensor*> results, gins;
};

// Does a batch of shape `d` hold examples of `shape`? (fits() without
// building the example's Dims.)
bool fits_batch(const Dims& d, const Shape& shape) {
  if (d.empty()) return false;
  if (!shape.rank_known()) return true;
  if (shape.rank() != d.size() - 1) return false;
  for (size_t i = 0; i < shape.rank(); ++i)
    if (shape.dim_known(i) && shape[i] != d[i + 1]) return false;
  return true;
}

void add_into(Tensor& acc, const Tensor& g) {
  if (acc.shape() != g.shape()) throw Error("internal: gradient shapes differ");
  acc.vec() += g.vec();
}

// Names for a message, the first few of them: a net may have a million.
std::string some_names(const std::vector<const std::string*>& names) {
  constexpr size_t kShown = 20;
  std::string s;
  for (size_t i = 0; i < names.size() && i < kShown; ++i)
    s += (s.empty() ? "" : ", ") + *names[i];
  if (names.size() > kShown) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s;
}

// A copy of a layer that knows only what its type, options and arrays say,
// none of the shapes that connections told it; null for a nested net.
std::unique_ptr<Layer> standalone(const Layer& layer) {
  if (dynamic_cast<const Net*>(&layer)) return nullptr;
  try {
    auto fresh = make_layer(layer.type());
    if (layer.variadic_inputs()) fresh->set_input_count(layer.inputs().size());
    const nlohmann::json options = layer.options();
    for (const auto& [key, value] : options.items())
      fresh->set_option(key, value);
    for (const auto& slot : layer.arrays())
      if (slot.value) fresh->set_array(slot.name, *slot.value);
    return fresh;
  } catch (const Error&) {
    return nullptr;
  }
}

// What output q of `layer` is on its own, given only the ranks of its
// inputs; unknown when that cannot be told.
Shape standalone_output(const Layer& layer, size_t q) {
  auto fresh = standalone(layer);
  if (!fresh) return {};
  try {
    for (size_t i = 0; i < layer.inputs().size(); ++i)
      if (layer.inputs()[i].shape.rank_known())
        fresh->constrain_input(i, Shape::of_rank(layer.inputs()[i].shape.rank()));
    fresh->infer_shapes();
  } catch (const Error&) {
    return {};
  }
  return fresh->outputs()[q].shape;
}

// What `layer` on its own expects of its input p, of rank `rank`.
Shape standalone_input(const Layer& layer, size_t p, size_t rank) {
  auto fresh = standalone(layer);
  if (!fresh) return {};
  try {
    fresh->constrain_input(p, Shape::of_rank(rank));
    fresh->infer_shapes();
  } catch (const Error&) {
    return {};
  }
  return fresh->inputs()[p].shape;
}

}  // namespace

std::string Net::blame_connection(size_t k) const {
  // One connection between two layers, checked with each end on its own.
  auto check = [&](size_t from, size_t port, size_t to, size_t to_port) -> std::string {
    const Layer& a = *nodes_[from].layer;
    const Layer& b = *nodes_[to].layer;
    const Shape& at = b.inputs()[to_port].shape;
    if (!at.rank_known()) return {};
    const Shape gives = standalone_output(a, port);
    const Shape expects = standalone_input(b, to_port, at.rank());
    if (merge(gives, expects)) return {};
    return nodes_[to].name + "." + b.inputs()[to_port].name + " expects " + expects.to_string() +
           ", but " + nodes_[from].name + "." + a.outputs()[port].name + " gives " +
           gives.to_string();
  };
  for (size_t m : consumers_[k])
    for (size_t p = 0; p < nodes_[m].sources.size(); ++p)
      if (nodes_[m].sources[p].node == k)
        if (auto blame = check(k, nodes_[m].sources[p].port, m, p); !blame.empty()) return blame;
  for (size_t p = 0; p < nodes_[k].sources.size(); ++p) {
    const Source& s = nodes_[k].sources[p];
    if (s.node == kNetPort) continue;
    if (auto blame = check(s.node, s.port, k, p); !blame.empty()) return blame;
  }
  return {};
}

Net::Net(std::vector<Port> inputs, std::vector<Port> outputs)
    : Layer(std::move(inputs), std::move(outputs)) {}

Net::Net(const Net& other)
    : Layer(other),
      output_sources_(other.output_sources_),
      order_(other.order_),
      by_name_(other.by_name_),
      consumers_(other.consumers_),
      uses_(other.uses_),
      input_uses_(other.input_uses_),
      array_offset_(other.array_offset_),
      class_labels_(other.class_labels_) {
  for (const auto& n : other.nodes_)
    nodes_.push_back({n.name, n.layer->clone(), n.sources});
}

Net& Net::operator=(const Net& other) {
  if (this == &other) return *this;
  std::vector<Node> nodes;  // cloned first: a throwing clone leaves *this as it was
  nodes.reserve(other.nodes_.size());
  for (const auto& n : other.nodes_)
    nodes.push_back({n.name, n.layer->clone(), n.sources});
  Layer::operator=(other);
  nodes_ = std::move(nodes);
  output_sources_ = other.output_sources_;
  order_ = other.order_;
  by_name_ = other.by_name_;
  consumers_ = other.consumers_;
  uses_ = other.uses_;
  input_uses_ = other.input_uses_;
  array_offset_ = other.array_offset_;
  class_labels_ = other.class_labels_;
  return *this;
}

void Net::set_layers(std::vector<LayerEntry> layers) {
  std::set<std::string> seen;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string name = layers[i].name().empty() ? std::to_string(i + 1) : layers[i].name();
    if (name.find_first_of("/.#") != std::string::npos)
      throw Error("layer name \"" + name + "\" may not contain '/', '.' or '#'");
    if (!seen.insert(name).second) throw Error("two layers are named \"" + name + "\"");
    auto layer = layers[i].release();
    if (!layer) throw Error("layer " + name + " is empty");
    nodes_.push_back({name, std::move(layer), {}});
  }
  by_name_.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i)
    by_name_[i] = i;
  std::sort(by_name_.begin(), by_name_.end(),
            [&](size_t a, size_t b) { return nodes_[a].name < nodes_[b].name; });
}

size_t Net::layer_index(std::string_view name) const {
  const auto it =
      std::lower_bound(by_name_.begin(), by_name_.end(), name,
                       [&](size_t k, std::string_view n) { return nodes_[k].name < n; });
  if (it != by_name_.end() && nodes_[*it].name == name) return *it;
  std::vector<const std::string*> names;
  for (const auto& n : nodes_)
    names.push_back(&n.name);
  throw Error("no layer named \"" + std::string(name) + "\" (there are: " + some_names(names) +
              ")");
}

const std::vector<size_t>& Net::consumers(size_t i) const {
  return consumers_.at(i);
}

std::string Net::describe_source(const Source& s) const {
  if (s.node == kNetPort) return "#" + inputs_[s.port].name;
  return nodes_[s.node].name + "." + nodes_[s.node].layer->outputs()[s.port].name;
}

const Shape& Net::source_shape(const Source& s) const {
  if (s.node == kNetPort) return inputs_[s.port].shape;
  return nodes_[s.node].layer->outputs()[s.port].shape;
}

void Net::finish(std::vector<Source> output_sources) {
  output_sources_ = std::move(output_sources);
  // Every input port of every layer has a source; count the readers.
  uses_.assign(nodes_.size(), {});
  input_uses_.assign(inputs_.size(), 0);
  for (size_t k = 0; k < nodes_.size(); ++k)
    uses_[k].assign(nodes_[k].layer->outputs().size(), 0);
  auto count = [&](const Source& s) {
    if (s.node == kNetPort) {
      ++input_uses_.at(s.port);
    } else {
      ++uses_.at(s.node).at(s.port);
    }
  };
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const auto& ports = nodes_[k].layer->inputs();
    if (nodes_[k].sources.size() != ports.size())
      throw Error(nodes_[k].name + ": " + std::to_string(ports.size()) + " inputs but " +
                  std::to_string(nodes_[k].sources.size()) + " connections");
    for (const auto& s : nodes_[k].sources)
      count(s);
  }
  for (const auto& s : output_sources_)
    count(s);
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (input_uses_[i] == 0) throw Error("#" + inputs_[i].name + " is not connected to any layer");
  for (size_t k = 0; k < nodes_.size(); ++k)
    for (size_t j = 0; j < uses_[k].size(); ++j)
      if (uses_[k][j] == 0)
        throw Error(nodes_[k].name + "." + nodes_[k].layer->outputs()[j].name +
                    " is not connected to anything");

  // Who reads each layer, each reader once, in index order.
  consumers_.assign(nodes_.size(), {});
  for (size_t k = 0; k < nodes_.size(); ++k)
    for (const auto& s : nodes_[k].sources)
      if (s.node != kNetPort && (consumers_[s.node].empty() || consumers_[s.node].back() != k))
        consumers_[s.node].push_back(k);

  // Topological order (Kahn's algorithm, lowest index first: a chain keeps
  // its order), in O(n log n) so that a net of a million layers loads.
  std::vector<size_t> pending(nodes_.size(), 0);  // sources not yet ordered
  for (size_t k = 0; k < nodes_.size(); ++k)
    for (const auto& s : nodes_[k].sources)
      if (s.node != kNetPort) ++pending[k];
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t k = 0; k < nodes_.size(); ++k)
    if (pending[k] == 0) ready.push(k);
  order_.clear();
  while (!ready.empty()) {
    const size_t next = ready.top();
    ready.pop();
    order_.push_back(next);
    for (size_t k : consumers_[next])
      for (const auto& s : nodes_[k].sources)
        if (s.node == next && --pending[k] == 0) ready.push(k);
  }
  if (order_.size() < nodes_.size()) {
    std::vector<const std::string*> cycle;
    for (size_t k = 0; k < nodes_.size(); ++k)
      if (pending[k] > 0) cycle.push_back(&nodes_[k].name);
    throw Error("the connections form a cycle through: " + some_names(cycle));
  }

  array_offset_.clear();
  size_t offset = 0;
  for (const auto& n : nodes_) {
    array_offset_.push_back(offset);
    offset += n.layer->all_arrays().size();
  }
  array_offset_.push_back(offset);
  infer_shapes();
}

bool Net::link(const Source& from, Shape& to_shape, size_t to_node, size_t to_port) {
  const Shape& from_shape = source_shape(from);
  auto merged = merge(from_shape, to_shape);
  if (!merged)
    throw Error((to_node == kNetPort
                     ? "#" + outputs_[to_port].name
                     : nodes_[to_node].name + "." + nodes_[to_node].layer->inputs()[to_port].name) +
                " expects " + to_shape.to_string() + ", but " + describe_source(from) + " gives " +
                from_shape.to_string());
  const bool changed = !(*merged == from_shape);
  if (from.node == kNetPort) {
    inputs_[from.port].shape = *merged;
  } else {
    nodes_[from.node].layer->constrain_output(from.port, *merged);
  }
  to_shape = *merged;
  return changed;
}

void Net::infer() {
  // Shapes flow along connections both ways until nothing changes. A layer
  // is inferred again only when a connection told it something new: with
  // nets in nets, inferring every layer every time would take time
  // exponential in the depth of nesting, and a million-layer chain would
  // take minutes.
  std::vector<char> stale(nodes_.size(), 0);
  auto infer_layer = [&](size_t k) {
    Node& n = nodes_[k];
    stale[k] = 0;
    try {
      return n.layer->infer_shapes();
    } catch (Error& e) {
      // The conflict came with the connected shapes. When two connected
      // layers disagree on their own, blame that connection, whichever way
      // the shapes flowed to reveal it (from a declared Input or back from
      // a later layer); else say where the shapes came from.
      if (const std::string blame = blame_connection(k); !blame.empty()) throw Error(blame);
      std::string from;
      for (size_t p = 0; p < n.sources.size(); ++p)
        from += std::string(from.empty() ? "" : "; ") + n.name + "." + n.layer->inputs()[p].name +
                " is " + n.layer->inputs()[p].shape.to_string() + " from " +
                describe_source(n.sources[p]);
      throw Error(std::string(e.what()) + " (" + from + ")").add_context(n.layer->describe(n.name));
    }
  };
  // Links input p of layer k to its source; marks whichever end learnt something.
  auto link_input = [&](size_t k, size_t p) {
    Node& n = nodes_[k];
    Shape shape = n.layer->inputs()[p].shape;
    bool changed = link(n.sources[p], shape, k, p);
    if (changed && n.sources[p].node != kNetPort) stale[n.sources[p].node] = 1;
    if (n.layer->constrain_input(p, shape)) {
      stale[k] = 1;
      changed = true;
    }
    return changed;
  };

  // Each layer first learns what its own arrays and options say, so that a
  // conflict is then reported on the connection, naming both ends.
  for (size_t k : order_) {
    try {
      nodes_[k].layer->infer_shapes();
    } catch (Error& e) {
      throw e.add_context(nodes_[k].layer->describe(nodes_[k].name));
    }
  }
  for (int round = 0; round < 1000; ++round) {
    bool changed = false;
    // Forward, in execution order: shapes flow from the inputs to the outputs.
    for (size_t k : order_) {
      for (size_t p = 0; p < nodes_[k].sources.size(); ++p)
        changed |= link_input(k, p);
      if (stale[k]) changed |= infer_layer(k);
    }
    for (size_t i = 0; i < output_sources_.size(); ++i) {
      const Shape before = outputs_[i].shape;
      if (link(output_sources_[i], outputs_[i].shape, kNetPort, i)) {
        changed = true;
        if (output_sources_[i].node != kNetPort) stale[output_sources_[i].node] = 1;
      }
      changed |= !(before == outputs_[i].shape);
    }
    // Backward: what the outputs and later layers say flows to earlier ones.
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      const size_t k = *it;
      if (!stale[k]) continue;
      changed |= infer_layer(k);
      for (size_t p = 0; p < nodes_[k].sources.size(); ++p)
        changed |= link_input(k, p);
    }
    if (!changed) break;
  }
  check_class_labels(class_labels_);
}

void Net::set_class_labels(std::vector<std::string> labels) {
  check_class_labels(labels);
  class_labels_ = std::move(labels);
}

void Net::check_class_labels(const std::vector<std::string>& labels) const {
  if (labels.empty()) return;
  if (outputs_.size() != 1)
    throw Error("ClassLabels: the net has " + std::to_string(outputs_.size()) +
                " outputs; class labels need a net with one");
  std::set<std::string_view> seen;
  for (const auto& label : labels) {
    if (label.empty()) throw Error("ClassLabels: a label is empty");
    if (!seen.insert(label).second) throw Error("ClassLabels: \"" + label + "\" is there twice");
  }
  const Shape& out = outputs_[0].shape;
  const auto count = static_cast<int64_t>(labels.size());
  const std::string have = std::to_string(count) + (count == 1 ? " label" : " labels");
  if (out.rank_known() && out.rank() != 1)
    throw Error("ClassLabels: " + have + ", but the net's Output " + out.to_string() +
                " is not a vector of class probabilities");
  if (out.fully_known() && out.num_elements() != count)
    throw Error("ClassLabels: " + have + ", but the net's Output " + out.to_string() + " has " +
                std::to_string(out.num_elements()) + " classes (one label per class)");
}

std::vector<std::pair<std::string, Layer*>> Net::children() {
  std::vector<std::pair<std::string, Layer*>> out;
  for (auto& n : nodes_)
    out.emplace_back(n.name, n.layer.get());
  return out;
}

std::vector<ArrayRef> Net::all_arrays() {
  std::vector<ArrayRef> refs;
  for (auto& n : nodes_)
    for (auto& ref : n.layer->all_arrays()) {
      ref.path = n.name + "/" + ref.path;
      refs.push_back(std::move(ref));
    }
  return refs;
}

std::unique_ptr<Workspace> Net::make_workspace() const {
  auto ws = std::make_unique<NetWorkspace>();
  for (const auto& n : nodes_) {
    ws->children.push_back(n.layer->make_workspace());
    ws->values.emplace_back(n.layer->outputs().size());
    ws->grads.emplace_back(n.layer->outputs().size());
    ws->scratch.emplace_back(n.layer->inputs().size());
    ws->filled.emplace_back(n.layer->outputs().size(), 0);
  }
  ws->in_filled.assign(inputs_.size(), 0);
  ws->needed.assign(nodes_.size(), 0);
  return ws;
}

void Net::forward(Inputs in, Outputs out, Workspace* ws_base, const RunContext& ctx) const {
  auto* ws = static_cast<NetWorkspace*>(ws_base);
  std::unique_ptr<Workspace> own;
  if (!ws) {
    own = make_workspace();
    ws = static_cast<NetWorkspace*>(own.get());
  }
  if (in.size() != inputs_.size())
    throw Error("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                std::to_string(in.size()));
  int64_t batch = -1;
  for (size_t i = 0; i < in.size(); ++i) {
    const Dims& d = in[i]->shape();
    if (!fits_batch(d, inputs_[i].shape))
      throw Error(inputs_[i].name + ": expected a batch of " + inputs_[i].shape.to_string() +
                  ", got " + to_string(d));
    if (batch >= 0 && d[0] != batch)
      throw Error(inputs_[i].name + ": batch of " + std::to_string(d[0]) +
                  " but other inputs have " + std::to_string(batch));
    batch = d[0];
  }
  auto& args = ws->args;
  auto& results = ws->results;
  for (size_t k : order_) {
    const Node& n = nodes_[k];
    for (const auto& slot : n.layer->arrays())
      if (!slot.value)
        throw Error(n.name + "/" + slot.name + " is not initialized (call NetInitialize first)");
    args.clear();
    results.clear();
    for (const auto& s : n.sources)
      args.push_back(s.node == kNetPort ? in[s.port] : &ws->values[s.node][s.port]);
    for (auto& t : ws->values[k])
      results.push_back(&t);
    try {
      n.layer->forward(args, results, ws->children[k].get(), ctx);
    } catch (Error& e) {
      throw e.add_context(n.layer->describe(n.name));
    }
  }
  for (size_t i = 0; i < output_sources_.size(); ++i) {
    const Source& s = output_sources_[i];
    *out[i] = s.node == kNetPort ? *in[s.port] : ws->values[s.node][s.port];
  }
  ws->forward_done = true;
}

void Net::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws_base, Outputs in_grad,
                   Outputs array_grad) const {
  auto* ws = static_cast<NetWorkspace*>(ws_base);
  if (!ws || !ws->forward_done) throw Error("backward called without a forward");
  // Gradients of values read more than once are summed; a value read once
  // receives its gradient directly, by a swap of buffers (no copy).
  for (auto& f : ws->filled)
    std::fill(f.begin(), f.end(), 0);
  std::fill(ws->in_filled.begin(), ws->in_filled.end(), 0);
  // `own` is g itself when its buffer may be taken.
  auto deliver = [&](const Source& s, const Tensor& g, Tensor* own) {
    Tensor* target = s.node != kNetPort        ? &ws->grads[s.node][s.port]
                     : s.port < in_grad.size() ? in_grad[s.port]
                                               : nullptr;
    if (!target) return;
    char& flag = s.node == kNetPort ? ws->in_filled[s.port] : ws->filled[s.node][s.port];
    if (flag) {
      add_into(*target, g);
    } else if (own) {
      std::swap(*target, *own);
      flag = 1;
    } else {
      *target = g;
      flag = 1;
    }
  };
  // A layer's backward is needed when a gradient of one of its arrays is
  // wanted, or a layer before it (or a net input) wants one: with frozen
  // layers (null array gradients) at the start of a chain, their backward
  // and the input gradients feeding it are skipped altogether.
  auto array_grads = [&](size_t k) {
    const size_t count = array_offset_[k + 1] - array_offset_[k];
    return array_grad.size() >= array_offset_[k] + count
               ? array_grad.subspan(array_offset_[k], count)
               : Outputs{};
  };
  auto source_wants = [&](const Source& s) {
    return s.node != kNetPort ? ws->needed[s.node] != 0
                              : s.port < in_grad.size() && in_grad[s.port] != nullptr;
  };
  for (size_t k : order_) {
    bool needed = false;
    for (const Tensor* g : array_grads(k))
      needed |= g != nullptr;
    for (const auto& s : nodes_[k].sources)
      needed |= source_wants(s);
    ws->needed[k] = needed;
  }
  for (size_t i = 0; i < output_sources_.size(); ++i)
    deliver(output_sources_[i], *out_grad[i], nullptr);

  auto& args = ws->args;
  auto& outs = ws->outs;
  auto& gouts = ws->gouts;
  auto& gins = ws->gins;
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    const size_t k = *it;
    if (!ws->needed[k]) continue;
    const Node& n = nodes_[k];
    args.clear();
    outs.clear();
    gouts.clear();
    gins.clear();
    for (const auto& s : n.sources)
      args.push_back(s.node == kNetPort ? in[s.port] : &ws->values[s.node][s.port]);
    for (size_t j = 0; j < uses_[k].size(); ++j) {
      outs.push_back(&ws->values[k][j]);
      if (!ws->filled[k][j]) {
        // No reader produced a gradient (for instance a net input's gradient
        // was not wanted): it is zero.
        ws->grads[k][j].resize(ws->values[k][j].shape());
        ws->grads[k][j].fill(0.0f);
      }
      gouts.push_back(&ws->grads[k][j]);
    }
    for (size_t p = 0; p < n.sources.size(); ++p) {
      gins.push_back(source_wants(n.sources[p]) ? &ws->scratch[k][p] : nullptr);
    }
    const Outputs sub = array_grads(k);
    try {
      n.layer->backward(args, outs, gouts, ws->children[k].get(), gins, sub);
    } catch (Error& e) {
      throw e.add_context(n.layer->describe(n.name));
    }
    for (size_t p = 0; p < n.sources.size(); ++p)
      if (gins[p]) deliver(n.sources[p], *gins[p], gins[p]);
  }
  for (size_t i = 0; i < inputs_.size() && i < in_grad.size(); ++i)
    if (in_grad[i] && !ws->in_filled[i]) {
      in_grad[i]->resize(in[i]->shape());
      in_grad[i]->fill(0.0f);
    }
}

void Net::update_state(Workspace* ws_base) {
  auto* ws = static_cast<NetWorkspace*>(ws_base);
  for (size_t k = 0; k < nodes_.size(); ++k)
    nodes_[k].layer->update_state(ws->children[k].get());
}

}  // namespace strata
