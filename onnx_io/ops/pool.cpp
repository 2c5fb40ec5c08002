// MaxPool, AveragePool -> PoolingLayer (AveragePool's count_include_pad 0
// with pads: Total pooling and ConstantTimesLayer); GlobalMaxPool, GlobalAveragePool ->
// AggregationLayer and ReshapeLayer.
#include <algorithm>

#include "layers/aggregation.hpp"
#include "layers/constant_times.hpp"
#include "layers/pooling.hpp"
#include "layers/reshape.hpp"
#include "onnx_io/converter.hpp"
#include "onnx_io/ops/window.hpp"

namespace strata::onnx_io {
namespace {

// 1 / the number of inputs (padding left out) in each window along one
// dimension: count_include_pad 0's divisor, per output position.
std::vector<float> valid_counts(int64_t in, int64_t out, int64_t k, int64_t s, int64_t b) {
  std::vector<float> n(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * s - b;
    n[static_cast<size_t>(o)] =
        static_cast<float>(std::min(start + k, in) - std::max<int64_t>(start, 0));
  }
  return n;
}

void pool(Context& ctx, PoolingFunction f) {
  const Computed& x = ctx.computed(0);
  const auto kernel = ctx.attr_ints("kernel_shape");
  if (!kernel) ctx.fail("kernel_shape is required");
  const Window w = read_window(ctx, x, *kernel, f == PoolingFunction::Max);
  if (f == PoolingFunction::Max) {
    if (ctx.output_used(1)) ctx.fail("the Indices output is not supported");
    ctx.ignore_attr("storage_order");  // it only orders Indices
  }
  bool padded = false;
  for (size_t d = 0; d < w.pads.size(); ++d) {
    padded = padded || w.pads[d].first > 0 || w.pads[d].second > 0;
    if (w.pads[d].first >= w.kernel[d] || w.pads[d].second >= w.kernel[d])
      ctx.fail("pads as large as the kernel are not supported");
  }
  // AveragePool's count_include_pad 0 (the default) with pads divides by the
  // inputs in each window: Total pooling, then ConstantTimes by 1 / that
  // count at each output position (static spatial sizes needed).
  const bool exclude_pad =
      f == PoolingFunction::Mean && padded && ctx.attr_int("count_include_pad", 0) == 0;
  ctx.ignore_attr("count_include_pad");
  const bool ceil = ctx.attr_int("ceil_mode", 0) != 0;
  PoolingLayer layer{SpatialSizes(w.kernel)};
  layer.stride(SpatialSizes(w.strides))
      .padding_size(padding_of(w))
      .dilation(SpatialSizes(w.dilations))
      .rounding(ceil ? PoolingRounding::Ceiling : PoolingRounding::Floor)
      .function(exclude_pad ? PoolingFunction::Total : f);
  if (ceil) {
    // ONNX counts ceil((in + pads − span) / stride) + 1 windows; PyTorch (and
    // strata) drop a last one that would start past the input.
    const Dims dims = known_dims(ctx, x, "ceil_mode 1");
    for (size_t d = 0; d < w.kernel.size(); ++d) {
      const int64_t span =
          dims[d + 1] + w.pads[d].first + w.pads[d].second - w.dilations[d] * (w.kernel[d] - 1) - 1;
      if (span < 0) break;  // the layer reports the input too small
      const int64_t n = (span + w.strides[d] - 1) / w.strides[d] + 1;
      if ((n - 1) * w.strides[d] >= dims[d + 1] + w.pads[d].first)
        ctx.fail(
            "ceil_mode 1 is not supported where the last window would start past the input "
            "(ONNX keeps it, PyTorch drops it), in spatial dimension " +
            std::to_string(d + 1));
    }
  }
  if (!exclude_pad) {
    ctx.set_output(0, ctx.add(layer, {x}));
    return;
  }
  const Dims dims = known_dims(ctx, x, "count_include_pad 0 with pads");
  const size_t r = w.kernel.size();
  Dims scale_dims{1};
  for (size_t d = 0; d < r; ++d) {
    const int64_t in = dims[d + 1], k = w.kernel[d], s = w.strides[d];
    scale_dims.push_back(
        std::max<int64_t>(0, ceil ? (in + w.pads[d].first + w.pads[d].second - k + s - 1) / s + 1
                                  : (in + w.pads[d].first + w.pads[d].second - k) / s + 1));
  }
  // The layer checks the geometry first; the scale is one value per output
  // position, bounded (before anything is allocated for it) so that a
  // declared (not given) huge input cannot make the import allocate and loop
  // without end.
  const Computed sums = ctx.add(layer, {x});
  constexpr int64_t kMaxScale = int64_t{1} << 24;
  int64_t positions = 1;
  for (size_t d = 1; d < scale_dims.size(); ++d) {
    positions *= std::max<int64_t>(scale_dims[d], 1);
    if (positions > kMaxScale)
      ctx.fail("count_include_pad 0 with pads: more than " + std::to_string(kMaxScale) +
               " output positions per channel are not supported");
  }
  std::vector<std::vector<float>> counts;
  for (size_t d = 0; d < r; ++d)
    counts.push_back(
        valid_counts(dims[d + 1], scale_dims[d + 1], w.kernel[d], w.strides[d], w.pads[d].first));
  Tensor scale(scale_dims);
  for (int64_t i = 0; i < scale.size(); ++i) {
    int64_t rest = i;
    float n = 1;
    for (size_t d = r; d-- > 0;) {
      const int64_t size = scale_dims[d + 1];
      n *= counts[d][static_cast<size_t>(rest % size)];
      rest /= size;
    }
    scale[i] = 1.0f / n;
  }
  ctx.set_output(0, ctx.add(ConstantTimesLayer(std::move(scale)), {sums}));
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
