#include "kernels/channel_stats.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace strata::kernels;

namespace {

// Random values about `offset` (a large offset makes the first guess at the
// mean matter).
std::vector<float> values(int64_t n, uint64_t seed, float offset = 0.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v)
    f = offset + d(rng);
  return v;
}

struct Moments {
  double mean, var;
};

// Mean and biased variance by two passes in double.
Moments naive_moments(const std::vector<const float*>& runs, int64_t n) {
  double s = 0;
  for (const float* r : runs)
    for (int64_t i = 0; i < n; ++i)
      s += r[i];
  const double count = static_cast<double>(runs.size()) * static_cast<double>(n);
  const double mean = s / count;
  double v = 0;
  for (const float* r : runs)
    for (int64_t i = 0; i < n; ++i)
      v += (r[i] - mean) * (r[i] - mean);
  return {mean, v / count};
}

bool close(double a, double b, double tol) {
  return std::abs(a - b) <= tol * (1 + std::abs(b));
}

// Plane sizes: tiny, odd, a few vectors, and planes split in chunks (more
// than 16384 elements, odd).
const int64_t kSizes[] = {1, 3, 17, 255, 1000, 20001, 40000};

// plane_normalize and plane_normalize_grad of `planes` planes of n values
// (channel p % channels) against the definitions in double.
void check_plane_normalize(const std::vector<float>& x, const std::vector<float>& dy,
                           const std::vector<float>& gamma, const std::vector<float>& beta,
                           int64_t planes, int64_t channels, int64_t n, double eps) {
  std::vector<double> mean(planes);
  std::vector<float> inv_std(planes), y(x.size());
  StatsScratch scratch;
  plane_normalize(x.data(), planes, channels, n, eps, gamma.data(), beta.data(), mean.data(),
                  inv_std.data(), y.data(), scratch);
  std::vector<double> sum_dy(planes), sum_dy_xhat(planes);
  std::vector<float> dx(x.size());
  plane_normalize_grad(x.data(), dy.data(), planes, channels, n, mean.data(), inv_std.data(),
                       gamma.data(), sum_dy.data(), sum_dy_xhat.data(), dx.data(), scratch);
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x.data() + p * n;
    const Moments m = naive_moments({xp}, n);
    const double is = 1 / std::sqrt(m.var + eps);
    REQUIRE(close(mean[p], m.mean, 1e-7));
    REQUIRE(close(inv_std[p], is, 1e-5));
    const int64_t c = p % channels;
    double s = 0, sx = 0, size = 1;  // size: Σ |terms|, the scale of rounding
    for (int64_t i = 0; i < n; ++i) {
      const double xhat = (xp[i] - m.mean) * is;
      REQUIRE(close(y[p * n + i], gamma[c] * xhat + beta[c], 1e-4));
      s += dy[p * n + i];
      sx += dy[p * n + i] * xhat;
      size += std::abs(dy[p * n + i]) * (1 + std::abs(xhat));
    }
    REQUIRE(std::abs(sum_dy[p] - s) <= 1e-6 * size);
    REQUIRE(std::abs(sum_dy_xhat[p] - sx) <= 1e-6 * size);
    for (int64_t i = 0; i < n; ++i) {
      const double xhat = (xp[i] - m.mean) * is;
      const double want = gamma[c] * is * (dy[p * n + i] - s / n - xhat * sx / n);
      REQUIRE(close(dx[p * n + i], want, 1e-4 * (1 + is)));
    }
  }
}

}  // namespace

TEST_CASE("channel_stats: per-plane normalization and its gradient match the definitions") {
  for (int64_t n : kSizes)
    for (float offset : {0.0f, 3000.0f}) {
      CAPTURE(n);
      CAPTURE(offset);
      const int64_t batch = 2, channels = 3, planes = batch * channels;
      const auto x = values(planes * n, 1, offset);
      const auto dy = values(planes * n, 2);
      const auto gamma = values(channels, 3), beta = values(channels, 4);
      const double eps = 1e-5;
      check_plane_normalize(x, dy, gamma, beta, planes, channels, n, eps);
    }
}

TEST_CASE("channel_stats: planes of 16 and 64 values, 16 at a time, match the definitions") {
  // 40 planes: two blocks of 16 planes summed together, and 8 one by one.
  for (int64_t n : {16, 64})
    for (float offset : {0.0f, 3000.0f}) {
      CAPTURE(n);
      CAPTURE(offset);
      const int64_t batch = 8, channels = 5, planes = batch * channels;
      const auto x = values(planes * n, 5, offset);
      const auto gamma = values(channels, 6), beta = values(channels, 7);
      const double eps = 1e-3;
      const auto dy = values(planes * n, 8);
      check_plane_normalize(x, dy, gamma, beta, planes, channels, n, eps);
    }
}

TEST_CASE("channel_stats: per-channel moments and gradient sums over the batch") {
  for (int64_t n : kSizes)
    for (float offset : {0.0f, -5000.0f}) {
      CAPTURE(n);
      CAPTURE(offset);
      const int64_t batch = 3, channels = 2, planes = batch * channels;
      const auto x = values(planes * n, 5, offset);
      const auto dy = values(planes * n, 6);
      std::vector<double> mean(channels), var(channels);
      StatsScratch scratch;
      channel_moments(x.data(), batch, channels, n, mean.data(), var.data(), scratch);
      std::vector<float> inv_std(channels);
      for (int64_t c = 0; c < channels; ++c)
        inv_std[c] = static_cast<float>(1 / std::sqrt(var[c] + 1e-3));
      std::vector<double> sum_dy(channels), sum_dy_xhat(channels);
      channel_grad_sums(x.data(), dy.data(), batch, channels, n, mean.data(), inv_std.data(),
                        sum_dy.data(), sum_dy_xhat.data(), scratch);
      for (int64_t c = 0; c < channels; ++c) {
        std::vector<const float*> runs;
        for (int64_t e = 0; e < batch; ++e)
          runs.push_back(x.data() + (e * channels + c) * n);
        const Moments m = naive_moments(runs, n);
        CHECK(close(mean[c], m.mean, 1e-7));
        CHECK(close(var[c], m.var, 1e-4));
        double s = 0, sx = 0, size = 1;  // size: Σ |terms|, the scale of rounding
        for (int64_t e = 0; e < batch; ++e)
          for (int64_t i = 0; i < n; ++i) {
            const int64_t at = (e * channels + c) * n + i;
            const double xhat = (x[at] - mean[c]) * inv_std[c];
            s += dy[at];
            sx += dy[at] * xhat;
            size += std::abs(dy[at]) * (1 + std::abs(xhat));
          }
        CHECK(std::abs(sum_dy[c] - s) <= 1e-6 * size);
        CHECK(std::abs(sum_dy_xhat[c] - sx) <= 1e-6 * size);
      }
    }
}

TEST_CASE("channel_stats: sums over the batch, and the per-run formulas") {
  const double planes[] = {1, 2, 3, 10, 20, 30};  // batch 2, channels 3
  double out[3];
  sum_over_batch(planes, 2, 3, out);
  CHECK(out[0] == 11);
  CHECK(out[1] == 22);
  CHECK(out[2] == 33);
  // A mean that is no float: the rest goes to the shift, not lost.
  const double mean = 1000.0 + 1.0 / 3;
  const float x[] = {1000.0f, 1001.0f, 999.5f};
  float y[3];
  normalize_run(x, y, 3, mean, 2.0f, 1.5f, 0.25f);
  for (int i = 0; i < 3; ++i)
    CHECK(y[i] == doctest::Approx(1.5 * 2.0 * (x[i] - mean) + 0.25).epsilon(1e-6));
  const Xhat h(mean, 2.0f);
  CHECK(h(1000.0f) == doctest::Approx(2.0 * (1000.0 - mean)).epsilon(1e-6));
  const float dy[] = {0.5f, -1.0f, 2.0f};
  float dx[3];
  normalize_grad_run(x, dy, dx, 3, h, 3.0f, 0.25f, 0.5f);
  for (int i = 0; i < 3; ++i)
    CHECK(dx[i] == doctest::Approx(3.0 * (dy[i] - 0.25 - 2.0 * (x[i] - mean) * 0.5)).epsilon(1e-5));
}
