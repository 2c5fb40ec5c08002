#include "kernels/conv.hpp"

#include "kernels/direct_conv.hpp"

namespace strata::kernels {

void convolution_forward(const ConvPlan& p, const float* x, const float* w, const float* bias,
                         float* y, ConvScratch& scratch) {
  if (p.method == ConvPlan::Method::Padded && p.geo.out[2] >= kMinPaddedRow) {
    // Stride 1 and rows of a vector or more: the direct kernel.
    scratch.packed.resize(static_cast<size_t>(p.out_channels * p.rows));
    pack_direct_weights(w, p.groups, p.in_per_group, p.out_per_group, p.geo.kernel_size(),
                        scratch.packed.data());
    direct_convolution(p.geo, p.batch, p.groups, x, p.in_per_group, scratch.packed.data(),
                       p.out_per_group, bias, y, scratch.padded);
    return;
  }
  gemm_conv_forward(p, x, w, bias, y, scratch);
}

}  // namespace strata::kernels
