// What the tests of ConvolutionLayer and DeconvolutionLayer share: a layer
// made ready to run, and one forward and backward pass through it.
#pragma once

#include <doctest/doctest.h>

#include <vector>

#include "core/tensor.hpp"
#include "layers/layer.hpp"
#include "support/gradcheck.hpp"

namespace strata::testing {

// Fixes the input shape (one example) and fills Weights and Biases.
template <typename L>
L initialized(L layer, const Dims& example, uint64_t seed) {
  layer.constrain_input(0, Shape(example));
  layer.infer_shapes();
  REQUIRE(layer.shapes_known());
  layer.set_array("Weights", random_tensor(layer.arrays()[0].shape.dims(), seed));
  if (layer.biases())
    layer.set_array("Biases", random_tensor({*layer.output_channels()}, seed + 1));
  return layer;
}

// Runs forward and backward (in workspace ws, or none) with a random output
// gradient; returns {y, dx, dWeights, dBiases}.
inline std::vector<Tensor> forward_backward(const Layer& layer, const Tensor& x, uint64_t seed,
                                            Workspace* ws = nullptr) {
  Tensor y, dx, dw, db;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  layer.forward(in, out, ws, RunContext{});
  Tensor dy = random_tensor(y.shape(), seed);
  const Tensor* outc[] = {&y};
  const Tensor* gout[] = {&dy};
  Tensor* gin[] = {&dx};
  std::vector<Tensor*> garr{&dw};
  if (layer.arrays().size() > 1) garr.push_back(&db);
  layer.backward(in, outc, gout, ws, gin, garr);
  return {y, dx, dw, db};
}

}  // namespace strata::testing
