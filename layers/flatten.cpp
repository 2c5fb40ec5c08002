#include "layers/flatten.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace strata {

FlattenLayer::FlattenLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape::of_rank(1)}}) {}

std::unique_ptr<Layer> FlattenLayer::clone() const {
  return std::make_unique<FlattenLayer>(*this);
}

void FlattenLayer::infer() {
  const Shape& in = inputs_[0].shape;
  if (!in.rank_known()) return;
  if (in.rank() < 1) throw Error("Input: expected rank 1 or more, got " + in.to_string());
  int64_t known = 1;
  int unknown = 0;
  size_t unknown_at = 0;
  for (size_t i = 0; i < in.rank(); ++i) {
    if (in.dim_known(i)) {
      known *= in[i];
    } else {
      ++unknown;
      unknown_at = i;
    }
  }
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
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  if (dy.size() != x.size())
    throw Error("Output gradient: expected " + std::to_string(x.size()) + " elements, got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  std::copy(dy.values().begin(), dy.values().end(), dx->values().begin());
}

}  // namespace strata
