// The direct convolution kernels' inner sum (kernels/direct_conv.cpp,
// kernels/small_conv.cpp): a block of output channels × vectors of positions
// accumulated in registers over input channels and kernel positions, from a
// zero-padded input and weights packed [c][kh][kw][o] (pack_direct_weights).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/im2col.hpp"
#include "kernels/plane_sums.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// acc[o][v] += Σ_c,kh,kw w[c, kh, kw, o] · xp[c, row + kh·dh, j0 + v·16 + kw·dw + :16]
// for OB output channels (`w` at the block's first, rows of `co` numbers),
// summed in the order c, kh, kw.
template <int OB, int NV>
inline void window_sums(const float* xp, PaddedShape s, const WindowGeometry& g, int64_t channels,
                        const float* w, int64_t co, int64_t row, int64_t j0,
                        plane_sums::Vec (&acc)[OB][NV]) {
  const int64_t kh_n = g.kernel[1], kw_n = g.kernel[2], ksize = kh_n * kw_n;
  const int64_t dh = g.dilation[1], dw = g.dilation[2];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kh = 0; kh < kh_n; ++kh) {
      const float* r = xp + (c * s.hp + row + kh * dh) * s.wp + j0;
      const float* wk = w + (c * ksize + kh * kw_n) * co;
      for (int64_t kw = 0; kw < kw_n; ++kw, wk += co) {
        plane_sums::Vec in[NV];
        for (int v = 0; v < NV; ++v)
          in[v] = plane_sums::load(r + kw * dw + v * plane_sums::kWidth);
        for (int o = 0; o < OB; ++o)
          for (int v = 0; v < NV; ++v)
            acc[o][v] += wk[o] * in[v];
      }
    }
}

// block(OB, o) for output channels [o, o + OB): blocks of 8, then 4, then 1
// (OB a std::integral_constant: the kernels' register blocks).
template <typename Block>
inline void channel_blocks(int64_t co, Block&& block) {
  int64_t o = 0;
  for (; o + 8 <= co; o += 8)
    block(std::integral_constant<int, 8>{}, o);
  for (; o + 4 <= co; o += 4)
    block(std::integral_constant<int, 4>{}, o);
  for (; o < co; ++o)
    block(std::integral_constant<int, 1>{}, o);
}

}  // namespace strata::kernels
