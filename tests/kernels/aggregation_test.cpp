#include "kernels/aggregation.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/threads.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;

TEST_CASE("kernels::plane_extremes finds the first extreme, and the first NaN") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {1, 5, 16, 17, 40, 333}) {
    CAPTURE(n);
    std::vector<float> x(static_cast<size_t>(n), 0.0f);
    float y;
    int64_t at;
    // All equal: the first.
    kernels::plane_extremes(x.data(), 1, n, true, &y, &at);
    CHECK(at == 0);
    // Two equal maxima and two equal minima, the second of each in another lane.
    if (n >= 5) {
      x[1] = x[n - 1] = 3;
      x[2] = x[n - 2] = -3;
      kernels::plane_extremes(x.data(), 1, n, true, &y, &at);
      CHECK(y == 3);
      CHECK(at == 1);
      kernels::plane_extremes(x.data(), 1, n, false, &y, &at);
      CHECK(y == -3);
      CHECK(at == 2);
      // NaNs win over any number, the first of them.
      x[n - 1] = nan;
      x[3] = nan;
      kernels::plane_extremes(x.data(), 1, n, true, &y, &at);
      CHECK(std::isnan(y));
      CHECK(at == 3);
      kernels::plane_extremes(x.data(), 1, n, false, &y, &at);
      CHECK(std::isnan(y));
      CHECK(at == 3);
    }
    // −Inf everywhere: the maximum is −Inf, at the first.
    std::fill(x.begin(), x.end(), -inf);
    kernels::plane_extremes(x.data(), 1, n, true, &y, &at);
    CHECK(y == -inf);
    CHECK(at == 0);
  }
  float y;
  int64_t at;
  kernels::plane_extremes(nullptr, 1, 0, true, &y, &at);
  CHECK(y == -inf);
  CHECK(at == -1);
}

TEST_CASE("kernels::plane_sums is accurate over long planes and the same on any thread count") {
  const int64_t planes = 6, n = 5000;
  Tensor x = random_tensor({planes, n}, 9);
  for (float& v : x.values())
    v += 1000.0f;  // a large common part: a float running sum would drift
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> y(planes);
    kernels::plane_sums(x.data(), planes, n, 1.0 / n, y.data());
    return y;
  };
  const int before = num_threads();
  const auto one = run(1), two = run(2), three = run(3);
  set_num_threads(before);
  CHECK(one == two);
  CHECK(one == three);
  for (int64_t p = 0; p < planes; ++p) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
      s += x[p * n + i];
    CHECK(one[p] == doctest::Approx(s / n).epsilon(1e-7));
  }
}
