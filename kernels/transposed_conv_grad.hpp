// The gradients of a transposed convolution (kernels/transposed_conv.hpp),
// for geometry t, input x [batch, in_channels, in…], weights w [in_channels,
// out_channels / groups, kernel…] and output gradient dy [batch,
// out_channels, out…], all contiguous:
//   dx = the convolution of dy by w, of geometry t.convolution() (from `out`
//        to `in`): the transposed convolution is that convolution's adjoint,
//        and w's layout is that convolution's Weights [out, in / groups, k…];
//   dw = that convolution's Weights gradient, with the roles swapped: its
//        input is dy, its output gradient x;
//   db = Σ dy over the batch and every position, per output channel.
// Each runs on the convolution kernels (direct, im2col + GEMM), so a
// transposed convolution trains as fast as a convolution. Results depend on
// the sizes alone, never on the thread count; scratch only grows, so a warm
// call allocates nothing.
#pragma once

#include "kernels/gemm_conv.hpp"
#include "kernels/transposed_conv.hpp"

namespace strata::kernels {

// dx [batch, in_channels, in…] for output gradient dy.
void transposed_conv_input_grad(const TransposedConvGeometry& t, const float* dy, const float* w,
                                float* dx, ConvScratch& scratch);

// dw [in_channels, out_channels / groups, kernel…] for input x and output
// gradient dy (zero for an empty batch).
void transposed_conv_weights_grad(const TransposedConvGeometry& t, const float* x, const float* dy,
                                  float* dw, ConvScratch& scratch);

// db [out_channels] for output gradient dy.
void transposed_conv_bias_grad(const TransposedConvGeometry& t, const float* dy, float* db);

}  // namespace strata::kernels
