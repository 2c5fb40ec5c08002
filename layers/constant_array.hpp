// What ConstantTimesLayer and ConstantPlusLayer share: one input, an output of
// its shape, and one trainable array that broadcasts to an example as in
// ThreadingLayer (aligned at the right; a dimension of 1, or a missing one,
// repeats), combined with the input element by element.
//
// Left Automatic, the array takes the example's full shape (NetInitialize
// fills it with the layer's constant). A given array may have any shape that
// broadcasts to the example without enlarging it: [C, 1, 1] for an example
// [C, H, W] (one per channel), [W], or [1] (one number); [3, 4] for an example
// [4] is an error naming the array. Its gradient is summed over the batch and
// over the dimensions it was repeated along.
#pragma once

#include "layers/layer.hpp"

namespace strata {

class ConstantArrayLayer : public Layer {
 public:
  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  enum class Combine { Times, Plus };
  ConstantArrayLayer(Combine combine, std::string array, Initializer init);

  // Output = Input; an Automatic array = Input; a given array's dimensions
  // that are not 1 fix the Input's (right-aligned).
  void infer() override;
  // Any dims that broadcast to what is known of the Input.
  void check_array_dims(size_t i, const Dims& dims) const override;

 private:
  Combine combine_;
};

}  // namespace strata
