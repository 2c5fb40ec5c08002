// SoftmaxLayer: y_c = exp(x_c) / Σ_k exp(x_k).
// For a rank-1 input [C] it normalizes over the one dimension; for [C, d1, …]
// it normalizes over the channels C at each spatial position. The maximum is
// subtracted first, so logits of any size (±1000) give finite results.
// Input: rank 1 or more; Output: the same shape. No options, no arrays.
#pragma once

#include "layers/layer.hpp"

namespace strata {

class SoftmaxLayer : public Layer {
 public:
  SoftmaxLayer();

  std::string type() const override { return "SoftmaxLayer"; }
  std::unique_ptr<Layer> clone() const override;
  LayerTraits traits() const override { return {.outputs_probabilities = true}; }

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  // Uses the output: dx = y ⊙ (dy − Σ_c dy_c y_c).
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  void infer() override;
};

}  // namespace strata
