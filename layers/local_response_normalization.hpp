// LocalResponseNormalizationLayer (Krizhevsky, Sutskever, Hinton 2012,
// "ImageNet Classification with Deep Convolutional Neural Networks", §3.3).
// With n = ChannelWindowSize, for each example, channel c of C and position p:
//   D = (Bias + Alpha / (2n + 1) · Σ x_{c'p}² over c' = max(0, c − n) … min(C − 1, c + n))^Beta,
//   y = x / D.
// This is ONNX's LRN with size 2n + 1 and PyTorch's
// nn.LocalResponseNorm(2n + 1, Alpha, Beta, Bias): channels past either end
// count as zeros, and the sum is divided by the full window size.
// Input: [C, d1, …] (rank 2 or more); Output: the same shape. No arrays.
// Options: ChannelWindowSize (2, an integer ≥ 0), Alpha (1.0), Beta (0.5),
// Bias (1.0), any finite numbers. IEEE results: a negative base with a
// non-integer Beta gives NaN, and Bias 0 with an all-zero window gives 0 / 0 =
// NaN, as in PyTorch.
//
//   LocalResponseNormalizationLayer().channel_window_size(2).alpha(1e-4).beta(0.75)
#pragma once

#include "layers/layer.hpp"

namespace strata {

class LocalResponseNormalizationLayer : public Layer {
 public:
  LocalResponseNormalizationLayer();

  // Setters check their value and throw an Error naming the option.
  LocalResponseNormalizationLayer& channel_window_size(int64_t value);  // default 2, ≥ 0
  LocalResponseNormalizationLayer& alpha(double value);                 // default 1.0
  LocalResponseNormalizationLayer& beta(double value);                  // default 0.5
  LocalResponseNormalizationLayer& bias(double value);                  // default 1.0
  int64_t channel_window_size() const { return channel_window_size_; }
  double alpha() const { return alpha_; }
  double beta() const { return beta_; }
  double bias() const { return bias_; }

  std::string type() const override { return "LocalResponseNormalizationLayer"; }
  std::unique_ptr<Layer> clone() const override;
  const OptionTable& option_table() const override;
  LayerTraits traits() const override { return {.transparent_to_activation = true}; }

  // A forward in training mode keeps the base and D of every element (two
  // floats each) for backward; after any other forward, backward computes
  // them again.
  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  void infer() override;

 private:
  int64_t channel_window_size_ = 2;
  double alpha_ = 1.0;
  double beta_ = 0.5;
  double bias_ = 1.0;
};

}  // namespace strata
