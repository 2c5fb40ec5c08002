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

// Every path: 2×2 windows tiling small and large planes, windows inside the
// input (2-D and 1-D), and the general case (padding, 3-D, odd sizes).
std::vector<WindowGeometry> geometries() {
  return {
      make_geometry({1, 6, 8}, {1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 40, 42}, {1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 9, 11}, {1, 3, 2}, {1, 2, 3}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 7, 9}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 1, 23}, {1, 1, 4}, {1, 1, 3}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 7, 9}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 2}, {0, 1, 0}),
      make_geometry({5, 4, 7}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, {1, 0, 1}, {0, 2, 1}),
  };
}

// A window's inputs along one dimension, padding left out.
void span(const WindowGeometry& g, size_t d, int64_t o, int64_t& first, int64_t& last) {
  const int64_t start = o * g.stride[d] - g.before[d];
  first = std::max<int64_t>(0, start);
  last = std::min(start + g.kernel[d], g.in[d]);
}

// Runs fn(output index, input index) over each window's inputs in order.
template <typename Fn>
void each_window(const WindowGeometry& g, Fn fn) {
  int64_t o = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) {
        int64_t d0, d1, h0, h1, w0, w1;
        span(g, 0, od, d0, d1);
        span(g, 1, oh, h0, h1);
        span(g, 2, ow, w0, w1);
        for (int64_t d = d0; d < d1; ++d)
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w)
              fn(o, (d * g.in[1] + h) * g.in[2] + w);
      }
}

}  // namespace

TEST_CASE("pooling kernels: max pooling and its gradient, ties and NaN as PyTorch") {
  for (const WindowGeometry& g : geometries()) {
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(g.kernel[2]);
    CAPTURE(g.stride[2]);
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
  for (const WindowGeometry& g : geometries()) {
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(g.kernel[2]);
    CAPTURE(g.stride[2]);
    const int64_t planes = 3, in = g.in_size(), out = g.out_size();
    // Integers and a power-of-two scale: exact in any order.
    const auto x = random_floats(planes * in, 3, true);
    std::vector<float> y(static_cast<size_t>(planes * out));
    sum_pool(g, planes, x.data(), 0.5f, y.data());
    std::vector<float> want(y.size(), 0.0f);
    for (int64_t p = 0; p < planes; ++p)
      each_window(g, [&](int64_t o, int64_t i) { want[p * out + o] += x[p * in + i]; });
    for (auto& v : want)
      v *= 0.5f;
    CHECK(y == want);

    const auto dy = random_floats(planes * out, 4, true);
    std::vector<float> dx(x.size(), 7.0f), want_dx(x.size(), 0.0f);
    sum_pool_grad(g, planes, dy.data(), 0.5f, dx.data());
    for (int64_t p = 0; p < planes; ++p)
      each_window(g, [&](int64_t o, int64_t i) { want_dx[p * in + i] += dy[p * out + o] * 0.5f; });
    CHECK(dx == want_dx);
  }
}
