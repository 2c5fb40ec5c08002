#include "layers/flatten.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "layers/reshape.hpp"

namespace strata {

FlattenLayer::FlattenLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape::of_rank(1)}}) {}

std::unique_ptr<Layer> FlattenLayer::clone() const {
  return std::make_unique<FlattenLayer>(*this);
}

void FlattenLayer::infer() {
  const Shape& in = inputs_[0].shape;
  if (!in.rank_known()) return;
  if (in.rank() < 1) throw Error("Input: expected rank 1 or more, got " + in.to_string());
  const auto [known, unknown, unknown_at] = count_dims(in);
  if (unknown == 0) {
    constrain_output(0, Shape{known}, "the elements of Input " + in.to_string());
    return;
  }
  const Shape& out = outputs_[0].shape;
  if (unknown == 1 && out.dim_known(0)) {
    if (known == 0 || out[0] % known != 0)
      throw Error("Input: " + in.to_string() + " cannot hold the " + std::to_string(out[0]) +
                  " elements of Output " + out.to_string());
    Shape want = in;
    want[unknown_at] = out[0] / known;
    constrain_input(0, want, "elements fixed by Output");
  }
}

void FlattenLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                           const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  if (x.rank() < 2)
    throw Error("Input: expected a batch of rank 2 or more, got " + to_string(x.shape()));
  Tensor& y = *out[0];
  // The size of one example (checked already: x exists); no Dims built, so
  // a training step allocates nothing.
  y.resize({x.dim(0), x.dim(0) ? x.size() / x.dim(0) : 0});
  std::copy(x.values().begin(), x.values().end(), y.values().begin());
}

void FlattenLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* /*ws*/,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  reshape_backward(in, out_grad, in_grad);
}

}  // namespace strata
