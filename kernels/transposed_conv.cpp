#include "kernels/transposed_conv.hpp"

#include <algorithm>
#include <optional>

#include "core/tensor.hpp"
#include "core/threads.hpp"
#include "kernels/direct_conv.hpp"
#include "kernels/small_conv.hpp"
#include "kernels/winograd.hpp"

namespace strata::kernels {

namespace {

// Where the stride is 1, the transposed convolution is itself a stride-1
// convolution: of x, with the kernel flipped and input and output channels
// swapped, padded by (kernel − 1)·dilation − padding. Its geometry, when
// that padding is not negative (else nullopt: col2im does it). `p` is the
// plan of the convolution it is the adjoint of.
std::optional<WindowGeometry> flipped_geometry(const ConvPlan& p) {
  const WindowGeometry& g = p.geo;
  if (g.stride != std::array<int64_t, 3>{1, 1, 1}) return std::nullopt;
  WindowGeometry t = g;
  t.in = g.out;
  t.out = g.in;
  for (size_t d = 0; d < 3; ++d) {
    t.before[d] = (g.kernel[d] - 1) * g.dilation[d] - g.before[d];
    if (t.before[d] < 0) return std::nullopt;
  }
  return t;
}

// Whether the direct kernel applies (rows of a vector or more).
bool direct_applies(const ConvPlan& p) {
  return p.method == ConvPlan::Method::Padded && p.geo.out[2] >= kMinPaddedRow &&
         p.geo.in[2] >= kMinPaddedRow;
}

// By the direct kernel (or its flat-plane form for small images) over the
// flipped, transposed weights.
void by_direct(const ConvPlan& p, const WindowGeometry& t, const float* dy, const float* w,
               const float* bias, float* dx, ConvScratch& work) {
  const int64_t k = p.geo.kernel_size(), ci = p.in_per_group, co = p.out_per_group;
  // packed[g][o][k − 1 − kk][c] = W[g·co + o][c][kk]: the direct kernel's
  // layout for a convolution from co channels to ci.
  work.packed_t.resize(static_cast<size_t>(p.out_channels * p.rows));
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          work.packed_t[((g * co + o) * k + (k - 1 - kk)) * ci + c] =
              w[((g * co + o) * ci + c) * k + kk];
  if (t.out[2] < kMinPaddedRow)  // small images: on flat planes
    small_direct_convolution(t, p.batch, p.groups, dy, co, work.packed_t.data(), ci, bias, dx,
                             work.padded_grad, work.out);
  else
    direct_convolution(t, p.batch, p.groups, dy, co, work.packed_t.data(), ci, bias, dx,
                       work.padded_grad);
}

// For small images (the index map's method): the flipped convolution's
// columns gathered from x, times the flipped, transposed weights, several
// examples side by side; no scatter.
void by_map(const ConvPlan& p, const WindowGeometry& t, const float* dy, const float* w, float* dx,
            ConvScratch& work) {
  const int64_t k = p.geo.kernel_size(), ci = p.in_per_group, co = p.out_per_group;
  const int64_t rows = co * k, np = t.in_size(), nx = t.out_size();
  // [g][c][o][k − 1 − kk] = W[g·co + o][c][kk]: per group a [ci, co·k] matrix.
  work.packed_t.resize(static_cast<size_t>(p.out_channels * p.rows));
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          work.packed_t[((g * ci + c) * co + o) * k + (k - 1 - kk)] =
              w[((g * co + o) * ci + c) * k + kk];
  build_map(work.map_t, t, co);
  const bool small_planes = plane_columns_apply(t);
  const int64_t side =
      std::clamp(ceil_div(kMinColumns, std::max<int64_t>(1, nx)), int64_t{1},
                 std::max<int64_t>(1, kColumnBudget / std::max<int64_t>(1, rows * nx)));
  ensure_threads(work.col, rows * side * nx);
  ensure_threads(work.out, ci * side * nx);
  ensure_threads(work.padded_grad, co * np + 1);
  parallel_for(p.chunks * p.groups, [&](int64_t item) {
    const int64_t chunk = item / p.groups, g = item % p.groups;
    const ConstMatrixMap wt(work.packed_t.data() + g * ci * rows, ci, rows);
    float* col = thread_buffer(work.col);
    float* dyz = thread_buffer(work.padded_grad);
    const int64_t last = p.chunk_first(chunk + 1);
    const int64_t first = p.chunk_first(chunk), step = even_steps(last - first, side);
    for (int64_t n0 = first; n0 < last; n0 += step) {
      const int64_t count = std::min(step, last - n0), width = count * nx;
      for (int64_t e = 0; e < count; ++e) {
        const float* dye = dy + ((n0 + e) * p.out_channels + g * co) * np;
        if (small_planes) {
          plane_columns(work.map_t, dye, co, t, col + e * nx, width);
          continue;
        }
        dyz[0] = 0.0f;
        copy_floats(dye, co * np, dyz + 1);
        gather_columns(work.map_t, rows, nx, dyz, col + e * nx, width);
      }
      MatrixMap prod(thread_buffer(work.out), ci, width);
      prod.noalias() = wt * ConstMatrixMap(col, rows, width);
      for (int64_t e = 0; e < count; ++e)
        for (int64_t c = 0; c < ci; ++c)
          copy_floats(prod.data() + c * width + e * nx, nx,
                      dx + ((n0 + e) * p.in_channels + g * ci + c) * nx);
    }
  });
}

// y[n, c, :] += bias[c].
void add_bias(const float* bias, int64_t batch, int64_t channels, int64_t size, float* y) {
  parallel_for(batch * channels, [&](int64_t plane) {
    const float b = bias[plane % channels];
    float* yp = y + plane * size;
    for (int64_t i = 0; i < size; ++i)
      yp[i] += b;
  });
}

}  // namespace

TransposedConvGeometry transposed_of(const ConvPlan& p) {
  TransposedConvGeometry t;
  t.batch = p.batch;
  t.in_channels = p.out_channels;
  t.out_channels = p.in_channels;
  t.groups = p.groups;
  t.in = p.geo.out;
  t.out = p.geo.in;
  t.kernel = p.geo.kernel;
  t.stride = p.geo.stride;
  t.dilation = p.geo.dilation;
  t.padding = p.geo.before;
  return t;
}

void transposed_convolution(const TransposedConvGeometry& t, const float* x, const float* w,
                            const float* bias, float* y, ConvScratch& scratch) {
  if (t.batch <= 0) return;
  // The plan of the convolution this is the adjoint of: from y's sizes to x's.
  const ConvPlan p =
      plan_convolution(t.convolution(), t.batch, t.out_channels, t.in_channels, t.groups);
  if (const auto flipped = flipped_geometry(p)) {
    if (winograd_applies(*flipped, p.groups)) {
      // The flipped convolution by Winograd F(2×2, 3×3), from the
      // out_channels of p to its in_channels.
      scratch.winograd.u.resize(static_cast<size_t>(16 * p.in_channels * p.out_channels));
      winograd_filter(w, p.out_channels, p.in_channels, true, scratch.winograd.u.data());
      winograd_convolution(*flipped, p.batch, x, p.out_channels, scratch.winograd.u.data(),
                           p.in_channels, bias, y, scratch.winograd);
      return;
    }
    if (direct_applies(p) || small_direct_applies(*flipped)) {
      by_direct(p, *flipped, x, w, bias, y, scratch);
      return;
    }
    // The map's offsets are floats spanning every channel of a group's input:
    // exact only below 2^24.
    const int64_t span = p.out_per_group * flipped->in_size() + 1;
    if (p.method == ConvPlan::Method::Mapped && span < (int64_t{1} << 24)) {
      by_map(p, *flipped, x, w, y, scratch);
      if (bias) add_bias(bias, t.batch, t.out_channels, p.geo.in_size(), y);
      return;
    }
  }
  gemm_conv_input_grad(p, x, w, y, scratch);
  if (bias) add_bias(bias, t.batch, t.out_channels, p.geo.in_size(), y);
}

}  // namespace strata::kernels
