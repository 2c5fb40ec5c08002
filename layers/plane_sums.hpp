// Sums over a contiguous run of floats for the normalization layers:
// vectorized (float lanes that the compiler maps to SIMD registers), exact
// enough (lanes hold short blocks only; blocks are added in double) and
// deterministic (a fixed order that depends on the length alone).
#pragma once

#include <algorithm>
#include <cstdint>

namespace strata::plane_sums {

// Lanes summed side by side (four AVX-512 registers: enough independent
// additions to hide their latency), and elements per block.
inline constexpr int64_t kLanes = 64;
inline constexpr int64_t kBlock = 1024;

// The sum of `count` (a power of two) lanes, by halving: vector additions,
// and only log2(count) roundings per lane.
template <int64_t count>
float reduce_lanes(float* acc) {
  for (int64_t width = count / 2; width >= 1; width /= 2)
    for (int64_t j = 0; j < width; ++j)
      acc[j] += acc[j + width];
  return acc[0];
}

// Σ f(i) over i in [0, n), where f returns the value to add for element i.
template <typename F>
double sum(int64_t n, F f) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    float acc[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j)
        acc[j] += f(i + j);
    for (int64_t j = 0; i < e; ++i, ++j)
      acc[j] += f(i);
    total += reduce_lanes<kLanes>(acc);
  }
  return total;
}

// Σ f(i) and Σ g(i) together, in one sweep.
template <typename F, typename G>
void sum2(int64_t n, F f, G g, double& sum_f, double& sum_g) {
  sum_f = sum_g = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    float acc_f[kLanes / 2] = {}, acc_g[kLanes / 2] = {};
    int64_t i = b;
    for (; i + kLanes / 2 <= e; i += kLanes / 2)
      for (int64_t j = 0; j < kLanes / 2; ++j) {
        acc_f[j] += f(i + j);
        acc_g[j] += g(i + j);
      }
    for (int64_t j = 0; i < e; ++i, ++j) {
      acc_f[j] += f(i);
      acc_g[j] += g(i);
    }
    sum_f += reduce_lanes<kLanes / 2>(acc_f);
    sum_g += reduce_lanes<kLanes / 2>(acc_g);
  }
}

}  // namespace strata::plane_sums
