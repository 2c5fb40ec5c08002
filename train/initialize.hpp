// NetInitialize: creates every Automatic array of a layer or net.
#pragma once

#include <cstdint>
#include <string>

#include "layers/layer.hpp"

namespace strata {

enum class InitMethod {
  // Kaiming for the Weights of a layer whose output reaches a Ramp (ReLU)
  // through shape-keeping layers (normalization, pooling, dropout), Xavier
  // for other Weights.
  Automatic,
  Kaiming,  // normal, std = sqrt(2 / fan_in) (He et al. 2015)
  Xavier,   // normal, std = sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio 2010)
  Random,   // normal, std = `scale`
};

// "Automatic", "Kaiming", "Xavier", "Random"; an Error lists them otherwise.
InitMethod parse_init_method(const std::string& name);
std::string to_string(InitMethod method);

struct InitOptions {
  InitMethod method = InitMethod::Automatic;
  double scale = 0.01;  // for InitMethod::Random
  uint64_t seed = 0;
  // Also replace arrays that are already present.
  bool reinitialize_all = false;
};

// Creates the Automatic arrays (or all, with reinitialize_all): Weights by
// the method, Biases/Beta/MovingMean 0, Gamma/MovingVariance 1. Each array's
// values depend only on the seed and the array's path, so the same seed gives
// bit-identical arrays on every run and thread count. Throws an Error naming
// the array when its shape is not fully inferred.
void NetInitialize(Layer& net, const InitOptions& options = {});

}  // namespace strata
