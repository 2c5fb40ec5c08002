// FlattenLayer: [d1, d2, …] -> [d1·d2·…], the elements in row-major order.
// Input: rank 1 or more; Output: rank 1. No options, no arrays.
#pragma once

#include "layers/layer.hpp"

namespace strata {

class FlattenLayer : public Layer {
 public:
  FlattenLayer();

  std::string type() const override { return "FlattenLayer"; }
  std::unique_ptr<Layer> clone() const override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Output = [product of Input]; an Output known first fixes one unknown
  // Input dimension.
  void infer() override;
};

}  // namespace strata
