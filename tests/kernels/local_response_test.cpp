#include "kernels/local_response.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/threads.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

// Σ over the window of c of v[c'][p], directly, in long double.
long double window_sum(const std::vector<double>& v, int64_t channels, int64_t n, int64_t radius,
                       int64_t c, int64_t p) {
  long double s = 0;
  for (int64_t k = std::max<int64_t>(0, c - radius); k <= std::min(channels - 1, c + radius); ++k)
    s += v[k * n + p];
  return s;
}

// Runs sliding_channel_sums over every block and chunk of one example.
std::vector<double> slid(const std::vector<double>& v, int64_t channels, int64_t n,
                         int64_t radius) {
  std::vector<double> out(v.size());
  const int64_t block = kernels::channel_block(radius);
  for (int64_t c0 = 0; c0 < channels; c0 += block)
    for (int64_t p0 = 0; p0 < n; p0 += kernels::kWindowChunk) {
      const int64_t len = std::min(kernels::kWindowChunk, n - p0);
      kernels::sliding_channel_sums(
          channels, radius, c0, std::min(channels, c0 + block), p0, len,
          [&](int64_t c, int64_t p) { return v[c * n + p]; },
          [&](int64_t c, const double* sum) {
            for (int64_t i = 0; i < len; ++i)
              out[c * n + p0 + i] = sum[i];
          });
    }
  return out;
}

}  // namespace

TEST_CASE("kernels::sliding_channel_sums equals the direct window sums") {
  const int64_t channels = 37, n = 300;
  for (int64_t radius : {0, 1, 2, 5, 40}) {
    CAPTURE(radius);
    std::vector<double> v(channels * n);
    const Tensor r = random_tensor({channels * n}, 3);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = r[static_cast<int64_t>(i)];
    const auto s = slid(v, channels, n, radius);
    double worst = 0;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < n; ++p)
        worst = std::max(
            worst,
            static_cast<double>(std::abs(s[c * n + p] - window_sum(v, channels, n, radius, c, p))));
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("kernels::sliding_channel_sums stays exact next to huge terms, Inf and NaN") {
  // Squares of activations of 1e6 next to activations of 1: in float, the
  // large channel would leave its rounding (2^-24 · 1e12) in the sums after it.
  const int64_t channels = 40, n = 3, radius = 1;
  std::vector<double> v(channels * n, 1.0);
  for (int64_t p = 0; p < n; ++p)
    v[5 * n + p] = 1e12;
  v[20 * n + 0] = std::numeric_limits<double>::infinity();
  v[25 * n + 1] = std::numeric_limits<double>::quiet_NaN();
  const auto s = slid(v, channels, n, radius);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t p = 0; p < n; ++p) {
      CAPTURE(c);
      CAPTURE(p);
      const double want = static_cast<double>(window_sum(v, channels, n, radius, c, p));
      if (std::isnan(want))
        CHECK(std::isnan(s[c * n + p]));
      else if (std::isinf(want))
        CHECK(s[c * n + p] == want);
      else
        CHECK(s[c * n + p] == want);
    }
  // Past the large channel's window the sums are 3 again (edges: 2).
  CHECK(s[10 * n] == 3.0);
  CHECK(s[30 * n + 1] == 3.0);
  CHECK(s[(channels - 1) * n] == 2.0);
}

TEST_CASE("kernels::local_response_forward and backward give the same bits on any thread count") {
  const int64_t batch = 3, channels = 50, n = 513;
  const Tensor x = random_tensor({batch, channels, n}, 5, -3.0f, 3.0f);
  const Tensor dy = random_tensor({batch, channels, n}, 6);
  const kernels::LocalResponseParams params{3, 2.0, 0.75, 1.0};
  auto run = [&](int threads) {
    set_num_threads(threads);
    const size_t size = static_cast<size_t>(x.size());
    std::vector<float> y(size), base(size), denom(size), dx(size);
    kernels::local_response_forward(x.data(), batch, channels, n, params, y.data(), base.data(),
                                    denom.data());
    kernels::local_response_backward(x.data(), dy.data(), base.data(), denom.data(), batch,
                                     channels, n, params, dx.data());
    y.insert(y.end(), dx.begin(), dx.end());
    return y;
  };
  const int before = num_threads();
  const auto one = run(1);
  const auto two = run(2);
  const auto four = run(4);
  set_num_threads(before);
  CHECK(one == two);
  CHECK(one == four);
  // And the forward is the formula.
  double worst = 0;
  for (int64_t e = 0; e < batch; ++e)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < n; ++p) {
        double s = 0;
        for (int64_t k = std::max<int64_t>(0, c - 3); k <= std::min<int64_t>(channels - 1, c + 3);
             ++k) {
          const double v = x[(e * channels + k) * n + p];
          s += v * v;
        }
        const int64_t i = (e * channels + c) * n + p;
        const double want = x[i] / std::pow(1.0 + 2.0 / 7 * s, 0.75);
        worst = std::max(
            worst, std::abs(one[static_cast<size_t>(i)] - want) / (1e-7 + 1e-6 * std::abs(want)));
      }
  CHECK(worst <= 1.0);
}
