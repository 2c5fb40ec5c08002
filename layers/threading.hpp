// ThreadingLayer: combines its inputs element by element (Wolfram's
// ThreadingLayer with a named function).
// Inputs: Input1 … Inputn, whose shapes broadcast as in NumPy over the
// dimensions of an example (aligned at the right; a dimension of 1, or a
// missing one, repeats). Output: the broadcast shape. No arrays.
//
// Function (required):
//   Plus, Times, Max, Min   two or more inputs, folded from the left
//   Subtract, Divide, Power exactly two: Input1 − Input2, Input1 / Input2,
//                           Input1 ^ Input2
// IEEE results are the answer: x / 0 is ±inf and 0 / 0 NaN; a negative base
// with a non-integer exponent gives NaN; Max and Min give NaN where any input
// is NaN (torch.maximum).
//
// Gradients are summed over the dimensions an input was repeated along.
// Max and Min give the whole gradient to the first input equal to the output
// (on a tie, the first input holding the extreme; at NaN, the first NaN);
// PyTorch's torch.maximum splits ties 0.5/0.5. Divide: ∂/∂Input2 = −y / Input2.
// Power: ∂/∂Input1 = e·x^(e−1), 0 where e = 0; ∂/∂Input2 = y·log(x), NaN for
// x < 0 and 0 at x = 0 with e ≥ 0 (−inf for e < 0), as PyTorch.
#pragma once

#include <optional>
#include <string_view>

#include "layers/layer.hpp"

namespace strata {

enum class ThreadingFunction { Plus, Subtract, Times, Divide, Max, Min, Power };

// The net-file name of a function ("Plus").
std::string to_string(ThreadingFunction f);

class ThreadingLayer : public Layer {
 public:
  // Function unset (shape inference reports it missing), two inputs.
  ThreadingLayer();
  explicit ThreadingLayer(ThreadingFunction f, size_t inputs = 2);
  // By name: ThreadingLayer("Times", 3).
  explicit ThreadingLayer(std::string_view function, size_t inputs = 2);

  // Throws for Subtract, Divide or Power while the layer has other than 2 inputs.
  ThreadingLayer& function(ThreadingFunction f);
  ThreadingLayer& function(std::string_view name);
  std::optional<ThreadingFunction> function() const { return function_; }

  std::string type() const override { return "ThreadingLayer"; }
  std::unique_ptr<Layer> clone() const override;
  const OptionTable& option_table() const override;
  bool variadic_inputs() const override { return true; }
  // Ports Input1 … Inputn, n ≥ 2 (exactly 2 for Subtract, Divide, Power); the
  // shapes known of the ports that remain are kept.
  void set_input_count(size_t n) override;

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Output = broadcast of the inputs, both ways (infer_broadcast). Errors name
  // the ports: "Input1 and Input2: [3, 4] and [5, 4] do not broadcast: …",
  // "Function: required option is missing", "Function: Subtract takes exactly
  // 2 inputs, got 3".
  void infer() override;

 private:
  std::optional<ThreadingFunction> function_;
};

}  // namespace strata
