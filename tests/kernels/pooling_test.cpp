#include "kernels/pooling.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "conv_reference.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::make_geometry;
using strata::testing::random_floats;

namespace {

// A geometry with its padding after and, for `ceil`, PyTorch's ceil_mode
// window count (the last window starting inside the input or the padding
// before it).
WindowGeometry pool_geometry(std::array<int64_t, 3> in, std::array<int64_t, 3> kernel,
                             std::array<int64_t, 3> stride, std::array<int64_t, 3> dilation,
                             std::array<int64_t, 3> before, std::array<int64_t, 3> after,
                             bool ceil = false) {
  WindowGeometry g = make_geometry(in, kernel, stride, dilation, before, after);
  g.after = after;
  if (ceil)
    for (size_t d = 0; d < 3; ++d) {
      const int64_t span = in[d] + before[d] + after[d] - dilation[d] * (kernel[d] - 1) - 1;
      g.out[d] = (span + stride[d] - 1) / stride[d] + 1;
      if ((g.out[d] - 1) * stride[d] >= in[d] + before[d]) --g.out[d];
    }
  return g;
}

// Every path: 2×2 windows tiling small and large planes, windows inside the
// input (2-D and 1-D), and the general case (padding, 3-D, odd sizes,
// dilation, last windows past the padding).
std::vector<WindowGeometry> geometries() {
  return {
      pool_geometry({1, 6, 8}, {1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      pool_geometry({1, 40, 42}, {1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      pool_geometry({1, 9, 11}, {1, 3, 2}, {1, 2, 3}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      pool_geometry({1, 7, 9}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      pool_geometry({1, 1, 23}, {1, 1, 4}, {1, 1, 3}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      pool_geometry({1, 7, 9}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 2}, {0, 1, 0}),
      pool_geometry({5, 4, 7}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, {1, 0, 1}, {0, 2, 1}),
      // Dilation (2×2 windows with stride 2 that are not the tiling path).
      pool_geometry({1, 8, 8}, {1, 2, 2}, {1, 2, 2}, {1, 2, 2}, {0, 0, 0}, {0, 0, 0}),
      pool_geometry({1, 9, 10}, {1, 3, 2}, {1, 1, 2}, {1, 2, 3}, {0, 1, 0}, {0, 2, 1}),
      pool_geometry({4, 5, 6}, {2, 2, 3}, {1, 2, 1}, {2, 1, 2}, {1, 0, 2}, {0, 1, 2}),
      // Rounding "Ceiling": last windows past the padding, with and without
      // dilation; 2×2 / 2 on odd sizes.
      pool_geometry({1, 7, 9}, {1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, true),
      pool_geometry({1, 8, 10}, {1, 3, 3}, {1, 2, 3}, {1, 1, 1}, {0, 1, 0}, {0, 0, 1}, true),
      pool_geometry({3, 6, 7}, {2, 2, 3}, {2, 3, 2}, {1, 2, 2}, {1, 1, 0}, {0, 0, 1}, true),
      // Dilated 2×2 / 2 whose output is half the input (not the tiling path).
      pool_geometry({1, 4, 6}, {1, 2, 2}, {1, 2, 2}, {1, 2, 2}, {0, 0, 0}, {0, 0, 0}, true),
  };
}

// A window's positions along one dimension: first, first + step, … < last
// (padding left out), and how many of its positions lie in the padded input.
struct Positions {
  int64_t first, last, step, count;
};

Positions positions(const WindowGeometry& g, size_t d, int64_t o) {
  const int64_t start = o * g.stride[d] - g.before[d];
  Positions p{0, 0, g.dilation[d], 0};
  bool any = false;
  for (int64_t i = 0; i < g.kernel[d]; ++i) {
    const int64_t x = start + i * g.dilation[d];
    if (x < g.in[d] + g.after[d]) ++p.count;
    if (x < 0 || x >= g.in[d]) continue;
    if (!any) p.first = x;
    any = true;
    p.last = x + 1;
  }
  REQUIRE(any);  // every window of these geometries holds an input
  return p;
}

// Runs fn(output index, input index) over each window's inputs in order.
template <typename Fn>
void each_window(const WindowGeometry& g, Fn fn) {
  int64_t o = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) {
        const Positions pd = positions(g, 0, od), ph = positions(g, 1, oh),
                        pw = positions(g, 2, ow);
        for (int64_t d = pd.first; d < pd.last; d += pd.step)
          for (int64_t h = ph.first; h < ph.last; h += ph.step)
            for (int64_t w = pw.first; w < pw.last; w += pw.step)
              fn(o, (d * g.in[1] + h) * g.in[2] + w);
      }
}

// Mean's divisor of each output: its window's positions in the padded input.
std::vector<int64_t> window_counts(const WindowGeometry& g) {
  std::vector<int64_t> n;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow)
        n.push_back(positions(g, 0, od).count * positions(g, 1, oh).count *
                    positions(g, 2, ow).count);
  return n;
}

}  // namespace

TEST_CASE("pooling kernels: max pooling and its gradient, ties and NaN as PyTorch") {
  for (const WindowGeometry& g : geometries()) {
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(g.kernel[2]);
    CAPTURE(g.stride[2]);
    CAPTURE(g.dilation[2]);
    const int64_t planes = 5, in = g.in_size(), out = g.out_size();
    // Integers: many ties, which the first of the window wins.
    auto x = random_floats(planes * in, 1, true);
    x[3] = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y(static_cast<size_t>(planes * out));
    std::vector<int32_t> argmax(y.size());
    max_pool(g, planes, x.data(), y.data(), argmax.data());
    for (int64_t p = 0; p < planes; ++p) {
      std::vector<float> want(static_cast<size_t>(out), -std::numeric_limits<float>::infinity());
      std::vector<int64_t> best(static_cast<size_t>(out), -1);
      each_window(g, [&](int64_t o, int64_t i) {
        const float v = x[p * in + i];
        if (best[o] < 0 || v > want[o] || (std::isnan(v) && !std::isnan(want[o]))) {
          want[o] = v;
          best[o] = i;
        }
      });
      for (int64_t o = 0; o < out; ++o) {
        const float got = y[p * out + o];
        REQUIRE((got == want[o] || (std::isnan(got) && std::isnan(want[o]))));
        REQUIRE(argmax[p * out + o] == best[o]);
      }
    }
    std::vector<float> y2(y.size());
    max_pool(g, planes, x.data(), y2.data(), nullptr);  // without argmax: the same
    for (size_t i = 0; i < y.size(); ++i)
      REQUIRE((y2[i] == y[i] || (std::isnan(y[i]) && std::isnan(y2[i]))));

    const auto dy = random_floats(planes * out, 2, true);
    std::vector<float> dx(x.size(), 7.0f), want_dx(x.size(), 0.0f);
    max_pool_grad(g, planes, dy.data(), argmax.data(), dx.data());
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t o = 0; o < out; ++o)
        want_dx[p * in + argmax[p * out + o]] += dy[p * out + o];
    CHECK(dx == want_dx);
  }
}

TEST_CASE("pooling kernels: sum pooling and its gradient") {
  int with_partial = 0;  // geometries whose Mean divides some window by less than its size
  for (const WindowGeometry& g : geometries()) {
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(g.kernel[2]);
    CAPTURE(g.stride[2]);
    CAPTURE(g.dilation[2]);
    const int64_t planes = 3, in = g.in_size(), out = g.out_size();
    const auto counts = window_counts(g);
    bool partial = false;  // a window cut short by the end of the padding
    for (int64_t n : counts)
      partial = partial || n != g.kernel_size();
    for (bool mean : {false, true}) {
      CAPTURE(mean);
      // Integers: exact sums in any order, then scaled as the kernel does.
      const auto x = random_floats(planes * in, 3, true);
      std::vector<float> y(static_cast<size_t>(planes * out));
      sum_pool(g, planes, x.data(), mean, y.data());
      std::vector<float> want(y.size(), 0.0f);
      for (int64_t p = 0; p < planes; ++p)
        each_window(g, [&](int64_t o, int64_t i) { want[p * out + o] += x[p * in + i]; });
      auto scale = [&](int64_t k) {
        return mean ? 1.0f / static_cast<float>(counts[static_cast<size_t>(k % out)]) : 1.0f;
      };
      for (size_t k = 0; k < want.size(); ++k)
        want[k] *= scale(static_cast<int64_t>(k));
      CHECK(y == want);

      const auto dy = random_floats(planes * out, 4, true);
      std::vector<float> dx(x.size(), 7.0f), want_dx(x.size(), 0.0f);
      sum_pool_grad(g, planes, dy.data(), mean, dx.data());
      for (int64_t p = 0; p < planes; ++p)
        each_window(g, [&](int64_t o, int64_t i) {
          want_dx[p * in + i] += dy[p * out + o] * scale(p * out + o);
        });
      CHECK(dx == want_dx);
    }
    with_partial += partial;
  }
  CHECK(with_partial >= 3);
}
