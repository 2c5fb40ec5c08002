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

#ifdef __AVX512F__
#include <immintrin.h>
#endif

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

// The first n (< kWidth) values from p, zeros after; and the first n lanes
// of v to p (a vector's tail past the end of a row or plane).
inline Vec load_first(const float* p, int64_t n) {
#ifdef __AVX512F__
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
#else
  float tmp[kWidth] = {};
  std::copy_n(p, n, tmp);
  return load(tmp);
#endif
}
inline void store_first(float* p, Vec v, int64_t n) {
#ifdef __AVX512F__
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
#else
  float tmp[kWidth];
  store(tmp, v);
  std::copy_n(tmp, n, p);
#endif
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

// ---- Vector helpers the kernels share

// The lane sums of 16 vectors at once, by folding pairs: lane i of the
// result is horizontal_sum(v[r(i)]) exactly (the same pairs added in the
// same order), r reversing the 4 bits of i.
inline Vec fold16(const Vec (&v)[16]) {
  Vec r[8], s[4], t[2];
  for (int i = 0; i < 8; ++i)
    r[i] = __builtin_shufflevector(v[2 * i], v[2 * i + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19,
                                   20, 21, 22, 23) +
           __builtin_shufflevector(v[2 * i], v[2 * i + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26,
                                   27, 28, 29, 30, 31);
  for (int i = 0; i < 4; ++i)
    s[i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11,
                                   24, 25, 26, 27) +
           __builtin_shufflevector(r[2 * i], r[2 * i + 1], 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14,
                                   15, 28, 29, 30, 31);
  for (int i = 0; i < 2; ++i)
    t[i] = __builtin_shufflevector(s[2 * i], s[2 * i + 1], 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25,
                                   12, 13, 28, 29) +
           __builtin_shufflevector(s[2 * i], s[2 * i + 1], 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26,
                                   27, 14, 15, 30, 31);
  return __builtin_shufflevector(t[0], t[1], 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14,
                                 30) +
         __builtin_shufflevector(t[0], t[1], 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15,
                                 31);
}

// The even and the odd lanes of the 32 values a, b (a stride-2 row split in two).
inline Vec even(Vec a, Vec b) {
  return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
inline Vec odd(Vec a, Vec b) {
  return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

// The 16 values of a zero-padded row from column j (column j − bw of the
// input row xr of w values).
inline Vec padded_block(const float* xr, int64_t w, int64_t bw, int64_t j) {
  const int64_t c = j - bw;
  if (c >= 0 && c + kWidth <= w) return load(xr + c);
  if (c + kWidth <= 0 || c >= w) return Vec{};
#ifdef __AVX512F__
  // An expanding masked load (a vector composed in memory would stall).
  const int64_t lo = std::max<int64_t>(0, -c), hi = std::min(kWidth, w - c);
  const auto mask = static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
  return _mm512_maskz_expandloadu_ps(mask, xr + c + lo);
#endif
  float tmp[kWidth];
  for (int64_t i = 0; i < kWidth; ++i)
    tmp[i] = c + i >= 0 && c + i < w ? xr[c + i] : 0.0f;
  return load(tmp);
}

}  // namespace strata::plane_sums
