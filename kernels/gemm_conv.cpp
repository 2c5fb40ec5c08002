#include "kernels/gemm_conv.hpp"

#include <algorithm>
#include <array>

#include "core/tensor.hpp"
#include "core/threads.hpp"

namespace strata::kernels {

namespace {

using StridedMap = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using ConstStridedMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

// Examples are split into at most this many chunks; Weights gradients are
// summed per chunk, then over chunks in order. The chunking depends only on
// the batch size, never on the thread count, so every thread count gives
// bit-identical results.
constexpr int64_t kMaxChunks = 8;
// ... and each chunk has at least this many output positions (its GEMMs
// about as many columns): a chunk's Weights gradient costs a whole [out,
// rows] matrix to clear, write and sum, worth it only for enough columns.
constexpr int64_t kMinChunkPositions = 128;

// Makes an application's im2col columns, and puts column gradients back, by
// the plan's method (not Direct: the input is its own columns then), with
// per-thread scratch from the workspace.
class Columns {
 public:
  Columns(const ConvPlan& p, ConvScratch& work, bool fill, bool add_back)
      : p_(p), work_(work), shape_(padded_shape(p.geo)) {
    const int64_t group_in = p.in_per_group * p.geo.in_size();
    const int64_t scratch = p.method == ConvPlan::Method::Padded   ? shape_.size(p.in_per_group)
                            : p.method == ConvPlan::Method::Mapped ? group_in + 1
                                                                   : 0;
    if (p.method == ConvPlan::Method::Mapped) build_map(work.map, p.geo, p.in_per_group);
    ensure_threads(work.padded, fill ? scratch : 0);
    ensure_threads(work.padded_grad, add_back ? scratch : 0);
  }

  // col[:, 0, cols) (rows `ld` apart) = the columns of positions
  // [p0, p0 + cols) of x (one example's channels of the group).
  void fill(const float* x, int64_t p0, int64_t cols, float* col, int64_t ld) const {
    const WindowGeometry& g = p_.geo;
    switch (p_.method) {
      case ConvPlan::Method::Padded: {
        float* xp = thread_buffer(work_.padded);
        const int64_t oh0 = p0 / g.out[2], oh1 = (p0 + cols) / g.out[2];
        pad_rows(x, p_.in_per_group, g, shape_, oh0, last_padded_row(g, oh1), xp);
        padded_im2col(xp, p_.in_per_group, g, shape_, oh0, oh1, col, ld);
        break;
      }
      case ConvPlan::Method::Mapped: {
        if (p0 == 0 && cols == p_.positions && row_columns_apply(g)) {
          row_columns(x, p_.in_per_group, g, col, ld);
          break;
        }
        if (p0 == 0 && cols == p_.positions && plane_columns_apply(g)) {
          plane_columns(work_.map, x, p_.in_per_group, g, col, ld);
          break;
        }
        float* xz = thread_buffer(work_.padded);
        xz[0] = 0.0f;
        std::copy_n(x, p_.in_per_group * g.in_size(), xz + 1);
        gather_columns(work_.map, p_.rows, cols, xz, col, ld);
        break;
      }
      default:
        im2col(x, p_.in_per_group, g, p0, p0 + cols, col, ld);
    }
  }

  // dx (one example's channels of the group) += the column gradients
  // dcol[:, 0, cols) of positions [p0, p0 + cols).
  void add_back(const float* dcol, int64_t ld, int64_t p0, int64_t cols, float* dx) const {
    const WindowGeometry& g = p_.geo;
    switch (p_.method) {
      case ConvPlan::Method::Padded: {
        float* dxp = thread_buffer(work_.padded_grad);
        const int64_t oh0 = p0 / g.out[2], oh1 = (p0 + cols) / g.out[2];
        const int64_t r1 = last_padded_row(g, oh1);
        for (int64_t c = 0; c < p_.in_per_group; ++c)
          std::fill_n(dxp + (c * shape_.hp + oh0) * shape_.wp, (r1 - oh0) * shape_.wp, 0.0f);
        padded_col2im_add(dcol, ld, p_.in_per_group, g, shape_, oh0, oh1, dxp);
        unpad_add_rows(dxp, p_.in_per_group, g, shape_, oh0, r1, dx);
        break;
      }
      case ConvPlan::Method::Mapped: {
        float* xz = thread_buffer(work_.padded_grad);
        const int64_t group_in = p_.in_per_group * g.in_size();
        std::fill_n(xz, group_in + 1, 0.0f);
        scatter_columns(work_.map, p_.rows, cols, dcol, ld, xz);
        for (int64_t i = 0; i < group_in; ++i)
          dx[i] += xz[i + 1];
        break;
      }
      default:
        col2im_add(dcol, ld, p_.in_per_group, g, p0, p0 + cols, dx);
    }
  }

 private:
  const ConvPlan& p_;
  ConvScratch& work_;
  PaddedShape shape_;
};

// The im2col columns of examples [n0, n0 + count), positions [p0, p0 +
// cols), of one group as a [rows, count · cols] matrix: the input itself for
// a direct plan, else filled side by side into the thread's `col` buffer.
template <typename XOf>
ConstStridedMap input_columns(const ConvPlan& p, const Columns& columns, XOf x_of, int64_t n0,
                              int64_t count, int64_t p0, int64_t cols, ThreadBuffers& col_buffers) {
  const int64_t width = count * cols;
  const float* colp = x_of(n0) + p0;
  int64_t col_stride = p.positions;
  if (!p.direct) {
    float* col = thread_buffer(col_buffers);
    for (int64_t e = 0; e < count; ++e)
      columns.fill(x_of(n0 + e), p0, cols, col + e * cols, width);
    colp = col;
    col_stride = width;
  }
  return ConstStridedMap(colp, p.rows, width, Eigen::OuterStride<>(col_stride));
}

// The output gradients of examples [n0, n0 + count), positions [p0, p0 +
// cols), of one group as an [out_per_group, count · cols] matrix: in place for
// one example, gathered side by side (into the thread's `out` buffer) for
// several.
template <typename DyOf>
ConstStridedMap gradient_columns(const ConvPlan& p, DyOf dy_of, int64_t n0, int64_t count,
                                 int64_t p0, int64_t cols, ThreadBuffers& out) {
  const int64_t np = p.positions, width = count * cols;
  const float* dyp = dy_of(n0) + p0;
  int64_t dy_stride = np;
  if (count > 1) {
    float* gathered = thread_buffer(out);
    for (int64_t e = 0; e < count; ++e)
      for (int64_t o = 0; o < p.out_per_group; ++o)
        std::copy_n(dy_of(n0 + e) + o * np + p0, cols, gathered + o * width + e * cols);
    dyp = gathered;
    dy_stride = width;
  }
  return ConstStridedMap(dyp, p.out_per_group, width, Eigen::OuterStride<>(dy_stride));
}

}  // namespace

int64_t even_steps(int64_t count, int64_t side) {
  return count <= 0 ? side : ceil_div(count, ceil_div(count, side));
}

ConvPlan plan_convolution(const WindowGeometry& geo, int64_t batch, int64_t in_channels,
                          int64_t out_channels, int64_t groups) {
  ConvPlan p;
  p.batch = batch;
  p.in_channels = in_channels;
  p.groups = groups;
  p.out_channels = out_channels;
  p.out_per_group = out_channels / groups;
  p.in_per_group = in_channels / groups;
  p.geo = geo;
  p.rows = p.in_per_group * p.geo.kernel_size();
  p.positions = p.geo.out_size();
  const int64_t image = std::max<int64_t>(1, p.rows * p.positions);
  p.tiled = image > kColumnBudget;
  const bool padded = p.geo.in[0] == 1 && p.geo.kernel[0] == 1 && p.geo.out[0] == 1 &&
                      p.geo.stride[1] == 1 && p.geo.stride[2] == 1;
  if (p.tiled) {
    const int64_t budget =
        std::max<int64_t>(64, kColumnBudget / std::max<int64_t>(1, p.rows) / 8 * 8);
    p.tile = std::max<int64_t>(1, std::min(p.positions, budget));
    // Padded columns are made a whole output row at a time.
    if (padded) p.tile = std::max<int64_t>(1, p.tile / p.geo.out[2]) * p.geo.out[2];
    p.tiles = ceil_div(p.positions, p.tile);
  } else {
    p.tile = std::max<int64_t>(1, p.positions);
    if (p.positions < kMinColumns) {
      p.side = std::clamp(ceil_div(kMinColumns, std::max<int64_t>(1, p.positions)), int64_t{1},
                          kColumnBudget / image);
      p.side = even_steps(p.batch, p.side);  // and the GEMMs share out evenly
    }
  }
  p.chunks = std::clamp(p.batch * p.positions / kMinChunkPositions, int64_t{1},
                        std::max<int64_t>(1, std::min(p.batch, kMaxChunks)));
  p.direct = p.side == 1 && p.geo.kernel_size() == 1 &&
             p.geo.stride == std::array<int64_t, 3>{1, 1, 1} &&
             p.geo.before == std::array<int64_t, 3>{0, 0, 0} && p.geo.in == p.geo.out;
  using Method = ConvPlan::Method;
  // Rows shorter than a vector are gathered faster through the index map.
  const bool mappable = !p.tiled && p.in_per_group * p.geo.in_size() < (int64_t{1} << 24);
  p.method = p.direct                                                 ? Method::Direct
             : padded && (p.geo.out[2] >= kMinPaddedRow || !mappable) ? Method::Padded
             : mappable                                               ? Method::Mapped
                                                                      : Method::Walk;
  return p;
}

void gemm_conv_forward(const ConvPlan& p, const float* xd, const float* wd, const float* bd,
                       float* yd, ConvScratch& scratch) {
  const int64_t max_width = p.side * p.tile;  // GEMM columns at most
  ensure_threads(scratch.col, p.direct ? 0 : p.rows * max_width);
  ensure_threads(scratch.out, p.side > 1 ? p.out_per_group * max_width : 0);
  const Columns columns(p, scratch, !p.direct, false);

  const int64_t in_size = p.geo.in_size(), np = p.positions;
  // Work items: one example's tile of positions (tiled), or `side` examples.
  const int64_t per_group = p.tiled ? p.batch * p.tiles : ceil_div(p.batch, p.side);
  const int64_t items = per_group * p.groups;
  parallel_for(items, [&](int64_t item) {
    const int64_t g = item / per_group, k = item % per_group;
    ConstMatrixMap wg(wd + g * p.out_per_group * p.rows, p.out_per_group, p.rows);
    const int64_t n0 = p.tiled ? k / p.tiles : k * p.side;
    const int64_t count = p.tiled ? 1 : std::min(p.side, p.batch - n0);
    const int64_t p0 = p.tiled ? (k % p.tiles) * p.tile : 0;
    const int64_t cols = std::min(np, p0 + p.tile) - p0;
    const int64_t width = count * cols;  // GEMM columns
    auto x_of = [&](int64_t n) { return xd + (n * p.in_channels + g * p.in_per_group) * in_size; };
    auto y_of = [&](int64_t n) { return yd + (n * p.out_channels + g * p.out_per_group) * np; };
    ConstStridedMap b = input_columns(p, columns, x_of, n0, count, p0, cols, scratch.col);
    if (count == 1) {
      StridedMap yt(y_of(n0) + p0, p.out_per_group, cols, Eigen::OuterStride<>(np));
      yt.noalias() = wg * b;
      if (bd)
        for (int64_t o = 0; o < p.out_per_group; ++o)
          yt.row(o).array() += bd[g * p.out_per_group + o];
    } else {
      // Several examples side by side: the product, then each example's part
      // to its place in y.
      MatrixMap prod(thread_buffer(scratch.out), p.out_per_group, width);
      prod.noalias() = wg * b;
      for (int64_t e = 0; e < count; ++e)
        for (int64_t o = 0; o < p.out_per_group; ++o) {
          const float bias = bd ? bd[g * p.out_per_group + o] : 0.0f;
          const float* src = prod.data() + o * width + e * cols;
          float* dst = y_of(n0 + e) + o * np;
          for (int64_t i = 0; i < cols; ++i)
            dst[i] = src[i] + bias;
        }
    }
  });
}

void gemm_conv_input_grad(const ConvPlan& p, const float* dyd, const float* wd, float* dxd,
                          ConvScratch& scratch) {
  const int64_t max_width = p.side * p.tile;  // GEMM columns at most
  ensure_threads(scratch.dcol, p.direct ? 0 : p.rows * max_width);
  ensure_threads(scratch.out, p.side > 1 ? p.out_per_group * max_width : 0);
  const Columns columns(p, scratch, false, !p.direct);
  const int64_t in_size = p.geo.in_size(), np = p.positions;
  parallel_for(p.chunks * p.groups, [&](int64_t item) {
    const int64_t chunk = item / p.groups, g = item % p.groups;
    ConstMatrixMap wg(wd + g * p.out_per_group * p.rows, p.out_per_group, p.rows);
    auto dx_of = [&](int64_t n) {
      return dxd + (n * p.in_channels + g * p.in_per_group) * in_size;
    };
    auto dy_of = [&](int64_t n) { return dyd + (n * p.out_channels + g * p.out_per_group) * np; };
    const int64_t first = p.chunk_first(chunk), last = p.chunk_first(chunk + 1);
    if (!p.direct)
      for (int64_t n = first; n < last; ++n)
        std::fill(dx_of(n), dx_of(n) + p.in_per_group * in_size, 0.0f);
    // Steps: (first example, count, first position, positions), as the
    // Weights gradient takes them.
    const int64_t step_examples = p.tiled ? 1 : even_steps(last - first, p.side);
    for (int64_t n0 = first; n0 < last; n0 += step_examples) {
      const int64_t count = std::min(step_examples, last - n0);
      for (int64_t t = 0; t < p.tiles; ++t) {
        const int64_t p0 = t * p.tile;
        const int64_t cols = std::min(np, p0 + p.tile) - p0;
        const int64_t width = count * cols;
        ConstStridedMap dyt = gradient_columns(p, dy_of, n0, count, p0, cols, scratch.out);
        float* dxg = dx_of(n0);
        if (p.direct) {
          StridedMap dxt(dxg + p0, p.rows, cols, Eigen::OuterStride<>(np));
          dxt.noalias() = wg.transpose() * dyt;
        } else {
          MatrixMap dcol(thread_buffer(scratch.dcol), p.rows, width);
          dcol.noalias() = wg.transpose() * dyt;
          for (int64_t e = 0; e < count; ++e)
            columns.add_back(dcol.data() + e * cols, width, p0, cols,
                             dxg + e * p.in_channels * in_size);
        }
      }
    }
  });
}

void gemm_conv_weights_grad(const ConvPlan& p, const float* xd, const float* dyd, float* dwd,
                            ConvScratch& scratch) {
  const int64_t wsize = p.out_channels * p.rows;
  scratch.dw_partial.resize(static_cast<size_t>(p.chunks * wsize));
  const int64_t max_width = p.side * p.tile;  // GEMM columns at most
  ensure_threads(scratch.col, p.direct ? 0 : p.rows * max_width);
  ensure_threads(scratch.out, p.side > 1 ? p.out_per_group * max_width : 0);
  const Columns columns(p, scratch, !p.direct, false);
  float* partial = scratch.dw_partial.data();
  const int64_t in_size = p.geo.in_size(), np = p.positions;
  parallel_for(p.chunks * p.groups, [&](int64_t item) {
    const int64_t chunk = item / p.groups, g = item % p.groups;
    MatrixMap dwg(partial + chunk * wsize + g * p.out_per_group * p.rows, p.out_per_group, p.rows);
    dwg.setZero();
    auto x_of = [&](int64_t n) { return xd + (n * p.in_channels + g * p.in_per_group) * in_size; };
    auto dy_of = [&](int64_t n) { return dyd + (n * p.out_channels + g * p.out_per_group) * np; };
    const int64_t first = p.chunk_first(chunk), last = p.chunk_first(chunk + 1);
    const int64_t step_examples = p.tiled ? 1 : even_steps(last - first, p.side);
    for (int64_t n0 = first; n0 < last; n0 += step_examples) {
      const int64_t count = std::min(step_examples, last - n0);
      for (int64_t t = 0; t < p.tiles; ++t) {
        const int64_t p0 = t * p.tile;
        const int64_t cols = std::min(np, p0 + p.tile) - p0;
        ConstStridedMap dyt = gradient_columns(p, dy_of, n0, count, p0, cols, scratch.out);
        ConstStridedMap b = input_columns(p, columns, x_of, n0, count, p0, cols, scratch.col);
        dwg.noalias() += dyt * b.transpose();
      }
    }
  });
  // The chunks' sums, in order.
  parallel_for(
      wsize,
      [&](int64_t i) {
        float s = partial[i];
        for (int64_t c = 1; c < p.chunks; ++c)
          s += partial[c * wsize + i];
        dwd[i] = s;
      },
      16384);
}

void conv_bias_grad(const ConvPlan& p, const float* dyd, float* dbd) {
  const int64_t np = p.positions;
  parallel_for(
      p.out_channels,
      [&](int64_t o) {
        double s = 0;
        for (int64_t n = 0; n < p.batch; ++n) {
          const float* row = dyd + (n * p.out_channels + o) * np;
          s += plane_sums::sum(np, row, [](auto v) { return v; });
        }
        dbd[o] = static_cast<float>(s);
      },
      std::max<int64_t>(1, 32768 / std::max<int64_t>(1, p.batch * np)));
}

}  // namespace strata::kernels
