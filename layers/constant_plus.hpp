// ConstantPlusLayer: y = x + Biases, Biases a trainable array that
// broadcasts to an example (see layers/constant_array.hpp for the shapes it
// may take). Input: any shape; Output: the same shape.
// Array: Biases; left Automatic, NetInitialize makes it the example's shape,
// filled with 0.
#pragma once

#include "layers/constant_array.hpp"

namespace strata {

class ConstantPlusLayer : public ConstantArrayLayer {
 public:
  ConstantPlusLayer();
  // With a given Biases: ConstantPlusLayer(Tensor({3, 1, 1}, 0.5f)).
  explicit ConstantPlusLayer(Tensor biases);

  // Sets Biases (as set_array("Biases", …)).
  ConstantPlusLayer& biases(Tensor value);

  std::string type() const override { return "ConstantPlusLayer"; }
  std::unique_ptr<Layer> clone() const override;
};

}  // namespace strata
