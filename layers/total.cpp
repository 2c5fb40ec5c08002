#include "layers/total.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/threads.hpp"

namespace strata {

TotalLayer::TotalLayer() : TotalLayer(2) {}

TotalLayer::TotalLayer(size_t inputs) : Layer({}, {{"Output", Shape()}}) {
  set_input_count(inputs);
}

std::unique_ptr<Layer> TotalLayer::clone() const {
  return std::make_unique<TotalLayer>(*this);
}

void TotalLayer::set_input_count(size_t n) {
  if (n < 1) throw Error("TotalLayer needs at least 1 input, got 0");
  inputs_.resize(n);
  for (size_t i = 0; i < n; ++i)
    inputs_[i].name = "Input" + std::to_string(i + 1);
}

void TotalLayer::infer() {
  // Gather what every port knows, then give it to all of them.
  Shape all = outputs_[0].shape;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    constrain_input(i, all, "same as the other inputs and Output");
    all = inputs_[i].shape;
  }
  for (size_t i = 0; i < inputs_.size(); ++i)
    constrain_input(i, all, "same as the other inputs and Output");
  constrain_output(0, all, "same as the inputs");
}

void TotalLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                         const RunContext& /*ctx*/) const {
  if (in.size() != inputs_.size())
    throw Error("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                std::to_string(in.size()));
  const Tensor& first = *in[0];
  for (size_t k = 1; k < in.size(); ++k)
    if (in[k]->shape() != first.shape())
      throw Error(inputs_[k].name + ": expected a batch of shape " + to_string(first.shape()) +
                  " (same as Input1), got " + to_string(in[k]->shape()));
  Tensor& y = *out[0];
  y.resize(first.shape());
  std::copy(first.values().begin(), first.values().end(), y.values().begin());
  float* yd = y.data();
  const int64_t n = y.size();
  // Added one input after another: the same order, and result, on any thread count.
  for (size_t k = 1; k < in.size(); ++k) {
    const float* xd = in[k]->data();
    parallel_for(
        n, [&](int64_t i) { yd[i] += xd[i]; }, int64_t{1} << 15);
  }
}

void TotalLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* /*ws*/,
                          Outputs in_grad, Outputs /*array_grad*/) const {
  const Tensor& dy = *out_grad[0];
  if (dy.shape() != in[0]->shape())
    throw Error("Output gradient: expected shape " + to_string(in[0]->shape()) + ", got " +
                to_string(dy.shape()));
  for (size_t k = 0; k < in_grad.size() && k < in.size(); ++k) {
    if (!in_grad[k]) continue;
    in_grad[k]->resize(dy.shape());
    std::copy(dy.values().begin(), dy.values().end(), in_grad[k]->values().begin());
  }
}

}  // namespace strata
