// Naive references for the convolution kernels' tests: the definitions,
// written out with plain loops in double.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/transposed_conv.hpp"
#include "layers/spatial.hpp"

namespace strata::testing {

// Random floats in [-1, 1), or small integers (sums of which are exact in
// any order) when `integers`.
inline std::vector<float> random_floats(int64_t n, uint64_t seed, bool integers = false) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v)
    f = integers ? std::floor(u(rng) * 4.0f) : u(rng);
  return v;
}

// A geometry from its sizes; out from the convolution's formula.
inline WindowGeometry make_geometry(std::array<int64_t, 3> in, std::array<int64_t, 3> kernel,
                                    std::array<int64_t, 3> stride, std::array<int64_t, 3> dilation,
                                    std::array<int64_t, 3> before, std::array<int64_t, 3> after) {
  WindowGeometry g;
  g.in = in;
  g.kernel = kernel;
  g.stride = stride;
  g.dilation = dilation;
  g.before = before;
  for (size_t d = 0; d < 3; ++d)
    g.out[d] = (in[d] + before[d] + after[d] - dilation[d] * (kernel[d] - 1) - 1) / stride[d] + 1;
  return g;
}

// A transposed convolution's geometry from its sizes; out from its formula,
// with `before` and `after` cropped independently.
inline kernels::TransposedConvGeometry transposed_geometry(
    int64_t batch, int64_t cin, int64_t cout, int64_t groups, std::array<int64_t, 3> in,
    std::array<int64_t, 3> kernel, std::array<int64_t, 3> stride, std::array<int64_t, 3> dilation,
    std::array<int64_t, 3> before, std::array<int64_t, 3> after,
    std::array<int64_t, 3> output_padding) {
  kernels::TransposedConvGeometry t;
  t.batch = batch;
  t.in_channels = cin;
  t.out_channels = cout;
  t.groups = groups;
  t.in = in;
  t.kernel = kernel;
  t.stride = stride;
  t.dilation = dilation;
  t.padding = before;
  for (size_t d = 0; d < 3; ++d)
    t.out[d] = (in[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 - before[d] - after[d] +
               output_padding[d];
  return t;
}

// x at (c, i) with i per dimension, 0 outside [0, in).
inline double at(const float* x, const WindowGeometry& g, int64_t c, int64_t d, int64_t h,
                 int64_t w) {
  if (d < 0 || h < 0 || w < 0 || d >= g.in[0] || h >= g.in[1] || w >= g.in[2]) return 0;
  return x[((c * g.in[0] + d) * g.in[1] + h) * g.in[2] + w];
}

// Convolution: x [batch, cin, in…], w [cout, cin / groups, k…], y [batch, cout, out…].
inline std::vector<double> naive_conv(const WindowGeometry& g, int64_t batch, int64_t cin,
                                      int64_t cout, int64_t groups, const float* x, const float* w,
                                      const float* bias) {
  const int64_t cig = cin / groups, cog = cout / groups, ks = g.kernel_size();
  std::vector<double> y(static_cast<size_t>(batch * cout * g.out_size()));
  size_t at_y = 0;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            double s = bias ? bias[o] : 0.0;
            const int64_t grp = o / cog;
            for (int64_t c = 0; c < cig; ++c)
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const double xv = at(x + (n * cin + grp * cig) * g.in_size(), g, c,
                                         od * g.stride[0] + kd * g.dilation[0] - g.before[0],
                                         oh * g.stride[1] + kh * g.dilation[1] - g.before[1],
                                         ow * g.stride[2] + kw * g.dilation[2] - g.before[2]);
                    s += xv * w[(o * cig + c) * ks + (kd * g.kernel[1] + kh) * g.kernel[2] + kw];
                  }
            y[at_y++] = s;
          }
  return y;
}

// The largest |a − b| relative to 1 + |b|.
inline double max_error(const float* a, const std::vector<double>& b) {
  double e = 0;
  for (size_t i = 0; i < b.size(); ++i)
    e = std::max(e, std::abs(a[i] - b[i]) / (1 + std::abs(b[i])));
  return e;
}

}  // namespace strata::testing
