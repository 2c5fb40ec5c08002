// Direct convolution, for stride 1 in 2-D or 1-D (g.in[0] = g.kernel[0] =
// g.out[0] = 1, g.stride = 1): output rows computed in registers from a
// zero-padded copy of the input rows, a block of output channels at a time,
// with no im2col and no packing of columns. Fastest for output rows of a
// vector (16 floats) or more.
//
// For example n and group grp (ci input channels and co output channels per
// group), output channel o and position (oh, ow):
//   y[n, grp·co + o, oh, ow] = bias[grp·co + o]
//       + Σ_c,kh,kw packed[grp, c, kh, kw, o] · x[n, grp·ci + c, oh + kh·dh − bh, ow + kw·dw − bw]
// (x zero outside), summed in the order c, kh, kw.
#pragma once

#include <cstdint>

#include "kernels/common.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// Weights w [groups · co, ci, k] (k = kernel positions, as a convolution's
// Weights) repacked [group][ci][k][co], so that a block of output channels
// reads consecutive numbers.
void pack_direct_weights(const float* w, int64_t groups, int64_t ci, int64_t co, int64_t k,
                         float* packed);

// The direct kernel over every example, group and block of output rows: x
// [batch, groups · ci, in…] to y [batch, groups · co, out…], weights packed as
// above, bias [groups · co] or null. `padded` is per-thread scratch (sized
// here; a warm call allocates nothing).
void direct_convolution(const WindowGeometry& g, int64_t batch, int64_t groups, const float* x,
                        int64_t ci, const float* packed, int64_t co, const float* bias, float* y,
                        ThreadBuffers& padded);

}  // namespace strata::kernels
