// ElementwiseLayer: applies a scalar function to every element.
// Input: any shape; Output: the same shape. No arrays.
//
// Functions (the names of the net file and of Wolfram's ElementwiseLayer):
//   Ramp             max(x, 0) (ReLU); NaN stays NaN
//   Tanh             tanh(x)
//   LogisticSigmoid  1 / (1 + exp(−x))
//   ELU              x for x > 0, exp(x) − 1 otherwise           (α = 1)
//   SELU             λ x for x > 0, λ α (exp(x) − 1) otherwise, with PyTorch's
//                    λ = 1.0507009873554805, α = 1.6732632423543772
//   GELU             x Φ(x), Φ the standard normal CDF (exact, erf-based; PyTorch's
//                    default, not the tanh approximation)
//   Softplus         log(1 + exp(x))
//   LeakyRamp        x for x > 0, Alpha·x otherwise (option Alpha, default 0.01
//                    as PyTorch's LeakyReLU)
//   Abs              |x|
//   Exp              exp(x)
//   Log              log(x): log(0) = −inf, NaN for x < 0 (IEEE)
//   Sqrt             √x: NaN for x < 0 (IEEE)
//   Square           x²
//   Sin, Cos         sin(x), cos(x)
//   Erf              erf(x)
//   Softsign         x / (1 + |x|)
//   Swish            x σ(x) (PyTorch's SiLU)
//   Mish             x tanh(softplus(x))
//   HardTanh         clip(x, −1, 1)
//   HardSigmoid      clip(x / 6 + 1/2, 0, 1) (PyTorch's)
//   Clip             clip(x, low, high) (option Range [low, high], required:
//                    finite, low ≤ high)
//   Power            x^Exponent as std::pow (option Exponent, required: any
//                    finite number); a negative x with a non-integer Exponent
//                    gives NaN (IEEE, as PyTorch)
// Alpha, Range and Exponent belong to LeakyRamp, Clip and Power: for any other
// function they are an error, whichever of Function and the option is set
// first, and options() shows them only for their function.
//
// NaN in gives NaN out, for the clip-like functions (Ramp, HardTanh,
// HardSigmoid, Clip) too. Derivatives at kinks and edges, as PyTorch's
// autograd gives them:
//   Ramp'(0) = 0 (and 1 at NaN)        LeakyRamp'(0) = Alpha
//   Abs'(0) = 0                        HardTanh'(±1) = 0
//   HardSigmoid'(±3) = 0               Clip' = 1 at low and at high
//   Log'(0) = +inf (−inf at −0)        Sqrt'(0) = +inf (−inf at −0)
//   Power' = Exponent · x^(Exponent − 1); for Exponent 0 the input gradient
//   is 0 whatever the output gradient (PyTorch's zeros_like; not 0 · NaN)
//   a clip-like function's derivative at NaN is 0 (Ramp's excepted).
// Infinite inputs follow the IEEE arithmetic of the formula, as in PyTorch:
// Softsign(±inf), Swish(−inf) and Mish(−inf) are NaN.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "layers/layer.hpp"

namespace strata {

enum class ElementwiseFunction {
  Ramp,
  Tanh,
  LogisticSigmoid,
  ELU,
  SELU,
  GELU,
  Softplus,
  LeakyRamp,
  Abs,
  Exp,
  Log,
  Sqrt,
  Square,
  Sin,
  Cos,
  Erf,
  Softsign,
  Swish,
  Mish,
  HardTanh,
  HardSigmoid,
  Clip,
  Power
};

// The net-file name of a function ("Ramp").
std::string to_string(ElementwiseFunction f);
// The function of a net-file name; throws an Error naming Function and listing
// the known names.
ElementwiseFunction elementwise_function(std::string_view name);

class ElementwiseLayer : public Layer {
 public:
  // Function unset: shape inference reports it missing until it is given.
  ElementwiseLayer();
  explicit ElementwiseLayer(ElementwiseFunction f);
  // By name: ElementwiseLayer("Ramp").
  explicit ElementwiseLayer(std::string_view name);

  ElementwiseLayer& function(ElementwiseFunction f);
  ElementwiseLayer& function(std::string_view name);
  std::optional<ElementwiseFunction> function() const { return function_; }
  // The slope for x ≤ 0 of LeakyRamp (any finite number; 0.01 by default).
  ElementwiseLayer& alpha(double value);
  double alpha() const { return alpha_; }
  // Clip's bounds: ElementwiseLayer("Clip").range(-1, 2). Finite, low ≤ high.
  ElementwiseLayer& range(double low, double high);
  std::optional<std::array<double, 2>> range() const { return range_; }
  // Power's exponent: ElementwiseLayer("Power").exponent(2). Any finite number.
  ElementwiseLayer& exponent(double value);
  std::optional<double> exponent() const { return exponent_; }

  std::string type() const override { return "ElementwiseLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // {"Function": name} (null while unset), plus {"Alpha": a} for LeakyRamp,
  // {"Range": [low, high]} for Clip and {"Exponent": e} for Power (null while
  // unset). set_option accepts null for each: Function, Range and Exponent
  // unset, Alpha back to its default.
  const OptionTable& option_table() const override;
  // Ramp and LeakyRamp are rectifiers.
  LayerTraits traits() const override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Errors: "Function: required option is missing", and for Clip and Power
  // "Range: required option is missing for Clip" ("Exponent: … for Power").
  void infer() override;

 private:
  std::optional<ElementwiseFunction> function_;
  double alpha_ = 0.01;  // PyTorch's LeakyReLU default negative slope
  bool alpha_given_ = false;
  std::optional<std::array<double, 2>> range_;
  std::optional<double> exponent_;
};

}  // namespace strata
