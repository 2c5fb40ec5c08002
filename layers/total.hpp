// TotalLayer: the elementwise sum of its inputs.
// Inputs: Input1 … Inputn (2 by default; set_input_count(n) for n ≥ 1), all
// of one shape; Output: that shape. No options, no arrays.
#pragma once

#include "layers/layer.hpp"

namespace strata {

class TotalLayer : public Layer {
 public:
  TotalLayer();
  explicit TotalLayer(size_t inputs);

  std::string type() const override { return "TotalLayer"; }
  std::unique_ptr<Layer> clone() const override;
  bool variadic_inputs() const override { return true; }
  // Ports Input1 … Inputn; the shapes known of the ports that remain are kept.
  void set_input_count(size_t n) override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Every input and the output have one shape; whatever any of them knows,
  // all of them know. A conflict names the first port that disagrees.
  void infer() override;
};

}  // namespace strata
