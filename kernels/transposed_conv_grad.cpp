#include "kernels/transposed_conv_grad.hpp"

#include "kernels/conv.hpp"

namespace strata::kernels {

namespace {

// The convolution whose adjoint t is: from t's output (its input, with
// out_channels channels) to t's input (its output, in_channels).
ConvPlan adjoint_plan(const TransposedConvGeometry& t) {
  return plan_convolution(t.convolution(), t.batch, t.out_channels, t.in_channels, t.groups);
}

}  // namespace

void transposed_conv_input_grad(const TransposedConvGeometry& t, const float* dy, const float* w,
                                float* dx, ConvScratch& scratch) {
  if (t.batch <= 0) return;
  convolution_forward(adjoint_plan(t), dy, w, nullptr, dx, scratch);
}

void transposed_conv_weights_grad(const TransposedConvGeometry& t, const float* x, const float* dy,
                                  float* dw, ConvScratch& scratch) {
  convolution_weights_grad(adjoint_plan(t), dy, x, dw, scratch);
}

void transposed_conv_bias_grad(const TransposedConvGeometry& t, const float* dy, float* db) {
  // conv_bias_grad reads only the batch, the channels and the positions of
  // the output it sums: here t's output.
  ConvPlan p;
  p.batch = t.batch;
  p.out_channels = t.out_channels;
  p.positions = t.out[0] * t.out[1] * t.out[2];
  conv_bias_grad(p, dy, db);
}

}  // namespace strata::kernels
