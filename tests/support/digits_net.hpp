// The main job's digits net (examples/digits/net.json and train_digits.cpp),
// for tests about whole training steps.
#pragma once

#include "graph/net_chain.hpp"
#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/pooling.hpp"
#include "layers/softmax.hpp"

namespace strata::testing {

inline NetChain digits_net() {
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

}  // namespace strata::testing
