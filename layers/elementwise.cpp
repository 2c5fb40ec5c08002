#include "layers/elementwise.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "kernels/elementwise_functions.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

using F = ElementwiseFunction;

constexpr std::array<std::pair<F, const char*>, 23> kNames = {{
    {F::Ramp, "Ramp"},
    {F::Tanh, "Tanh"},
    {F::LogisticSigmoid, "LogisticSigmoid"},
    {F::ELU, "ELU"},
    {F::SELU, "SELU"},
    {F::GELU, "GELU"},
    {F::Softplus, "Softplus"},
    {F::LeakyRamp, "LeakyRamp"},
    {F::Abs, "Abs"},
    {F::Exp, "Exp"},
    {F::Log, "Log"},
    {F::Sqrt, "Sqrt"},
    {F::Square, "Square"},
    {F::Sin, "Sin"},
    {F::Cos, "Cos"},
    {F::Erf, "Erf"},
    {F::Softsign, "Softsign"},
    {F::Swish, "Swish"},
    {F::Mish, "Mish"},
    {F::HardTanh, "HardTanh"},
    {F::HardSigmoid, "HardSigmoid"},
    {F::Clip, "Clip"},
    {F::Power, "Power"},
}};
static_assert(kNames.size() == static_cast<size_t>(F::Power) + 1, "every function has a name");

}  // namespace

std::string to_string(ElementwiseFunction f) {
  for (const auto& [fn, name] : kNames)
    if (fn == f) return name;
  throw Error("Function: unknown enum value " + std::to_string(static_cast<int>(f)));
}

ElementwiseFunction elementwise_function(std::string_view name) {
  std::string known;
  for (const auto& [fn, n] : kNames) {
    if (name == n) return fn;
    known += (known.empty() ? "" : ", ") + std::string(n);
  }
  throw Error("Function: unknown function \"" + std::string(name) + "\" (known: " + known + ")");
}

namespace {

// A function by its net-file name.
struct FunctionName {
  F read(const nlohmann::json& value, const std::string& key) const {
    return elementwise_function(option_string(value, key));
  }
  void check(F f, const std::string&) const {
    to_string(f);  // rejects values outside the enum
  }
  nlohmann::json write(F f) const { return to_string(f); }
};

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Clip's Range: [low, high], finite, low ≤ high.
struct RangeKind {
  std::array<double, 2> read(const nlohmann::json& value, const std::string& key) const {
    if (!value.is_array() || value.size() != 2 || !value[0].is_number() || !value[1].is_number())
      throw Error(key + ": expected [low, high], two numbers, got " + value.dump());
    std::array<double, 2> r{value[0].get<double>(), value[1].get<double>()};
    check(r, key);
    return r;
  }
  void check(const std::array<double, 2>& r, const std::string& key) const {
    if (!std::isfinite(r[0]) || !std::isfinite(r[1]) || !(r[0] <= r[1]))
      throw Error(key + ": expected [low, high] with finite low <= high, got [" +
                  format_number(r[0]) + ", " + format_number(r[1]) + "]");
  }
  nlohmann::json write(const std::array<double, 2>& r) const { return {r[0], r[1]}; }
};

// Alpha, Range and Exponent each belong to one function.
void check_owner(const std::string& key, F owner, F f) {
  if (f == owner) return;
  const char* article = key == "Range" ? "a" : "an";
  throw Error(key + ": only " + to_string(owner) + " has " + article + " " + key +
              " option, but Function is " + to_string(f));
}

// Throws for a missing Function, or a missing option the function requires.
F complete_function(const ElementwiseLayer& l) {
  if (!l.function()) throw Error("Function: required option is missing");
  const F f = *l.function();
  if (f == F::Clip && !l.range()) throw Error("Range: required option is missing for Clip");
  if (f == F::Power && !l.exponent()) throw Error("Exponent: required option is missing for Power");
  return f;
}

// Calls visit(fn) with the function object of the layer's function, so that
// forward and backward each instantiate one plain loop per function.
template <typename Visit>
void with_function(const ElementwiseLayer& l, Visit&& visit) {
  namespace e = elementwise;
  switch (complete_function(l)) {
    case F::Ramp:
      return visit(e::Ramp{});
    case F::Tanh:
      return visit(e::Tanh{});
    case F::LogisticSigmoid:
      return visit(e::LogisticSigmoid{});
    case F::ELU:
      return visit(e::ELU{});
    case F::SELU:
      return visit(e::SELU{});
    case F::GELU:
      return visit(e::GELU{});
    case F::Softplus:
      return visit(e::Softplus{});
    case F::LeakyRamp:
      return visit(e::LeakyRamp{static_cast<float>(l.alpha())});
    case F::Abs:
      return visit(e::Abs{});
    case F::Exp:
      return visit(e::Exp{});
    case F::Log:
      return visit(e::Log{});
    case F::Sqrt:
      return visit(e::Sqrt{});
    case F::Square:
      return visit(e::Square{});
    case F::Sin:
      return visit(e::Sin{});
    case F::Cos:
      return visit(e::Cos{});
    case F::Erf:
      return visit(e::Erf{});
    case F::Softsign:
      return visit(e::Softsign{});
    case F::Swish:
      return visit(e::Swish{});
    case F::Mish:
      return visit(e::Mish{});
    case F::HardTanh:
      return visit(e::HardTanh{});
    case F::HardSigmoid:
      return visit(e::HardSigmoid{});
    case F::Clip:
      return visit(
          e::Clip{static_cast<float>((*l.range())[0]), static_cast<float>((*l.range())[1])});
    case F::Power: {
      // Common exponents without std::pow: same values, same derivatives.
      const auto p = static_cast<float>(*l.exponent());
      if (p == 1.0f) return visit(e::Identity{});
      if (p == 2.0f) return visit(e::Square{});
      if (p == 0.5f) return visit(e::Sqrt{});
      return visit(e::Power{p});
    }
  }
  throw Error("Function: unknown enum value " + std::to_string(static_cast<int>(*l.function())));
}

}  // namespace

ElementwiseLayer::ElementwiseLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

ElementwiseLayer::ElementwiseLayer(ElementwiseFunction f) : ElementwiseLayer() {
  function(f);
}

ElementwiseLayer::ElementwiseLayer(std::string_view name) : ElementwiseLayer() {
  function(name);
}

const OptionTable& ElementwiseLayer::option_table() const {
  using L = ElementwiseLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add(
              "Function", [](const L& l) { return l.function_; },
              [](L& l, std::optional<F> f) {
                if (f) {
                  if (l.alpha_given_) check_owner("Alpha", F::LeakyRamp, *f);
                  if (l.range_) check_owner("Range", F::Clip, *f);
                  if (l.exponent_) check_owner("Exponent", F::Power, *f);
                }
                l.function_ = f;
              },
              Required{FunctionName{}}, Affects::Nothing)
          // Alpha: null is the default (0.01, not given).
          .add(
              "Alpha", [](const L& l) { return std::optional<double>(l.alpha_); },
              [](L& l, std::optional<double> a) {
                if (a && l.function_) check_owner("Alpha", F::LeakyRamp, *l.function_);
                l.alpha_ = a.value_or(0.01);
                l.alpha_given_ = a.has_value();
              },
              Required{Number{.expected = "a finite number"}}, Affects::Nothing)
          .shown_when([](const L& l) {
            return l.function_ == F::LeakyRamp || (!l.function_ && l.alpha_given_);
          })
          .add(
              "Range", [](const L& l) { return l.range_; },
              [](L& l, std::optional<std::array<double, 2>> r) {
                if (r && l.function_) check_owner("Range", F::Clip, *l.function_);
                l.range_ = r;
              },
              Required{RangeKind{}}, Affects::Nothing)
          .shown_when(
              [](const L& l) { return l.function_ == F::Clip || (!l.function_ && l.range_); })
          .add(
              "Exponent", [](const L& l) { return l.exponent_; },
              [](L& l, std::optional<double> p) {
                if (p && l.function_) check_owner("Exponent", F::Power, *l.function_);
                l.exponent_ = p;
              },
              Required{Number{.expected = "a finite number"}}, Affects::Nothing)
          .shown_when(
              [](const L& l) { return l.function_ == F::Power || (!l.function_ && l.exponent_); });
  return table;
}

ElementwiseLayer& ElementwiseLayer::function(ElementwiseFunction f) {
  return assign_option(*this, "Function", std::optional<F>(f));
}

ElementwiseLayer& ElementwiseLayer::function(std::string_view name) {
  return function(elementwise_function(name));
}

ElementwiseLayer& ElementwiseLayer::alpha(double value) {
  return assign_option(*this, "Alpha", std::optional<double>(value));
}

ElementwiseLayer& ElementwiseLayer::range(double low, double high) {
  return assign_option(*this, "Range", std::optional<std::array<double, 2>>({low, high}));
}

ElementwiseLayer& ElementwiseLayer::exponent(double value) {
  return assign_option(*this, "Exponent", std::optional<double>(value));
}

LayerTraits ElementwiseLayer::traits() const {
  LayerTraits t;
  t.rectifier = function_ == F::Ramp || function_ == F::LeakyRamp;
  return t;
}

std::unique_ptr<Layer> ElementwiseLayer::clone() const {
  return std::make_unique<ElementwiseLayer>(*this);
}

void ElementwiseLayer::infer() {
  complete_function(*this);
  constrain_output(0, inputs_[0].shape, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
}

void ElementwiseLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                               const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  Tensor& y = *out[0];
  y.resize(x.shape());
  with_function(*this, [&](const auto& f) { elementwise::apply(f, x.data(), y.data(), x.size()); });
}

void ElementwiseLayer::backward(Inputs in, Inputs out, Inputs out_grad, Workspace* /*ws*/,
                                Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& y = *out[0];
  const Tensor& dy = *out_grad[0];
  if (y.shape() != x.shape() || dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  if (complete_function(*this) == F::Power && static_cast<float>(*exponent()) == 0.0f) {
    // PyTorch's zeros_like: not 0 · dy, which is NaN where dy is NaN or ±inf.
    std::fill(dx->values().begin(), dx->values().end(), 0.0f);
    return;
  }
  with_function(*this, [&](const auto& f) {
    elementwise::apply_derivative(f, x.data(), y.data(), dy.data(), dx->data(), x.size());
  });
}

}  // namespace strata
