#include "kernels/transposed_conv_grad.hpp"

#include <doctest/doctest.h>

#include "conv_reference.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::max_error;
using strata::testing::random_floats;
using strata::testing::transposed_geometry;

namespace {

// The definitions, in double: every pair (input i, kernel k) that lands on
// output j = i·stride + k·dilation − before, inside the output, links
// x[c, i], w[c, o, k] and y[g·co + o, j].
struct Naive {
  std::vector<double> dx, dw, db;
};

Naive naive_grads(const TransposedConvGeometry& t, const float* x, const float* w,
                  const float* dy) {
  const int64_t ci = t.in_channels / t.groups, co = t.out_channels / t.groups;
  const int64_t in_size = t.in[0] * t.in[1] * t.in[2], out_size = t.out[0] * t.out[1] * t.out[2];
  const int64_t ks = t.kernel[0] * t.kernel[1] * t.kernel[2];
  Naive r;
  r.dx.assign(static_cast<size_t>(t.batch * t.in_channels * in_size), 0.0);
  r.dw.assign(static_cast<size_t>(t.in_channels * co * ks), 0.0);
  r.db.assign(static_cast<size_t>(t.out_channels), 0.0);
  for (int64_t n = 0; n < t.batch; ++n)
    for (int64_t oc = 0; oc < t.out_channels; ++oc)
      for (int64_t j = 0; j < out_size; ++j)
        r.db[oc] += dy[(n * t.out_channels + oc) * out_size + j];
  for (int64_t n = 0; n < t.batch; ++n)
    for (int64_t c = 0; c < t.in_channels; ++c)
      for (int64_t i = 0; i < in_size; ++i) {
        const int64_t i0 = i / (t.in[1] * t.in[2]), i1 = (i / t.in[2]) % t.in[1], i2 = i % t.in[2];
        const int64_t xi = (n * t.in_channels + c) * in_size + i;
        for (int64_t k = 0; k < ks; ++k) {
          const int64_t k0 = k / (t.kernel[1] * t.kernel[2]), k1 = (k / t.kernel[2]) % t.kernel[1];
          const int64_t k2 = k % t.kernel[2];
          const int64_t j0 = i0 * t.stride[0] + k0 * t.dilation[0] - t.padding[0];
          const int64_t j1 = i1 * t.stride[1] + k1 * t.dilation[1] - t.padding[1];
          const int64_t j2 = i2 * t.stride[2] + k2 * t.dilation[2] - t.padding[2];
          if (j0 < 0 || j1 < 0 || j2 < 0 || j0 >= t.out[0] || j1 >= t.out[1] || j2 >= t.out[2])
            continue;
          const int64_t j = (j0 * t.out[1] + j1) * t.out[2] + j2;
          for (int64_t o = 0; o < co; ++o) {
            const double g = dy[(n * t.out_channels + c / ci * co + o) * out_size + j];
            r.dx[xi] += g * w[(c * co + o) * ks + k];
            r.dw[(c * co + o) * ks + k] += g * x[xi];
          }
        }
      }
  return r;
}

}  // namespace

TEST_CASE("transposed_conv_grad: input, weights and bias gradients, by every path") {
  const TransposedConvGeometry cases[] = {
      // Stride 1, output rows of 16 or more: the direct kernel for dx.
      transposed_geometry(2, 4, 6, 2, {1, 3, 18}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1},
                          {0, 1, 1}, {0, 0, 0}),
      // Strides, output padding, crops on one side only: GEMMs.
      transposed_geometry(3, 2, 3, 1, {1, 4, 5}, {1, 3, 2}, {1, 2, 3}, {1, 1, 1}, {0, 1, 0},
                          {0, 0, 2}, {0, 1, 2}),
      transposed_geometry(2, 4, 4, 4, {1, 1, 9}, {1, 1, 3}, {1, 1, 2}, {1, 1, 2}, {0, 0, 3},
                          {0, 0, 0}, {0, 0, 1}),
      // 3-D, dilation, groups.
      transposed_geometry(2, 4, 2, 2, {2, 3, 2}, {2, 2, 3}, {2, 1, 1}, {1, 2, 1}, {1, 0, 1},
                          {0, 1, 1}, {1, 0, 0}),
      // Many input channels over a large image: tiled GEMMs.
      transposed_geometry(1, 8, 32, 1, {1, 16, 17}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1},
                          {0, 1, 1}, {0, 1, 1}),
  };
  for (const auto& t : cases) {
    CAPTURE(t.in[2]);
    CAPTURE(t.stride[2]);
    CAPTURE(t.groups);
    REQUIRE(t.out[0] >= 1);
    REQUIRE(t.out[1] >= 1);
    REQUIRE(t.out[2] >= 1);
    const int64_t in_size = t.in[0] * t.in[1] * t.in[2];
    const int64_t out_size = t.out[0] * t.out[1] * t.out[2];
    const int64_t ks = t.kernel[0] * t.kernel[1] * t.kernel[2];
    const auto x = random_floats(t.batch * t.in_channels * in_size, 1);
    const auto w = random_floats(t.in_channels * t.out_channels / t.groups * ks, 2);
    const auto dy = random_floats(t.batch * t.out_channels * out_size, 3);
    const Naive want = naive_grads(t, x.data(), w.data(), dy.data());
    ConvScratch scratch;
    std::vector<float> dx(want.dx.size(), 7.0f), dw(want.dw.size(), 7.0f), db(want.db.size());
    for (int again = 0; again < 2; ++again) {  // cold and warm scratch
      transposed_conv_input_grad(t, dy.data(), w.data(), dx.data(), scratch);
      transposed_conv_weights_grad(t, x.data(), dy.data(), dw.data(), scratch);
      transposed_conv_bias_grad(t, dy.data(), db.data());
      CHECK(max_error(dx.data(), want.dx) < 1e-5);
      CHECK(max_error(dw.data(), want.dw) < 1e-5);
      CHECK(max_error(db.data(), want.db) < 1e-5);
    }
  }
}
