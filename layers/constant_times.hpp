// ConstantTimesLayer: y = x · Scaling, Scaling a trainable array that
// broadcasts to an example (see layers/constant_array.hpp for the shapes it
// may take). Input: any shape; Output: the same shape.
// Array: Scaling; left Automatic, NetInitialize makes it the example's shape,
// filled with 1.
#pragma once

#include "layers/constant_array.hpp"

namespace strata {

class ConstantTimesLayer : public ConstantArrayLayer {
 public:
  ConstantTimesLayer();
  // With a given Scaling: ConstantTimesLayer(Tensor({3, 1, 1}, 2.0f)).
  explicit ConstantTimesLayer(Tensor scaling);

  // Sets Scaling (as set_array("Scaling", …)).
  ConstantTimesLayer& scaling(Tensor value);

  std::string type() const override { return "ConstantTimesLayer"; }
  std::unique_ptr<Layer> clone() const override;
};

}  // namespace strata
