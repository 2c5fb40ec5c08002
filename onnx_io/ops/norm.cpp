// BatchNormalization (inference), InstanceNormalization and LRN.
#include "layers/batch_normalization.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/local_response_normalization.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {
namespace {

Tensor vector_of(const Context& ctx, size_t i, std::string_view role) {
  const Constant& c = ctx.constant(i, role);
  if (c.dims.size() != 1)
    ctx.fail("input " + std::to_string(i) + " (" + std::string(role) + ") must be a vector");
  return c.to_tensor();
}

void batch_norm(Context& ctx) {
  const Computed& x = ctx.computed(0);
  if (ctx.attr_int("spatial", 1) != 1) ctx.fail("spatial 0 is not supported");
  if (ctx.attr_int("training_mode", 0) != 0) ctx.fail("training_mode 1 is not supported");
  ctx.ignore_attr("is_test");
  for (size_t i = 1; i < ctx.output_count(); ++i)
    if (ctx.output_used(i))
      ctx.fail("output " + std::to_string(i) + " (training statistics) is not supported");
  BatchNormalizationLayer layer;
  layer.epsilon(ctx.attr_float("epsilon", 1e-5)).momentum(ctx.attr_float("momentum", 0.9));
  layer.set_array("Gamma", vector_of(ctx, 1, "scale"));
  layer.set_array("Beta", vector_of(ctx, 2, "B"));
  layer.set_array("MovingMean", vector_of(ctx, 3, "mean"));
  layer.set_array("MovingVariance", vector_of(ctx, 4, "var"));
  ctx.set_output(0, ctx.add(layer, {x}));
}

void instance_norm(Context& ctx) {
  const Computed& x = ctx.computed(0);
  InstanceNormalizationLayer layer;
  layer.epsilon(ctx.attr_float("epsilon", 1e-5));
  layer.set_array("Gamma", vector_of(ctx, 1, "scale"));
  layer.set_array("Beta", vector_of(ctx, 2, "B"));
  ctx.set_output(0, ctx.add(layer, {x}));
}

// LRN: size 2n + 1 -> ChannelWindowSize n; ONNX's defaults alpha 1e-4,
// beta 0.75, bias 1.
void lrn(Context& ctx) {
  const Computed& x = ctx.computed(0);
  if (!ctx.has_attr("size")) ctx.fail("size is required");
  const int64_t size = ctx.attr_int("size", 1);
  if (size < 1 || size % 2 == 0)
    ctx.fail("size " + std::to_string(size) + " is not supported (supported: odd sizes 2n + 1)");
  LocalResponseNormalizationLayer layer;
  layer.channel_window_size((size - 1) / 2)
      .alpha(ctx.attr_float("alpha", 1e-4))
      .beta(ctx.attr_float("beta", 0.75))
      .bias(ctx.attr_float("bias", 1.0));
  ctx.set_output(0, ctx.add(layer, {x}));
}

}  // namespace

void add_norm_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["BatchNormalization"] = batch_norm;
  t["InstanceNormalization"] = instance_norm;
  t["LRN"] = lrn;
}

}  // namespace strata::onnx_io
