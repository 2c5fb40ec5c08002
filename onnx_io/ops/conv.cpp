// Conv -> ConvolutionLayer and ConvTranspose -> DeconvolutionLayer (groups
// and depthwise, pads, strides, dilations, auto_pad; ConvTranspose's
// output_padding and output_shape), with the weights and biases of the model.
#include "layers/convolution.hpp"
#include "layers/deconvolution.hpp"
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

// Strides, dilations, pads and sizes beyond this are refused (so that the
// size arithmetic cannot overflow).
constexpr int64_t kMaxWindowValue = int64_t{1} << 30;

// ConvTranspose. Output size per spatial dimension:
//   (in − 1)·stride + (k − 1)·dilation + 1 + output_padding − before − after.
// output_shape (static input sizes) gives the pads: the total is split as the
// spec says (SAME_UPPER: the larger half after; otherwise before); auto_pad
// SAME_* without output_shape aims at in · stride.
void conv_transpose(Context& ctx) {
  const Computed& x = ctx.computed(0);
  const Constant& w = ctx.constant(1, "W");
  if (w.dims.size() < 3 || w.dims.size() > 5) ctx.fail("W must have rank 3 to 5");
  const size_t n = w.dims.size() - 2;
  if (x.shape.rank() != n + 1)
    ctx.fail("the input has rank " + std::to_string(x.shape.rank() + 1) + ", the kernel " +
             std::to_string(n) + " spatial dimensions");
  std::vector<int64_t> kernel(w.dims.begin() + 2, w.dims.end());
  if (const auto k = ctx.attr_ints("kernel_shape"); k && *k != kernel)
    ctx.fail("kernel_shape disagrees with W " + to_string(w.dims));
  auto list = [&](std::string_view name, int64_t fallback, size_t size) {
    auto v = ctx.attr_ints(name).value_or(std::vector<int64_t>(size, fallback));
    if (v.size() != size)
      ctx.fail(std::string(name) + " has " + std::to_string(v.size()) + " values, expected " +
               std::to_string(size));
    for (int64_t e : v)
      if (e < 0 || e > kMaxWindowValue)
        ctx.fail(std::string(name) + " must be between 0 and " + std::to_string(kMaxWindowValue));
    return v;
  };
  const auto strides = list("strides", 1, n);
  const auto dilations = list("dilations", 1, n);
  for (size_t d = 0; d < n; ++d)
    if (strides[d] < 1 || dilations[d] < 1) ctx.fail("strides and dilations must be positive");
  auto out_pad = list("output_padding", 0, n);
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER")
    ctx.fail("auto_pad \"" + auto_pad +
             "\" is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)");
  std::vector<std::pair<int64_t, int64_t>> pads(n, {0, 0});
  std::optional<std::vector<int64_t>> target = ctx.attr_ints("output_shape");
  if (target && target->size() == n + 2)
    target = std::vector<int64_t>(target->begin() + 2, target->end());
  if (target && target->size() != n)
    ctx.fail("output_shape has " + std::to_string(target->size()) + " values, expected " +
             std::to_string(n));
  if (target)
    for (int64_t e : *target)
      if (e < 1 || e > kMaxWindowValue)
        ctx.fail("output_shape must be between 1 and " + std::to_string(kMaxWindowValue));
  if (!target && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")) {
    const Dims dims = known_dims(ctx, x, "auto_pad " + auto_pad);
    target.emplace();
    for (size_t d = 0; d < n; ++d)
      target->push_back(dims[d + 1] * strides[d]);
  }
  if (target) {
    if (ctx.has_attr("pads")) ctx.fail("pads with output_shape or auto_pad SAME_*");
    const Dims dims = known_dims(ctx, x, "output_shape");
    for (size_t d = 0; d < n; ++d) {
      const int64_t total = (dims[d + 1] - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 +
                            out_pad[d] - (*target)[d];
      if (total < 0) {  // a larger output: more at the end, as output_padding
        out_pad[d] -= total;
        continue;
      }
      const int64_t small = total / 2, big = total - small;
      pads[d] = auto_pad == "SAME_UPPER" ? std::pair{small, big} : std::pair{big, small};
    }
  } else if (auto_pad == "NOTSET") {
    const auto p = list("pads", 0, 2 * n);
    for (size_t d = 0; d < n; ++d)
      pads[d] = {p[d], p[d + n]};
  } else if (ctx.has_attr("pads")) {
    ctx.fail("pads with auto_pad VALID");
  }
  const int64_t groups = ctx.attr_int("group", 1);
  if (groups < 1) ctx.fail("group must be positive");
  DeconvolutionLayer layer(w.dims[1] * groups, SpatialSizes(kernel));
  layer.stride(SpatialSizes(strides))
      .dilation(SpatialSizes(dilations))
      .padding_size(PaddingSize(pads))
      .output_padding(SpatialSizes(out_pad))
      .channel_groups(groups)
      .biases(ctx.has_input(2));
  layer.set_array("Weights", w.to_tensor());
  if (ctx.has_input(2)) layer.set_array("Biases", ctx.constant(2, "B").to_tensor());
  ctx.set_output(0, ctx.add(layer, {x}));
}

}  // namespace

void add_conv_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["Conv"] = conv;
  t["ConvTranspose"] = conv_transpose;
}

}  // namespace strata::onnx_io
