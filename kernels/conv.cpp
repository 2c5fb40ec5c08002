#include "kernels/conv.hpp"

#include "kernels/depthwise_conv.hpp"
#include "kernels/direct_conv.hpp"
#include "kernels/small_conv.hpp"
#include "kernels/winograd.hpp"

namespace strata::kernels {

void convolution_forward(const ConvPlan& p, const float* x, const float* w, const float* bias,
                         float* y, ConvScratch& scratch) {
  if (depthwise_applies(p.geo, p.groups, p.in_per_group, p.out_per_group)) {
    // One channel per group: the depthwise kernel.
    depthwise_convolution(p.geo, p.batch, p.in_channels, x, w, bias, y, scratch.padded);
    return;
  }
  if (winograd_applies(p.geo, p.groups)) {
    // 3×3, stride 1, rows of 24 or more: Winograd F(2×2, 3×3).
    scratch.winograd.u.resize(static_cast<size_t>(16 * p.in_channels * p.out_channels));
    winograd_filter(w, p.in_channels, p.out_channels, false, scratch.winograd.u.data());
    winograd_convolution(p.geo, p.batch, x, p.in_channels, scratch.winograd.u.data(),
                         p.out_channels, bias, y, scratch.winograd);
    return;
  }
  if (p.method == ConvPlan::Method::Padded && p.geo.out[2] >= kMinPaddedRow) {
    // Stride 1 and rows of a vector or more: the direct kernel.
    scratch.packed.resize(static_cast<size_t>(p.out_channels * p.rows));
    pack_direct_weights(w, p.groups, p.in_per_group, p.out_per_group, p.geo.kernel_size(),
                        scratch.packed.data());
    direct_convolution(p.geo, p.batch, p.groups, x, p.in_per_group, scratch.packed.data(),
                       p.out_per_group, bias, y, scratch.padded);
    return;
  }
  if (pointwise_applies(p.geo, p.in_per_group)) {
    // 1×1 with few input channels: no GEMM.
    scratch.packed.resize(static_cast<size_t>(p.out_channels * p.rows));
    pack_direct_weights(w, p.groups, p.in_per_group, p.out_per_group, 1, scratch.packed.data());
    pointwise_convolution(p.geo, p.batch, p.groups, x, p.in_per_group, scratch.packed.data(),
                          p.out_per_group, bias, y);
    return;
  }
  if (small_direct_applies(p.geo)) {
    // Small images, stride 1: the direct kernel on flat planes.
    scratch.packed.resize(static_cast<size_t>(p.out_channels * p.rows));
    pack_direct_weights(w, p.groups, p.in_per_group, p.out_per_group, p.geo.kernel_size(),
                        scratch.packed.data());
    small_direct_convolution(p.geo, p.batch, p.groups, x, p.in_per_group, scratch.packed.data(),
                             p.out_per_group, bias, y, scratch.padded, scratch.out);
    return;
  }
  gemm_conv_forward(p, x, w, bias, y, scratch);
}

void convolution_weights_grad(const ConvPlan& p, const float* x, const float* dy, float* dw,
                              ConvScratch& scratch) {
  if (p.batch > 0 && winograd_grad_applies(p.geo, p.groups, p.in_channels, p.out_channels)) {
    winograd_weights_grad(p.geo, p.batch, x, p.in_channels, dy, p.out_channels, dw,
                          scratch.winograd);
    return;
  }
  gemm_conv_weights_grad(p, x, dy, dw, scratch);
}

}  // namespace strata::kernels
