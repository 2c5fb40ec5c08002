#include "layers/layer.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names)
    s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

template <typename T>
size_t index_by_name(const std::vector<T>& items, std::string_view name, const char* what) {
  std::vector<std::string> names;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return i;
    names.push_back(items[i].name);
  }
  throw Error("no " + std::string(what) + " named \"" + std::string(name) +
              "\" (there are: " + join(names) + ")");
}

// Refuses a shape too large for a tensor as soon as it is known, so that the
// layers' arithmetic on dimensions (products, window sizes) cannot overflow.
void check_size(const Shape& shape, const std::string& name) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.rank(); ++i) {
    const int64_t d = shape[i];
    if (d == kUnknownDim || d == 0) continue;
    if (d < 0 || d > kMaxElements / n)
      throw Error(name + ": shape " + shape.to_string() + " has more than " +
                  std::to_string(kMaxElements) + " elements");
    n *= d;
  }
}

bool constrain(Shape& target, const Shape& shape, const std::string& name, std::string_view why) {
  auto merged = merge(target, shape);
  if (!merged) {
    std::string msg = name + ": expected " + shape.to_string();
    if (!why.empty()) msg += " (" + std::string(why) + ")";
    throw Error(msg + ", but it is " + target.to_string());
  }
  check_size(*merged, name);
  if (*merged == target) return false;
  target = std::move(*merged);
  return true;
}

}  // namespace

std::pair<double, double> Initializer::fan_in_out(const Dims& d) const {
  int64_t n = 1;
  for (int64_t v : d)
    n *= v;
  // [a, b, k…]: each fan is one of the leading dimensions times the kernel.
  const double receptive = d.size() > 2 ? static_cast<double>(n) / (d[0] * d[1]) : 1;
  const double first = d.empty() ? 1 : d[0];
  const double second = d.size() > 1 ? d[1] : 1;
  return fans == Fans::OutIn ? std::pair{second * receptive, first * receptive}
                             : std::pair{first * receptive, second * receptive};
}

Layer::Layer(std::vector<Port> inputs, std::vector<Port> outputs, std::vector<ArraySlot> arrays)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)), arrays_(std::move(arrays)) {
  for (const auto& p : outputs_)
    declared_outputs_.push_back(p.shape);
  for (const auto& a : arrays_)
    declared_arrays_.emplace_back(a.name, a.shape);
}

void Layer::forget_inferred_shapes() {
  for (size_t i = 0; i < outputs_.size() && i < declared_outputs_.size(); ++i)
    outputs_[i].shape = declared_outputs_[i];
  for (auto& a : arrays_) {
    if (a.value) {
      a.shape = Shape(a.value->shape());
      continue;
    }
    for (const auto& [name, shape] : declared_arrays_)
      if (name == a.name) a.shape = shape;
  }
}

size_t Layer::input_index(std::string_view name) const {
  return index_by_name(inputs_, name, "input port");
}
size_t Layer::output_index(std::string_view name) const {
  return index_by_name(outputs_, name, "output port");
}
size_t Layer::array_index(std::string_view name) const {
  return index_by_name(arrays_, name, "array");
}

bool Layer::constrain_input(size_t i, const Shape& shape, std::string_view why) {
  return constrain(inputs_.at(i).shape, shape, inputs_[i].name, why);
}
bool Layer::constrain_output(size_t i, const Shape& shape, std::string_view why) {
  return constrain(outputs_.at(i).shape, shape, outputs_[i].name, why);
}
bool Layer::constrain_array(size_t i, const Shape& shape, std::string_view why) {
  return constrain(arrays_.at(i).shape, shape, arrays_[i].name, why);
}

Layer& Layer::input(const Shape& shape) {
  try {
    if (inputs_.size() != 1)
      throw Error("input(): this layer has " + std::to_string(inputs_.size()) +
                  " input ports; constrain them by name with constrain_input");
    constrain_input(0, shape, "declared");
    infer_shapes();
  } catch (Error& e) {
    throw e.add_context(describe());
  }
  return *this;
}

void Layer::set_input_count(size_t /*n*/) {
  throw Error(type() + " takes a fixed number of inputs (" + std::to_string(inputs_.size()) + ")");
}

void Layer::check_array_dims(size_t i, const Dims& dims) const {
  const ArraySlot& slot = arrays_.at(i);
  if (!fits(dims, slot.shape))
    throw Error(slot.name + ": expected shape " + slot.shape.to_string() + ", got " +
                to_string(dims));
}

const Tensor* Layer::array(std::string_view name) const {
  const auto& slot = arrays_[array_index(name)];
  return slot.value ? &*slot.value : nullptr;
}

void Layer::set_array(std::string_view name, Tensor value) {
  const size_t i = array_index(name);
  ArraySlot& slot = arrays_[i];
  check_array_dims(i, value.shape());
  for (float v : value.values())
    if (!std::isfinite(v)) throw Error(slot.name + ": contains NaN or infinity");
  check_array_values(i, value);
  slot.shape = Shape(value.shape());
  slot.value = std::move(value);
  infer_shapes();
}

void Layer::clear_array(std::string_view name) {
  arrays_[array_index(name)].value.reset();
}

std::vector<std::string> Layer::missing_arrays() const {
  std::vector<std::string> names;
  for (const auto& ref : all_arrays())
    if (!ref.layer->arrays()[ref.index].value) names.push_back(ref.path);
  return names;
}

std::vector<ArrayRef> Layer::all_arrays() {
  std::vector<ArrayRef> refs;
  for (size_t i = 0; i < arrays_.size(); ++i)
    refs.push_back({arrays_[i].name, this, i});
  return refs;
}

const OptionDecl* OptionTable::find(std::string_view key) const {
  for (const auto& d : entries_)
    if (d.key == key) return &d;
  return nullptr;
}

std::vector<std::string> OptionTable::keys() const {
  std::vector<std::string> k;
  for (const auto& d : entries_)
    k.push_back(d.key);
  return k;
}

const OptionTable& Layer::option_table() const {
  static const OptionTable none;
  return none;
}

nlohmann::json Layer::options() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& d : option_table().entries())
    if (!d.shown || d.shown(*this)) j[d.key] = d.get(*this);
  return j;
}

std::vector<std::string> Layer::option_keys() const {
  return option_table().keys();
}

void Layer::set_option(const std::string& key, const nlohmann::json& value) {
  const OptionDecl* d = option_table().find(key);
  if (!d) throw_unknown_option(*this, key, option_table().keys());
  d->set(*this, value);
  if (d->affects == Affects::Shapes) forget_inferred_shapes();
}

void Layer::assign_declared(std::string_view key, std::any value) {
  const OptionDecl* d = option_table().find(key);
  if (!d) throw Error("internal: " + type() + " declares no option " + std::string(key));
  try {
    d->assign(*this, std::move(value));
  } catch (const std::bad_any_cast&) {
    throw Error("internal: " + type() + "." + std::string(key) + " set with the wrong C++ type");
  }
  if (d->affects == Affects::Shapes) forget_inferred_shapes();
}

bool Layer::infer_shapes() {
  bool changed_any = false;
  // Each round only adds knowledge, so this ends; the bound is a safeguard.
  for (int round = 0; round < 16; ++round) {
    auto before_in = inputs_;
    auto before_out = outputs_;
    std::vector<Shape> before_arrays;
    for (const auto& a : arrays_)
      before_arrays.push_back(a.shape);
    infer();
    bool changed = false;
    for (size_t i = 0; i < inputs_.size(); ++i)
      changed |= !(inputs_[i].shape == before_in[i].shape);
    for (size_t i = 0; i < outputs_.size(); ++i)
      changed |= !(outputs_[i].shape == before_out[i].shape);
    for (size_t i = 0; i < arrays_.size(); ++i)
      changed |= !(arrays_[i].shape == before_arrays[i]);
    if (!changed) break;
    changed_any = true;
  }
  return changed_any;
}

bool Layer::shapes_known() const {
  for (const auto& p : inputs_)
    if (!p.shape.fully_known()) return false;
  for (const auto& p : outputs_)
    if (!p.shape.fully_known()) return false;
  for (const auto& a : arrays_)
    if (!a.shape.fully_known()) return false;
  return true;
}

std::vector<std::pair<std::string, const Layer*>> Layer::children() const {
  std::vector<std::pair<std::string, const Layer*>> out;
  for (auto& [name, layer] : const_cast<Layer*>(this)->children())
    out.emplace_back(name, layer);
  return out;
}

std::string Layer::describe(std::string_view name) const {
  return name.empty() ? type() : std::string(name) + " (" + type() + ")";
}

Tensor Layer::operator()(const Tensor& x) const {
  try {
    if (inputs_.size() != 1 || outputs_.size() != 1)
      throw Error("applying a layer to one tensor needs one input and one output port; this has " +
                  std::to_string(inputs_.size()) + " and " + std::to_string(outputs_.size()));
    if (auto missing = missing_arrays(); !missing.empty())
      throw Error("arrays not initialized: " + join(missing) + " (call NetInitialize first)");
    const Shape& port = inputs_[0].shape;
    if (!port.rank_known())
      throw Error("Input shape unknown: cannot tell one example from a batch");
    bool single = x.rank() == port.rank();
    if (!single && x.rank() != port.rank() + 1)
      throw Error("Input: expected an example of shape " + port.to_string() +
                  " or a batch of them, got " + to_string(x.shape()));
    Dims example(x.shape().begin() + (single ? 0 : 1), x.shape().end());
    if (!fits(example, port))
      throw Error("Input: expected " + port.to_string() + ", got " + to_string(example));
    Tensor batch = x;
    if (single) {
      Dims b{1};
      b.insert(b.end(), x.shape().begin(), x.shape().end());
      batch = x.reshaped(b);
    }
    Tensor y;
    const Tensor* in[] = {&batch};
    Tensor* out[] = {&y};
    auto ws = make_workspace();
    forward(in, out, ws.get(), RunContext{});
    if (single) y = y.reshaped(Dims(y.shape().begin() + 1, y.shape().end()));
    return y;
  } catch (Error& e) {
    throw e.add_context(describe());
  }
}

std::vector<Tensor> Layer::operator()(const std::vector<Tensor>& examples) const {
  std::vector<Tensor> out;
  out.reserve(examples.size());
  for (const auto& x : examples)
    out.push_back((*this)(x));
  return out;
}

double option_number(const nlohmann::json& value, const std::string& key) {
  if (!value.is_number()) throw Error(key + ": expected a number, got " + value.dump());
  const double v = value.get<double>();
  if (!std::isfinite(v)) throw Error(key + ": expected a finite number");
  return v;
}

int64_t option_integer(const nlohmann::json& value, const std::string& key, int64_t min) {
  if (!value.is_number_integer() &&
      !(value.is_number_float() && value.get<double>() == std::floor(value.get<double>())))
    throw Error(key + ": expected an integer, got " + value.dump());
  const double d = value.get<double>();
  if (d < static_cast<double>(min))
    throw Error(key + ": expected an integer of at least " + std::to_string(min) + ", got " +
                value.dump());
  // Far beyond any real size, and small enough that sums and products of two
  // sizes cannot overflow.
  constexpr int64_t kMax = int64_t{1} << 31;
  if (d > static_cast<double>(kMax))
    throw Error(key + ": expected an integer of at most " + std::to_string(kMax) + ", got " +
                value.dump());
  return static_cast<int64_t>(d);
}

bool option_bool(const nlohmann::json& value, const std::string& key) {
  if (!value.is_boolean()) throw Error(key + ": expected true or false, got " + value.dump());
  return value.get<bool>();
}

std::string option_string(const nlohmann::json& value, const std::string& key) {
  if (!value.is_string()) throw Error(key + ": expected a string, got " + value.dump());
  return value.get<std::string>();
}

int64_t Integer::read(const nlohmann::json& value, const std::string& key) const {
  const int64_t v = option_integer(value, key, min);
  check(v, key);
  return v;
}

void Integer::check(int64_t value, const std::string& key) const {
  if (value < min)
    throw Error(key + ": expected " +
                (expected.empty() ? "an integer of at least " + std::to_string(min) : expected) +
                ", got " + std::to_string(value));
  if (value > max)
    throw Error(key + ": expected an integer of at most " + std::to_string(max) + ", got " +
                std::to_string(value));
}

double Number::read(const nlohmann::json& value, const std::string& key) const {
  const double v = option_number(value, key);
  check(v, key);
  return v;
}

void Number::check(double value, const std::string& key) const {
  if (!std::isfinite(value) || !valid(value)) {
    // The shortest text that reads back as the same double: -1e-09, not
    // std::to_string's "-0.000000".
    char text[32];
    const auto end = std::to_chars(text, text + sizeof(text), value).ptr;
    throw Error(key + ": expected " + expected + ", got " + std::string(text, end));
  }
}

bool Boolean::read(const nlohmann::json& value, const std::string& key) const {
  return option_bool(value, key);
}

void throw_unknown_option(const Layer& layer, const std::string& key,
                          const std::vector<std::string>& known) {
  throw Error("unknown option \"" + key + "\" for " + layer.type() + " (options: " + join(known) +
              ")");
}

}  // namespace strata
