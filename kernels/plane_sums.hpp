// Sums over contiguous runs of floats (the normalization statistics, the
// convolution's bias gradient, aggregation), and the explicit vectors the kernels use:
// vectorized (explicit 16-float vectors, GCC/Clang vector extensions, which
// the compiler maps to whatever SIMD the machine has), exact enough (each
// vector lane sums a short block in float; blocks are added in double) and
// deterministic (an order fixed by the run's length alone).
//
// The functions take the value to sum as a generic callable, applied either
// to a Vec of 16 elements or to a single float (the tail):
//   double s = plane_sums::sum(n, x, [c](auto v) { return v - c; });
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace strata::plane_sums {

using Vec = float __attribute__((vector_size(64)));
inline constexpr int64_t kWidth = 16;  // floats in a Vec
// Elements summed in float before the block's sum goes to double.
inline constexpr int64_t kBlock = 1024;
// Planes are split on multiples of this (four Vecs: the unrolled step).
inline constexpr int64_t kLanes = 4 * kWidth;

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, Vec v) {
  std::memcpy(p, &v, sizeof v);
}

// The sum of a Vec's lanes, by halving (log2(16) roundings per lane).
inline float horizontal_sum(Vec v) {
  float a[kWidth];
  std::memcpy(a, &v, sizeof a);
  for (int64_t width = kWidth / 2; width >= 1; width /= 2)
    for (int64_t j = 0; j < width; ++j)
      a[j] += a[j + width];
  return a[0];
}

// Σ f(x[i]) over i in [0, n).
template <typename F>
double sum(int64_t n, const float* x, F f) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    Vec a0{}, a1{}, a2{}, a3{};
    int64_t i = b;
    for (; i + 4 * kWidth <= e; i += 4 * kWidth) {
      a0 += f(load(x + i));
      a1 += f(load(x + i + kWidth));
      a2 += f(load(x + i + 2 * kWidth));
      a3 += f(load(x + i + 3 * kWidth));
    }
    for (; i + kWidth <= e; i += kWidth)
      a0 += f(load(x + i));
    float tail = 0;
    for (; i < e; ++i)
      tail += f(x[i]);
    total += horizontal_sum((a0 + a1) + (a2 + a3)) + tail;
  }
  return total;
}

// Σ f(x[i], y[i]) and Σ g(x[i], y[i]) over i in [0, n), in one sweep.
template <typename F, typename G>
void sum2(int64_t n, const float* x, const float* y, F f, G g, double& sum_f, double& sum_g) {
  sum_f = sum_g = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    Vec f0{}, f1{}, g0{}, g1{};
    int64_t i = b;
    for (; i + 2 * kWidth <= e; i += 2 * kWidth) {
      const Vec x0 = load(x + i), x1 = load(x + i + kWidth);
      const Vec y0 = load(y + i), y1 = load(y + i + kWidth);
      f0 += f(x0, y0);
      f1 += f(x1, y1);
      g0 += g(x0, y0);
      g1 += g(x1, y1);
    }
    for (; i + kWidth <= e; i += kWidth) {
      const Vec x0 = load(x + i), y0 = load(y + i);
      f0 += f(x0, y0);
      g0 += g(x0, y0);
    }
    float tail_f = 0, tail_g = 0;
    for (; i < e; ++i) {
      tail_f += f(x[i], y[i]);
      tail_g += g(x[i], y[i]);
    }
    sum_f += horizontal_sum(f0 + f1) + tail_f;
    sum_g += horizontal_sum(g0 + g1) + tail_g;
  }
}

// Σ f(i) over i in [0, n), in plain float lanes (AggregationLayer's sums,
// ParametricRampLayer's Slope gradient): in each block, lane j sums f(i) for
// the i ≡ j (mod 16) in order; the lanes, then the tail, are added in order in
// double. f(i) is a float.
template <typename F>
double lane_sum(int64_t n, F f) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    float lane[kWidth] = {};
    int64_t i = b;
    for (; i + kWidth <= e; i += kWidth)
      for (int64_t j = 0; j < kWidth; ++j)
        lane[j] += f(i + j);
    double block = 0;
    for (int64_t j = 0; j < kWidth; ++j)
      block += lane[j];
    for (; i < e; ++i)
      block += f(i);
    total += block;
  }
  return total;
}

// The mean of the first few elements: a cheap first guess at the mean.
inline float first_mean(const float* x, int64_t n) {
  const int64_t m = std::min(n, kLanes);
  return static_cast<float>(sum(m, x, [](auto v) { return v; }) / static_cast<double>(m));
}

// Σ (x − c) and Σ (x − c)² over a run. For c near the mean, x − c is small and
// the sums give the variance exactly, however large the mean.
inline void centered_sums(const float* x, int64_t n, float c, double& s1, double& s2) {
  sum2(
      n, x, x, [c](auto v, auto) { return v - c; },
      [c](auto v, auto) {
        const auto d = v - c;
        return d * d;
      },
      s1, s2);
}

// From the sums about c of `count` values: the variance, computed as
// s2/count − d² with d = s1/count, and the mean c + d. That difference loses
// about log2(s2/count / variance) bits, so it is accepted only when c was
// close to the mean (s2/count at most 64 times the variance: 6 bits lost);
// otherwise `false`, and the caller sums again about the mean it got.
inline bool variance_from_sums(float c, double s1, double s2, double count, double& mean,
                               double& var) {
  const double d = s1 / count, m2 = s2 / count;
  mean = c + d;
  var = m2 - d * d;
  if (var * 64 >= m2) return true;
  if (var < 0) var = 0;  // rounding; a NaN stays NaN
  return var != var;     // a NaN: no second pass will help
}

}  // namespace strata::plane_sums
