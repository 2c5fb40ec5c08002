#include "kernels/direct_conv.hpp"

#include <algorithm>

#include "core/threads.hpp"
#include "kernels/im2col.hpp"

namespace strata::kernels {

namespace {

using plane_sums::Vec;
constexpr int64_t kVec = plane_sums::kWidth;

constexpr int64_t kDirectVectors = 2;  // output row positions per step: 2 Vecs
constexpr int64_t kDirectRows = 4;     // output rows per work item

// The padded input for the direct kernel: rows wide enough for whole steps.
PaddedShape direct_shape(const WindowGeometry& g) {
  PaddedShape s = padded_shape(g);
  const int64_t step = kDirectVectors * kVec;
  s.wp = std::max(s.wp, (g.out[2] + step - 1) / step * step + (g.kernel[2] - 1) * g.dilation[2]);
  return s;
}

// acc[o][v] += Σ_c,kh,kw w[c, kh, kw, o] · xp[c, row + kh·dh, j0 + v·16 + kw·dw + :16]
// for OB output channels (`w` at the block's first, rows of `co` numbers),
// summed in the order c, kh, kw.
template <int OB, int NV>
inline void window_sums(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
                        const float* w, int64_t co, int64_t row, int64_t j0, Vec (&acc)[OB][NV]) {
  const int64_t kh_n = g.kernel[1], kw_n = g.kernel[2], ksize = kh_n * kw_n;
  const int64_t dh = g.dilation[1], dw = g.dilation[2];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kh = 0; kh < kh_n; ++kh) {
      const float* r = xp + (c * s.hp + row + kh * dh) * s.wp + j0;
      const float* wk = w + (c * ksize + kh * kw_n) * co;
      for (int64_t kw = 0; kw < kw_n; ++kw, wk += co) {
        Vec in[NV];
        for (int v = 0; v < NV; ++v)
          in[v] = plane_sums::load(r + kw * dw + v * kVec);
        for (int o = 0; o < OB; ++o)
          for (int v = 0; v < NV; ++v)
            acc[o][v] += wk[o] * in[v];
      }
    }
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
  const int64_t ow = g.out[2];
  for (int64_t oh = oh0; oh < oh1; ++oh)
    for (int64_t j0 = 0; j0 < ow; j0 += NV * kVec) {
      Vec acc[OB][NV];
      for (int o = 0; o < OB; ++o)
        for (int v = 0; v < NV; ++v)
          acc[o][v] = Vec{} + (bias ? bias[o] : 0.0f);
      window_sums<OB, NV>(xp, s, g, channels, w, co, oh, j0, acc);
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

// Small planes (output rows shorter than a vector), the padded plane [hp, wp]
// seen as one flat row: output (oh, ow) is position oh·wp + ow of a wide
// output of out[1]·wp positions, which reads xp[c·hp·wp + kh·dh·wp + kw·dw +
// that position]. The positions with ow ≥ out[2] read across the end of a
// row and are dropped when the wide output is compacted into y.

// Wide positions [j0, j0 + NV·16) of OB output channels into wide (rows of ld).
template <int OB, int NV>
void flat_step(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
               const float* w, int64_t co, int64_t j0, float* wide, int64_t ld) {
  Vec acc[OB][NV];
  for (int o = 0; o < OB; ++o)
    for (int v = 0; v < NV; ++v)
      acc[o][v] = Vec{};
  window_sums<OB, NV>(xp, s, g, channels, w, co, 0, j0, acc);
  for (int o = 0; o < OB; ++o)
    for (int v = 0; v < NV; ++v)
      plane_sums::store(wide + o * ld + j0 + v * kVec, acc[o][v]);
}

// The whole wide output of OB channels: steps of 2 vectors, a last one of 1
// when that covers the rest.
template <int OB>
void flat_channels(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
                   const float* w, int64_t co, int64_t length, float* wide, int64_t ld) {
  int64_t j0 = 0;
  for (; j0 + kVec < length; j0 += 2 * kVec)
    flat_step<OB, 2>(xp, s, g, channels, w, co, j0, wide, ld);
  if (j0 < length) flat_step<OB, 1>(xp, s, g, channels, w, co, j0, wide, ld);
}

// The wide length rounded up to the steps flat_channels makes.
int64_t flat_extent(int64_t length) {
  return ceil_div(length, 2 * kVec) * 2 * kVec;
}

// Positions [j0, j0 + NV·16) (n of them, the rest masked) of OB output
// channels of a 1×1 convolution, planes `stride` apart:
// y[o, j] = bias[o] + Σ_c w[c, o] · x[c, j], summed in the order c.
template <int OB, int NV>
void pointwise_step(const float* x, int64_t channels, int64_t stride, const float* w, int64_t co,
                    const float* bias, int64_t j0, int64_t n, float* y) {
  Vec acc[OB][NV];
  for (int o = 0; o < OB; ++o)
    for (int v = 0; v < NV; ++v)
      acc[o][v] = Vec{} + (bias ? bias[o] : 0.0f);
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * stride + j0;
    Vec in[NV];
    for (int v = 0; v < NV; ++v)
      in[v] = n >= (v + 1) * kVec ? plane_sums::load(xc + v * kVec)
              : n > v * kVec      ? plane_sums::load_first(xc + v * kVec, n - v * kVec)
                                  : Vec{};
    for (int o = 0; o < OB; ++o)
      for (int v = 0; v < NV; ++v)
        acc[o][v] += w[c * co + o] * in[v];
  }
  for (int o = 0; o < OB; ++o)
    for (int v = 0; v < NV; ++v) {
      float* dst = y + o * stride + j0 + v * kVec;
      if (n >= (v + 1) * kVec)
        plane_sums::store(dst, acc[o][v]);
      else if (n > v * kVec)
        plane_sums::store_first(dst, acc[o][v], n - v * kVec);
    }
}

// Positions [0, count) of OB output channels.
template <int OB>
void pointwise_block(const float* x, int64_t channels, int64_t stride, int64_t count,
                     const float* w, int64_t co, const float* bias, float* y) {
  constexpr int64_t step = 2 * kVec;
  for (int64_t j0 = 0; j0 < count; j0 += step)
    pointwise_step<OB, 2>(x, channels, stride, w, co, bias, j0, std::min(step, count - j0), y);
}

}  // namespace

bool pointwise_applies(const WindowGeometry& g, int64_t in_per_group) {
  for (size_t d = 0; d < 3; ++d)
    if (g.kernel[d] != 1 || g.stride[d] != 1 || g.before[d] != 0 || g.in[d] != g.out[d])
      return false;
  return in_per_group <= kMaxPointwiseChannels && g.out_size() > 0;
}

void pointwise_convolution(const WindowGeometry& g, int64_t batch, int64_t groups, const float* x,
                           int64_t ci, const float* packed, int64_t co, const float* bias,
                           float* y) {
  const int64_t positions = g.out_size();
  // Work items: an example's group and a block of about 2048 positions.
  const int64_t block = std::min<int64_t>(positions, 2048);
  const int64_t blocks = ceil_div(positions, block);
  parallel_for(batch * groups * blocks, [&](int64_t item) {
    const int64_t n = item / (groups * blocks), grp = (item / blocks) % groups;
    const int64_t j0 = (item % blocks) * block, count = std::min(block, positions - j0);
    // The block as a plane of `count` positions inside planes of `positions`.
    const float* xg = x + (n * groups + grp) * ci * positions + j0;
    float* yg = y + (n * groups + grp) * co * positions + j0;
    const float* wg = packed + grp * ci * co;
    const float* bg = bias ? bias + grp * co : nullptr;
    for (int64_t o = 0; o < co;) {
      const int64_t ob = co - o >= 8 ? 8 : co - o >= 4 ? 4 : 1;
      const float* bo = bg ? bg + o : nullptr;
      if (ob == 8)
        pointwise_block<8>(xg, ci, positions, count, wg + o, co, bo, yg + o * positions);
      else if (ob == 4)
        pointwise_block<4>(xg, ci, positions, count, wg + o, co, bo, yg + o * positions);
      else
        pointwise_block<1>(xg, ci, positions, count, wg + o, co, bo, yg + o * positions);
      o += ob;
    }
  });
}

bool small_direct_applies(const WindowGeometry& g) {
  if (g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1 || g.stride[1] != 1 || g.stride[2] != 1)
    return false;
  if (g.out[2] >= kVec || g.out_size() == 0) return false;
  // Worth it while at least 60% of the computed positions are kept (8×8
  // with padding 1: 64 of 80; 4×4: 16 of 32 is left to im2col + GEMM).
  const PaddedShape s = padded_shape(g);
  const int64_t computed = ceil_div(g.out[1] * s.wp, kVec) * kVec;
  return 10 * g.out_size() >= 6 * computed;
}

void small_direct_convolution(const WindowGeometry& g, int64_t batch, int64_t groups,
                              const float* x, int64_t ci, const float* packed, int64_t co,
                              const float* bias, float* y, ThreadBuffers& padded,
                              ThreadBuffers& wide) {
  const PaddedShape s = padded_shape(g);
  const int64_t length = g.out[1] * s.wp, ld = flat_extent(length);
  // Past the last plane: what the last steps read beyond it (dropped positions).
  const int64_t slack = ld + (g.kernel[2] - 1) * g.dilation[2];
  ensure_threads(padded, s.size(ci) + slack);
  ensure_threads(wide, 8 * ld + kVec);  // + a vector: the last row's load
  const int64_t in_size = g.in_size(), out_size = g.out_size(), ksize = g.kernel_size();
  const int64_t ow = g.out[2];
  parallel_for(batch * groups, [&](int64_t item) {
    const int64_t n = item / groups, grp = item % groups;
    float* xp = thread_buffer(padded);
    float* wb = thread_buffer(wide);
    pad_rows(x + (n * groups + grp) * ci * in_size, ci, g, s, 0, s.hp, xp);
    std::fill_n(xp + s.size(ci), slack, 0.0f);
    const float* wg = packed + grp * ci * ksize * co;
    float* yg = y + (n * groups + grp) * co * out_size;
    const float* bg = bias ? bias + grp * co : nullptr;
    // Blocks of 8, 4, then 1 output channels, each compacted into y.
    for (int64_t o0 = 0; o0 < co;) {
      const int64_t ob = co - o0 >= 8 ? 8 : co - o0 >= 4 ? 4 : 1;
      if (ob == 8)
        flat_channels<8>(xp, s, g, ci, wg + o0, co, length, wb, ld);
      else if (ob == 4)
        flat_channels<4>(xp, s, g, ci, wg + o0, co, length, wb, ld);
      else
        flat_channels<1>(xp, s, g, ci, wg + o0, co, length, wb, ld);
      for (int64_t o = 0; o < ob; ++o) {
        const float b = bg ? bg[o0 + o] : 0.0f;
        float* yo = yg + (o0 + o) * out_size;
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const float* src = wb + o * ld + oh * s.wp;
#ifdef __AVX512F__
          // A row is shorter than a vector: one load, one masked store.
          const Vec v = plane_sums::load(src) + b;
          _mm512_mask_storeu_ps(yo + oh * ow, static_cast<__mmask16>((1u << ow) - 1), v);
#else
          for (int64_t j = 0; j < ow; ++j)
            yo[oh * ow + j] = src[j] + b;
#endif
        }
      }
      o0 += ob;
    }
  });
}

void pack_direct_weights(const float* w, int64_t groups, int64_t ci, int64_t co, int64_t k,
                         float* packed) {
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t kk = 0; kk < k; ++kk)
          packed[((g * ci + c) * k + kk) * co + o] = w[((g * co + o) * ci + c) * k + kk];
}

// Each work item pads the input rows it reads, then computes its rows.
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

}  // namespace strata::kernels
