// MaxPool, AveragePool -> PoolingLayer; GlobalMaxPool, GlobalAveragePool ->
// AggregationLayer and ReshapeLayer.
#include "layers/aggregation.hpp"
#include "layers/pooling.hpp"
#include "layers/reshape.hpp"
#include "onnx_io/converter.hpp"
#include "onnx_io/ops/window.hpp"

namespace strata::onnx_io {
namespace {

void pool(Context& ctx, PoolingFunction f) {
  const Computed& x = ctx.computed(0);
  const auto kernel = ctx.attr_ints("kernel_shape");
  if (!kernel) ctx.fail("kernel_shape is required");
  const Window w = read_window(ctx, x, *kernel, f == PoolingFunction::Max);
  if (f == PoolingFunction::Max) {
    for (int64_t d : w.dilations)
      if (d != 1) ctx.fail("dilations other than 1 are not supported yet");
    if (ctx.output_used(1)) ctx.fail("the Indices output is not supported");
    ctx.ignore_attr("storage_order");  // it only orders Indices
  }
  bool padded = false;
  for (size_t d = 0; d < w.pads.size(); ++d) {
    padded = padded || w.pads[d].first > 0 || w.pads[d].second > 0;
    if (w.pads[d].first >= w.kernel[d] || w.pads[d].second >= w.kernel[d])
      ctx.fail("pads as large as the kernel are not supported");
  }
  if (f == PoolingFunction::Mean && padded && ctx.attr_int("count_include_pad", 0) == 0)
    ctx.fail(
        "count_include_pad 0 with pads is not supported (supported: count_include_pad 1, "
        "or no pads)");
  ctx.ignore_attr("count_include_pad");
  if (ctx.attr_int("ceil_mode", 0) != 0) {
    // ceil_mode changes nothing where every window fits (the sizes agree).
    const Dims dims = known_dims(ctx, x, "ceil_mode 1");
    for (size_t d = 0; d < w.kernel.size(); ++d) {
      const int64_t span = dims[d + 1] + w.pads[d].first + w.pads[d].second - w.kernel[d];
      if (span % w.strides[d] != 0)
        ctx.fail(
            "ceil_mode 1 is not supported where it adds a window (supported: ceil_mode 0, "
            "or sizes where both modes agree)");
    }
  }
  PoolingLayer layer{SpatialSizes(w.kernel)};
  layer.stride(SpatialSizes(w.strides)).padding_size(padding_of(w)).function(f);
  ctx.set_output(0, ctx.add(layer, {x}));
}

// Global pooling: AggregationLayer reduces each channel (any spatial sizes,
// known at import or not), ReshapeLayer keeps ONNX's [C, 1, …].
void global_pool(Context& ctx, AggregationFunction f) {
  const Computed& x = ctx.computed(0);
  if (!x.shape.rank_known() || x.shape.rank() < 2)
    ctx.fail("an input with channels and 1 or more spatial dimensions is required");
  const int64_t channels = x.shape.dims()[0];
  if (channels < 0) ctx.fail("the number of channels must be known at import");
  Dims out(x.shape.rank(), 1);
  out[0] = channels;
  const Computed y = ctx.add(AggregationLayer(f), {x});
  ctx.set_output(0, ctx.add(ReshapeLayer(out), {y}));
}

}  // namespace

void add_pool_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["MaxPool"] = [](Context& ctx) { pool(ctx, PoolingFunction::Max); };
  t["AveragePool"] = [](Context& ctx) { pool(ctx, PoolingFunction::Mean); };
  t["GlobalMaxPool"] = [](Context& ctx) { global_pool(ctx, AggregationFunction::Max); };
  t["GlobalAveragePool"] = [](Context& ctx) { global_pool(ctx, AggregationFunction::Mean); };
}

}  // namespace strata::onnx_io
