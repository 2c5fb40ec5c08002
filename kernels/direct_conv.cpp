#include "kernels/direct_conv.hpp"

#include <algorithm>

#include "core/threads.hpp"
#include "kernels/im2col.hpp"
#include "kernels/window_sums.hpp"

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
        for (int v = 0; v < NV; ++v) {
          if (m >= (v + 1) * kVec)
            plane_sums::store(dst + v * kVec, acc[o][v]);
          else if (m > v * kVec)
            plane_sums::store_first(dst + v * kVec, acc[o][v], m - v * kVec);
        }
      }
    }
}

// All output channels of a group, in blocks of 8, then 4, then 1.
void direct_all(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
                const float* w, int64_t co, const float* bias, int64_t oh0, int64_t oh1, float* y,
                int64_t positions) {
  channel_blocks(co, [&](auto ob, int64_t o) {
    direct_rows<ob>(xp, s, g, channels, w + o, co, bias ? bias + o : nullptr, oh0, oh1,
                    y + o * positions, positions);
  });
}

}  // namespace

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
