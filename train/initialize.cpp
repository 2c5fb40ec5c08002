#include "train/initialize.hpp"

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <vector>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/rng.hpp"
#include "graph/net.hpp"

namespace strata {

namespace {

// FNV-1a: a stable hash of an array's path, to derive its random stream.
uint64_t path_hash(const std::string& path) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : path)
    h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Whether every reader of layer k's output is a rectifier, looking through
// layers that declare themselves transparent to it (normalization, pooling).
bool followed_by_ramp(const Net& net, size_t k, int depth = 0) {
  if (depth > 8) return false;
  const auto readers = net.consumers(k);
  if (readers.empty()) return false;
  for (size_t r : readers) {
    const LayerTraits t = net.layer(r).traits();
    if (t.rectifier) continue;
    if (t.transparent_to_activation && followed_by_ramp(net, r, depth + 1)) continue;
    return false;
  }
  return true;
}

// For every layer with Weights: whether Kaiming fits it (Automatic method).
// A set, looked up once per array: a list made init quadratic in the layers.
void collect_ramp_layers(Layer& layer, std::unordered_set<const Layer*>& out) {
  if (auto* net = dynamic_cast<Net*>(&layer)) {
    for (size_t k = 0; k < net->size(); ++k) {
      if (followed_by_ramp(*net, k)) out.insert(&net->layer(k));
      collect_ramp_layers(net->layer(k), out);
    }
  }
}

// "hidden/Weights [1000000000, 4] (LinearLayer)"
std::string array_text(const ArrayRef& ref, const ArraySlot& slot) {
  return ref.path + " " + slot.shape.to_string() + " (" + ref.layer->type() + ")";
}

// Before any array is made: each, and all together, must fit in the memory
// this process can have, or the one line says which array is too large.
void check_memory(const std::vector<ArrayRef>& todo) {
  uint64_t total = 0, largest_bytes = 0;
  const ArrayRef* largest = nullptr;
  for (const ArrayRef& ref : todo) {
    const ArraySlot& slot = ref.layer->arrays()[ref.index];
    const uint64_t bytes = static_cast<uint64_t>(slot.shape.num_elements()) * sizeof(float);
    check_allocation(bytes, "cannot initialize " + array_text(ref, slot) + ": it");
    total += bytes;
    if (bytes > largest_bytes) {
      largest_bytes = bytes;
      largest = &ref;
    }
  }
  if (largest && total > largest_bytes)
    check_allocation(total, "cannot initialize the net's " + std::to_string(todo.size()) +
                                " arrays: the largest is " +
                                array_text(*largest, largest->layer->arrays()[largest->index]) +
                                " of " + bytes_text(largest_bytes) + ", and together they");
}

}  // namespace

InitMethod parse_init_method(const std::string& name) {
  if (name == "Automatic") return InitMethod::Automatic;
  if (name == "Kaiming") return InitMethod::Kaiming;
  if (name == "Xavier") return InitMethod::Xavier;
  if (name == "Random") return InitMethod::Random;
  throw Error("unknown initialization method \"" + name +
              "\" (methods: Automatic, Kaiming, Xavier, Random)");
}

std::string to_string(InitMethod method) {
  switch (method) {
    case InitMethod::Automatic:
      return "Automatic";
    case InitMethod::Kaiming:
      return "Kaiming";
    case InitMethod::Xavier:
      return "Xavier";
    case InitMethod::Random:
      return "Random";
  }
  return "?";
}

void NetInitialize(Layer& net, const InitOptions& options) {
  if (options.method == InitMethod::Random && !(options.scale > 0))
    throw Error("Random initialization needs a positive scale");
  std::unordered_set<const Layer*> ramp_layers;
  collect_ramp_layers(net, ramp_layers);
  std::vector<ArrayRef> todo;
  for (const ArrayRef& ref : net.all_arrays()) {
    const ArraySlot& slot = ref.layer->arrays()[ref.index];
    if (slot.value && !options.reinitialize_all) continue;
    if (!slot.shape.fully_known())
      throw Error("cannot initialize " + ref.path + ": its shape " + slot.shape.to_string() +
                  " is not known (declare the net's Input shape)");
    todo.push_back(ref);
  }
  check_memory(todo);
  const Rng root(options.seed);
  for (const ArrayRef& ref : todo) {
    const ArraySlot& slot = ref.layer->arrays()[ref.index];
    Tensor value(slot.shape.dims());
    if (slot.init.kind == Initializer::Kind::Weights) {
      const auto [fan_in, fan_out] = slot.init.fan_in_out(value.shape());
      InitMethod method = options.method;
      if (method == InitMethod::Automatic)
        method = ramp_layers.count(ref.layer) ? InitMethod::Kaiming : InitMethod::Xavier;
      const double stddev = method == InitMethod::Kaiming  ? std::sqrt(2.0 / fan_in)
                            : method == InitMethod::Xavier ? std::sqrt(2.0 / (fan_in + fan_out))
                                                           : options.scale;
      Rng rng = root.derive(path_hash(ref.path));
      for (float& v : value.values())
        v = static_cast<float>(stddev * rng.normal());
    } else {
      value.fill(static_cast<float>(slot.init.value));
    }
    ref.layer->set_array(slot.name, std::move(value));
  }
  net.infer_shapes();
}

}  // namespace strata
