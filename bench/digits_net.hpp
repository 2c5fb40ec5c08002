// The digits net of the main job, built with strata's C++ API:
// Convolution(8, 3x3, padding 1) -> InstanceNormalization -> Ramp ->
// Pooling 2 stride 2 -> Convolution(16, 3x3, padding 1) ->
// InstanceNormalization -> Ramp -> Pooling 2 stride 2 -> Flatten ->
// Linear(10) -> Softmax, for inputs [1, 8, 8].
#pragma once

#include "strata.hpp"

namespace bench {

inline strata::NetChain digits_net() {
  using namespace strata;
  return NetChain({ConvolutionLayer(8, {3, 3}).padding_size(1), InstanceNormalizationLayer(),
                   ElementwiseLayer("Ramp"), PoolingLayer({2, 2}).stride(2),
                   ConvolutionLayer(16, {3, 3}).padding_size(1), InstanceNormalizationLayer(),
                   ElementwiseLayer("Ramp"), PoolingLayer({2, 2}).stride(2), FlattenLayer(),
                   LinearLayer(10), SoftmaxLayer()},
                  Input({1, 8, 8}));
}

}  // namespace bench
