// The digits net of the main job, built with the C++ API; the same net as
// examples/digits/net.json (a check in bench/ compares the two):
//   conv1 Convolution(32, 3x3, padding 1, no biases) -> norm1 InstanceNormalization
//   -> ramp1 Ramp -> pool1 Mean pooling 2 stride 2
//   -> conv2 Convolution(64, 3x3, padding 1, no biases) -> norm2 InstanceNormalization
//   -> ramp2 Ramp -> pool2 Mean pooling 2 stride 2
//   -> flatten -> linear Linear(10) -> softmax
// for inputs [1, 8, 8] (pixels scaled to [0, 1]). Used by train_digits.cpp,
// the benchmarks and the tests.
#pragma once

#include "strata.hpp"

namespace digits {

inline strata::NetChain digits_net() {
  using namespace strata;
  return NetChain({{"conv1", ConvolutionLayer(32, 3).padding_size(1).biases(false)},
                   {"norm1", InstanceNormalizationLayer()},
                   {"ramp1", ElementwiseLayer("Ramp")},
                   {"pool1", PoolingLayer(2).stride(2).function(PoolingFunction::Mean)},
                   {"conv2", ConvolutionLayer(64, 3).padding_size(1).biases(false)},
                   {"norm2", InstanceNormalizationLayer()},
                   {"ramp2", ElementwiseLayer("Ramp")},
                   {"pool2", PoolingLayer(2).stride(2).function(PoolingFunction::Mean)},
                   {"flatten", FlattenLayer()},
                   {"linear", LinearLayer(10)},
                   {"softmax", SoftmaxLayer()}},
                  Input({1, 8, 8}));
}

}  // namespace digits
