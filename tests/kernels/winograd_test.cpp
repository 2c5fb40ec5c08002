#include "kernels/winograd.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "conv_reference.hpp"
#include "core/threads.hpp"
#include "kernels/conv.hpp"
#include "kernels/direct_conv.hpp"
#include "kernels/transposed_conv.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::make_geometry;
using strata::testing::naive_conv;
using strata::testing::random_floats;

namespace {

// The documented bound (kernels/winograd.hpp, docs/performance.md): every
// output within kWinogradBound · Σ |w|·|x| (+ |bias|) of the exact value,
// that sum being the scale of a 3×3 convolution's rounding error. The
// measured worst case is about 2·10⁻⁷ (the direct kernel's: 1·10⁻⁷).
constexpr double kWinogradBound = 5e-7;

struct Case {
  WindowGeometry g;
  int64_t batch, cin, cout;
};

// Odd and even sizes (a partial last tile and vector of tiles), padding 0, 1
// and 2 and uneven, output channels in blocks of 8, 4 and 1, several bands of
// tile rows, channel counts of the style net and the benchmark.
std::vector<Case> cases() {
  return {
      {make_geometry({1, 24, 24}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 2, 3, 13},
      {make_geometry({1, 31, 50}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}), 1, 5, 8},
      {make_geometry({1, 9, 40}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 2, 0}, {0, 1, 3}), 2, 4, 6},
      {make_geometry({1, 70, 27}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 1, 16, 9},
      {make_geometry({1, 32, 32}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 2, 16,
       32},
      {make_geometry({1, 5, 66}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2}, {0, 2, 2}), 1, 1, 1},
  };
}

// The largest |y − exact| relative to the error scale Σ |w|·|x| + |bias|.
double scaled_error(const float* y, const std::vector<double>& exact,
                    const std::vector<double>& scale) {
  double e = 0;
  for (size_t i = 0; i < exact.size(); ++i)
    e = std::max(e, std::abs(y[i] - exact[i]) / std::max(scale[i], 1e-30));
  return e;
}

std::vector<float> absolute(std::vector<float> v) {
  for (float& f : v)
    f = std::abs(f);
  return v;
}

// The Weights w [cout][cin][3][3] of a convolution from cin channels to cout
// as the kernel of its input gradient, a convolution from cout channels to
// cin: w'[c][o][a][b] = w[o][c][2 − a][2 − b].
std::vector<float> flipped_transposed(const std::vector<float>& w, int64_t cin, int64_t cout) {
  std::vector<float> t(w.size());
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t c = 0; c < cin; ++c)
      for (int64_t k = 0; k < 9; ++k)
        t[static_cast<size_t>((c * cout + o) * 9 + 8 - k)] =
            w[static_cast<size_t>((o * cin + c) * 9 + k)];
  return t;
}

}  // namespace

TEST_CASE("winograd: F(2x2, 3x3) within its bound of the float64 definition") {
  double worst = 0, worst_direct = 0;
  for (const Case& c : cases()) {
    const WindowGeometry& g = c.g;
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(c.cout);
    REQUIRE(winograd_applies(g, 1));
    const auto x = random_floats(c.batch * c.cin * g.in_size(), 1);
    const auto w = random_floats(c.cout * c.cin * 9, 2);
    const auto b = random_floats(c.cout, 3);
    std::vector<float> u(static_cast<size_t>(16 * c.cin * c.cout));
    winograd_filter(w.data(), c.cin, c.cout, false, u.data());
    std::vector<float> packed(w.size());
    pack_direct_weights(w.data(), 1, c.cin, c.cout, 9, packed.data());
    WinogradScratch scratch;
    ThreadBuffers padded;
    std::vector<float> y(static_cast<size_t>(c.batch * c.cout * g.out_size()), 7.0f), yd = y;
    for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
      winograd_convolution(g, c.batch, x.data(), c.cin, u.data(), c.cout, bias, y.data(), scratch);
      const auto exact = naive_conv(g, c.batch, c.cin, c.cout, 1, x.data(), w.data(), bias);
      const auto ab = absolute(b);
      const auto scale = naive_conv(g, c.batch, c.cin, c.cout, 1, absolute(x).data(),
                                    absolute(w).data(), bias ? ab.data() : nullptr);
      const double e = scaled_error(y.data(), exact, scale);
      CHECK(e <= kWinogradBound);
      worst = std::max(worst, e);
      direct_convolution(g, c.batch, 1, x.data(), c.cin, packed.data(), c.cout, bias, yd.data(),
                         padded);
      worst_direct = std::max(worst_direct, scaled_error(yd.data(), exact, scale));
    }
  }
  MESSAGE("worst error / (sum |w||x|): Winograd " << worst << ", direct " << worst_direct);
}

TEST_CASE("winograd: the input gradient through transposed_convolution") {
  for (const Case& c : cases()) {
    const WindowGeometry& g = c.g;
    CAPTURE(g.in[2]);
    // dx of the convolution from cin to cout channels: in and out swapped.
    const ConvPlan p = plan_convolution(g, c.batch, c.cin, c.cout, 1);
    const TransposedConvGeometry t = transposed_of(p);
    const auto dy = random_floats(c.batch * c.cout * g.out_size(), 4);
    const auto w = random_floats(c.cout * c.cin * 9, 5);
    ConvScratch scratch;
    std::vector<float> dx(static_cast<size_t>(c.batch * c.cin * g.in_size()), 7.0f);
    transposed_convolution(t, dy.data(), w.data(), nullptr, dx.data(), scratch);
    // The same as a convolution of dy from cout channels to cin, with the
    // flipped, transposed kernel and padding 2 − before.
    WindowGeometry f = g;
    f.in = g.out;
    f.out = g.in;
    for (size_t d = 1; d < 3; ++d)
      f.before[d] = 2 - g.before[d];
    const auto wt = flipped_transposed(w, c.cin, c.cout);
    const auto exact = naive_conv(f, c.batch, c.cout, c.cin, 1, dy.data(), wt.data(), nullptr);
    const auto scale =
        naive_conv(f, c.batch, c.cout, c.cin, 1, absolute(dy).data(), absolute(wt).data(), nullptr);
    CHECK(scaled_error(dx.data(), exact, scale) <= kWinogradBound);
  }
}

namespace {

// dw[k][c][a][b] = Σ_n,i,j dy[n, k, i, j] · x[n, c, i + a − bh, j + b − bw]
// in double, with |dy| and |x| when `magnitudes` (the error scale).
std::vector<double> naive_weights_grad(const WindowGeometry& g, int64_t batch, int64_t cin,
                                       int64_t cout, const float* x, const float* dy,
                                       bool magnitudes) {
  std::vector<double> dw(static_cast<size_t>(cout * cin * 9));
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t k = 0; k < cout; ++k)
      for (int64_t c = 0; c < cin; ++c)
        for (int64_t a = 0; a < 3; ++a)
          for (int64_t b = 0; b < 3; ++b) {
            double s = 0;
            for (int64_t i = 0; i < g.out[1]; ++i)
              for (int64_t j = 0; j < g.out[2]; ++j) {
                const double xv = strata::testing::at(x + (n * cin) * g.in_size(), g, c, 0,
                                                      i + a - g.before[1], j + b - g.before[2]);
                const double d = dy[((n * cout + k) * g.out[1] + i) * g.out[2] + j];
                s += magnitudes ? std::abs(xv) * std::abs(d) : xv * d;
              }
            dw[static_cast<size_t>((k * cin + c) * 9 + a * 3 + b)] += s;
          }
  return dw;
}

}  // namespace

TEST_CASE("winograd: the weights gradient within its bound of the float64 definition") {
  double worst = 0;
  for (const Case& c : cases()) {
    const WindowGeometry& g = c.g;
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    CAPTURE(c.cout);
    const auto x = random_floats(c.batch * c.cin * g.in_size(), 9);
    const auto dy = random_floats(c.batch * c.cout * g.out_size(), 10);
    WinogradScratch scratch;
    std::vector<float> dw(static_cast<size_t>(c.cout * c.cin * 9), 7.0f);
    winograd_weights_grad(g, c.batch, x.data(), c.cin, dy.data(), c.cout, dw.data(), scratch);
    const auto exact = naive_weights_grad(g, c.batch, c.cin, c.cout, x.data(), dy.data(), false);
    const auto scale = naive_weights_grad(g, c.batch, c.cin, c.cout, x.data(), dy.data(), true);
    const double e = scaled_error(dw.data(), exact, scale);
    CHECK(e <= kWinogradBound);
    worst = std::max(worst, e);
  }
  MESSAGE("worst error / (sum |dy||x|): " << worst);
  // The cases take both ways of summing over tiles: matrix products for 16 →
  // 32 channels, vector lanes for the others.
  CHECK(winograd_grad_by_gemm(16, 32));
  CHECK_FALSE(winograd_grad_by_gemm(16, 9));
  CHECK(winograd_grad_applies(
      make_geometry({1, 32, 32}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 1, 16,
      32));
  CHECK_FALSE(winograd_grad_applies(
      make_geometry({1, 32, 32}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}), 1, 16,
      16));
}

TEST_CASE("winograd: identical results on 1, 2 and 3 threads") {
  const int before = num_threads();
  for (const Case& c : cases()) {
    const WindowGeometry& g = c.g;
    const auto x = random_floats(c.batch * c.cin * g.in_size(), 6);
    const auto w = random_floats(c.cout * c.cin * 9, 7);
    const auto b = random_floats(c.cout, 8);
    const ConvPlan p = plan_convolution(g, c.batch, c.cin, c.cout, 1);
    const auto dy = random_floats(c.batch * c.cout * g.out_size(), 9);
    std::vector<std::vector<float>> ys, dxs, dws;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      ConvScratch scratch;
      std::vector<float> y(static_cast<size_t>(c.batch * c.cout * g.out_size()));
      convolution_forward(p, x.data(), w.data(), b.data(), y.data(), scratch);
      ys.push_back(y);
      std::vector<float> dx(x.size()), dw(w.size());
      transposed_convolution(transposed_of(p), dy.data(), w.data(), nullptr, dx.data(), scratch);
      dxs.push_back(dx);
      // (The dispatch takes Winograd for rows of 64 or more; here every case.)
      winograd_weights_grad(g, c.batch, x.data(), c.cin, dy.data(), c.cout, dw.data(),
                            scratch.winograd);
      dws.push_back(dw);
    }
    for (int i = 1; i < 3; ++i) {
      CHECK(std::memcmp(ys[0].data(), ys[i].data(), ys[0].size() * sizeof(float)) == 0);
      CHECK(std::memcmp(dxs[0].data(), dxs[i].data(), dxs[0].size() * sizeof(float)) == 0);
      CHECK(std::memcmp(dws[0].data(), dws[i].data(), dws[0].size() * sizeof(float)) == 0);
    }
  }
  set_num_threads(before);
}
