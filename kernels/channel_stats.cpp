#include "kernels/channel_stats.hpp"

#include <algorithm>
#include <cmath>

#include "core/threads.hpp"
#include "kernels/common.hpp"
#include "kernels/plane_sums.hpp"

namespace strata::kernels {

namespace {

// Planes longer than this are split into chunks, so that a few large planes
// still keep every thread busy. The split depends on the plane size alone, so
// results do not depend on the number of threads.
constexpr int64_t kChunk = 16384;

// Small planes are handled a group at a time: about this many elements.
constexpr int64_t kGroupElements = 4096;
constexpr int64_t kMaxGroup = 64;

int64_t group_of(int64_t n) {
  return std::clamp<int64_t>(kGroupElements / std::max<int64_t>(1, n), 1, kMaxGroup);
}

struct Split {
  int64_t chunks;  // per plane
  int64_t len;     // elements per chunk (the last one may have fewer)
};

Split split_plane(int64_t n) {
  const int64_t chunks = std::max<int64_t>(1, (n + kChunk - 1) / kChunk);
  const int64_t len = ((n + chunks - 1) / chunks + plane_sums::kLanes - 1) / plane_sums::kLanes *
                      plane_sums::kLanes;
  return {chunks, std::max<int64_t>(len, 1)};
}

using plane_sums::centered_sums;
using plane_sums::first_mean;

// The mean and 1 / sqrt(variance + eps) from the sums about c; false when c
// was too far from the mean for the sums to give the variance exactly.
bool finish_stats(float c, double s1, double s2, int64_t n, double eps, double& mean,
                  float& inv_std) {
  double var;
  const bool exact = plane_sums::variance_from_sums(c, s1, s2, static_cast<double>(n), mean, var);
  inv_std = static_cast<float>(1.0 / std::sqrt(var + eps));
  return exact;
}

// The statistics of a whole run: one pass about a first guess, and a second
// pass about the mean that gives when the guess was poor.
void run_stats(const float* x, int64_t n, float c, double s1, double s2, double eps, double& mean,
               float& inv_std) {
  if (finish_stats(c, s1, s2, n, eps, mean, inv_std)) return;
  c = static_cast<float>(mean);
  centered_sums(x, n, c, s1, s2);
  // Still not exact only for a nearly constant run whose mean falls between
  // two floats: the differences from c are exact, and the tiny variance is
  // taken as it is.
  finish_stats(c, s1, s2, n, eps, mean, inv_std);
}

// Σ dy and Σ dy·x̂ over a run.
void grad_sums(const float* x, const float* dy, int64_t n, Xhat h, double& s, double& sx) {
  plane_sums::sum2(
      n, x, dy, [](auto, auto g) { return g; }, [h](auto v, auto g) { return g * h(v); }, s, sx);
}

}  // namespace

void sum_over_batch(const double* planes, int64_t batch, int64_t channels, double* out) {
  std::fill_n(out, channels, 0.0);
  for (int64_t e = 0; e < batch; ++e)
    for (int64_t c = 0; c < channels; ++c)
      out[c] += planes[e * channels + c];
}

void plane_normalize(const float* xd, int64_t planes, int64_t channels, int64_t n, double eps,
                     const float* gamma, const float* beta, double* mean, float* inv_std, float* yd,
                     StatsScratch& work) {
  const Split split = split_plane(n);
  const int64_t units = planes * split.chunks;
  if (split.chunks == 1) {
    // Each plane in one piece, statistics and output while it is in cache;
    // small planes a group at a time, each step for the whole group (the
    // planes' independent sums and divisions then overlap).
    const int64_t group = group_of(n);
    parallel_for(ceil_div(planes, group), [&](int64_t k) {
      const int64_t p0 = k * group, p1 = std::min(planes, p0 + group);
      float c[kMaxGroup];
      double s1[kMaxGroup], s2[kMaxGroup];
      for (int64_t p = p0; p < p1; ++p)
        c[p - p0] = first_mean(xd + p * n, n);
      for (int64_t p = p0; p < p1; ++p)
        centered_sums(xd + p * n, n, c[p - p0], s1[p - p0], s2[p - p0]);
      for (int64_t p = p0; p < p1; ++p)
        run_stats(xd + p * n, n, c[p - p0], s1[p - p0], s2[p - p0], eps, mean[p], inv_std[p]);
      for (int64_t p = p0; p < p1; ++p)
        normalize_run(xd + p * n, yd + p * n, n, mean[p], inv_std[p], gamma[p % channels],
                      beta[p % channels]);
    });
  } else {
    work.center.resize(static_cast<size_t>(planes));
    work.part_a.resize(static_cast<size_t>(units));
    work.part_b.resize(static_cast<size_t>(units));
    float* center = work.center.data();
    double* part_a = work.part_a.data();
    double* part_b = work.part_b.data();
    const int64_t chunks = split.chunks, len = split.len;
    // Chunk u covers [begin, end) of its plane.
    auto range = [&](int64_t u, int64_t& begin, int64_t& end) {
      begin = std::min(n, (u % chunks) * len);
      end = std::min(n, begin + len);
    };
    parallel_for(planes, [&](int64_t p) { center[p] = first_mean(xd + p * n, n); });
    parallel_for(units, [&](int64_t u) {
      int64_t b, e;
      range(u, b, e);
      centered_sums(xd + (u / chunks) * n + b, e - b, center[u / chunks], part_a[u], part_b[u]);
    });
    parallel_for(planes, [&](int64_t p) {
      double s1 = 0, s2 = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        s1 += part_a[p * chunks + k];
        s2 += part_b[p * chunks + k];
      }
      run_stats(xd + p * n, n, center[p], s1, s2, eps, mean[p], inv_std[p]);
    });
    parallel_for(units, [&](int64_t u) {
      int64_t b, e;
      range(u, b, e);
      const int64_t p = u / chunks;
      normalize_run(xd + p * n + b, yd + p * n + b, e - b, mean[p], inv_std[p], gamma[p % channels],
                    beta[p % channels]);
    });
  }
}

void plane_normalize_grad(const float* xd, const float* dyd, int64_t planes, int64_t channels,
                          int64_t n, const double* mean, const float* inv_std, const float* gamma,
                          double* sum_dy, double* sum_dy_xhat, float* dxd, StatsScratch& work) {
  const double inv_n = n ? 1.0 / static_cast<double>(n) : 0.0;
  auto dx_plane = [&](int64_t p, int64_t b, int64_t e) {
    normalize_grad_run(xd + p * n + b, dyd + p * n + b, dxd + p * n + b, e - b,
                       Xhat(mean[p], inv_std[p]), gamma[p % channels] * inv_std[p],
                       static_cast<float>(sum_dy[p] * inv_n),
                       static_cast<float>(sum_dy_xhat[p] * inv_n));
  };
  const Split split = split_plane(n);
  if (split.chunks == 1) {
    const int64_t group = group_of(n);
    parallel_for(ceil_div(planes, group), [&](int64_t k) {
      const int64_t p0 = k * group, p1 = std::min(planes, p0 + group);
      for (int64_t p = p0; p < p1; ++p)
        grad_sums(xd + p * n, dyd + p * n, n, Xhat(mean[p], inv_std[p]), sum_dy[p], sum_dy_xhat[p]);
      if (dxd)
        for (int64_t p = p0; p < p1; ++p)
          dx_plane(p, 0, n);
    });
  } else {
    const int64_t chunks = split.chunks, len = split.len, units = planes * chunks;
    work.part_a.resize(static_cast<size_t>(units));
    work.part_b.resize(static_cast<size_t>(units));
    double* part_a = work.part_a.data();
    double* part_b = work.part_b.data();
    auto range = [&](int64_t u, int64_t& begin, int64_t& end) {
      begin = std::min(n, (u % chunks) * len);
      end = std::min(n, begin + len);
    };
    parallel_for(units, [&](int64_t u) {
      int64_t b, e;
      range(u, b, e);
      const int64_t p = u / chunks;
      grad_sums(xd + p * n + b, dyd + p * n + b, e - b, Xhat(mean[p], inv_std[p]), part_a[u],
                part_b[u]);
    });
    parallel_for(planes, [&](int64_t p) {
      double s = 0, sx = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        s += part_a[p * chunks + k];
        sx += part_b[p * chunks + k];
      }
      sum_dy[p] = s;
      sum_dy_xhat[p] = sx;
    });
    if (dxd) {
      parallel_for(units, [&](int64_t u) {
        int64_t b, e;
        range(u, b, e);
        dx_plane(u / chunks, b, e);
      });
    }
  }
}

int64_t channel_moments(const float* xd, int64_t batch, int64_t channels, int64_t n, double* mean,
                        double* var, StatsScratch& work, Communicator* comm) {
  // Per plane, Σ (x − c) and Σ (x − c)² about a first guess c at the
  // channel's mean (from the first example), reduced over the batch in a
  // fixed order (and then across processes). A channel whose guess was poor
  // is summed again.
  const bool shared = is_distributed(comm);
  const int64_t planes = batch * channels;
  work.center.resize(static_cast<size_t>(channels));
  work.part_a.resize(static_cast<size_t>(planes));
  work.part_b.resize(static_cast<size_t>(planes));
  work.channel_a.resize(static_cast<size_t>(channels));
  work.channel_b.resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c)
    work.center[c] = batch > 0 ? plane_sums::first_mean(xd + c * n, n) : 0.0f;
  // Every process sums about the same guess, so that the sums add up.
  if (shared)
    comm->broadcast(work.center.data(), channels * static_cast<int64_t>(sizeof(float)), 0);
  double count = static_cast<double>(batch * n);
  for (int pass = 0; pass < 2; ++pass) {
    parallel_for(planes, [&](int64_t p) {
      const int64_t c = p % channels;
      if (pass == 1 && var[c] >= 0) return;  // exact already
      plane_sums::centered_sums(xd + p * n, n, work.center[c], work.part_a[p], work.part_b[p]);
    });
    sum_over_batch(work.part_a.data(), batch, channels, work.channel_a.data());
    sum_over_batch(work.part_b.data(), batch, channels, work.channel_b.data());
    if (shared) {
      // One reduction for both sums and the count; the count is exact in a
      // double.
      std::vector<double>& buf = work.shared;
      buf.resize(static_cast<size_t>(2 * channels + 1));
      std::copy_n(work.channel_a.data(), channels, buf.data());
      std::copy_n(work.channel_b.data(), channels, buf.data() + channels);
      buf[2 * channels] = static_cast<double>(batch * n);
      comm->allreduce_sum(buf.data(), 2 * channels + 1);
      std::copy_n(buf.data(), channels, work.channel_a.data());
      std::copy_n(buf.data() + channels, channels, work.channel_b.data());
      count = buf[2 * channels];
    }
    // Every process decides from the same sums, so they agree on a second pass.
    bool again = false;
    for (int64_t c = 0; c < channels; ++c) {
      if (pass == 1 && var[c] >= 0) continue;
      double m, v;
      const bool exact = plane_sums::variance_from_sums(work.center[c], work.channel_a[c],
                                                        work.channel_b[c], count, m, v);
      mean[c] = m;
      // −1 marks a channel to sum again (pass 0 only; then it is taken as is).
      var[c] = exact || pass == 1 ? v : -1;
      if (!exact && pass == 0) {
        work.center[c] = static_cast<float>(m);
        again = true;
      }
    }
    if (!again) break;
  }
  return static_cast<int64_t>(count);
}

void channel_grad_sums(const float* xd, const float* dyd, int64_t batch, int64_t channels,
                       int64_t n, const double* mean, const float* inv_std, double* sum_dy,
                       double* sum_dy_xhat, StatsScratch& work) {
  const int64_t planes = batch * channels;
  work.part_a.resize(static_cast<size_t>(planes));
  work.part_b.resize(static_cast<size_t>(planes));
  double* part_a = work.part_a.data();
  double* part_b = work.part_b.data();
  parallel_for(planes, [&](int64_t p) {
    const int64_t c = p % channels;
    grad_sums(xd + p * n, dyd + p * n, n, Xhat(mean[c], inv_std[c]), part_a[p], part_b[p]);
  });
  sum_over_batch(part_a, batch, channels, sum_dy);
  sum_over_batch(part_b, batch, channels, sum_dy_xhat);
}

}  // namespace strata::kernels
