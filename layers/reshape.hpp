// ReshapeLayer: the same elements, in row-major order, in the shape given by
// Dimensions (a list of positive integers, one of which may be −1: that
// dimension is inferred from the number of elements, as in NumPy and PyTorch).
// Input: any shape with the same number of elements; Output: Dimensions.
// No arrays.
#pragma once

#include <optional>

#include "layers/layer.hpp"

namespace strata {

class ReshapeLayer : public Layer {
 public:
  // Dimensions unset: shape inference reports it missing until it is given.
  ReshapeLayer();
  explicit ReshapeLayer(Dims dimensions);

  // The output shape of one example (required): positive integers and at
  // most one −1 (inferred).
  ReshapeLayer& dimensions(Dims value);
  const std::optional<Dims>& dimensions() const { return dimensions_; }

  std::string type() const override { return "ReshapeLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // {"Dimensions": [..]}, or null while unset (accepted by set_option too).
  const OptionTable& option_table() const override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // The element counts of Input and Output must agree; either side may fix
  // the one unknown dimension of the other (the −1 of Dimensions included).
  void infer() override;

 private:
  std::optional<Dims> dimensions_;
};

// The backward of any layer that only reshapes (Reshape, Flatten): the
// output gradient, in the input's shape.
void reshape_backward(Inputs in, Inputs out_grad, Outputs in_grad);

}  // namespace strata
