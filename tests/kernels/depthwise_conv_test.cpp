#include "kernels/depthwise_conv.hpp"

#include <doctest/doctest.h>

#include <cstring>

#include "conv_reference.hpp"
#include "core/threads.hpp"
#include "kernels/conv.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::make_geometry;
using strata::testing::max_error;
using strata::testing::naive_conv;
using strata::testing::random_floats;

TEST_CASE("depthwise_conv: one channel per group matches the definition, on any thread count") {
  struct Case {
    WindowGeometry g;
    int64_t batch, channels;
  };
  // Strides 1, 2 and 3, dilation, uneven padding, odd widths (a partial
  // last vector), 1-D, a 5×5 kernel, MobileNet's 3×3 stride 2.
  const Case cases[] = {
      {make_geometry({1, 64, 64}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 2, 12},
      {make_geometry({1, 9, 37}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 2, 3},
      {make_geometry({1, 11, 23}, {1, 3, 5}, {1, 2, 2}, {1, 1, 2}, {0, 0, 2}, {0, 2, 1}), 1, 4},
      {make_geometry({1, 10, 40}, {1, 3, 3}, {1, 3, 3}, {1, 1, 1}, {0, 1, 0}, {0, 0, 2}), 3, 2},
      {make_geometry({1, 1, 50}, {1, 1, 4}, {1, 1, 1}, {1, 1, 1}, {0, 0, 2}, {0, 0, 1}), 2, 5},
      {make_geometry({1, 7, 7}, {1, 5, 5}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2}, {0, 2, 2}), 2, 6},
  };
  const int before = num_threads();
  for (const Case& c : cases) {
    const WindowGeometry& g = c.g;
    CAPTURE(g.in[2]);
    CAPTURE(g.stride[2]);
    REQUIRE(depthwise_applies(g, c.channels, 1, 1));
    const auto x = random_floats(c.batch * c.channels * g.in_size(), 1);
    const auto w = random_floats(c.channels * g.kernel_size(), 2);
    const auto b = random_floats(c.channels, 3);
    for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
      std::vector<std::vector<float>> ys;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        ThreadBuffers padded;
        std::vector<float> y(static_cast<size_t>(c.batch * c.channels * g.out_size()), 7.0f);
        depthwise_convolution(g, c.batch, c.channels, x.data(), w.data(), bias, y.data(), padded);
        ys.push_back(y);
      }
      CHECK(max_error(ys[0].data(), naive_conv(g, c.batch, c.channels, c.channels, c.channels,
                                               x.data(), w.data(), bias)) < 1e-5);
      CHECK(std::memcmp(ys[0].data(), ys[1].data(), ys[0].size() * sizeof(float)) == 0);
      CHECK(std::memcmp(ys[0].data(), ys[2].data(), ys[0].size() * sizeof(float)) == 0);
    }
    // convolution_forward chooses it.
    const ConvPlan p = plan_convolution(g, c.batch, c.channels, c.channels, c.channels);
    ConvScratch scratch;
    std::vector<float> y(static_cast<size_t>(c.batch * c.channels * g.out_size()));
    convolution_forward(p, x.data(), w.data(), b.data(), y.data(), scratch);
    CHECK(max_error(y.data(), naive_conv(g, c.batch, c.channels, c.channels, c.channels, x.data(),
                                         w.data(), b.data())) < 1e-5);
  }
  set_num_threads(before);
}
