#include "kernels/aggregation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/threads.hpp"
#include "kernels/plane_sums.hpp"

namespace strata::kernels {

namespace {

constexpr int64_t kLanes = 16;  // of plane_extreme

// Planes handed to a thread at a time: about this many elements.
constexpr int64_t kGrainElements = 8192;

int64_t grain_for(int64_t n) {
  return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, n));
}

double plane_sum(const float* x, int64_t n) {
  return plane_sums::lane_sum(n, [x](int64_t i) { return x[i]; });
}

// Whether v replaces the extreme m so far: strictly more extreme, or the first NaN.
template <bool Max>
bool better(float v, float m) {
  return (Max ? v > m : v < m) || (v != v && m == m);
}

// The first extreme of a plane, in lanes: lane j keeps the first extreme of
// the elements j, j + 16, …; the lanes are then combined preferring the
// smaller index among equal values (or NaNs), and the tail comes last.
template <bool Max>
void plane_extreme(const float* x, int64_t n, float& y, int64_t& index) {
  float best =
      Max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  int64_t at = -1, i = 0;
  if (n >= kLanes) {
    float m[kLanes];
    int64_t id[kLanes];
    for (int64_t j = 0; j < kLanes; ++j) {
      m[j] = x[j];
      id[j] = j;
    }
    for (i = kLanes; i + kLanes <= n; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) {
        const float v = x[i + j];
        const bool take = better<Max>(v, m[j]);
        m[j] = take ? v : m[j];
        id[j] = take ? i + j : id[j];
      }
    best = m[0];
    at = id[0];
    for (int64_t j = 1; j < kLanes; ++j) {
      const bool same = m[j] == best || (m[j] != m[j] && best != best);
      if (better<Max>(m[j], best) || (same && id[j] < at)) {
        best = m[j];
        at = id[j];
      }
    }
  }
  for (; i < n; ++i)
    if (at < 0 || better<Max>(x[i], best)) {
      best = x[i];
      at = i;
    }
  y = best;
  index = at;
}

}  // namespace

void plane_sums(const float* x, int64_t planes, int64_t n, double scale, float* y) {
  parallel_for(
      planes, [&](int64_t p) { y[p] = static_cast<float>(scale * plane_sum(x + p * n, n)); },
      grain_for(n));
}

void plane_extremes(const float* x, int64_t planes, int64_t n, bool max, float* y, int64_t* index) {
  parallel_for(
      planes,
      [&](int64_t p) {
        int64_t at;
        if (max)
          plane_extreme<true>(x + p * n, n, y[p], at);
        else
          plane_extreme<false>(x + p * n, n, y[p], at);
        if (index) index[p] = at;
      },
      grain_for(n));
}

}  // namespace strata::kernels
