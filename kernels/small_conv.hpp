// Convolution kernels for small images and few channels, in the family of
// the direct kernel (kernels/direct_conv.hpp: the same packed weights, sums in
// registers, no im2col): 1×1 convolutions of very few input channels, and
// stride-1 convolutions whose rows are shorter than a vector, on flat planes.
#pragma once

#include <cstdint>

#include "kernels/common.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// 1×1 convolutions (stride 1, no padding, any rank) with few input channels
// per group (at most kMaxPointwiseChannels: an RGB image's), where a GEMM
// spends its time packing and clearing its output (MobileNet's 3 → 12 at
// 64×64: 1.2× faster; at 16 input channels the GEMM is faster, 329 against
// 451 µs at [32,16,32,32] → 32): y[n, grp·co + o, p] = bias + Σ_c packed[grp,
// c, o] · x[n, grp·ci + c, p], summed in the order c, vectors of positions in
// registers, no copy of x.
inline constexpr int64_t kMaxPointwiseChannels = 4;
bool pointwise_applies(const WindowGeometry& g, int64_t in_per_group);
void pointwise_convolution(const WindowGeometry& g, int64_t batch, int64_t groups, const float* x,
                           int64_t ci, const float* packed, int64_t co, const float* bias,
                           float* y);

// Stride 1 in 2-D or 1-D with output rows shorter than a vector (small
// images, where direct_convolution does not apply), when the flat layout
// below keeps at least 60% of the positions it computes.
bool small_direct_applies(const WindowGeometry& g);

// The direct kernel's sum (kernels/direct_conv.hpp, packed weights from
// pack_direct_weights) for such small planes: each example's padded input planes seen
// as one flat row (output (oh, ow) at oh·wp + ow, wp the padded width), so
// that every kernel position is one contiguous load, with no im2col; the
// positions that fall past a row's end are computed and dropped. Summed in the
// order c, kh, kw, then the bias added. `padded` and `wide` are per-thread
// scratch (sized here).
void small_direct_convolution(const WindowGeometry& g, int64_t batch, int64_t groups,
                              const float* x, int64_t ci, const float* packed, int64_t co,
                              const float* bias, float* y, ThreadBuffers& padded,
                              ThreadBuffers& wide);

}  // namespace strata::kernels
