#include "layers/convolution.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/option.hpp"
#include "layers/plane_sums.hpp"

namespace strata {

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
// About this many floats of im2col columns per GEMM (a few hundred KB: the
// columns stay in cache between im2col and the GEMM).
constexpr int64_t kColumnBudget = int64_t{1} << 16;
// Small images are put side by side until a GEMM has about this many columns
// (a GEMM with few columns spends its time packing, not multiplying).
constexpr int64_t kMinColumns = 256;
// Output rows at least this long are copied row by row from a padded input;
// shorter ones are gathered through an index map.
constexpr int64_t kMinPaddedRow = 16;

// For images whose im2col columns fit the budget: where each entry of an
// example's im2col matrix [rows, positions] comes from (an offset into the
// example's channels of the group), or −1 for padding. im2col and col2im are
// then a plain gather and scatter, with no per-run bookkeeping (which
// dominates for small images).
struct ColumnMap {
  WindowGeometry geo;
  int64_t channels = -1;
  std::vector<int32_t> index;

  bool matches(const WindowGeometry& g, int64_t c) const {
    return c == channels && g.in == geo.in && g.out == geo.out && g.kernel == geo.kernel &&
           g.stride == geo.stride && g.dilation == geo.dilation && g.before == geo.before;
  }
};

struct ConvWorkspace : Workspace {
  ColumnMap map;
  ColumnMap map_t;                              // of the transposed convolution (input gradients)
  std::vector<std::vector<float>> padded;       // per thread: an example's input, padded
  std::vector<std::vector<float>> padded_grad;  // per thread: its gradient, padded
  std::vector<std::vector<float>> col;          // per thread: im2col columns
  std::vector<std::vector<float>> dcol;         // per thread: column gradients
  std::vector<std::vector<float>> out;          // per thread: GEMM result / gathered gradients
  std::vector<float> dw_partial;                // per chunk of examples: a Weights gradient
  std::vector<float> packed;                    // Weights repacked for the direct kernel
  std::vector<float> packed_t;                  // flipped and transposed, for the input gradient
};

// The sizes one application works with.
struct ConvPlan {
  WindowGeometry geo;
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  int64_t rows = 0;       // im2col rows: in_per_group · kernel positions
  int64_t positions = 0;  // output positions
  // An image's columns fit the budget: `side` examples per GEMM, whole images.
  // Otherwise (`tiled`): one example at a time, `tile` positions per GEMM.
  bool tiled = false;
  int64_t side = 1;
  int64_t tile = 0, tiles = 1;
  int64_t chunks = 1;
  // How im2col columns are made: the input itself (a 1×1 kernel, stride 1, no
  // padding), from a zero-padded copy (stride 1 in 2-D or 1-D: plain row
  // copies), through an index map (other small images), or by walking the
  // window (the rest).
  enum class Method { Direct, Padded, Mapped, Walk } method = Method::Walk;
  bool direct = false;  // method == Direct
  // Examples [first, last) of chunk c.
  int64_t chunk_first(int64_t c) const { return c * batch / chunks; }
};

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Examples per GEMM when `count` examples go at most `side` at a time, in as
// few GEMMs as that allows, all of about the same size (16 as 8 + 8, not
// 13 + 3: a GEMM of few columns is slow).
int64_t even_steps(int64_t count, int64_t side) {
  return count <= 0 ? side : ceil_div(count, ceil_div(count, side));
}

// The output positions ow in [0, out) whose input ow·stride + offset is
// inside [0, size): the half-open range [lo, hi).
void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t out, int64_t& lo,
                 int64_t& hi) {
  lo = offset >= 0 ? 0 : ceil_div(-offset, stride);
  hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// Walks the im2col matrix of one example and group, restricted to the output
// positions [p0, p1): row (c, kd, kh, kw), column p − p0 (at col + row · ld)
// holds x[c, od·sd + kd·dd − bd, oh·…, ow·…] (zero in the padding). Runs
// along the last dimension are split into padding / inside / padding parts so
// the inside part is a plain loop. `Accumulate` false copies x into col
// (im2col); true adds col back into x (col2im).
template <bool Accumulate, typename Ptr>
void walk_columns(Ptr x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
                  std::conditional_t<Accumulate, const float*, float*> col, int64_t ld) {
  const int64_t in_hw = g.in[1] * g.in[2];
  const int64_t sw = g.stride[2];
  // The coordinates of p0; those of later positions follow by counting.
  const int64_t od0 = p0 / (g.out[1] * g.out[2]);
  const int64_t oh0 = (p0 / g.out[2]) % g.out[1];
  const int64_t ow00 = p0 % g.out[2];
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c) {
    Ptr xc = x + c * g.in_size();
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t offd = kd * g.dilation[0] - g.before[0];
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t offh = kh * g.dilation[1] - g.before[1];
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
          const int64_t offw = kw * g.dilation[2] - g.before[2];
          int64_t lo, hi;
          valid_range(offw, sw, g.in[2], g.out[2], lo, hi);
          auto* dst = col + row * ld;
          int64_t od = od0, oh = oh0, ow0 = ow00;
          for (int64_t p = p0; p < p1;) {
            const int64_t n = std::min(g.out[2] - ow0, p1 - p);
            const int64_t id = od * g.stride[0] + offd, ih = oh * g.stride[1] + offh;
            const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
            const int64_t a = inside ? std::clamp(lo, ow0, ow0 + n) : ow0 + n;
            const int64_t b = inside ? std::clamp(hi, a, ow0 + n) : ow0 + n;
            if constexpr (!Accumulate) {
              for (int64_t ow = ow0; ow < a; ++ow)
                dst[ow - ow0] = 0.0f;
            }
            if (a < b) {
              // Input element of output w: xr[w·sw], and its column: d[w].
              Ptr xr = xc + id * in_hw + ih * g.in[2] + (a * sw + offw);
              auto* d = dst + (a - ow0);
              const int64_t m = b - a;
              if (sw == 1) {
                for (int64_t j = 0; j < m; ++j) {
                  if constexpr (Accumulate)
                    xr[j] += d[j];
                  else
                    d[j] = xr[j];
                }
              } else {
                for (int64_t j = 0; j < m; ++j) {
                  if constexpr (Accumulate)
                    xr[j * sw] += d[j];
                  else
                    d[j] = xr[j * sw];
                }
              }
            }
            if constexpr (!Accumulate) {
              for (int64_t ow = b; ow < ow0 + n; ++ow)
                dst[ow - ow0] = 0.0f;
            }
            dst += n;
            p += n;
            ow0 = 0;
            if (++oh == g.out[1]) {
              oh = 0;
              ++od;
            }
          }
        }
      }
    }
  }
}

// The im2col columns p0..p1 of x (one example, one group) into col, whose
// rows are `ld` apart.
void im2col(const float* x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
            float* col, int64_t ld) {
  walk_columns<false, const float*>(x, channels, g, p0, p1, col, ld);
}

// x += the columns p0..p1 of col scattered back to where im2col took them.
void col2im_add(const float* col, int64_t ld, int64_t channels, const WindowGeometry& g, int64_t p0,
                int64_t p1, float* x) {
  walk_columns<true, float*>(x, channels, g, p0, p1, col, ld);
}

// Builds the map for one example's im2col matrix (every position).
void build_map(ColumnMap& map, const WindowGeometry& g, int64_t channels) {
  if (map.matches(g, channels)) return;
  const int64_t rows = channels * g.kernel_size(), positions = g.out_size();
  map.geo = g;
  map.channels = channels;
  map.index.resize(static_cast<size_t>(rows * positions));
  // im2col of the offsets themselves: an input holding its own offset + 1
  // (0 is padding) gives the map, by the same walk as the general case.
  std::vector<float> offsets(static_cast<size_t>(channels * g.in_size()));
  for (size_t i = 0; i < offsets.size(); ++i)
    offsets[i] = static_cast<float>(i + 1);  // exact: fewer than 2^24 entries
  std::vector<float> col(map.index.size());
  im2col(offsets.data(), channels, g, 0, positions, col.data(), positions);
  for (size_t i = 0; i < col.size(); ++i)
    map.index[i] = static_cast<int32_t>(col[i]) - 1;
}

// col[r, p] (rows `ld` apart, `positions` columns) = x at map[r, p], 0 for
// padding. `xz` is x with a zero in front (xz[0] = 0, xz[i + 1] = x[i]), so
// that the gather has no branch and vectorizes.
void gather_columns(const ColumnMap& map, int64_t rows, int64_t positions, const float* xz,
                    float* col, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* idx = map.index.data() + r * positions;
    float* dst = col + r * ld;
    for (int64_t p = 0; p < positions; ++p)
      dst[p] = xz[idx[p] + 1];
  }
}

// The adjoint: xz at map[r, p] + 1 += col[r, p] (xz[0] collects the padding).
void scatter_columns(const ColumnMap& map, int64_t rows, int64_t positions, const float* col,
                     int64_t ld, float* xz) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* idx = map.index.data() + r * positions;
    const float* src = col + r * ld;
    for (int64_t p = 0; p < positions; ++p)
      xz[idx[p] + 1] += src[p];
  }
}

using Vec = plane_sums::Vec;
constexpr int64_t kVec = plane_sums::kWidth;

// n floats from src to dst. Explicit vectors: for the short rows copied here,
// a plain loop (which the compiler makes a memmove call) costs more in calls.
inline void copy_floats(const float* src, int64_t n, float* dst) {
  int64_t j = 0;
  for (; j + kVec <= n; j += kVec)
    plane_sums::store(dst + j, plane_sums::load(src + j));
  for (; j < n; ++j)
    dst[j] = src[j];
}

// ---- Stride 1 in 2-D (or 1-D): im2col from a zero-padded copy of the input,
// where every im2col row is a run of plain copies of whole output rows.

struct PaddedShape {
  int64_t hp, wp;  // padded height and width (rows read by the windows)
  int64_t size(int64_t channels) const { return channels * hp * wp; }
};

PaddedShape padded_shape(const WindowGeometry& g) {
  return {std::max(g.before[1] + g.in[1], g.out[1] + (g.kernel[1] - 1) * g.dilation[1]),
          std::max(g.before[2] + g.in[2], g.out[2] + (g.kernel[2] - 1) * g.dilation[2])};
}

// The padded rows that output rows [oh0, oh1) read: [oh0, last).
int64_t last_padded_row(const WindowGeometry& g, int64_t oh1) {
  return oh1 + (g.kernel[1] - 1) * g.dilation[1];
}

// Padded rows [r0, r1) of every channel: x's rows behind zeros.
void pad_rows(const float* x, int64_t channels, const WindowGeometry& g, PaddedShape s, int64_t r0,
              int64_t r1, float* xp) {
  const int64_t bw = g.before[2], w = g.in[2];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = r0; r < r1; ++r) {
      float* row = xp + (c * s.hp + r) * s.wp;
      const int64_t ih = r - g.before[1];
      if (ih < 0 || ih >= g.in[1]) {
        std::fill_n(row, s.wp, 0.0f);
        continue;
      }
      for (int64_t j = 0; j < bw; ++j)
        row[j] = 0.0f;
      copy_floats(x + (c * g.in[1] + ih) * w, w, row + bw);
      for (int64_t j = bw + w; j < s.wp; ++j)
        row[j] = 0.0f;
    }
}

// Columns of output rows [oh0, oh1) from the padded input (Accumulate false),
// or their gradients added back into a padded gradient (true).
template <bool Accumulate>
void padded_columns(std::conditional_t<Accumulate, float*, const float*> xp, int64_t channels,
                    const WindowGeometry& g, PaddedShape s, int64_t oh0, int64_t oh1,
                    std::conditional_t<Accumulate, const float*, float*> col, int64_t ld) {
  const int64_t ow = g.out[2];
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
        auto* src = xp + (c * s.hp + oh0 + kh * g.dilation[1]) * s.wp + kw * g.dilation[2];
        auto* dst = col + row * ld;
        for (int64_t oh = oh0; oh < oh1; ++oh, src += s.wp, dst += ow) {
          if constexpr (Accumulate) {
            int64_t j = 0;
            for (; j + kVec <= ow; j += kVec)
              plane_sums::store(src + j, plane_sums::load(src + j) + plane_sums::load(dst + j));
            for (; j < ow; ++j)
              src[j] += dst[j];
          } else {
            copy_floats(src, ow, dst);
          }
        }
      }
}

// dx += the padded gradient's rows [r0, r1) that hold input rows.
void unpad_add_rows(const float* dxp, int64_t channels, const WindowGeometry& g, PaddedShape s,
                    int64_t r0, int64_t r1, float* dx) {
  const int64_t w = g.in[2];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = std::max(r0, g.before[1]); r < std::min(r1, g.before[1] + g.in[1]); ++r) {
      const float* src = dxp + (c * s.hp + r) * s.wp + g.before[2];
      float* dst = dx + (c * g.in[1] + r - g.before[1]) * w;
      for (int64_t j = 0; j < w; ++j)
        dst[j] += src[j];
    }
}

// ---- Direct convolution (stride 1 in 2-D or 1-D, output rows of a vector or
// more): output rows computed in registers from the padded input, a block of
// output channels at a time, with no im2col and no packing of columns.

constexpr int64_t kDirectVectors = 2;  // output row positions per step: 2 Vecs
constexpr int64_t kDirectRows = 4;     // output rows per work item

// The padded input for the direct kernel: rows wide enough for whole steps.
PaddedShape direct_shape(const WindowGeometry& g) {
  PaddedShape s = padded_shape(g);
  const int64_t step = kDirectVectors * kVec;
  s.wp = std::max(s.wp, (g.out[2] + step - 1) / step * step + (g.kernel[2] - 1) * g.dilation[2]);
  return s;
}

// Weights repacked [group][in channel][kh][kw][out channel], so that a block of
// output channels reads consecutive numbers.
void pack_weights(const float* w, const ConvPlan& p, float* packed) {
  const int64_t k = p.geo.kernel_size(), ci = p.in_per_group, co = p.out_per_group;
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          packed[((g * ci + c) * k + kk) * co + o] = w[((g * co + o) * ci + c) * k + kk];
}

// Output rows [oh0, oh1) of OB output channels of one example and group:
// y[o, oh, :] = bias[o] + Σ_c,kh,kw w[c, kh, kw, o] · xp[c, oh + kh·dh, kw·dw + :].
// `w` points at the block's first channel in the packed weights (rows of
// `co` numbers), `y` at its first output channel (planes `positions` apart).
template <int OB>
void direct_rows(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
                 const float* w, int64_t co, const float* bias, int64_t oh0, int64_t oh1, float* y,
                 int64_t positions) {
  constexpr int64_t NV = kDirectVectors;
  const int64_t ow = g.out[2], kh_n = g.kernel[1], kw_n = g.kernel[2];
  const int64_t dh = g.dilation[1], dw = g.dilation[2], ksize = kh_n * kw_n;
  for (int64_t oh = oh0; oh < oh1; ++oh)
    for (int64_t j0 = 0; j0 < ow; j0 += NV * kVec) {
      Vec acc[OB][NV];
      for (int o = 0; o < OB; ++o)
        for (int v = 0; v < NV; ++v)
          acc[o][v] = Vec{} + (bias ? bias[o] : 0.0f);
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t kh = 0; kh < kh_n; ++kh) {
          const float* row = xp + (c * s.hp + oh + kh * dh) * s.wp + j0;
          const float* wk = w + (c * ksize + kh * kw_n) * co;
          for (int64_t kw = 0; kw < kw_n; ++kw, wk += co) {
            Vec in[NV];
            for (int v = 0; v < NV; ++v)
              in[v] = plane_sums::load(row + kw * dw + v * kVec);
            for (int o = 0; o < OB; ++o)
              for (int v = 0; v < NV; ++v)
                acc[o][v] += wk[o] * in[v];
          }
        }
      const int64_t m = std::min(NV * kVec, ow - j0);
      for (int o = 0; o < OB; ++o) {
        float* dst = y + o * positions + oh * ow + j0;
        if (m == NV * kVec) {
          for (int v = 0; v < NV; ++v)
            plane_sums::store(dst + v * kVec, acc[o][v]);
        } else {
          float tmp[NV * kVec];
          for (int v = 0; v < NV; ++v)
            plane_sums::store(tmp + v * kVec, acc[o][v]);
          std::copy_n(tmp, m, dst);
        }
      }
    }
}

// All output channels of a group, in blocks of 8, then 4, then 1.
void direct_all(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
                const float* w, int64_t co, const float* bias, int64_t oh0, int64_t oh1, float* y,
                int64_t positions) {
  int64_t o = 0;
  for (; o + 8 <= co; o += 8)
    direct_rows<8>(xp, s, g, channels, w + o, co, bias ? bias + o : nullptr, oh0, oh1,
                   y + o * positions, positions);
  for (; o + 4 <= co; o += 4)
    direct_rows<4>(xp, s, g, channels, w + o, co, bias ? bias + o : nullptr, oh0, oh1,
                   y + o * positions, positions);
  for (; o < co; ++o)
    direct_rows<1>(xp, s, g, channels, w + o, co, bias ? bias + o : nullptr, oh0, oh1,
                   y + o * positions, positions);
}

// Per-thread buffers of at least `size` floats each, sized before a loop (a
// thread may run any item, so all are sized for the largest).
void ensure_threads(std::vector<std::vector<float>>& buffers, int64_t size) {
  if (buffers.size() < static_cast<size_t>(num_threads()))
    buffers.resize(static_cast<size_t>(num_threads()));
  for (auto& b : buffers)
    if (b.size() < static_cast<size_t>(size)) b.resize(static_cast<size_t>(size));
}

// The calling thread's buffer (sized by ensure_threads).
float* thread_buffer(std::vector<std::vector<float>>& buffers) {
  return buffers[static_cast<size_t>(thread_index())].data();
}

// Makes an application's im2col columns, and puts column gradients back, by
// the plan's method (not Direct: the input is its own columns then), with
// per-thread scratch from the workspace.
class Columns {
 public:
  Columns(const ConvPlan& p, ConvWorkspace& work, bool fill, bool add_back)
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
        padded_columns<false>(xp, p_.in_per_group, g, shape_, oh0, oh1, col, ld);
        break;
      }
      case ConvPlan::Method::Mapped: {
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
        padded_columns<true>(dxp, p_.in_per_group, g, shape_, oh0, oh1, dcol, ld);
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
  ConvWorkspace& work_;
  PaddedShape shape_;
};

}  // namespace

// ---- Options

ConvolutionLayer::ConvolutionLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter("Weights", Shape(), Initializer::weights()),
             ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros())}) {}

ConvolutionLayer::ConvolutionLayer(int64_t output_channels, SpatialSizes kernel_size)
    : ConvolutionLayer() {
  this->output_channels(output_channels);
  this->kernel_size(std::move(kernel_size));
}

const OptionTable& ConvolutionLayer::option_table() const {
  using L = ConvolutionLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("OutputChannels", &L::output_channels_, Required{Integer{1}})
          .add("KernelSize", &L::kernel_size_, Required{Spatial{1}})
          .add("Stride", &L::stride_, Spatial{1})
          .add("PaddingSize", &L::padding_, Padding{})
          .add("Dilation", &L::dilation_, Spatial{1})
          .add("ChannelGroups", &L::groups_, Integer{1, kMaxSpatialSize})
          // false: no Biases array at all.
          .add(
              "Biases", [](const L& l) { return l.biases(); },
              [](L& l, bool on) {
                if (!on) {
                  l.arrays_.resize(kBiases);
                } else if (l.arrays_.size() == kBiases) {
                  l.arrays_.push_back(
                      ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros()));
                }
              },
              Boolean{});
  return table;
}

ConvolutionLayer& ConvolutionLayer::output_channels(int64_t value) {
  return assign_option(*this, "OutputChannels", std::optional<int64_t>(value));
}

ConvolutionLayer& ConvolutionLayer::kernel_size(SpatialSizes value) {
  return assign_option(*this, "KernelSize", std::optional<SpatialSizes>(std::move(value)));
}

ConvolutionLayer& ConvolutionLayer::stride(SpatialSizes value) {
  return assign_option(*this, "Stride", std::move(value));
}

ConvolutionLayer& ConvolutionLayer::padding_size(PaddingSize value) {
  return assign_option(*this, "PaddingSize", std::move(value));
}

ConvolutionLayer& ConvolutionLayer::dilation(SpatialSizes value) {
  return assign_option(*this, "Dilation", std::move(value));
}

ConvolutionLayer& ConvolutionLayer::channel_groups(int64_t value) {
  return assign_option(*this, "ChannelGroups", value);
}

ConvolutionLayer& ConvolutionLayer::biases(bool value) {
  return assign_option(*this, "Biases", value);
}

std::unique_ptr<Layer> ConvolutionLayer::clone() const {
  return std::make_unique<ConvolutionLayer>(*this);
}

// ---- Shape inference

std::optional<size_t> ConvolutionLayer::spatial_rank() const {
  return options_spatial_rank({{"KernelSize", kernel_size_ ? kernel_size_->rank() : std::nullopt},
                               {"Stride", stride_.rank()},
                               {"PaddingSize", padding_.rank()},
                               {"Dilation", dilation_.rank()}});
}

void ConvolutionLayer::infer() {
  if (!output_channels_) throw Error("OutputChannels: required option is missing");
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  const int64_t out_channels = *output_channels_;
  const std::string groups_text = "ChannelGroups (" + std::to_string(groups_) + ")";
  if (out_channels % groups_ != 0)
    throw Error("OutputChannels: expected a multiple of " + groups_text + ", got " +
                std::to_string(out_channels));

  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
  const Shape& weights = arrays_[kWeights].shape;
  if (weights.rank_known() && (weights.rank() < 3 || weights.rank() > 5))
    throw Error("Weights: expected rank 3 to 5 ([out, in / groups, kernel…]), got " +
                weights.to_string());

  // The spatial rank: from the options' lists, else from a port or Weights.
  std::optional<size_t> rank = spatial_rank();
  if (!rank && inputs_[0].shape.rank_known()) rank = inputs_[0].shape.rank() - 1;
  if (!rank && outputs_[0].shape.rank_known()) rank = outputs_[0].shape.rank() - 1;
  if (!rank && weights.rank_known()) rank = weights.rank() - 2;
  if (!rank) return;
  const size_t r = *rank;
  const std::string spatial_why =
      "channels and " + std::to_string(r) + " spatial dimension" + (r == 1 ? "" : "s");
  constrain_input(0, Shape::of_rank(r + 1), spatial_why);
  constrain_output(0, Shape::of_rank(r + 1), spatial_why);

  // Input channels: divisible by the groups; Weights hold in / groups.
  const Shape& in = inputs_[0].shape;
  if (in.dim_known(0) && in[0] % groups_ != 0)
    throw Error("Input: expected a channel count divisible by " + groups_text + ", got " +
                std::to_string(in[0]));
  Shape w = Shape::of_rank(r + 2);
  w[0] = out_channels;
  w[1] = in.dim_known(0) ? in[0] / groups_ : kUnknownDim;
  for (size_t d = 0; d < r; ++d)
    w[2 + d] = (*kernel_size_)[d];
  constrain_array(kWeights, w, "[OutputChannels, input channels / ChannelGroups, KernelSize…]");
  if (arrays_[kWeights].shape.dim_known(1)) {
    const int64_t per_group = arrays_[kWeights].shape[1];
    if (per_group > kMaxElements / groups_)
      throw Error("Weights: " + std::to_string(per_group) + " input channels per group times " +
                  groups_text + " is too many channels");
    constrain_input(0, channels_and_spatial(per_group * groups_, r),
                    "channels fixed by Weights and ChannelGroups");
  }
  if (biases()) constrain_array(kBiases, Shape{out_channels}, "one per output channel");

  // Output sizes from the input; input sizes from the output where stride 1
  // makes the map invertible.
  Shape out = channels_and_spatial(out_channels, r);
  Shape back = Shape::of_rank(r + 1);
  const Shape& have_out = outputs_[0].shape;
  for (size_t d = 0; d < r; ++d) {
    const int64_t k = (*kernel_size_)[d], s = stride_[d], dil = dilation_[d];
    const int64_t b = padding_.before(d), a = padding_.after(d);
    if (in.dim_known(d + 1)) {
      out[d + 1] = window_count(in[d + 1], k, s, dil, b, a);
      if (out[d + 1] < 1) throw Error(too_small_message(d, in[d + 1], k, dil, b, a));
    } else if (s == 1 && have_out.dim_known(d + 1)) {
      back[d + 1] = have_out[d + 1] + dil * (k - 1) - b - a;
      if (back[d + 1] < 1)
        throw Error("Output: size " + std::to_string(have_out[d + 1]) + " in spatial dimension " +
                    std::to_string(d + 1) + " cannot come from any input (the padding alone " +
                    "gives more)");
    }
  }
  constrain_output(0, out, "from Input and the options");
  constrain_input(0, back, "from Output and the options");
}

// ---- Execution

std::unique_ptr<Workspace> ConvolutionLayer::make_workspace() const {
  return std::make_unique<ConvWorkspace>();
}

namespace {

ConvPlan make_plan(const Tensor& x, const Tensor& weights, const SpatialSizes& kernel,
                   const SpatialSizes& stride, const SpatialSizes& dilation,
                   const PaddingSize& padding, int64_t groups) {
  if (x.rank() < 3 || x.rank() > 5)
    throw Error("Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial " +
                std::string("dimensions), got ") + to_string(x.shape()));
  ConvPlan p;
  const size_t r = x.rank() - 2;
  p.batch = x.dim(0);
  p.in_channels = x.dim(1);
  p.groups = groups;
  p.out_channels = weights.dim(0);
  p.out_per_group = p.out_channels / groups;
  p.in_per_group = weights.rank() > 1 ? weights.dim(1) : 0;
  bool fits = weights.rank() == r + 2 && p.in_channels % groups == 0 &&
              p.in_per_group == p.in_channels / groups;
  for (size_t d = 0; fits && d < r; ++d)
    fits = weights.dim(2 + d) == kernel[d];
  if (!fits)
    throw Error("Input: " + to_string(x.shape()) + " does not fit Weights " +
                to_string(weights.shape()) + " with ChannelGroups " + std::to_string(groups));
  p.geo = window_geometry(std::span<const int64_t>(x.shape()).subspan(2), kernel, stride, dilation,
                          padding);
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

// The output's shape, on the stack.
struct OutputDims {
  std::array<int64_t, 5> dims{};
  size_t rank = 0;
  std::span<const int64_t> span() const { return {dims.data(), rank}; }
};

OutputDims output_dims(const ConvPlan& p, size_t spatial_rank) {
  OutputDims d;
  d.dims[d.rank++] = p.batch;
  d.dims[d.rank++] = p.out_channels;
  for (size_t i = kMaxSpatialRank - spatial_rank; i < kMaxSpatialRank; ++i)
    d.dims[d.rank++] = p.geo.out[i];
  return d;
}

bool same_dims(std::span<const int64_t> a, const Dims& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

namespace {

// The direct kernel over every example, group and block of kDirectRows
// output rows (geometry g, from `ci` channels per group of x to `co` of y,
// weights packed [group][ci][kernel][co]); each item pads the input rows it
// reads, then computes its rows. For the forward pass, and for the input
// gradient (x the output gradient, g the transposed geometry).
void direct_convolution(const WindowGeometry& g, int64_t batch, int64_t groups, const float* x,
                        int64_t ci, const float* packed, int64_t co, const float* bias, float* y,
                        std::vector<std::vector<float>>& padded) {
  const PaddedShape s = direct_shape(g);
  ensure_threads(padded, s.size(ci));
  const int64_t row_blocks = ceil_div(g.out[1], kDirectRows);
  const int64_t in_size = g.in_size(), out_size = g.out_size(), ksize = g.kernel_size();
  parallel_for(batch * groups * row_blocks, [&](int64_t item) {
    const int64_t n = item / (groups * row_blocks);
    const int64_t grp = (item / row_blocks) % groups;
    const int64_t r0 = (item % row_blocks) * kDirectRows;
    const int64_t r1 = std::min(g.out[1], r0 + kDirectRows);
    float* xp = thread_buffer(padded);
    pad_rows(x + (n * groups + grp) * ci * in_size, ci, g, s, r0, last_padded_row(g, r1), xp);
    direct_all(xp, s, g, ci, packed + grp * ci * ksize * co, co, bias ? bias + grp * co : nullptr,
               r0, r1, y + (n * groups + grp) * co * out_size, out_size);
  });
}

// Forward by the direct kernel.
void forward_direct(const ConvPlan& p, const Tensor& x, const Tensor& weights, const float* bias,
                    Tensor& y, ConvWorkspace& work) {
  work.packed.resize(static_cast<size_t>(weights.size()));
  pack_weights(weights.data(), p, work.packed.data());
  direct_convolution(p.geo, p.batch, p.groups, x.data(), p.in_per_group, work.packed.data(),
                     p.out_per_group, bias, y.data(), work.padded);
}

// For stride 1, the input gradient is itself a stride-1 convolution: of the
// output gradient, with the kernel flipped and input and output channels
// swapped, padded by (kernel − 1)·dilation − padding. Its geometry, when
// that padding is not negative (else nullopt: col2im does it).
std::optional<WindowGeometry> transposed_geometry(const ConvPlan& p) {
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

// Whether the direct kernel does the input gradient (rows of a vector or more).
bool direct_input_grad(const ConvPlan& p) {
  return p.method == ConvPlan::Method::Padded && p.geo.out[2] >= kMinPaddedRow &&
         p.geo.in[2] >= kMinPaddedRow;
}

// dx by the direct kernel over the flipped, transposed weights.
void input_grad_direct(const ConvPlan& p, const WindowGeometry& t, const Tensor& dy,
                       const Tensor& weights, Tensor& dx, ConvWorkspace& work) {
  const int64_t k = p.geo.kernel_size(), ci = p.in_per_group, co = p.out_per_group;
  // packed[g][o][k − 1 − kk][c] = W[g·co + o][c][kk]: the direct kernel's
  // layout for a convolution from co channels to ci.
  work.packed_t.resize(static_cast<size_t>(weights.size()));
  const float* w = weights.data();
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          work.packed_t[((g * co + o) * k + (k - 1 - kk)) * ci + c] =
              w[((g * co + o) * ci + c) * k + kk];
  direct_convolution(t, p.batch, p.groups, dy.data(), co, work.packed_t.data(), ci, nullptr,
                     dx.data(), work.padded_grad);
}

// dx for small images (the index map's method): the transposed convolution's
// columns gathered from the output gradient, times the flipped, transposed
// weights, several examples side by side; no scatter.
void input_grad_mapped(const ConvPlan& p, const WindowGeometry& t, const Tensor& dy,
                       const Tensor& weights, Tensor& dx, ConvWorkspace& work) {
  const int64_t k = p.geo.kernel_size(), ci = p.in_per_group, co = p.out_per_group;
  const int64_t rows = co * k, np = t.in_size(), nx = t.out_size();
  // [g][c][o][k − 1 − kk] = W[g·co + o][c][kk]: per group a [ci, co·k] matrix.
  work.packed_t.resize(static_cast<size_t>(weights.size()));
  const float* w = weights.data();
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          work.packed_t[((g * ci + c) * co + o) * k + (k - 1 - kk)] =
              w[((g * co + o) * ci + c) * k + kk];
  build_map(work.map_t, t, co);
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
        dyz[0] = 0.0f;
        copy_floats(dy.data() + ((n0 + e) * p.out_channels + g * co) * np, co * np, dyz + 1);
        gather_columns(work.map_t, rows, nx, dyz, col + e * nx, width);
      }
      MatrixMap prod(thread_buffer(work.out), ci, width);
      prod.noalias() = wt * ConstMatrixMap(col, rows, width);
      for (int64_t e = 0; e < count; ++e)
        for (int64_t c = 0; c < ci; ++c)
          copy_floats(prod.data() + c * width + e * nx, nx,
                      dx.data() + ((n0 + e) * p.in_channels + g * ci + c) * nx);
    }
  });
}

}  // namespace

void ConvolutionLayer::check_runnable(const Tensor& x) const {
  if (!output_channels_) throw Error("OutputChannels: required option is missing");
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  const auto rank = spatial_rank();
  if (rank && x.rank() != *rank + 2)
    throw Error("Input: expected a batch with " + std::to_string(*rank) +
                " spatial dimensions (as KernelSize etc.), got " + to_string(x.shape()));
  if (!arrays_[kWeights].value || (biases() && !arrays_[kBiases].value))
    throw Error("arrays not initialized (call NetInitialize first)");
}

void ConvolutionLayer::forward(Inputs in, Outputs out, Workspace* ws,
                               const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& weights = array_value(kWeights);
  const ConvPlan p = make_plan(x, weights, *kernel_size_, stride_, dilation_, padding_, groups_);
  Tensor& y = *out[0];
  y.resize(output_dims(p, x.rank() - 2).span());

  ConvWorkspace local;
  auto* work = ws ? static_cast<ConvWorkspace*>(ws) : &local;
  if (p.method == ConvPlan::Method::Padded && p.geo.out[2] >= kMinPaddedRow) {
    forward_direct(p, x, weights, biases() ? array_value(kBiases).data() : nullptr, y, *work);
    return;
  }
  const int64_t max_width = p.side * p.tile;  // GEMM columns at most
  ensure_threads(work->col, p.direct ? 0 : p.rows * max_width);
  ensure_threads(work->out, p.side > 1 ? p.out_per_group * max_width : 0);
  const Columns columns(p, *work, !p.direct, false);

  const float* xd = x.data();
  const float* wd = weights.data();
  const float* bd = biases() ? array_value(kBiases).data() : nullptr;
  float* yd = y.data();
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
    const float* colp = x_of(n0) + p0;
    int64_t col_stride = np;
    if (!p.direct) {
      float* col = thread_buffer(work->col);
      for (int64_t e = 0; e < count; ++e)
        columns.fill(x_of(n0 + e), p0, cols, col + e * cols, width);
      colp = col;
      col_stride = width;
    }
    ConstStridedMap b(colp, p.rows, width, Eigen::OuterStride<>(col_stride));
    if (count == 1) {
      StridedMap yt(y_of(n0) + p0, p.out_per_group, cols, Eigen::OuterStride<>(np));
      yt.noalias() = wg * b;
      if (bd)
        for (int64_t o = 0; o < p.out_per_group; ++o)
          yt.row(o).array() += bd[g * p.out_per_group + o];
    } else {
      // Several examples side by side: the product, then each example's part
      // to its place in y.
      MatrixMap prod(thread_buffer(work->out), p.out_per_group, width);
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

void ConvolutionLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& dy = *out_grad[0];
  const Tensor& weights = array_value(kWeights);
  const ConvPlan p = make_plan(x, weights, *kernel_size_, stride_, dilation_, padding_, groups_);
  const OutputDims want = output_dims(p, x.rank() - 2);
  if (!same_dims(want.span(), dy.shape()))
    throw Error("Output gradient: expected " +
                to_string(Dims(want.span().begin(), want.span().end())) + ", got " +
                to_string(dy.shape()));
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  Tensor* dw = array_grad.size() > kWeights ? array_grad[kWeights] : nullptr;
  Tensor* db = biases() && array_grad.size() > kBiases ? array_grad[kBiases] : nullptr;

  ConvWorkspace local;
  auto* work = ws ? static_cast<ConvWorkspace*>(ws) : &local;
  const int64_t wsize = weights.size();
  if (dx) dx->resize(x.shape());
  if (dw) {
    dw->resize(weights.shape());
    work->dw_partial.resize(static_cast<size_t>(p.chunks * wsize));
    if (p.batch == 0) dw->fill(0.0f);
  }
  // The input gradient by the direct kernel where it applies; the rest below.
  if (dx && p.batch > 0)
    if (const auto t = transposed_geometry(p)) {
      if (direct_input_grad(p)) {
        input_grad_direct(p, *t, dy, weights, *dx, *work);
        dx = nullptr;
      } else if (p.method == ConvPlan::Method::Mapped && t->in_size() < (int64_t{1} << 24)) {
        input_grad_mapped(p, *t, dy, weights, *dx, *work);
        dx = nullptr;
      }
    }
  const int64_t max_width = p.side * p.tile;  // GEMM columns at most
  ensure_threads(work->col, dw && !p.direct ? p.rows * max_width : 0);
  ensure_threads(work->dcol, dx && !p.direct ? p.rows * max_width : 0);
  ensure_threads(work->out, p.side > 1 ? p.out_per_group * max_width : 0);
  const Columns columns(p, *work, dw && !p.direct, dx && !p.direct);

  const float* xd = x.data();
  const float* wd = weights.data();
  const float* dyd = dy.data();
  float* dxd = dx ? dx->data() : nullptr;
  float* partial = dw ? work->dw_partial.data() : nullptr;
  const int64_t in_size = p.geo.in_size(), np = p.positions;
  if (dx || dw) {
    const int64_t items = p.chunks * p.groups;
    parallel_for(items, [&](int64_t item) {
      const int64_t chunk = item / p.groups, g = item % p.groups;
      ConstMatrixMap wg(wd + g * p.out_per_group * p.rows, p.out_per_group, p.rows);
      MatrixMap dwg(partial ? partial + chunk * wsize + g * p.out_per_group * p.rows : nullptr,
                    p.out_per_group, partial ? p.rows : 0);
      if (partial) dwg.setZero();
      auto x_of = [&](int64_t n) {
        return xd + (n * p.in_channels + g * p.in_per_group) * in_size;
      };
      auto dy_of = [&](int64_t n) { return dyd + (n * p.out_channels + g * p.out_per_group) * np; };
      const int64_t first = p.chunk_first(chunk), last = p.chunk_first(chunk + 1);
      if (dxd && !p.direct)
        for (int64_t n = first; n < last; ++n) {
          float* dxg = dxd + (x_of(n) - xd);
          std::fill(dxg, dxg + p.in_per_group * in_size, 0.0f);
        }
      // Steps: (first example, count, first position, positions).
      const int64_t step_examples = p.tiled ? 1 : even_steps(last - first, p.side);
      for (int64_t n0 = first; n0 < last; n0 += step_examples) {
        const int64_t count = std::min(step_examples, last - n0);
        for (int64_t t = 0; t < p.tiles; ++t) {
          const int64_t p0 = t * p.tile;
          const int64_t cols = std::min(np, p0 + p.tile) - p0;
          const int64_t width = count * cols;
          // The output gradients as a [out_per_group, width] matrix: in place
          // for one example, gathered side by side for several.
          const float* dyp = dy_of(n0) + p0;
          int64_t dy_stride = np;
          if (count > 1) {
            float* gathered = thread_buffer(work->out);
            for (int64_t e = 0; e < count; ++e)
              for (int64_t o = 0; o < p.out_per_group; ++o)
                std::copy_n(dy_of(n0 + e) + o * np + p0, cols, gathered + o * width + e * cols);
            dyp = gathered;
            dy_stride = width;
          }
          ConstStridedMap dyt(dyp, p.out_per_group, width, Eigen::OuterStride<>(dy_stride));
          if (partial) {
            const float* colp = x_of(n0) + p0;
            int64_t col_stride = np;
            if (!p.direct) {
              float* col = thread_buffer(work->col);
              for (int64_t e = 0; e < count; ++e)
                columns.fill(x_of(n0 + e), p0, cols, col + e * cols, width);
              colp = col;
              col_stride = width;
            }
            ConstStridedMap b(colp, p.rows, width, Eigen::OuterStride<>(col_stride));
            dwg.noalias() += dyt * b.transpose();
          }
          if (dxd) {
            float* dxg = dxd + (x_of(n0) - xd);
            if (p.direct) {
              StridedMap dxt(dxg + p0, p.rows, cols, Eigen::OuterStride<>(np));
              dxt.noalias() = wg.transpose() * dyt;
            } else {
              MatrixMap dcol(thread_buffer(work->dcol), p.rows, width);
              dcol.noalias() = wg.transpose() * dyt;
              for (int64_t e = 0; e < count; ++e)
                columns.add_back(dcol.data() + e * cols, width, p0, cols,
                                 dxg + e * p.in_channels * in_size);
            }
          }
        }
      }
    });
  }
  if (dw && p.batch > 0) {
    float* dwd = dw->data();
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
  if (db) {
    db->resize({p.out_channels});
    float* dbd = db->data();
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
}

}  // namespace strata
