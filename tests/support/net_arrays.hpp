// What the data-parallel tests compare (tests/train/data_parallel_test.cpp,
// tests/mpi/data_parallel.cpp): a net's arrays as one list, and how far two
// such lists are apart.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/layer.hpp"

namespace strata::testing {

// Every array value of net, in all_arrays() order.
inline std::vector<float> array_values(const Layer& net) {
  std::vector<float> all;
  for (const ArrayRef& a : net.all_arrays())
    for (float v : a.layer->arrays()[a.index].value->values())
      all.push_back(v);
  return all;
}

// max |a − b| / (max |b| + 1e-3), in double: relative to the size of the values.
template <typename T>
double relative_difference(const std::vector<T>& a, const std::vector<T>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / (scale + 1e-3);
}

}  // namespace strata::testing
