#include "kernels/direct_conv.hpp"

#include <doctest/doctest.h>

#include "conv_reference.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::make_geometry;
using strata::testing::max_error;
using strata::testing::naive_conv;
using strata::testing::random_floats;

TEST_CASE("direct_conv: stride-1 convolutions in 2-D and 1-D match the definition") {
  struct Case {
    WindowGeometry g;
    int64_t batch, cin, cout, groups;
  };
  // Odd widths (a partial last step of 32), output channels in blocks of 8,
  // 4 and 1, dilation, uneven padding, row counts not a multiple of 4.
  const Case cases[] = {
      {make_geometry({1, 7, 17}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 2, 3, 13,
       1},
      {make_geometry({1, 9, 35}, {1, 2, 5}, {1, 1, 1}, {1, 2, 2}, {0, 2, 0}, {0, 0, 3}), 1, 4, 6,
       2},
      {make_geometry({1, 1, 53}, {1, 1, 4}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 2}), 3, 2, 5,
       1},
      {make_geometry({1, 5, 20}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 2, 5, 9,
       1},
  };
  for (const Case& c : cases) {
    const WindowGeometry& g = c.g;
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(c.cout);
    const int64_t ci = c.cin / c.groups, co = c.cout / c.groups, k = g.kernel_size();
    const auto x = random_floats(c.batch * c.cin * g.in_size(), 1);
    const auto w = random_floats(c.cout * ci * k, 2);
    const auto b = random_floats(c.cout, 3);
    std::vector<float> packed(w.size());
    pack_direct_weights(w.data(), c.groups, ci, co, k, packed.data());
    ThreadBuffers padded;
    std::vector<float> y(static_cast<size_t>(c.batch * c.cout * g.out_size()), 7.0f);
    for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
      direct_convolution(g, c.batch, c.groups, x.data(), ci, packed.data(), co, bias, y.data(),
                         padded);
      CHECK(max_error(y.data(), naive_conv(g, c.batch, c.cin, c.cout, c.groups, x.data(), w.data(),
                                           bias)) < 1e-5);
    }
  }
}
