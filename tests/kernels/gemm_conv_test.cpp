#include "kernels/gemm_conv.hpp"

#include <doctest/doctest.h>

#include "conv_reference.hpp"

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

// Odd sizes, every column method (the input itself, padded rows, index map,
// walking), several examples per GEMM, and tiled images.
std::vector<Case> cases() {
  return {
      {make_geometry({1, 1, 300}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 3, 2, 3,
       1},
      {make_geometry({1, 7, 5}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 5, 3, 4, 1},
      {make_geometry({1, 9, 21}, {1, 3, 3}, {1, 1, 1}, {1, 2, 1}, {0, 2, 1}, {0, 1, 0}), 2, 4, 6,
       2},
      {make_geometry({1, 11, 13}, {1, 3, 2}, {1, 2, 3}, {1, 1, 1}, {0, 1, 0}, {0, 0, 1}), 3, 2, 5,
       1},
      {make_geometry({3, 5, 4}, {2, 3, 2}, {1, 2, 1}, {2, 1, 1}, {1, 1, 0}, {0, 1, 1}), 4, 2, 2, 2},
      {make_geometry({1, 1, 37}, {1, 1, 4}, {1, 1, 2}, {1, 1, 3}, {0, 0, 2}, {0, 0, 3}), 17, 3, 3,
       1},
      // Tiled: an image's columns exceed the budget.
      {make_geometry({1, 45, 47}, {1, 5, 5}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2}, {0, 2, 2}), 2, 3, 4,
       1},
      {make_geometry({1, 61, 63}, {1, 4, 3}, {1, 2, 1}, {1, 1, 2}, {0, 1, 2}, {0, 0, 1}), 1, 4, 3,
       1},
  };
}

// dx and dw by their definitions: the adjoints of the convolution.
void naive_grads(const Case& c, const float* x, const float* w, const float* dy,
                 std::vector<double>& dx, std::vector<double>& dw) {
  const WindowGeometry& g = c.g;
  const int64_t cig = c.cin / c.groups, cog = c.cout / c.groups, ks = g.kernel_size();
  dx.assign(static_cast<size_t>(c.batch * c.cin * g.in_size()), 0.0);
  dw.assign(static_cast<size_t>(c.cout * cig * ks), 0.0);
  int64_t at_y = 0;
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t o = 0; o < c.cout; ++o)
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow, ++at_y)
            for (int64_t ci = 0; ci < cig; ++ci)
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.before[0];
                    const int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.before[1];
                    const int64_t iw = ow * g.stride[2] + kw * g.dilation[2] - g.before[2];
                    if (id < 0 || ih < 0 || iw < 0 || id >= g.in[0] || ih >= g.in[1] ||
                        iw >= g.in[2])
                      continue;
                    const int64_t xi =
                        ((n * c.cin + (o / cog) * cig + ci) * g.in[0] + id) * g.in[1] * g.in[2] +
                        ih * g.in[2] + iw;
                    const int64_t wi =
                        (o * cig + ci) * ks + (kd * g.kernel[1] + kh) * g.kernel[2] + kw;
                    dx[static_cast<size_t>(xi)] += double(dy[at_y]) * w[wi];
                    dw[static_cast<size_t>(wi)] += double(dy[at_y]) * x[xi];
                  }
}

}  // namespace

TEST_CASE("gemm_conv: forward, input, Weights and bias gradients match the definitions") {
  for (const Case& c : cases()) {
    const WindowGeometry& g = c.g;
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(g.kernel[2]);
    CAPTURE(c.batch);
    CAPTURE(c.groups);
    const ConvPlan p = plan_convolution(g, c.batch, c.cin, c.cout, c.groups);
    const auto x = random_floats(c.batch * c.cin * g.in_size(), 1);
    const auto w = random_floats(c.cout * c.cin / c.groups * g.kernel_size(), 2);
    const auto b = random_floats(c.cout, 3);
    const auto dy = random_floats(c.batch * c.cout * g.out_size(), 4);
    ConvScratch scratch;

    std::vector<float> y(static_cast<size_t>(c.batch * c.cout * g.out_size()));
    gemm_conv_forward(p, x.data(), w.data(), b.data(), y.data(), scratch);
    CHECK(max_error(y.data(), naive_conv(g, c.batch, c.cin, c.cout, c.groups, x.data(), w.data(),
                                         b.data())) < 1e-5);
    gemm_conv_forward(p, x.data(), w.data(), nullptr, y.data(), scratch);
    CHECK(max_error(y.data(), naive_conv(g, c.batch, c.cin, c.cout, c.groups, x.data(), w.data(),
                                         nullptr)) < 1e-5);

    std::vector<double> want_dx, want_dw;
    naive_grads(c, x.data(), w.data(), dy.data(), want_dx, want_dw);
    std::vector<float> dx(want_dx.size(), 7.0f), dw(want_dw.size(), 7.0f);
    gemm_conv_input_grad(p, dy.data(), w.data(), dx.data(), scratch);
    CHECK(max_error(dx.data(), want_dx) < 1e-5);
    gemm_conv_weights_grad(p, x.data(), dy.data(), dw.data(), scratch);
    CHECK(max_error(dw.data(), want_dw) < 1e-4);  // long sums

    std::vector<double> want_db(static_cast<size_t>(c.cout), 0.0);
    for (int64_t n = 0; n < c.batch; ++n)
      for (int64_t o = 0; o < c.cout; ++o)
        for (int64_t i = 0; i < g.out_size(); ++i)
          want_db[o] += dy[(n * c.cout + o) * g.out_size() + i];
    std::vector<float> db(want_db.size());
    conv_bias_grad(p, dy.data(), db.data());
    CHECK(max_error(db.data(), want_db) < 1e-5);
  }
}

TEST_CASE("gemm_conv: the plan picks each column method for the sizes it suits") {
  using M = ConvPlan::Method;
  const auto method = [](const Case& c) {
    return plan_convolution(c.g, c.batch, c.cin, c.cout, c.groups).method;
  };
  const auto all = cases();
  CHECK(method(all[0]) == M::Direct);
  CHECK(method(all[1]) == M::Mapped);
  CHECK(method(all[2]) == M::Padded);
  CHECK(method(all[3]) == M::Mapped);
  CHECK(method(all[6]) == M::Padded);
  CHECK(method(all[7]) == M::Walk);
  CHECK(plan_convolution(all[6].g, 2, 3, 4, 1).tiled);
  CHECK(plan_convolution(all[5].g, 17, 3, 3, 1).side > 1);
  CHECK(even_steps(16, 13) == 8);
  CHECK(even_steps(5, 8) == 5);
}
