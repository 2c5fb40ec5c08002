// Transposed convolution (PyTorch's conv_transpose1d/2d/3d): the adjoint of a
// convolution, so also a convolution's input gradient. Every input element
// spreads over a window of the output:
//   y[n, g·co + o, j] = bias[g·co + o]
//       + Σ_{c < ci} Σ_{i, k : i·stride + k·dilation − padding = j} x[n, g·ci + c, i] · w[g·ci + c,
//       o, k]
// for group g (ci = in_channels / groups, co = out_channels / groups), with
// x [batch, in_channels, in…], w [in_channels, co, kernel…] and y [batch,
// out_channels, out…], all contiguous; per spatial dimension.
//
// `padding` is cropped from the start of the output; the output size is
// given, so whatever lies past it is cropped too. PyTorch's sizes are
//   out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1
// (transposed_size below). As a convolution's input gradient: x is the output
// gradient dy, w the convolution's Weights (whose layout [out, in / groups,
// kernel…] is the one above), and the geometry the convolution's, in and out
// swapped.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/gemm_conv.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// 1 to 3 spatial dimensions, written as 3 with leading size-1 dimensions (as
// WindowGeometry). Sizes, kernel, stride and dilation at least 1; padding at
// least 0; channel counts divisible by groups.
struct TransposedConvGeometry {
  int64_t batch = 0;
  int64_t in_channels = 0, out_channels = 0, groups = 1;
  std::array<int64_t, 3> in{1, 1, 1};   // input size
  std::array<int64_t, 3> out{1, 1, 1};  // output size
  std::array<int64_t, 3> kernel{1, 1, 1};
  std::array<int64_t, 3> stride{1, 1, 1};
  std::array<int64_t, 3> dilation{1, 1, 1};
  std::array<int64_t, 3> padding{0, 0, 0};  // cropped from the output's start

  // The convolution this is the adjoint of: from `out` to `in`, padded by
  // `padding` before.
  WindowGeometry convolution() const { return {out, in, kernel, stride, dilation, padding}; }
};

// The transposed geometry of the convolution whose plan is p: its input
// gradient.
TransposedConvGeometry transposed_of(const ConvPlan& p);

// PyTorch's output size along one dimension.
inline int64_t transposed_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                               int64_t padding, int64_t output_padding) {
  return (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1;
}

// y = the transposed convolution of x by w (bias [out_channels] or null).
// Chooses among a direct kernel, an index-map gather and GEMMs with col2im by
// the sizes alone; the result does not depend on the thread count. Scratch
// buffers only grow: a warm call allocates nothing.
void transposed_convolution(const TransposedConvGeometry& t, const float* x, const float* w,
                            const float* bias, float* y, ConvScratch& scratch);

}  // namespace strata::kernels
