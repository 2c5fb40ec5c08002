// The digits net of the main job (`make run`: examples/digits/train_digits.cpp,
// and examples/digits/net.json), built with strata's C++ API as the example
// builds it:
//   conv1 Convolution(32, 3x3, padding 1, no biases) -> norm1 InstanceNormalization
//   -> ramp1 Ramp -> pool1 Mean pooling 2 stride 2
//   -> conv2 Convolution(64, 3x3, padding 1, no biases) -> norm2 InstanceNormalization
//   -> ramp2 Ramp -> pool2 Mean pooling 2 stride 2
//   -> flatten -> linear Linear(10) -> softmax
// for inputs [1, 8, 8]. The main job's training options are in cases.hpp.
#pragma once

#include <filesystem>
#include <string>

#include "strata.hpp"

namespace bench {

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

// Throws an Error unless the net file (the main job's net.json) describes
// exactly digits_net(): the same layers, names, options and input shape.
inline void check_digits_net_file(const std::filesystem::path& file) {
  const nlohmann::json built = strata::net_to_json(digits_net());
  const nlohmann::json loaded = strata::net_to_json(*strata::load_net(file));
  if (built != loaded)
    throw strata::Error(file.string() + ": the net differs from bench::digits_net(): expected " +
                        built.dump() + ", got " + loaded.dump());
}

}  // namespace bench
