// ParametricRampLayer (He et al. 2015, "Delving Deep into Rectifiers", PReLU;
// PyTorch's nn.PReLU(num_parameters = C)):
//   y = x where x > 0, else Slope_c · x,
// c the index in the first dimension of an example (the channel).
// Input: [C, d1, …] (rank 1 or more); Output: the same shape.
// Arrays: Slope [C], trainable; NetInitialize sets it to 0.25 (PyTorch's
// default). The gradient at x = 0 is that of the x ≤ 0 side, as in PyTorch.
//
// A rectifier (LayerTraits::rectifier): under the Automatic method, Weights
// feeding it get Kaiming initialization, as for Ramp and LeakyRamp and as the
// paper that introduced it derives (its exact gain, sqrt(2 / (1 + Slope²)),
// is within 3% of Kaiming's sqrt(2) at Slope 0.25).
#pragma once

#include "layers/layer.hpp"

namespace strata {

class ParametricRampLayer : public Layer {
 public:
  ParametricRampLayer();

  std::string type() const override { return "ParametricRampLayer"; }
  std::unique_ptr<Layer> clone() const override;
  LayerTraits traits() const override { return {.rectifier = true}; }

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

  static constexpr size_t kSlope = 0;

 protected:
  void infer() override;
};

}  // namespace strata
