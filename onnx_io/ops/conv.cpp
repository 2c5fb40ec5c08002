// Conv -> ConvolutionLayer (groups and depthwise, pads, strides, dilations,
// auto_pad), with the weights and biases of the model.
#include "layers/convolution.hpp"
#include "onnx_io/converter.hpp"
#include "onnx_io/ops/window.hpp"

namespace strata::onnx_io {
namespace {

void conv(Context& ctx) {
  const Computed& x = ctx.computed(0);
  const Constant& w = ctx.constant(1, "W");
  if (w.dims.size() < 3) ctx.fail("W must have rank 3 or more");
  std::vector<int64_t> kernel(w.dims.begin() + 2, w.dims.end());
  if (const auto k = ctx.attr_ints("kernel_shape"); k && *k != kernel)
    ctx.fail("kernel_shape disagrees with W " + to_string(w.dims));
  const Window win = read_window(ctx, x, kernel, true);
  const int64_t groups = ctx.attr_int("group", 1);
  if (groups < 1) ctx.fail("group must be positive");
  ConvolutionLayer layer(w.dims[0], SpatialSizes(kernel));
  layer.stride(SpatialSizes(win.strides))
      .dilation(SpatialSizes(win.dilations))
      .padding_size(padding_of(win))
      .channel_groups(groups)
      .biases(ctx.has_input(2));
  layer.set_array("Weights", w.to_tensor());
  if (ctx.has_input(2)) {
    const Constant& b = ctx.constant(2, "B");
    layer.set_array("Biases", b.to_tensor());
  }
  ctx.set_output(0, ctx.add(layer, {x}));
}

}  // namespace

void add_conv_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["Conv"] = conv;
}

}  // namespace strata::onnx_io
