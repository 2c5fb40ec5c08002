// DropoutLayer (Srivastava et al. 2014), inverted: while training
// (RunContext.mode == Mode::Training) each element is kept with probability
// 1 − DropoutProbability and scaled by 1 / (1 − DropoutProbability), else set
// to 0, so that the expected output equals the input; otherwise the identity.
// The mask is drawn from RunContext.rng (required while training) and kept in
// the workspace for backward.
// Input: any shape; Output: the same shape. No arrays.
#pragma once

#include "layers/layer.hpp"

namespace strata {

class DropoutLayer : public Layer {
 public:
  DropoutLayer();
  explicit DropoutLayer(double probability);

  // The probability of dropping an element, in [0, 1) (0.5).
  DropoutLayer& dropout_probability(double value);
  double dropout_probability() const { return probability_; }

  std::string type() const override { return "DropoutLayer"; }
  std::unique_ptr<Layer> clone() const override;
  const OptionTable& option_table() const override;
  LayerTraits traits() const override { return {.transparent_to_activation = true}; }

  std::unique_ptr<Workspace> make_workspace() const override;
  // Training draws one number from ctx.rng and derives each example's mask
  // from it and the example's index in the global batch (ctx.first_example
  // plus its index in this one), in fixed-size blocks: the mask depends on
  // the seed, not on the number of threads nor on how a batch is split
  // across processes; successive forwards with one rng draw different masks.
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  // Applies the mask of the forward that used `ws`.
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  void infer() override;

 private:
  double probability_ = 0.5;
};

}  // namespace strata
