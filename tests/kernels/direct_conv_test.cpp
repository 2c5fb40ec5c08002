#include "kernels/direct_conv.hpp"

#include <doctest/doctest.h>

#include "conv_reference.hpp"
#include "core/threads.hpp"
#include "kernels/small_conv.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::make_geometry;
using strata::testing::max_error;
using strata::testing::naive_conv;
using strata::testing::random_floats;

namespace {

struct Case {
  WindowGeometry g;
  int64_t batch, cin, cout, groups;
};

// conv(x, packed, bias, y) for the case (weights packed for the direct
// kernels), with and without a bias, on 1, 2 and 3 threads: each within
// 1e-5 of the definition, all three identical.
template <typename Conv>
void check_case(const Case& c, Conv conv) {
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
  const int before = num_threads();
  for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      std::vector<float> y(static_cast<size_t>(c.batch * c.cout * g.out_size()), 7.0f);
      conv(x.data(), packed.data(), bias, y.data());
      CHECK(max_error(y.data(), naive_conv(g, c.batch, c.cin, c.cout, c.groups, x.data(), w.data(),
                                           bias)) < 1e-5);
      if (first.empty()) first = y;
      CHECK(y == first);
    }
  }
  set_num_threads(before);
}

}  // namespace

TEST_CASE(
    "direct_conv: stride-1 convolutions in 2-D and 1-D match the definition on any thread count") {
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
  for (const Case& c : cases)
    check_case(c, [&](const float* x, const float* packed, const float* bias, float* y) {
      ThreadBuffers padded;
      direct_convolution(c.g, c.batch, c.groups, x, c.cin / c.groups, packed, c.cout / c.groups,
                         bias, y, padded);
    });
}

TEST_CASE("direct_conv: small planes, computed flat, match the definition on any thread count") {
  // The ResNet block's 8×8 and the digits net's first layer (one input
  // channel), output channels in blocks of 8, 4 and 1, groups, dilation,
  // uneven padding, a 1-D row, a plane whose flat width is not a multiple of
  // the vector (a last step of one vector), 5×5 kernels.
  const Case cases[] = {
      {make_geometry({1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 3, 8, 8, 1},
      {make_geometry({1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 2, 1, 13,
       1},
      {make_geometry({1, 7, 9}, {1, 2, 3}, {1, 1, 1}, {1, 2, 1}, {0, 2, 0}, {0, 0, 2}), 2, 6, 10,
       2},
      {make_geometry({1, 1, 12}, {1, 1, 4}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0, 0, 2}), 2, 3, 5,
       1},
      {make_geometry({1, 9, 11}, {1, 5, 5}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2}, {0, 2, 2}), 1, 2, 4,
       1},
  };
  for (const Case& c : cases) {
    REQUIRE(small_direct_applies(c.g));
    check_case(c, [&](const float* x, const float* packed, const float* bias, float* y) {
      ThreadBuffers padded, wide;
      small_direct_convolution(c.g, c.batch, c.groups, x, c.cin / c.groups, packed,
                               c.cout / c.groups, bias, y, padded, wide);
    });
  }
  // Where the flat layout would waste more than 40%: left to im2col + GEMM.
  CHECK_FALSE(small_direct_applies(
      make_geometry({1, 4, 4}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1})));
  CHECK_FALSE(small_direct_applies(
      make_geometry({1, 8, 8}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1})));
  CHECK_FALSE(small_direct_applies(
      make_geometry({1, 8, 20}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1})));
}

TEST_CASE("direct_conv: 1×1 convolutions of few input channels match the definition") {
  // MobileNet's expansion (3 → 12 at 64×64: blocks of 2048 positions),
  // positions fewer than a vector and not a multiple of one, 1-D and 3-D,
  // groups, output channels in blocks of 8, 4 and 1.
  const Case cases[] = {
      {make_geometry({1, 64, 64}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 2, 3, 12,
       1},
      {make_geometry({1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 3, 4, 13,
       1},
      {make_geometry({1, 1, 2100}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 1, 4, 6,
       2},
      {make_geometry({3, 5, 7}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 2, 1, 9, 1},
  };
  for (const Case& c : cases) {
    REQUIRE(pointwise_applies(c.g, c.cin / c.groups));
    check_case(c, [&](const float* x, const float* packed, const float* bias, float* y) {
      pointwise_convolution(c.g, c.batch, c.groups, x, c.cin / c.groups, packed, c.cout / c.groups,
                            bias, y);
    });
  }
  // More input channels (a GEMM's case), a stride, padding: not this kernel.
  const auto one = make_geometry({1, 8, 8}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0});
  CHECK(pointwise_applies(one, kMaxPointwiseChannels));
  CHECK_FALSE(pointwise_applies(one, kMaxPointwiseChannels + 1));
  CHECK_FALSE(pointwise_applies(
      make_geometry({1, 8, 8}, {1, 1, 1}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 4));
  CHECK_FALSE(pointwise_applies(
      make_geometry({1, 8, 8}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 4));
}
