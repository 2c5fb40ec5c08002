// CatenateLayer: joins its inputs along the first dimension of an example
// (the channels), as torch.cat(dim=1) on batches.
// Inputs: Input1 … Inputn (2 by default; set_input_count(n) for n ≥ 1), each
// [C_k, d1, d2, …] with the same rank and the same d1, d2, …;
// Output: [Σ C_k, d1, d2, …]. No options, no arrays.
#pragma once

#include "layers/layer.hpp"

namespace strata {

class CatenateLayer : public Layer {
 public:
  CatenateLayer();
  explicit CatenateLayer(size_t inputs);

  std::string type() const override { return "CatenateLayer"; }
  std::unique_ptr<Layer> clone() const override;
  bool variadic_inputs() const override { return true; }
  // Ports Input1 … Inputn; the shapes known of the ports that remain are kept.
  void set_input_count(size_t n) override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Any known rank is every port's rank; the dimensions after the first are
  // shared by all ports; the Output's channels are the sum of the inputs',
  // and with the Output and all inputs but one known, the last one follows.
  void infer() override;
};

}  // namespace strata
