// ElementwiseLayer: applies a scalar function to every element.
// Input: any shape; Output: the same shape. No arrays.
//
// Functions (the names of the net file and of Wolfram's ElementwiseLayer):
//   Ramp             max(x, 0)                                  (ReLU)
//   Tanh             tanh(x)
//   LogisticSigmoid  1 / (1 + exp(−x))
//   ELU              x for x > 0, exp(x) − 1 otherwise           (α = 1)
//   SELU             λ x for x > 0, λ α (exp(x) − 1) otherwise, with PyTorch's
//                    λ = 1.0507009873554805, α = 1.6732632423543772
//   GELU             x Φ(x), Φ the standard normal CDF (exact, erf-based; PyTorch's
//                    default, not the tanh approximation)
//   Softplus         log(1 + exp(x))
//   LeakyRamp        x for x > 0, Alpha·x otherwise (option Alpha, default 0.01
//                    as PyTorch's LeakyReLU; an error for the other functions)
// At a kink the derivative is that of the x ≤ 0 side, as in PyTorch.
#pragma once

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
  LeakyRamp
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

  std::string type() const override { return "ElementwiseLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // {"Function": name} (null while unset), plus {"Alpha": a} for LeakyRamp.
  // set_option accepts a null Function (unset) and null Alpha (the default).
  const OptionTable& option_table() const override;
  // Ramp and LeakyRamp are rectifiers.
  LayerTraits traits() const override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  void infer() override;

 private:
  ElementwiseFunction required_function() const;

  std::optional<ElementwiseFunction> function_;
  double alpha_ = 0.01;  // PyTorch's LeakyReLU default negative slope
  bool alpha_given_ = false;
};

}  // namespace strata
