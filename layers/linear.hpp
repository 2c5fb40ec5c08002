// LinearLayer: a fully connected layer, y = W x + b.
// Input: any shape; an input of rank other than 1 is flattened, so `in` is the
// number of elements of one example. Output: [Size].
// Arrays: Weights [Size, in], Biases [Size].
#pragma once

#include <optional>

#include "layers/layer.hpp"

namespace strata {

class LinearLayer : public Layer {
 public:
  // Size unset: shape inference reports it missing until it is given.
  LinearLayer();
  explicit LinearLayer(int64_t size);

  // The number of outputs (required, at least 1).
  LinearLayer& size(int64_t value);
  std::optional<int64_t> size() const { return size_; }

  std::string type() const override { return "LinearLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // {"Size": n}, or {"Size": null} while it is unset; set_option accepts null
  // to unset it again, so that options() always round-trips.
  const OptionTable& option_table() const override;

  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

  static constexpr size_t kWeights = 0;
  static constexpr size_t kBiases = 1;

 protected:
  void infer() override;

 private:
  std::optional<int64_t> size_;
};

}  // namespace strata
