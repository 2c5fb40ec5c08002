#include "kernels/winograd.hpp"

#include <algorithm>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "core/tensor.hpp"
#include "core/threads.hpp"

namespace strata::kernels {

namespace {

using plane_sums::even;
using plane_sums::fold16;
using plane_sums::load;
using plane_sums::odd;
using plane_sums::store;
using plane_sums::Vec;
constexpr int64_t kVec = plane_sums::kWidth;

// How the output is cut into tiles and work items. Tiles of one tile row are
// numbered across the row, padded to whole vectors (`row_tiles`); a work item
// takes a band of `band` tile rows of one example.
struct Layout {
  int64_t oh, ow, h, w, bh, bw;
  int64_t tile_rows, row_tiles;
  int64_t band, bands;
  int64_t half_len;  // the even or odd half of a padded input row: row_tiles + kVec
};

Layout layout(const WindowGeometry& g, int64_t tiles) {
  Layout l{};
  l.oh = g.out[1];
  l.ow = g.out[2];
  l.h = g.in[1];
  l.w = g.in[2];
  l.bh = g.before[1];
  l.bw = g.before[2];
  l.tile_rows = ceil_div(l.oh, 2);
  l.row_tiles = ceil_div(ceil_div(l.ow, 2), kVec) * kVec;
  l.band = std::clamp<int64_t>(tiles / l.row_tiles, 1, l.tile_rows);
  l.bands = ceil_div(l.tile_rows, l.band);
  l.half_len = l.row_tiles + kVec;
  return l;
}

inline Vec interleave_low(Vec a, Vec b) {
  return __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
inline Vec interleave_high(Vec a, Vec b) {
  return __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15,
                                 31);
}

// The 16 values of the zero-padded row from column j (column j − bw of the
// input row xr, zero outside [0, w)).
inline Vec padded_block(const float* xr, const Layout& l, int64_t j) {
  return plane_sums::padded_block(xr, l.w, l.bw, j);
}

// Input row `ir` of plane xc, zero-padded (column j is column j − bw of the
// input), split into its even and odd columns (half_len each).
void split_row(const float* xc, const Layout& l, int64_t ir, float* e, float* o) {
  if (ir < 0 || ir >= l.h) {
    std::fill_n(e, l.half_len, 0.0f);
    std::fill_n(o, l.half_len, 0.0f);
    return;
  }
  const float* xr = xc + ir * l.w;
  for (int64_t k = 0; k < l.half_len; k += kVec) {
    const Vec a = padded_block(xr, l, 2 * k), b = padded_block(xr, l, 2 * k + kVec);
    store(e + k, even(a, b));
    store(o + k, odd(a, b));
  }
}

// V = Bᵀ d B for the tiles of tile rows [tr0, tr1) of one input channel:
// v[ξ · stride + (tr − tr0) · row_tiles + tile]. Bᵀ = [1 0 −1 0; 0 1 1 0;
// 0 −1 1 0; 0 1 0 −1]. `scratch` holds four split rows, input row r in slot
// r mod 4 (so rows 2 and 3 of a tile row serve as rows 0 and 1 of the next).
void input_tiles(const float* xc, const Layout& l, int64_t tr0, int64_t tr1, float* v,
                 int64_t stride, float* scratch) {
  const float* e[4];
  for (int64_t tr = tr0; tr < tr1; ++tr) {
    for (int64_t q = 0; q < 4; ++q) {
      const int64_t ir = 2 * tr - l.bh + q;
      float* slot = scratch + 2 * ((ir % 4 + 4) % 4) * l.half_len;
      if (tr == tr0 || q >= 2) split_row(xc, l, ir, slot, slot + l.half_len);
      e[q] = slot;
    }
    float* vt = v + (tr - tr0) * l.row_tiles;
    for (int64_t t = 0; t < l.row_tiles; t += kVec) {
      Vec c[4][4];  // c[q][j]: column j of input row q of the tiles
      for (int q = 0; q < 4; ++q) {
        const float* o = e[q] + l.half_len;
        c[q][0] = load(e[q] + t);
        c[q][1] = load(o + t);
        c[q][2] = load(e[q] + t + 1);
        c[q][3] = load(o + t + 1);
      }
      for (int j = 0; j < 4; ++j) {
        const Vec s0 = c[0][j] - c[2][j], s1 = c[1][j] + c[2][j];
        const Vec s2 = c[2][j] - c[1][j], s3 = c[1][j] - c[3][j];
        c[0][j] = s0;
        c[1][j] = s1;
        c[2][j] = s2;
        c[3][j] = s3;
      }
      for (int i = 0; i < 4; ++i) {
        float* vi = vt + 4 * i * stride + t;
        store(vi, c[i][0] - c[i][2]);
        store(vi + stride, c[i][1] + c[i][2]);
        store(vi + 2 * stride, c[i][2] - c[i][1]);
        store(vi + 3 * stride, c[i][1] - c[i][3]);
      }
    }
  }
}

// m[o · 16 · tiles + t…] = Σ_c u[c][o] · v[c · 16 · tiles + t…] for OB
// channels and NV vectors of tiles from tile t (one ξ), summed in the order
// of c.
template <int OB, int NV>
inline void products(const float* v, int64_t ci, int64_t tiles, const float* u, int64_t co,
                     float* m, int64_t t) {
  const int64_t stride = 16 * tiles;
  Vec acc[OB][NV];
  for (int o = 0; o < OB; ++o)
    for (int k = 0; k < NV; ++k)
      acc[o][k] = Vec{};
  for (int64_t c = 0; c < ci; ++c) {
    Vec in[NV];
    for (int k = 0; k < NV; ++k)
      in[k] = load(v + c * stride + t + k * kVec);
    const float* uc = u + c * co;
    for (int o = 0; o < OB; ++o)
      for (int k = 0; k < NV; ++k)
        acc[o][k] += uc[o] * in[k];
  }
  for (int o = 0; o < OB; ++o)
    for (int k = 0; k < NV; ++k)
      store(m + o * stride + t + k * kVec, acc[o][k]);
}

// Y = Aᵀ M A (Aᵀ = [1 1 1 0; 0 1 −1 −1]) plus the bias, for OB output
// channels and tile rows [tr0, tr1): m[(o · 16 + ξ) · tiles + tile].
template <int OB>
void output_tiles(const float* m, int64_t tiles, const Layout& l, int64_t tr0, int64_t tr1,
                  const float* bias, float* y, int64_t plane) {
  for (int o = 0; o < OB; ++o) {
    const float b = bias ? bias[o] : 0.0f;
    float* yo = y + o * plane;
    for (int64_t tr = tr0; tr < tr1; ++tr)
      for (int64_t t = 0; t < l.row_tiles; t += kVec) {
        const float* mt = m + o * 16 * tiles + (tr - tr0) * l.row_tiles + t;
        Vec a[2][4];
        for (int j = 0; j < 4; ++j) {
          const Vec m0 = load(mt + j * tiles), m1 = load(mt + (4 + j) * tiles);
          const Vec m2 = load(mt + (8 + j) * tiles), m3 = load(mt + (12 + j) * tiles);
          a[0][j] = m0 + m1 + m2;
          a[1][j] = m1 - m2 - m3;
        }
        for (int r = 0; r < 2; ++r) {
          const int64_t row = 2 * tr + r, col = 2 * t;
          if (row >= l.oh || col >= l.ow) break;
          const Vec y0 = a[r][0] + a[r][1] + a[r][2] + b;
          const Vec y1 = a[r][1] - a[r][2] - a[r][3] + b;
          float* dst = yo + row * l.ow + col;
          if (col + 2 * kVec <= l.ow) {
            store(dst, interleave_low(y0, y1));
            store(dst + kVec, interleave_high(y0, y1));
          } else {
            float tmp[2 * kVec];
            store(tmp, interleave_low(y0, y1));
            store(tmp + kVec, interleave_high(y0, y1));
            std::copy_n(tmp, l.ow - col, dst);
          }
        }
      }
  }
}

// The products for one ξ and output channels [o0, o0 + OB).
template <int OB>
void product_block(const float* vx, int64_t ci, int64_t tiles, const float* ux, int64_t co,
                   float* mx) {
  int64_t t = 0;
  for (; t + 2 * kVec <= tiles; t += 2 * kVec)
    products<OB, 2>(vx, ci, tiles, ux, co, mx, t);
  for (; t < tiles; t += kVec)
    products<OB, 1>(vx, ci, tiles, ux, co, mx, t);
}

// The products and output transform for output channels [o0, o0 + OB).
// v[(c · 16 + ξ) · tiles + tile] and m[(o · 16 + ξ) · tiles + tile]: the 16
// streams of a transform a few hundred bytes apart, not a multiple of 4 KB
// (which would map them to the same cache sets).
template <int OB>
void channel_block(const float* v, int64_t ci, int64_t tiles, const float* u, int64_t co,
                   int64_t o0, float* m, const Layout& l, int64_t tr0, int64_t tr1,
                   const float* bias, float* y, int64_t plane) {
  for (int64_t xi = 0; xi < 16; ++xi)
    product_block<OB>(v + xi * tiles, ci, tiles, u + xi * ci * co + o0, co, m + xi * tiles);
  output_tiles<OB>(m, tiles, l, tr0, tr1, bias ? bias + o0 : nullptr, y + o0 * plane, plane);
}

// dm[(k · 16 + ξ) · tiles + tile] = A dy Aᵀ for the 2×2 tiles of output
// gradient plane dyc, tile rows [tr0, tr1) (A = [1 0; 1 1; 1 −1; 0 −1]; dy
// zero past the output). `dl` is the layout of dy as a plane (bw = 0).
void gradient_tiles(const float* dyc, const Layout& dl, int64_t tr0, int64_t tr1, float* dm,
                    int64_t stride, float* scratch) {
  float* e0 = scratch;
  float* o0 = scratch + dl.half_len;
  float* e1 = scratch + 2 * dl.half_len;
  float* o1 = scratch + 3 * dl.half_len;
  for (int64_t tr = tr0; tr < tr1; ++tr) {
    split_row(dyc, dl, 2 * tr, e0, o0);
    split_row(dyc, dl, 2 * tr + 1, e1, o1);
    float* dt = dm + (tr - tr0) * dl.row_tiles;
    for (int64_t t = 0; t < dl.row_tiles; t += kVec) {
      const Vec d00 = load(e0 + t), d01 = load(o0 + t), d10 = load(e1 + t), d11 = load(o1 + t);
      // Rows: r[i][j] = (A dy)[i][j].
      const Vec r[4][2] = {
          {d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11}, {-d10, -d11}};
      for (int i = 0; i < 4; ++i) {
        float* di = dt + 4 * i * stride + t;
        store(di, r[i][0]);
        store(di + stride, r[i][0] + r[i][1]);
        store(di + 2 * stride, r[i][0] - r[i][1]);
        store(di + 3 * stride, -r[i][1]);
      }
    }
  }
}

// du[k · ci + c] += Σ_tile dm[k · 16 · tiles + tile] · v[c · 16 · tiles + tile]
// for KB × CB channels (one ξ), lanes summed in float, then into du.
template <int KB, int CB>
void gradient_products(const float* dm, const float* v, int64_t tiles, double* du, int64_t ci) {
  const int64_t stride = 16 * tiles;
  Vec acc[KB][CB];
  for (int k = 0; k < KB; ++k)
    for (int c = 0; c < CB; ++c)
      acc[k][c] = Vec{};
  for (int64_t t = 0; t < tiles; t += kVec) {
    Vec a[KB], b[CB];
    for (int k = 0; k < KB; ++k)
      a[k] = load(dm + k * stride + t);
    for (int c = 0; c < CB; ++c)
      b[c] = load(v + c * stride + t);
    for (int k = 0; k < KB; ++k)
      for (int c = 0; c < CB; ++c)
        acc[k][c] += a[k] * b[c];
  }
  if constexpr (KB == 4 && CB == 4) {
    Vec flat[16];
    for (int f = 0; f < 16; ++f)
      flat[f] = acc[f / 4][f % 4];
    float sums[kVec];
    store(sums, fold16(flat));
    for (int i = 0; i < 16; ++i) {
      const int f = ((i & 1) << 3) | ((i & 2) << 1) | ((i & 4) >> 1) | ((i & 8) >> 3);
      du[(f / 4) * ci + f % 4] += sums[i];
    }
  } else {
    for (int k = 0; k < KB; ++k)
      for (int c = 0; c < CB; ++c)
        du[k * ci + c] += plane_sums::horizontal_sum(acc[k][c]);
  }
}

template <int KB>
void gradient_row(const float* dm, const float* v, int64_t tiles, double* du, int64_t ci) {
  const int64_t stride = 16 * tiles;
  int64_t c = 0;
  for (; c + 4 <= ci; c += 4)
    gradient_products<KB, 4>(dm, v + c * stride, tiles, du + c, ci);
  for (; c < ci; ++c)
    gradient_products<KB, 1>(dm, v + c * stride, tiles, du + c, ci);
}

}  // namespace

bool winograd_grad_by_gemm(int64_t ci, int64_t co) {
  return ci * co >= kWinogradGemmChannels;
}

bool winograd_grad_applies(const WindowGeometry& g, int64_t groups, int64_t ci, int64_t co) {
  return winograd_applies(g, groups) &&
         (g.out[2] >= kWinogradMinGradRow ||
          (g.out[2] >= kWinogradMinGemmGradRow && winograd_grad_by_gemm(ci, co)));
}

bool winograd_applies(const WindowGeometry& g, int64_t groups) {
  return groups == 1 && g.in[0] == 1 && g.out[0] == 1 &&
         g.kernel == std::array<int64_t, 3>{1, 3, 3} &&
         g.stride == std::array<int64_t, 3>{1, 1, 1} &&
         g.dilation == std::array<int64_t, 3>{1, 1, 1} && g.out[2] >= kWinogradMinRow;
}

void winograd_filter(const float* w, int64_t ci, int64_t co, bool adjoint, float* u) {
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int64_t o = 0; o < co; ++o)
    for (int64_t c = 0; c < ci; ++c) {
      double k[3][3];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          k[a][b] = adjoint ? w[(c * co + o) * 9 + (2 - a) * 3 + (2 - b)]
                            : w[(o * ci + c) * 9 + a * 3 + b];
      double t[4][3];
      for (int i = 0; i < 4; ++i)
        for (int b = 0; b < 3; ++b)
          t[i][b] = G[i][0] * k[0][b] + G[i][1] * k[1][b] + G[i][2] * k[2][b];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          u[((i * 4 + j) * ci + c) * co + o] =
              static_cast<float>(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
    }
}

void winograd_convolution(const WindowGeometry& g, int64_t batch, const float* x, int64_t ci,
                          const float* u, int64_t co, const float* bias, float* y,
                          WinogradScratch& scratch) {
  // About 4096 / ci tiles per item (the transformed input, 16·ci floats per
  // tile, stays within a few hundred KB of cache), 32 to 256.
  const Layout l = layout(g, std::clamp<int64_t>(4096 / std::max<int64_t>(ci, 1), 32, 256));
  const int64_t most = l.band * l.row_tiles;
  ensure_threads(scratch.v, 16 * ci * most);
  ensure_threads(scratch.m, 16 * 8 * most);
  ensure_threads(scratch.rows, 8 * l.half_len);
  const int64_t in_plane = l.h * l.w, out_plane = l.oh * l.ow;
  parallel_for(batch * l.bands, [&](int64_t item) {
    const int64_t n = item / l.bands;
    const int64_t tr0 = (item % l.bands) * l.band, tr1 = std::min(l.tile_rows, tr0 + l.band);
    const int64_t tiles = (tr1 - tr0) * l.row_tiles;
    float* v = thread_buffer(scratch.v);
    float* m = thread_buffer(scratch.m);
    float* rows = thread_buffer(scratch.rows);
    const float* xn = x + n * ci * in_plane;
    for (int64_t c = 0; c < ci; ++c)
      input_tiles(xn + c * in_plane, l, tr0, tr1, v + c * 16 * tiles, tiles, rows);
    // Per block of output channels: the 16 products, then the output
    // transform (the block's products stay in cache between the two).
    float* yn = y + n * co * out_plane;
    int64_t o = 0;
    for (; o + 8 <= co; o += 8)
      channel_block<8>(v, ci, tiles, u, co, o, m, l, tr0, tr1, bias, yn, out_plane);
    for (; o + 4 <= co; o += 4)
      channel_block<4>(v, ci, tiles, u, co, o, m, l, tr0, tr1, bias, yn, out_plane);
    for (; o < co; ++o)
      channel_block<1>(v, ci, tiles, u, co, o, m, l, tr0, tr1, bias, yn, out_plane);
  });
}

void winograd_weights_grad(const WindowGeometry& g, int64_t batch, const float* x, int64_t ci,
                           const float* dy, int64_t co, float* dw, WinogradScratch& scratch) {
  // Larger items than the forward's: each item's sums over its tiles end
  // in a fold of the lanes, which longer sums amortize.
  const Layout l = layout(g, std::clamp<int64_t>(8192 / (ci + co), 64, 1024));
  Layout dl = l;  // dy as a plane: no padding
  dl.h = l.oh;
  dl.w = l.ow;
  dl.bh = dl.bw = 0;
  const int64_t most = l.band * l.row_tiles, items = batch * l.bands;
  // Chunks of items, fixed by the sizes: each sums its items in order.
  const int64_t chunks = std::min<int64_t>(items, 8), size = 16 * ci * co;
  scratch.du.assign(static_cast<size_t>(std::max<int64_t>(chunks, 1) * size), 0.0);
  ensure_threads(scratch.v, 16 * ci * most);
  ensure_threads(scratch.m, 16 * co * most);
  ensure_threads(scratch.rows, 8 * l.half_len);
  const bool by_gemm = winograd_grad_by_gemm(ci, co);
  ensure_threads(scratch.part, by_gemm ? co * ci : 0);
  const int64_t in_plane = l.h * l.w, out_plane = l.oh * l.ow;
  parallel_for(chunks, [&](int64_t chunk) {
    double* du = scratch.du.data() + chunk * size;
    float* v = thread_buffer(scratch.v);
    float* m = thread_buffer(scratch.m);
    float* rows = thread_buffer(scratch.rows);
    float* part = thread_buffer(scratch.part);
    for (int64_t item = chunk * items / chunks; item < (chunk + 1) * items / chunks; ++item) {
      const int64_t n = item / l.bands;
      const int64_t tr0 = (item % l.bands) * l.band, tr1 = std::min(l.tile_rows, tr0 + l.band);
      const int64_t tiles = (tr1 - tr0) * l.row_tiles;
      for (int64_t c = 0; c < ci; ++c)
        input_tiles(x + (n * ci + c) * in_plane, l, tr0, tr1, v + c * 16 * tiles, tiles, rows);
      for (int64_t k = 0; k < co; ++k)
        gradient_tiles(dy + (n * co + k) * out_plane, dl, tr0, tr1, m + k * 16 * tiles, tiles,
                       rows);
      for (int64_t xi = 0; xi < 16; ++xi) {
        double* dx = du + xi * co * ci;
        if (by_gemm) {
          // du += M · Vᵀ over the item's tiles: a matrix product (rows
          // 16 · tiles apart), in float, then added to the chunk's sums.
          using CMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
          const CMap mx(m + xi * tiles, co, tiles, Eigen::OuterStride<>(16 * tiles));
          const CMap vx(v + xi * tiles, ci, tiles, Eigen::OuterStride<>(16 * tiles));
          MatrixMap prod(part, co, ci);
          prod.noalias() = mx * vx.transpose();
          for (int64_t i = 0; i < co * ci; ++i)
            dx[i] += part[i];
          continue;
        }
        // Few channels: the tiles in the vector lanes, 4 × 4 channels at a
        // time.
        const float* mx = m + xi * tiles;
        const float* vx = v + xi * tiles;
        int64_t k = 0;
        for (; k + 4 <= co; k += 4)
          gradient_row<4>(mx + k * 16 * tiles, vx, tiles, dx + k * ci, ci);
        for (; k < co; ++k)
          gradient_row<1>(mx + k * 16 * tiles, vx, tiles, dx + k * ci, ci);
      }
    }
  });
  // Over chunks in order, then dw = Gᵀ dU G.
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int64_t k = 0; k < co; ++k)
    for (int64_t c = 0; c < ci; ++c) {
      double d[4][4];
      for (int xi = 0; xi < 16; ++xi) {
        double s = 0;
        for (int64_t chunk = 0; chunk < chunks; ++chunk)
          s += scratch.du[static_cast<size_t>(chunk * size + (xi * co + k) * ci + c)];
        d[xi / 4][xi % 4] = s;
      }
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          double s = 0;
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j)
              s += G[i][a] * d[i][j] * G[j][b];
          dw[(k * ci + c) * 9 + a * 3 + b] = static_cast<float>(s);
        }
    }
}

}  // namespace strata::kernels
