#include "kernels/im2col.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "conv_reference.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::make_geometry;
using strata::testing::random_floats;

namespace {

// The im2col matrix by its definition: [channels · kernel, positions].
std::vector<float> naive_im2col(const float* x, int64_t channels, const WindowGeometry& g) {
  const int64_t np = g.out_size();
  std::vector<float> col(static_cast<size_t>(channels * g.kernel_size() * np));
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
          int64_t p = 0;
          for (int64_t od = 0; od < g.out[0]; ++od)
            for (int64_t oh = 0; oh < g.out[1]; ++oh)
              for (int64_t ow = 0; ow < g.out[2]; ++ow, ++p)
                col[row * np + p] = static_cast<float>(strata::testing::at(
                    x, g, c, od * g.stride[0] + kd * g.dilation[0] - g.before[0],
                    oh * g.stride[1] + kh * g.dilation[1] - g.before[1],
                    ow * g.stride[2] + kw * g.dilation[2] - g.before[2]));
        }
  return col;
}

// Geometries with odd sizes, strides, dilations and uneven padding.
std::vector<WindowGeometry> geometries() {
  return {
      make_geometry({1, 1, 7}, {1, 1, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0, 0, 1}),
      make_geometry({1, 1, 13}, {1, 1, 4}, {1, 1, 3}, {1, 1, 2}, {0, 0, 2}, {0, 0, 0}),
      make_geometry({1, 5, 7}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
      make_geometry({1, 9, 11}, {1, 3, 2}, {1, 2, 3}, {1, 2, 1}, {0, 2, 0}, {0, 0, 1}),
      make_geometry({1, 6, 19}, {1, 2, 5}, {1, 1, 1}, {1, 1, 2}, {0, 0, 3}, {0, 1, 0}),
      make_geometry({3, 5, 4}, {2, 3, 3}, {2, 1, 2}, {1, 1, 1}, {1, 0, 1}, {0, 2, 1}),
      make_geometry({5, 3, 3}, {3, 1, 2}, {1, 1, 1}, {2, 1, 1}, {2, 0, 0}, {1, 0, 1}),
  };
}

bool stride_1_2d(const WindowGeometry& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1 && g.stride[1] == 1 && g.stride[2] == 1;
}

}  // namespace

TEST_CASE("im2col: every method gives the definition's columns") {
  for (int64_t channels : {1, 3})
    for (const WindowGeometry& g : geometries()) {
      CAPTURE(g.in[0]);
      CAPTURE(g.in[1]);
      CAPTURE(g.in[2]);
      CAPTURE(g.kernel[2]);
      CAPTURE(g.stride[2]);
      CAPTURE(channels);
      const auto x = random_floats(channels * g.in_size(), 1);
      const auto want = naive_im2col(x.data(), channels, g);
      const int64_t rows = channels * g.kernel_size(), np = g.out_size();

      // By walking: all columns, and a middle range into a wider matrix.
      std::vector<float> col(want.size(), 7.0f);
      im2col(x.data(), channels, g, 0, np, col.data(), np);
      CHECK(col == want);
      const int64_t p0 = np / 3, p1 = np - np / 4, ld = p1 - p0 + 2;
      std::vector<float> part(static_cast<size_t>(rows * ld), 7.0f);
      im2col(x.data(), channels, g, p0, p1, part.data(), ld);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t p = p0; p < p1; ++p)
          REQUIRE(part[r * ld + p - p0] == want[r * np + p]);

      // Through the index map.
      ColumnMap map;
      build_map(map, g, channels);
      std::vector<float> xz(x.size() + 1, 0.0f);
      std::copy(x.begin(), x.end(), xz.begin() + 1);
      std::vector<float> gathered(want.size(), 7.0f);
      gather_columns(map, rows, np, xz.data(), gathered.data(), np);
      CHECK(gathered == want);

      // From a padded copy (stride 1 in 2-D), a band of output rows.
      if (stride_1_2d(g)) {
        const PaddedShape s = padded_shape(g);
        std::vector<float> xp(static_cast<size_t>(s.size(channels)), 7.0f);
        const int64_t oh0 = g.out[1] / 2, oh1 = g.out[1];
        pad_rows(x.data(), channels, g, s, oh0, last_padded_row(g, oh1), xp.data());
        const int64_t cols = (oh1 - oh0) * g.out[2];
        std::vector<float> band(static_cast<size_t>(rows * cols));
        padded_im2col(xp.data(), channels, g, s, oh0, oh1, band.data(), cols);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t p = 0; p < cols; ++p)
            REQUIRE(band[r * cols + p] == want[r * np + oh0 * g.out[2] + p]);
      }
    }
}

TEST_CASE("im2col: col2im, scatter and the padded path add columns back where they came from") {
  // Integers: every order of the sums gives the same numbers.
  for (const WindowGeometry& g : geometries()) {
    const int64_t channels = 2, rows = channels * g.kernel_size(), np = g.out_size();
    const auto col = random_floats(rows * np, 2, true);
    const auto x0 = random_floats(channels * g.in_size(), 3, true);
    // The definition: every entry to the input it was taken from.
    std::vector<float> want = x0;
    const auto index = [&] {
      std::vector<float> ids(x0.size());
      for (size_t i = 0; i < ids.size(); ++i)
        ids[i] = static_cast<float>(i + 1);
      return naive_im2col(ids.data(), channels, g);
    }();
    for (size_t i = 0; i < col.size(); ++i)
      if (index[i] > 0) want[static_cast<size_t>(index[i]) - 1] += col[i];

    std::vector<float> x = x0;
    col2im_add(col.data(), np, channels, g, 0, np, x.data());
    CHECK(x == want);

    ColumnMap map;
    build_map(map, g, channels);
    std::vector<float> xz(x0.size() + 1, 0.0f);
    std::copy(x0.begin(), x0.end(), xz.begin() + 1);
    scatter_columns(map, rows, np, col.data(), np, xz.data());
    CHECK(std::vector<float>(xz.begin() + 1, xz.end()) == want);

    if (stride_1_2d(g)) {
      const PaddedShape s = padded_shape(g);
      std::vector<float> dxp(static_cast<size_t>(s.size(channels)), 0.0f);
      padded_col2im_add(col.data(), np, channels, g, s, 0, g.out[1], dxp.data());
      x = x0;
      unpad_add_rows(dxp.data(), channels, g, s, 0, last_padded_row(g, g.out[1]), x.data());
      CHECK(x == want);
    }
  }
}

TEST_CASE("im2col: stride-1 and stride-2 columns read from the rows equal the index map's") {
  // 3×3 with padding 1 (a ResNet stem), 2×2 without, uneven padding, odd
  // sizes, output rows of more than a vector (a partial last vector).
  const WindowGeometry cases[] = {
      make_geometry({1, 32, 32}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
      make_geometry({1, 9, 11}, {1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 7, 45}, {1, 3, 4}, {1, 2, 2}, {1, 1, 1}, {0, 2, 0}, {0, 1, 3}),
      make_geometry({1, 5, 5}, {1, 1, 1}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      // Stride 1: small images (the ResNet block's 8×8), rows of more than
      // a vector, uneven padding, padding past the kernel's reach.
      make_geometry({1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
      make_geometry({1, 4, 21}, {1, 2, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 0}, {0, 0, 2}),
      make_geometry({1, 3, 5}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 3, 2}, {0, 1, 3}),
      make_geometry({1, 10, 10}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
      make_geometry({1, 18, 18}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}),
  };
  for (const WindowGeometry& g : cases) {
    CAPTURE(g.in[2]);
    REQUIRE(row_columns_apply(g) == (g.stride[1] == 2));
    const int64_t channels = 3, rows = channels * g.kernel_size(), positions = g.out_size();
    const auto x = random_floats(channels * g.in_size(), 5);
    std::vector<float> xz(x.size() + 1, 0.0f);
    std::copy(x.begin(), x.end(), xz.begin() + 1);
    ColumnMap map;
    build_map(map, g, channels);
    std::vector<float> want(static_cast<size_t>(rows * positions), 7.0f), got = want;
    gather_columns(map, rows, positions, xz.data(), want.data(), positions);
    row_columns(x.data(), channels, g, got.data(), positions);
    CHECK(want == got);
  }
}

TEST_CASE("im2col: columns of planes of up to 16 values, by permutation, equal the index map's") {
  // The digits net's 4×4 with padding 1, 2×2 and 3×4 planes, stride 2 on
  // 4×4, uneven padding, a 1-D row of 16, dilation; a 4×5 plane (20 values)
  // and 5×4 outputs are out of reach.
  const WindowGeometry cases[] = {
      make_geometry({1, 4, 4}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
      make_geometry({1, 2, 2}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
      make_geometry({1, 3, 4}, {1, 2, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 0}, {0, 0, 2}),
      make_geometry({1, 4, 4}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
      make_geometry({1, 1, 16}, {1, 1, 3}, {1, 1, 1}, {1, 1, 2}, {0, 0, 2}, {0, 0, 2}),
      make_geometry({1, 4, 5}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}),
  };
  for (const WindowGeometry& g : cases) {
    CAPTURE(g.in[1]);
    CAPTURE(g.in[2]);
    REQUIRE(plane_columns_apply(g) == (g.in_size() <= 16 && g.out_size() <= 16));
    if (!plane_columns_apply(g)) continue;
    const int64_t channels = 5, rows = channels * g.kernel_size(), positions = g.out_size();
    const auto x = random_floats(channels * g.in_size(), 6);
    std::vector<float> xz(x.size() + 1, 0.0f);
    std::copy(x.begin(), x.end(), xz.begin() + 1);
    ColumnMap map;
    build_map(map, g, channels);
    // Rows ld apart, with a gap that must stay untouched.
    const int64_t ld = positions + 3;
    std::vector<float> want(static_cast<size_t>(rows * ld), 7.0f), got = want;
    gather_columns(map, rows, positions, xz.data(), want.data(), ld);
    plane_columns(map, x.data(), channels, g, got.data(), ld);
    CHECK(want == got);
    CHECK(std::count(got.begin(), got.end(), 7.0f) == rows * 3);
  }
}
