// The gradient check itself must be able to fail: a layer whose backward is
// wrong on purpose is caught.
#include "support/gradcheck.hpp"

#include <doctest/doctest.h>

#include "layers/instance_normalization.hpp"

using namespace strata;

namespace {

class WrongSignInstanceNorm : public InstanceNormalizationLayer {
 public:
  std::unique_ptr<Layer> clone() const override {
    return std::make_unique<WrongSignInstanceNorm>(*this);
  }
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override {
    InstanceNormalizationLayer::backward(in, out, out_grad, ws, in_grad, array_grad);
    if (array_grad[kBeta]) (*array_grad[kBeta])[0] *= -1;
  }
};

}  // namespace

TEST_CASE("check_gradients catches a wrong gradient") {
  WrongSignInstanceNorm layer;
  layer.set_array("Gamma", Tensor({2}, 1.0f));
  layer.set_array("Beta", Tensor({2}, 0.0f));
  auto report =
      strata::testing::check_gradients(layer, {strata::testing::random_tensor({2, 2, 5}, 1)});
  CHECK(report.max_error > 1.0);
  CHECK(report.worst.find("Beta[0]") != std::string::npos);
}
