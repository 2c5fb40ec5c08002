#include "kernels/elementwise_functions.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/threads.hpp"

using namespace strata;

namespace {

std::vector<float> grid(int64_t n, float lo, float hi) {
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1);
  return x;
}

// Within one unit in the last place.
bool close_ulp(float a, float b) {
  return a == b || std::nextafter(a, b) == b;
}

}  // namespace

TEST_CASE(
    "elementwise kernels: apply and apply_derivative give the same bits on any thread count") {
  const int64_t n = 3 * elementwise::kParallelMin + 17;  // shared between threads
  const std::vector<float> x = grid(n, -6.0f, 6.0f);
  const std::vector<float> dy = grid(n, 1.0f, -1.0f);
  const elementwise::Mish f;
  const int threads = num_threads();
  std::vector<std::vector<float>> ys, dxs;
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    std::vector<float> y(n), dx(n);
    elementwise::apply(f, x.data(), y.data(), n);
    elementwise::apply_derivative(f, x.data(), y.data(), dy.data(), dx.data(), n);
    ys.push_back(y);
    dxs.push_back(dx);
  }
  set_num_threads(threads);
  CHECK(ys[0] == ys[1]);
  CHECK(ys[0] == ys[2]);
  CHECK(dxs[0] == dxs[1]);
  CHECK(dxs[0] == dxs[2]);
  for (int64_t i = 0; i < n; i += 997) {
    CHECK(ys[0][i] == f.value(x[i]));
    CHECK(dxs[0][i] == dy[i] * f.derivative(x[i], ys[0][i]));
  }
}

TEST_CASE("elementwise kernels: Power's common exponents agree with std::pow") {
  // The layer runs Power 1, 2 and 1/2 as Identity, Square and Sqrt.
  for (float x : grid(401, 0.0f, 20.0f)) {
    CAPTURE(x);
    CHECK(close_ulp(elementwise::Square{}.value(x), elementwise::Power{2.0f}.value(x)));
    CHECK(close_ulp(elementwise::Square{}.derivative(x, 0),
                    elementwise::Power{2.0f}.derivative(x, 0)));
    CHECK(close_ulp(elementwise::Sqrt{}.value(x), elementwise::Power{0.5f}.value(x)));
    CHECK(elementwise::Identity{}.value(x) == elementwise::Power{1.0f}.value(x));
    CHECK(elementwise::Identity{}.derivative(x, x) == elementwise::Power{1.0f}.derivative(x, x));
    if (x > 0) {
      const float y = elementwise::Sqrt{}.value(x);
      CHECK(std::abs(elementwise::Sqrt{}.derivative(x, y) -
                     elementwise::Power{0.5f}.derivative(x, y)) <=
            1e-6f * elementwise::Sqrt{}.derivative(x, y));
    }
  }
  CHECK(elementwise::Power{0.0f}.derivative(0.0f, 1.0f) == 0.0f);  // not 0 · 0^−1
}

TEST_CASE("elementwise kernels: HardSigmoid is clip(x / 6 + 1/2, 0, 1)") {
  for (float x : grid(241, -6.0f, 6.0f)) {
    CAPTURE(x);
    const float expected = std::fmin(1.0f, std::fmax(0.0f, x / 6.0f + 0.5f));
    CHECK(std::abs(elementwise::HardSigmoid{}.value(x) - expected) <= 1e-7f);
  }
}
