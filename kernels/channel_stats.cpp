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
// Planes at least this long are normalized in a pipeline, kPipelineGroup
// planes per work item.
constexpr int64_t kPipelinedPlane = 512;
constexpr int64_t kPipelineGroup = 16;

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
               float& inv_std);

// Instance normalization's sums, with four vector accumulators per sum (the
// adds' latency overlapped: a plane of a few thousand values is summed at the
// core's load rate rather than its add latency) and one load per input
// value. As plane_sums: blocks of kBlock values in float lanes, the blocks in
// double; the order depends on n alone.
using plane_sums::fold16;
using plane_sums::kBlock;
using plane_sums::kWidth;
using plane_sums::load;
using plane_sums::Vec;

// Σ f(x) and Σ g(x) over a run, f and g of a Vec or a float.
template <typename F, typename G>
void fast_sums(const float* x, int64_t n, F f, G g, double& sum_f, double& sum_g) {
  sum_f = sum_g = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    Vec f0{}, f1{}, f2{}, f3{}, g0{}, g1{}, g2{}, g3{};
    int64_t i = b;
    for (; i + 4 * kWidth <= e; i += 4 * kWidth) {
      const Vec x0 = load(x + i), x1 = load(x + i + kWidth);
      const Vec x2 = load(x + i + 2 * kWidth), x3 = load(x + i + 3 * kWidth);
      f0 += f(x0);
      f1 += f(x1);
      f2 += f(x2);
      f3 += f(x3);
      g0 += g(x0);
      g1 += g(x1);
      g2 += g(x2);
      g3 += g(x3);
    }
    for (; i + kWidth <= e; i += kWidth) {
      const Vec x0 = load(x + i);
      f0 += f(x0);
      g0 += g(x0);
    }
    float tail_f = 0, tail_g = 0;
    for (; i < e; ++i) {
      tail_f += f(x[i]);
      tail_g += g(x[i]);
    }
    sum_f += plane_sums::horizontal_sum((f0 + f1) + (f2 + f3)) + tail_f;
    sum_g += plane_sums::horizontal_sum((g0 + g1) + (g2 + g3)) + tail_g;
  }
}

// Σ (x − c) and Σ (x − c)² over a run.
void plane_centered_sums(const float* x, int64_t n, float c, double& s1, double& s2) {
  fast_sums(
      x, n, [c](auto v) { return v - c; },
      [c](auto v) {
        const auto d = v - c;
        return d * d;
      },
      s1, s2);
}

// first_mean and plane_centered_sums of 16 planes of n = 16 or 64 values (a
// plane then is one block of at most four vectors) at once: the same vector
// sums as those functions, their horizontal sums folded 16 at a time. For
// such planes the per-plane reductions, not the data, were the cost.
void tiny_stats16(const float* x, int64_t n, float* c, double* s1, double* s2) {
  auto block = [n](const float* xp, auto f) {
    return n == 64 ? (f(load(xp)) + f(load(xp + kWidth))) +
                         (f(load(xp + 2 * kWidth)) + f(load(xp + 3 * kWidth)))
                   : f(load(xp));
  };
  Vec v[16];
  for (int p = 0; p < 16; ++p)
    v[p] = block(x + p * n, [](Vec a) { return a; });
  float lanes[kWidth];
  plane_sums::store(lanes, fold16(v));
  for (int i = 0; i < 16; ++i) {
    const int p = ((i & 1) << 3) | ((i & 2) << 1) | ((i & 4) >> 1) | ((i & 8) >> 3);
    c[p] = static_cast<float>(static_cast<double>(lanes[i]) / static_cast<double>(n));
  }
  Vec g[16];
  for (int p = 0; p < 16; ++p) {
    const float cp = c[p];
    v[p] = block(x + p * n, [cp](Vec a) { return a - cp; });
    g[p] = block(x + p * n, [cp](Vec a) {
      const Vec d = a - cp;
      return d * d;
    });
  }
  float glanes[kWidth];
  plane_sums::store(lanes, fold16(v));
  plane_sums::store(glanes, fold16(g));
  for (int i = 0; i < 16; ++i) {
    const int p = ((i & 1) << 3) | ((i & 2) << 1) | ((i & 4) >> 1) | ((i & 8) >> 3);
    s1[p] = lanes[i];
    s2[p] = glanes[i];
  }
}

// plane_grad_sums of 16 planes of n = 16 or 64 values at once (as
// tiny_stats16).
void tiny_grad_sums16(const float* x, const float* dy, int64_t n, const double* mean,
                      const float* inv_std, double* sum_dy, double* sum_dy_xhat) {
  Vec f[16], g[16];
  for (int p = 0; p < 16; ++p) {
    const float* xp = x + p * n;
    const float* dp = dy + p * n;
    const Xhat h(mean[p], inv_std[p]);
    if (n == 64) {
      const Vec d0 = load(dp), d1 = load(dp + kWidth), d2 = load(dp + 2 * kWidth),
                d3 = load(dp + 3 * kWidth);
      f[p] = (d0 + d1) + (d2 + d3);
      g[p] = (d0 * h(load(xp)) + d1 * h(load(xp + kWidth))) +
             (d2 * h(load(xp + 2 * kWidth)) + d3 * h(load(xp + 3 * kWidth)));
    } else {
      const Vec d0 = load(dp);
      f[p] = d0;
      g[p] = d0 * h(load(xp));
    }
  }
  float fl[kWidth], gl[kWidth];
  plane_sums::store(fl, fold16(f));
  plane_sums::store(gl, fold16(g));
  for (int i = 0; i < 16; ++i) {
    const int p = ((i & 1) << 3) | ((i & 2) << 1) | ((i & 4) >> 1) | ((i & 8) >> 3);
    sum_dy[p] = fl[i];
    sum_dy_xhat[p] = gl[i];
  }
}

// normalize_run on plane xc while plane_centered_sums sums plane xn about
// cn, in one loop: the next plane's loads overlap this one's stores (two
// separate sweeps run at about a copy's speed each). The same arithmetic as
// the two functions.
void normalize_and_sum(const float* xc, float* yc, double mean, float inv_std, float gamma,
                       float beta, const float* xn, float cn, int64_t n, double& sum_f,
                       double& sum_g) {
  const float mean_hi = static_cast<float>(mean);
  const float scale = gamma * inv_std;
  const float shift = static_cast<float>(beta - (mean - mean_hi) * gamma * inv_std);
  sum_f = sum_g = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    Vec f0{}, f1{}, f2{}, f3{}, g0{}, g1{}, g2{}, g3{};
    int64_t i = b;
    for (; i + 4 * kWidth <= e; i += 4 * kWidth) {
      const Vec d0 = load(xn + i) - cn, d1 = load(xn + i + kWidth) - cn;
      const Vec d2 = load(xn + i + 2 * kWidth) - cn, d3 = load(xn + i + 3 * kWidth) - cn;
      f0 += d0;
      f1 += d1;
      f2 += d2;
      f3 += d3;
      g0 += d0 * d0;
      g1 += d1 * d1;
      g2 += d2 * d2;
      g3 += d3 * d3;
      for (int64_t k = 0; k < 4; ++k)
        plane_sums::store(yc + i + k * kWidth,
                          (load(xc + i + k * kWidth) - mean_hi) * scale + shift);
    }
    for (; i + kWidth <= e; i += kWidth) {
      const Vec d0 = load(xn + i) - cn;
      f0 += d0;
      g0 += d0 * d0;
      plane_sums::store(yc + i, (load(xc + i) - mean_hi) * scale + shift);
    }
    float tail_f = 0, tail_g = 0;
    for (; i < e; ++i) {
      const float d = xn[i] - cn;
      tail_f += d;
      tail_g += d * d;
      yc[i] = (xc[i] - mean_hi) * scale + shift;
    }
    sum_f += plane_sums::horizontal_sum((f0 + f1) + (f2 + f3)) + tail_f;
    sum_g += plane_sums::horizontal_sum((g0 + g1) + (g2 + g3)) + tail_g;
  }
}

void run_stats(const float* x, int64_t n, float c, double s1, double s2, double eps, double& mean,
               float& inv_std) {
  if (finish_stats(c, s1, s2, n, eps, mean, inv_std)) return;
  c = static_cast<float>(mean);
  plane_centered_sums(x, n, c, s1, s2);
  // Still not exact only for a nearly constant run whose mean falls between
  // two floats: the differences from c are exact, and the tiny variance is
  // taken as it is.
  finish_stats(c, s1, s2, n, eps, mean, inv_std);
}

// Σ dy and Σ dy·x̂ over a run (four accumulators each, as fast_sums).
void plane_grad_sums(const float* x, const float* dy, int64_t n, Xhat h, double& sum_f,
                     double& sum_g) {
  sum_f = sum_g = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    Vec f0{}, f1{}, f2{}, f3{}, g0{}, g1{}, g2{}, g3{};
    int64_t i = b;
    for (; i + 4 * kWidth <= e; i += 4 * kWidth) {
      const Vec d0 = load(dy + i), d1 = load(dy + i + kWidth);
      const Vec d2 = load(dy + i + 2 * kWidth), d3 = load(dy + i + 3 * kWidth);
      f0 += d0;
      f1 += d1;
      f2 += d2;
      f3 += d3;
      g0 += d0 * h(load(x + i));
      g1 += d1 * h(load(x + i + kWidth));
      g2 += d2 * h(load(x + i + 2 * kWidth));
      g3 += d3 * h(load(x + i + 3 * kWidth));
    }
    for (; i + kWidth <= e; i += kWidth) {
      const Vec d0 = load(dy + i);
      f0 += d0;
      g0 += d0 * h(load(x + i));
    }
    float tail_f = 0, tail_g = 0;
    for (; i < e; ++i) {
      tail_f += dy[i];
      tail_g += dy[i] * h(x[i]);
    }
    sum_f += plane_sums::horizontal_sum((f0 + f1) + (f2 + f3)) + tail_f;
    sum_g += plane_sums::horizontal_sum((g0 + g1) + (g2 + g3)) + tail_g;
  }
}

// normalize_grad_run on plane (x, dy) while plane_grad_sums sums the next
// plane (xn, dyn), in one loop; the same arithmetic as the two functions.
void grad_and_sum(const float* x, const float* dy, float* dx, Xhat h, float g, float mean_dy,
                  float mean_dyx, const float* xn, const float* dyn, Xhat hn, int64_t n,
                  double& sum_f, double& sum_g) {
  sum_f = sum_g = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    Vec f0{}, f1{}, f2{}, f3{}, g0{}, g1{}, g2{}, g3{};
    int64_t i = b;
    for (; i + 4 * kWidth <= e; i += 4 * kWidth) {
      const Vec d0 = load(dyn + i), d1 = load(dyn + i + kWidth);
      const Vec d2 = load(dyn + i + 2 * kWidth), d3 = load(dyn + i + 3 * kWidth);
      f0 += d0;
      f1 += d1;
      f2 += d2;
      f3 += d3;
      g0 += d0 * hn(load(xn + i));
      g1 += d1 * hn(load(xn + i + kWidth));
      g2 += d2 * hn(load(xn + i + 2 * kWidth));
      g3 += d3 * hn(load(xn + i + 3 * kWidth));
      for (int64_t k = 0; k < 4; ++k) {
        const int64_t j = i + k * kWidth;
        plane_sums::store(dx + j, g * (load(dy + j) - mean_dy - h(load(x + j)) * mean_dyx));
      }
    }
    for (; i + kWidth <= e; i += kWidth) {
      const Vec d0 = load(dyn + i);
      f0 += d0;
      g0 += d0 * hn(load(xn + i));
      plane_sums::store(dx + i, g * (load(dy + i) - mean_dy - h(load(x + i)) * mean_dyx));
    }
    float tail_f = 0, tail_g = 0;
    for (; i < e; ++i) {
      tail_f += dyn[i];
      tail_g += dyn[i] * hn(xn[i]);
      dx[i] = g * (dy[i] - mean_dy - h(x[i]) * mean_dyx);
    }
    sum_f += plane_sums::horizontal_sum((f0 + f1) + (f2 + f3)) + tail_f;
    sum_g += plane_sums::horizontal_sum((g0 + g1) + (g2 + g3)) + tail_g;
  }
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
    if (n >= kPipelinedPlane) {
      // Planes of a few thousand values, a pipeline through the group: the
      // statistics of plane p + 1 taken in the sweep that normalizes plane p.
      const int64_t pipe = std::min<int64_t>(kPipelineGroup, planes);
      parallel_for(ceil_div(planes, pipe), [&](int64_t k) {
        const int64_t p0 = k * pipe, p1 = std::min(planes, p0 + pipe);
        float c = first_mean(xd + p0 * n, n);
        double s1, s2;
        plane_centered_sums(xd + p0 * n, n, c, s1, s2);
        for (int64_t p = p0; p < p1; ++p) {
          run_stats(xd + p * n, n, c, s1, s2, eps, mean[p], inv_std[p]);
          if (p + 1 < p1) {
            c = first_mean(xd + (p + 1) * n, n);
            normalize_and_sum(xd + p * n, yd + p * n, mean[p], inv_std[p], gamma[p % channels],
                              beta[p % channels], xd + (p + 1) * n, c, n, s1, s2);
          } else {
            normalize_run(xd + p * n, yd + p * n, n, mean[p], inv_std[p], gamma[p % channels],
                          beta[p % channels]);
          }
        }
      });
      return;
    }
    parallel_for(ceil_div(planes, group), [&](int64_t k) {
      const int64_t p0 = k * group, p1 = std::min(planes, p0 + group);
      float c[kMaxGroup];
      double s1[kMaxGroup], s2[kMaxGroup];
      int64_t p = p0;
      if (n == 16 || n == 64)
        for (; p + 16 <= p1; p += 16)
          tiny_stats16(xd + p * n, n, c + (p - p0), s1 + (p - p0), s2 + (p - p0));
      for (; p < p1; ++p)
        c[p - p0] = first_mean(xd + p * n, n);
      for (p = p0 + (n == 16 || n == 64 ? (p1 - p0) / 16 * 16 : 0); p < p1; ++p)
        plane_centered_sums(xd + p * n, n, c[p - p0], s1[p - p0], s2[p - p0]);
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
    for (int64_t p = 0; p < planes; ++p)
      center[p] = first_mean(xd + p * n, n);
    auto stats = [&](int64_t p) {
      double s1 = 0, s2 = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        s1 += part_a[p * chunks + k];
        s2 += part_b[p * chunks + k];
      }
      run_stats(xd + p * n, n, center[p], s1, s2, eps, mean[p], inv_std[p]);
    };
    // A pipeline over the planes, each step split by chunk: the sums of
    // plane 0; then plane p normalized in the sweep that sums plane p + 1
    // (the same arithmetic as separate sweeps, one sweep fewer per plane).
    parallel_for(chunks, [&](int64_t j) {
      int64_t b, e;
      range(j, b, e);
      plane_centered_sums(xd + b, e - b, center[0], part_a[j], part_b[j]);
    });
    for (int64_t p = 0; p < planes; ++p) {
      stats(p);
      const bool next = p + 1 < planes;
      parallel_for(chunks, [&](int64_t j) {
        int64_t b, e;
        range(j, b, e);
        if (next) {
          const int64_t u = (p + 1) * chunks + j;
          normalize_and_sum(xd + p * n + b, yd + p * n + b, mean[p], inv_std[p],
                            gamma[p % channels], beta[p % channels], xd + (p + 1) * n + b,
                            center[p + 1], e - b, part_a[u], part_b[u]);
        } else {
          normalize_run(xd + p * n + b, yd + p * n + b, e - b, mean[p], inv_std[p],
                        gamma[p % channels], beta[p % channels]);
        }
      });
    }
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
  if (split.chunks == 1 && dxd && n >= kPipelinedPlane) {
    // As the forward: the sums of plane p + 1 in the sweep that computes
    // plane p's dx.
    const int64_t pipe = std::min<int64_t>(kPipelineGroup, planes);
    parallel_for(ceil_div(planes, pipe), [&](int64_t k) {
      const int64_t p0 = k * pipe, p1 = std::min(planes, p0 + pipe);
      plane_grad_sums(xd + p0 * n, dyd + p0 * n, n, Xhat(mean[p0], inv_std[p0]), sum_dy[p0],
                      sum_dy_xhat[p0]);
      for (int64_t p = p0; p < p1; ++p) {
        const Xhat h(mean[p], inv_std[p]);
        const float g = gamma[p % channels] * inv_std[p];
        const float mean_dy = static_cast<float>(sum_dy[p] * inv_n);
        const float mean_dyx = static_cast<float>(sum_dy_xhat[p] * inv_n);
        if (p + 1 < p1)
          grad_and_sum(xd + p * n, dyd + p * n, dxd + p * n, h, g, mean_dy, mean_dyx,
                       xd + (p + 1) * n, dyd + (p + 1) * n, Xhat(mean[p + 1], inv_std[p + 1]), n,
                       sum_dy[p + 1], sum_dy_xhat[p + 1]);
        else
          normalize_grad_run(xd + p * n, dyd + p * n, dxd + p * n, n, h, g, mean_dy, mean_dyx);
      }
    });
    return;
  }
  if (split.chunks == 1) {
    const int64_t group = group_of(n);
    parallel_for(ceil_div(planes, group), [&](int64_t k) {
      const int64_t p0 = k * group, p1 = std::min(planes, p0 + group);
      int64_t p = p0;
      if (n == 16 || n == 64)
        for (; p + 16 <= p1; p += 16)
          tiny_grad_sums16(xd + p * n, dyd + p * n, n, mean + p, inv_std + p, sum_dy + p,
                           sum_dy_xhat + p);
      for (; p < p1; ++p)
        plane_grad_sums(xd + p * n, dyd + p * n, n, Xhat(mean[p], inv_std[p]), sum_dy[p],
                        sum_dy_xhat[p]);
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
      plane_grad_sums(xd + p * n + b, dyd + p * n + b, e - b, Xhat(mean[p], inv_std[p]), part_a[u],
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
