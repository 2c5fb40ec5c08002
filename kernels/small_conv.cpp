#include "kernels/small_conv.hpp"

#include <algorithm>

#include "core/threads.hpp"
#include "kernels/im2col.hpp"
#include "kernels/window_sums.hpp"

namespace strata::kernels {

namespace {

using plane_sums::Vec;
constexpr int64_t kVec = plane_sums::kWidth;

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
    channel_blocks(co, [&](auto ob, int64_t o) {
      pointwise_block<ob>(xg, ci, positions, count, wg + o, co, bg ? bg + o : nullptr,
                          yg + o * positions);
    });
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
    channel_blocks(co, [&](auto ob, int64_t o0) {
      flat_channels<ob>(xp, s, g, ci, wg + o0, co, length, wb, ld);
      for (int64_t o = 0; o < ob; ++o) {
        const float b = bg ? bg[o0 + o] : 0.0f;
        float* yo = yg + (o0 + o) * out_size;
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          // A row is shorter than a vector: one load, one masked store.
          const Vec v = plane_sums::load(wb + o * ld + oh * s.wp) + b;
          plane_sums::store_first(yo + oh * ow, v, ow);
        }
      }
    });
  });
}

}  // namespace strata::kernels
