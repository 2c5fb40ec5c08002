// Builds a chain with an InstanceNormalizationLayer, initializes and applies it.
#include <strata.hpp>

#include <cmath>
#include <cstdio>

int main() {
  using namespace strata;
  NetChain net({{"norm", InstanceNormalizationLayer()}}, Input({2, 3, 3}));
  NetInitialize(net);
  Tensor x({2, 3, 3});
  for (int64_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i * i % 7);
  Tensor y = net(x);
  double mean = 0;
  for (int64_t i = 0; i < 9; ++i)
    mean += y[i];
  std::printf("channel 0 mean after normalization: %.6f\n", mean / 9);
  return std::abs(mean / 9) < 1e-5 ? 0 : 1;
}
