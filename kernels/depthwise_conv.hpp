// Depthwise convolution in 2-D (or 1 × n × m): one group per channel, one
// output channel per group (MobileNet's 3×3 convolutions), computed directly
// per plane from a zero-padded copy, vectorized along the output rows for
// stride 1 and 2 (stride 2 from the padded rows split into even and odd
// columns) and plain for other strides. The im2col path it replaces spends
// most of its time gathering a 9-row column matrix per channel for a GEMM
// of one row.
//
//   y[n, c, i, j] = bias[c] + Σ_a,b w[c, a, b] · x[n, c, i·sh + a·dh − bh, j·sw + b·dw − bw]
//
// (x zero outside), summed in the order a, b. Work is split by plane, so
// results are identical for any thread count.
#pragma once

#include <cstdint>

#include "kernels/common.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// Whether the depthwise kernel applies: 2-D, groups = in channels = out
// channels (one input and one output channel per group).
bool depthwise_applies(const WindowGeometry& g, int64_t groups, int64_t in_per_group,
                       int64_t out_per_group);

// x [batch, channels, in…] to y [batch, channels, out…] with Weights w
// [channels, 1, kernel…] (bias [channels] or null). `padded` is per-thread
// scratch.
void depthwise_convolution(const WindowGeometry& g, int64_t batch, int64_t channels, const float* x,
                           const float* w, const float* bias, float* y, ThreadBuffers& padded);

}  // namespace strata::kernels
