#include "layers/elementwise.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>
#include <utility>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

constexpr std::array<std::pair<ElementwiseFunction, const char*>, 8> kNames = {{
    {ElementwiseFunction::Ramp, "Ramp"},
    {ElementwiseFunction::Tanh, "Tanh"},
    {ElementwiseFunction::LogisticSigmoid, "LogisticSigmoid"},
    {ElementwiseFunction::ELU, "ELU"},
    {ElementwiseFunction::SELU, "SELU"},
    {ElementwiseFunction::GELU, "GELU"},
    {ElementwiseFunction::Softplus, "Softplus"},
    {ElementwiseFunction::LeakyRamp, "LeakyRamp"},
}};

// PyTorch's SELU constants (Klambauer et al. 2017).
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kInvSqrt2 = static_cast<float>(1.0 / std::numbers::sqrt2);
constexpr float kInvSqrt2Pi = static_cast<float>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);

// Below this many elements, threads cost more than they save.
constexpr int64_t kParallelMin = int64_t{1} << 13;

// Stable for any x: exp never overflows.
inline float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(−|x|)): no overflow for large x,
// full precision for very negative x.
inline float softplus(float x) {
  return std::max(x, 0.0f) + std::log1p(std::exp(-std::abs(x)));
}

// Φ(x) = erfc(−x/√2)/2 keeps its relative precision for very negative x,
// where 1 + erf(x/√2) would cancel to 0.
inline float normal_cdf(float x) {
  return 0.5f * std::erfc(-x * kInvSqrt2);
}

template <typename F>
void map(const float* x, float* y, int64_t n, F f) {
  parallel_for(
      n, [&](int64_t i) { y[i] = f(x[i]); }, kParallelMin);
}

// dx = dy · f'(x, y).
template <typename D>
void map_grad(const float* x, const float* y, const float* dy, float* dx, int64_t n, D d) {
  parallel_for(
      n, [&](int64_t i) { dx[i] = dy[i] * d(x[i], y[i]); }, kParallelMin);
}

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

ElementwiseLayer::ElementwiseLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

ElementwiseLayer::ElementwiseLayer(ElementwiseFunction f) : ElementwiseLayer() {
  function(f);
}

ElementwiseLayer::ElementwiseLayer(std::string_view name) : ElementwiseLayer() {
  function(name);
}

namespace {

// A function by its net-file name.
struct FunctionName {
  ElementwiseFunction read(const nlohmann::json& value, const std::string& key) const {
    return elementwise_function(option_string(value, key));
  }
  void check(ElementwiseFunction f, const std::string&) const {
    to_string(f);  // rejects values outside the enum
  }
  nlohmann::json write(ElementwiseFunction f) const { return to_string(f); }
};

}  // namespace

const OptionTable& ElementwiseLayer::option_table() const {
  using L = ElementwiseLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add(
              "Function", [](const L& l) { return l.function_; },
              [](L& l, std::optional<ElementwiseFunction> f) {
                if (f && l.alpha_given_ && *f != ElementwiseFunction::LeakyRamp)
                  throw Error("Alpha: only LeakyRamp has an Alpha option, but Function is " +
                              to_string(*f));
                l.function_ = f;
              },
              Required{FunctionName{}}, Affects::Nothing)
          // Alpha: null is the default (0.01, not given).
          .add(
              "Alpha", [](const L& l) { return std::optional<double>(l.alpha_); },
              [](L& l, std::optional<double> a) {
                if (!a) {
                  l.alpha_ = 0.01;
                  l.alpha_given_ = false;
                  return;
                }
                if (l.function_ && *l.function_ != ElementwiseFunction::LeakyRamp)
                  throw Error("Alpha: only LeakyRamp has an Alpha option, but Function is " +
                              to_string(*l.function_));
                l.alpha_ = *a;
                l.alpha_given_ = true;
              },
              Required{Number{.expected = "a finite number"}}, Affects::Nothing)
          .shown_when([](const L& l) {
            return l.function_ == ElementwiseFunction::LeakyRamp ||
                   (!l.function_ && l.alpha_given_);
          });
  return table;
}

ElementwiseLayer& ElementwiseLayer::function(ElementwiseFunction f) {
  return assign_option(*this, "Function", std::optional<ElementwiseFunction>(f));
}

ElementwiseLayer& ElementwiseLayer::function(std::string_view name) {
  return function(elementwise_function(name));
}

ElementwiseLayer& ElementwiseLayer::alpha(double value) {
  return assign_option(*this, "Alpha", std::optional<double>(value));
}

LayerTraits ElementwiseLayer::traits() const {
  LayerTraits t;
  t.rectifier =
      function_ == ElementwiseFunction::Ramp || function_ == ElementwiseFunction::LeakyRamp;
  return t;
}

std::unique_ptr<Layer> ElementwiseLayer::clone() const {
  return std::make_unique<ElementwiseLayer>(*this);
}

ElementwiseFunction ElementwiseLayer::required_function() const {
  if (!function_) throw Error("Function: required option is missing");
  return *function_;
}

void ElementwiseLayer::infer() {
  required_function();
  constrain_output(0, inputs_[0].shape, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
}

void ElementwiseLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                               const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  Tensor& y = *out[0];
  y.resize(x.shape());
  const float* xd = x.data();
  float* yd = y.data();
  const int64_t n = x.size();
  const float a = static_cast<float>(alpha_);
  switch (required_function()) {
    case ElementwiseFunction::Ramp:
      map(xd, yd, n, [](float v) { return v > 0 ? v : 0.0f; });
      break;
    case ElementwiseFunction::Tanh:
      map(xd, yd, n, [](float v) { return std::tanh(v); });
      break;
    case ElementwiseFunction::LogisticSigmoid:
      map(xd, yd, n, sigmoid);
      break;
    case ElementwiseFunction::ELU:
      map(xd, yd, n, [](float v) { return v > 0 ? v : std::expm1(v); });
      break;
    case ElementwiseFunction::SELU:
      map(xd, yd, n, [](float v) { return kSeluScale * (v > 0 ? v : kSeluAlpha * std::expm1(v)); });
      break;
    case ElementwiseFunction::GELU:
      map(xd, yd, n, [](float v) { return v * normal_cdf(v); });
      break;
    case ElementwiseFunction::Softplus:
      map(xd, yd, n, softplus);
      break;
    case ElementwiseFunction::LeakyRamp:
      map(xd, yd, n, [a](float v) { return v > 0 ? v : a * v; });
      break;
  }
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
  const float *xd = x.data(), *yd = y.data(), *gd = dy.data();
  float* dxd = dx->data();
  const int64_t n = x.size();
  const float a = static_cast<float>(alpha_);
  // Tanh differentiates through its output.
  switch (required_function()) {
    case ElementwiseFunction::Ramp:
      map_grad(xd, yd, gd, dxd, n, [](float v, float) { return v > 0 ? 1.0f : 0.0f; });
      break;
    case ElementwiseFunction::Tanh:
      map_grad(xd, yd, gd, dxd, n, [](float, float t) { return 1.0f - t * t; });
      break;
    case ElementwiseFunction::LogisticSigmoid:
      // σ' = σ(x) σ(−x) = e / (1 + e)² with e = exp(−|x|): unlike σ (1 − σ)
      // from the output, this keeps its precision for large positive x.
      map_grad(xd, yd, gd, dxd, n, [](float v, float) {
        const float e = std::exp(-std::abs(v));
        return e / ((1.0f + e) * (1.0f + e));
      });
      break;
    case ElementwiseFunction::ELU:
      map_grad(xd, yd, gd, dxd, n, [](float v, float) { return v > 0 ? 1.0f : std::exp(v); });
      break;
    case ElementwiseFunction::SELU:
      map_grad(xd, yd, gd, dxd, n, [](float v, float) {
        return v > 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(v);
      });
      break;
    case ElementwiseFunction::GELU:
      // d/dx x Φ(x) = Φ(x) + x φ(x).
      map_grad(xd, yd, gd, dxd, n, [](float v, float) {
        return normal_cdf(v) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
      });
      break;
    case ElementwiseFunction::Softplus:
      map_grad(xd, yd, gd, dxd, n, [](float v, float) { return sigmoid(v); });
      break;
    case ElementwiseFunction::LeakyRamp:
      map_grad(xd, yd, gd, dxd, n, [a](float v, float) { return v > 0 ? 1.0f : a; });
      break;
  }
}

}  // namespace strata
