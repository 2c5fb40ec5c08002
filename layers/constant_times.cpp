#include "layers/constant_times.hpp"

#include <utility>

namespace strata {

ConstantTimesLayer::ConstantTimesLayer()
    : ConstantArrayLayer(Combine::Times, "Scaling", Initializer::ones()) {}

ConstantTimesLayer::ConstantTimesLayer(Tensor scaling) : ConstantTimesLayer() {
  this->scaling(std::move(scaling));
}

ConstantTimesLayer& ConstantTimesLayer::scaling(Tensor value) {
  set_array("Scaling", std::move(value));
  return *this;
}

std::unique_ptr<Layer> ConstantTimesLayer::clone() const {
  return std::make_unique<ConstantTimesLayer>(*this);
}

}  // namespace strata
