#include "layers/constant_plus.hpp"

#include <utility>

namespace strata {

ConstantPlusLayer::ConstantPlusLayer()
    : ConstantArrayLayer(Combine::Plus, "Biases", Initializer::zeros()) {}

ConstantPlusLayer::ConstantPlusLayer(Tensor biases) : ConstantPlusLayer() {
  this->biases(std::move(biases));
}

ConstantPlusLayer& ConstantPlusLayer::biases(Tensor value) {
  set_array("Biases", std::move(value));
  return *this;
}

std::unique_ptr<Layer> ConstantPlusLayer::clone() const {
  return std::make_unique<ConstantPlusLayer>(*this);
}

}  // namespace strata
