// InstanceNormalizationLayer (Ulyanov et al. 2016, "Instance Normalization:
// The Missing Ingredient for Fast Stylization"). For each example and channel
// c, over the n spatial positions i:
//   m = (1/n) Σ x_ci,  v = (1/n) Σ (x_ci − m)²,
//   y_ci = Gamma_c (x_ci − m) / sqrt(v + Epsilon) + Beta_c.
// Input: [C, d1, d2, …] (rank 2 or more); Output: the same shape.
// Arrays: Gamma [C], Beta [C].
#pragma once

#include "layers/layer.hpp"

namespace strata {

class InstanceNormalizationLayer : public Layer {
 public:
  InstanceNormalizationLayer();

  // Added to the variance inside the square root; must be positive.
  InstanceNormalizationLayer& epsilon(double value);
  double epsilon() const { return epsilon_; }

  std::string type() const override { return "InstanceNormalizationLayer"; }
  std::unique_ptr<Layer> clone() const override;
  const OptionTable& option_table() const override;
  LayerTraits traits() const override { return {.transparent_to_activation = true}; }

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

  static constexpr size_t kGamma = 0;
  static constexpr size_t kBeta = 1;

 protected:
  void infer() override;

 private:
  double epsilon_ = 0.001;
};

}  // namespace strata
