// Options declared once. A layer type lists its options in one table: the
// net-file key, the C++ member (or accessor pair) that holds the value, the
// kind of value (what JSON it reads, how it is checked, how it is written) and
// whether a change forgets the shapes inferred so far. From that table come
// Layer::options(), Layer::set_option(), the list of known keys in the
// "unknown option" message, and the checks of the C++ setters:
//
//   const OptionTable& DropoutLayer::option_table() const {
//     static const OptionTable table = OptionsOf<DropoutLayer>().add(
//         "DropoutProbability", &DropoutLayer::probability_,
//         Number{[](double p) { return p >= 0 && p < 1; }, "a number in [0, 1)"},
//         Affects::Nothing);
//     return table;
//   }
//   DropoutLayer& DropoutLayer::dropout_probability(double p) {
//     return assign_option(*this, "DropoutProbability", p);
//   }
//
// This header is for layer sources (it includes nlohmann/json.hpp); layer
// headers only name OptionTable.
#pragma once

#include <any>
#include <cmath>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "layers/layer.hpp"
#include "layers/spatial.hpp"

namespace strata {

// Whether changing an option invalidates inferred output and array shapes.
enum class Affects { Shapes, Nothing };

// ---- Kinds of values. Each has:
//   T read(const json&, key)          parses and checks (Error prefixed "key: ")
//   void check(const T&, key)         the check alone, for C++ setters
//   json write(const T&)

// An integer in [min, max]. JSON values are read as option_integer() reads
// them; a C++ value out of range says "expected <expected>" when given, else
// "expected an integer of at least <min>".
struct Integer {
  int64_t min = 1;
  int64_t max = int64_t{1} << 31;
  std::string expected{};
  int64_t read(const nlohmann::json& value, const std::string& key) const;
  void check(int64_t value, const std::string& key) const;
  nlohmann::json write(int64_t value) const { return value; }
};

// A finite number accepted by `valid`, described as `expected` in errors
// ("Epsilon: expected a positive number, got 0.000000").
struct Number {
  std::function<bool(double)> valid = [](double) { return true; };
  std::string expected = "a number";
  double read(const nlohmann::json& value, const std::string& key) const;
  void check(double value, const std::string& key) const;
  nlohmann::json write(double value) const { return value; }
};

inline Number positive_number() {
  return Number{[](double v) { return v > 0; }, "a positive number"};
}

struct Boolean {
  bool read(const nlohmann::json& value, const std::string& key) const;
  void check(bool, const std::string&) const {}
  nlohmann::json write(bool value) const { return value; }
};

// One of a fixed set of names, as an enum. `names[i]` spells `values[i]`.
template <typename E>
struct Choice {
  std::vector<E> values;
  std::vector<std::string> names;
  std::string expected;  // for the error: "\"Max\", \"Mean\" or \"Total\""

  E parse(const std::string& text, const std::string& key) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == text) return values[i];
    throw Error(key + ": expected " + expected + ", got \"" + text + "\"");
  }
  E read(const nlohmann::json& value, const std::string& key) const {
    return parse(option_string(value, key), key);
  }
  void check(E, const std::string&) const {}
  nlohmann::json write(E value) const {
    for (size_t i = 0; i < values.size(); ++i)
      if (values[i] == value) return names[i];
    return nullptr;
  }
};

// KernelSize, Stride, Dilation: one number or a list of 1 to 3.
struct Spatial {
  int64_t min = 1;
  SpatialSizes read(const nlohmann::json& value, const std::string& key) const {
    return SpatialSizes::from_json(value, key, min);
  }
  void check(const SpatialSizes& value, const std::string& key) const { value.validate(key, min); }
  nlohmann::json write(const SpatialSizes& value) const { return value.to_json(); }
};

// PaddingSize: a number, a list, or [before, after] pairs.
struct Padding {
  PaddingSize read(const nlohmann::json& value, const std::string& key) const {
    return PaddingSize::from_json(value, key);
  }
  void check(const PaddingSize& value, const std::string& key) const { value.validate(key); }
  nlohmann::json write(const PaddingSize& value) const { return value.to_json(); }
};

// A required option: null (in JSON) and nullopt (in C++) mean "not set yet";
// shape inference then reports it missing.
template <typename K>
struct Required {
  K kind;
  using Value = decltype(std::declval<K>().read(std::declval<nlohmann::json>(), std::string()));
  std::optional<Value> read(const nlohmann::json& value, const std::string& key) const {
    if (value.is_null()) return std::nullopt;
    return kind.read(value, key);
  }
  void check(const std::optional<Value>& value, const std::string& key) const {
    if (value) kind.check(*value, key);
  }
  nlohmann::json write(const std::optional<Value>& value) const {
    return value ? kind.write(*value) : nlohmann::json(nullptr);
  }
};
template <typename K>
Required(K) -> Required<K>;

// ---- The table

// One declared option, type-erased.
struct OptionDecl {
  std::string key;
  Affects affects = Affects::Shapes;
  std::function<nlohmann::json(const Layer&)> get;
  // Reads, checks and stores a JSON value (no shape invalidation; the caller
  // does that).
  std::function<void(Layer&, const nlohmann::json&)> set;
  // Checks and stores a C++ value held in a std::any of the option's type.
  std::function<void(Layer&, std::any)> assign;
  // Whether the option appears in options() for this layer's current state
  // (ElementwiseLayer's Alpha only for LeakyRamp); default always.
  std::function<bool(const Layer&)> shown;
};

class OptionTable {
 public:
  const std::vector<OptionDecl>& entries() const { return entries_; }
  const OptionDecl* find(std::string_view key) const;
  std::vector<std::string> keys() const;
  void push(OptionDecl decl) { entries_.push_back(std::move(decl)); }

 private:
  std::vector<OptionDecl> entries_;
};

// Builds the table of layer type L.
template <typename L>
class OptionsOf {
 public:
  // An option stored in a data member of L.
  template <typename T, typename K>
  OptionsOf&& add(std::string key, T L::*member, K kind, Affects affects = Affects::Shapes) && {
    return std::move(*this).add(
        std::move(key), [member](const L& l) -> const T& { return l.*member; },
        [member](L& l, T v) { l.*member = std::move(v); }, std::move(kind), affects);
  }
  // An option read and stored through functions of L (for options whose
  // change does more than store a value, such as ConvolutionLayer's Biases).
  template <typename Get, typename Put, typename K>
  OptionsOf&& add(std::string key, Get get, Put put, K kind, Affects affects = Affects::Shapes) && {
    using T = std::decay_t<std::invoke_result_t<Get, const L&>>;
    OptionDecl d;
    d.key = key;
    d.affects = affects;
    d.get = [get, kind](const Layer& l) { return kind.write(get(static_cast<const L&>(l))); };
    d.set = [put, kind, key](Layer& l, const nlohmann::json& value) {
      put(static_cast<L&>(l), T(kind.read(value, key)));
    };
    d.assign = [put, kind, key](Layer& l, std::any value) {
      T v = std::any_cast<T>(std::move(value));
      kind.check(v, key);
      put(static_cast<L&>(l), std::move(v));
    };
    table_.push(std::move(d));
    return std::move(*this);
  }
  // Shows the option last added only while `when` holds.
  OptionsOf&& shown_when(std::function<bool(const L&)> when) && {
    auto& d = const_cast<OptionDecl&>(table_.entries().back());
    d.shown = [when](const Layer& l) { return when(static_cast<const L&>(l)); };
    return std::move(*this);
  }
  operator OptionTable() && { return std::move(table_); }  // NOLINT: the builder's result

 private:
  OptionTable table_;
};

// For a C++ setter: checks `value` as the declaration of `key` says, stores
// it, and forgets inferred shapes if the option affects them. Returns the
// layer, for chaining.
template <typename L, typename T>
L& assign_option(L& layer, std::string_view key, T value) {
  layer.assign_declared(key, std::any(std::move(value)));
  return layer;
}

}  // namespace strata
