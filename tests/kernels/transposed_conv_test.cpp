#include "kernels/transposed_conv.hpp"

#include <doctest/doctest.h>

#include "conv_reference.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::max_error;
using strata::testing::random_floats;

namespace {

// PyTorch's conv_transpose by its definition: every input element adds
// x·w over its window of the output, cropped by `padding` at the start and
// by the output size at the end.
std::vector<double> naive_transposed(const TransposedConvGeometry& t, const float* x,
                                     const float* w, const float* bias) {
  const int64_t ci = t.in_channels / t.groups, co = t.out_channels / t.groups;
  const int64_t out_size = t.out[0] * t.out[1] * t.out[2];
  const int64_t ks = t.kernel[0] * t.kernel[1] * t.kernel[2];
  std::vector<double> y(static_cast<size_t>(t.batch * t.out_channels * out_size));
  for (int64_t n = 0; n < t.batch; ++n)
    for (int64_t oc = 0; oc < t.out_channels; ++oc)
      for (int64_t j = 0; j < out_size; ++j)
        y[(n * t.out_channels + oc) * out_size + j] = bias ? bias[oc] : 0.0;
  for (int64_t n = 0; n < t.batch; ++n)
    for (int64_t c = 0; c < t.in_channels; ++c)
      for (int64_t i0 = 0; i0 < t.in[0]; ++i0)
        for (int64_t i1 = 0; i1 < t.in[1]; ++i1)
          for (int64_t i2 = 0; i2 < t.in[2]; ++i2) {
            const double xv =
                x[((n * t.in_channels + c) * t.in[0] + i0) * t.in[1] * t.in[2] + i1 * t.in[2] + i2];
            for (int64_t k0 = 0; k0 < t.kernel[0]; ++k0)
              for (int64_t k1 = 0; k1 < t.kernel[1]; ++k1)
                for (int64_t k2 = 0; k2 < t.kernel[2]; ++k2) {
                  const int64_t j0 = i0 * t.stride[0] + k0 * t.dilation[0] - t.padding[0];
                  const int64_t j1 = i1 * t.stride[1] + k1 * t.dilation[1] - t.padding[1];
                  const int64_t j2 = i2 * t.stride[2] + k2 * t.dilation[2] - t.padding[2];
                  if (j0 < 0 || j1 < 0 || j2 < 0 || j0 >= t.out[0] || j1 >= t.out[1] ||
                      j2 >= t.out[2])
                    continue;
                  const int64_t g = c / ci;
                  for (int64_t o = 0; o < co; ++o) {
                    const double wv =
                        w[(c * co + o) * ks + (k0 * t.kernel[1] + k1) * t.kernel[2] + k2];
                    y[((n * t.out_channels + g * co + o) * t.out[0] + j0) * t.out[1] * t.out[2] +
                      j1 * t.out[2] + j2] += xv * wv;
                  }
                }
          }
  return y;
}

// A geometry in PyTorch's terms (the same padding before and after).
TransposedConvGeometry torch_geometry(int64_t batch, int64_t cin, int64_t cout, int64_t groups,
                                      std::array<int64_t, 3> in, std::array<int64_t, 3> kernel,
                                      std::array<int64_t, 3> stride,
                                      std::array<int64_t, 3> dilation,
                                      std::array<int64_t, 3> padding,
                                      std::array<int64_t, 3> output_padding) {
  return strata::testing::transposed_geometry(batch, cin, cout, groups, in, kernel, stride,
                                              dilation, padding, padding, output_padding);
}

}  // namespace

TEST_CASE("transposed_conv: PyTorch's conv_transpose, by every path") {
  const TransposedConvGeometry cases[] = {
      // Stride 1 with rows of 16 or more: the direct kernel.
      torch_geometry(2, 4, 6, 2, {1, 9, 19}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 0, 0}),
      torch_geometry(1, 3, 5, 1, {1, 1, 33}, {1, 1, 4}, {1, 1, 1}, {1, 1, 2}, {0, 0, 2}, {0, 0, 0}),
      // Stride 1, small images: the index map.
      torch_geometry(5, 3, 4, 1, {1, 5, 7}, {1, 3, 2}, {1, 1, 1}, {1, 2, 1}, {0, 1, 0}, {0, 0, 0}),
      torch_geometry(3, 2, 2, 2, {3, 4, 3}, {2, 2, 3}, {1, 1, 1}, {1, 1, 1}, {1, 0, 1}, {0, 0, 0}),
      // Strides, output padding, dilation, groups: GEMMs and col2im.
      torch_geometry(2, 4, 6, 2, {1, 5, 7}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 0}),
      torch_geometry(3, 3, 2, 1, {1, 1, 11}, {1, 1, 5}, {1, 1, 3}, {1, 1, 2}, {0, 0, 4}, {0, 0, 2}),
      torch_geometry(2, 2, 3, 1, {2, 3, 4}, {2, 3, 2}, {2, 1, 3}, {1, 2, 1}, {0, 1, 1}, {1, 0, 2}),
      // Padding larger than the kernel's reach: a stride-1 case col2im does.
      torch_geometry(2, 2, 2, 1, {1, 6, 9}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 2, 1}, {0, 0, 0}),
      // A large image: tiled GEMMs.
      torch_geometry(1, 4, 3, 1, {1, 40, 41}, {1, 4, 4}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1},
                     {0, 1, 1}),
  };
  for (const auto& t : cases) {
    CAPTURE(t.in[1]);
    CAPTURE(t.in[2]);
    CAPTURE(t.stride[2]);
    CAPTURE(t.padding[2]);
    CAPTURE(t.groups);
    REQUIRE(t.out[0] >= 1);
    REQUIRE(t.out[1] >= 1);
    REQUIRE(t.out[2] >= 1);
    const int64_t in_size = t.in[0] * t.in[1] * t.in[2];
    const int64_t out_size = t.out[0] * t.out[1] * t.out[2];
    const int64_t ks = t.kernel[0] * t.kernel[1] * t.kernel[2];
    const auto x = random_floats(t.batch * t.in_channels * in_size, 1);
    const auto w = random_floats(t.in_channels * t.out_channels / t.groups * ks, 2);
    const auto b = random_floats(t.out_channels, 3);
    ConvScratch scratch;
    std::vector<float> y(static_cast<size_t>(t.batch * t.out_channels * out_size), 7.0f);
    for (const float* bias : {static_cast<const float*>(nullptr), b.data()}) {
      transposed_convolution(t, x.data(), w.data(), bias, y.data(), scratch);
      CHECK(max_error(y.data(), naive_transposed(t, x.data(), w.data(), bias)) < 1e-5);
    }
  }
}

TEST_CASE("transposed_conv: the input gradient of a convolution, from its plan") {
  // transposed_of(plan) swaps the plan's sizes and channel counts.
  WindowGeometry g = strata::testing::make_geometry({1, 8, 9}, {1, 3, 2}, {1, 2, 1}, {1, 1, 2},
                                                    {0, 1, 0}, {0, 0, 1});
  const ConvPlan p = plan_convolution(g, 3, 4, 6, 2);
  const TransposedConvGeometry t = transposed_of(p);
  CHECK(t.batch == 3);
  CHECK(t.in_channels == 6);
  CHECK(t.out_channels == 4);
  CHECK(t.groups == 2);
  CHECK(t.in == g.out);
  CHECK(t.out == g.in);
  CHECK(t.padding == g.before);
  const WindowGeometry back = t.convolution();
  CHECK(back.in == g.in);
  CHECK(back.out == g.out);
  CHECK(back.stride == g.stride);
  CHECK(back.dilation == g.dilation);
  CHECK(back.kernel == g.kernel);
  CHECK(transposed_size(5, 3, 2, 1, 1, 1) == 10);
}
