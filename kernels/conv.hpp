// A convolution's forward, by whichever kernel suits its plan, in this order:
// the depthwise kernel (kernels/depthwise_conv.hpp) for one channel per group;
// the pointwise kernel (kernels/small_conv.hpp) for 1×1 with few input
// channels; Winograd F(2×2, 3×3) (kernels/winograd.hpp) for 3×3 stride 1 with
// rows of 24 or more; the direct kernel (kernels/direct_conv.hpp) for stride 1
// with output rows of a vector or more; its flat-plane form
// (kernels/small_conv.hpp) for stride 1 on small images that waste little;
// im2col + GEMM (kernels/gemm_conv.hpp) for the rest. The choice depends on the
// sizes alone, so results do too. ConvolutionLayer's forward and the input
// gradient of a transposed convolution both run here.
#pragma once

#include "kernels/gemm_conv.hpp"

namespace strata::kernels {

// y [batch, out_channels, out…] = the convolution of x [batch, in_channels,
// in…] by Weights w [out_channels, in_channels / groups, kernel…] (bias
// [out_channels] or null: none). Scratch only grows; a warm call allocates
// nothing.
void convolution_forward(const ConvPlan& p, const float* x, const float* w, const float* bias,
                         float* y, ConvScratch& scratch);

// dw = the Weights gradient for input x and output gradient dy: Winograd
// where winograd_grad_applies (kernels/winograd.hpp), else im2col + GEMM.
void convolution_weights_grad(const ConvPlan& p, const float* x, const float* dy, float* dw,
                              ConvScratch& scratch);

}  // namespace strata::kernels
