// ReduceMax, ReduceMin, ReduceMean, ReduceSum, and those that are one of them
// with an elementwise function before or after (ReduceL1, ReduceL2,
// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp), over axes after the batch:
//   - every spatial axis (all but the channels): AggregationLayer (any
//     spatial sizes), then ReshapeLayer for keepdims 1;
//   - any other set of axes of an example of rank 1 to 3 with known sizes:
//     ReshapeLayer to [1, d1, …] (the example's dimensions as spatial ones),
//     PoolingLayer with a window spanning each reduced axis (Min as −Max(−x)),
//     ReshapeLayer to the output's dimensions.
#include <algorithm>

#include "layers/aggregation.hpp"
#include "layers/constant_times.hpp"
#include "layers/elementwise.hpp"
#include "layers/pooling.hpp"
#include "layers/reshape.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {
namespace {

enum class Base { Max, Min, Mean, Total };

struct Reduction {
  Base base;
  std::optional<ElementwiseFunction> before, after;
};

Computed reshaped(Context& ctx, const Computed& x, const Dims& dims) {
  if (x.shape.fully_known() && x.shape.dims() == dims) return x;
  return ctx.add(ReshapeLayer(dims), {x});
}

Computed negated(Context& ctx, const Computed& x) {
  return ctx.add(ConstantTimesLayer(Tensor(Dims{1}, -1.0f)), {x});
}

// The reduction over example axes `axes` (sorted, distinct) of x.
Computed reduce_axes(Context& ctx, const Computed& x, const std::vector<int64_t>& axes, Base f,
                     bool keepdims) {
  const auto r = static_cast<int64_t>(x.shape.rank());
  bool spatial = r >= 2 && static_cast<int64_t>(axes.size()) == r - 1;
  for (size_t i = 0; spatial && i < axes.size(); ++i)
    spatial = axes[i] == static_cast<int64_t>(i) + 1;
  if (spatial) {
    static const AggregationFunction kAggregation[] = {
        AggregationFunction::Max, AggregationFunction::Min, AggregationFunction::Mean,
        AggregationFunction::Total};
    const Computed y = ctx.add(AggregationLayer(kAggregation[static_cast<int>(f)]), {x});
    if (!keepdims) return y;
    const int64_t channels = x.shape.dims()[0];
    if (channels < 0) ctx.fail("keepdims 1 needs the number of channels known at import");
    Dims out(static_cast<size_t>(r), 1);
    out[0] = channels;
    return ctx.add(ReshapeLayer(out), {y});
  }
  if (r > 3)
    ctx.fail(
        "reducing axes other than all the spatial ones is supported for inputs of rank 2 "
        "to 4 (an example of 1 to 3 dimensions), not rank " +
        std::to_string(r + 1));
  const Dims dims = known_dims(ctx, x, "reducing axes other than all the spatial ones");
  Dims out, kept, kernel;
  for (int64_t d = 0; d < r; ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    kernel.push_back(reduced ? dims[static_cast<size_t>(d)] : 1);
    out.push_back(reduced ? 1 : dims[static_cast<size_t>(d)]);
    if (!reduced) kept.push_back(dims[static_cast<size_t>(d)]);
  }
  if (!keepdims && kept.empty())
    ctx.fail(
        "keepdims 0 over every axis after the batch leaves examples of no dimensions "
        "(supported: keepdims 1, or an axis kept)");
  Dims planes{1};
  planes.insert(planes.end(), dims.begin(), dims.end());
  Computed y = reshaped(ctx, x, planes);
  if (f == Base::Min) y = negated(ctx, y);
  static const PoolingFunction kPooling[] = {PoolingFunction::Max, PoolingFunction::Max,
                                             PoolingFunction::Mean, PoolingFunction::Total};
  y = ctx.add(PoolingLayer(SpatialSizes(kernel)).function(kPooling[static_cast<int>(f)]), {y});
  if (f == Base::Min) y = negated(ctx, y);
  return reshaped(ctx, y, keepdims ? out : kept);
}

void reduce(Context& ctx, Reduction how) {
  const Computed& x = ctx.computed(0);
  // ReduceSum takes its axes as an input from opset 13; the others until 18
  // as an attribute.
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes;
  if (ctx.op() == "ReduceSum" && ctx.opset() >= 13) {
    if (ctx.has_input(1)) axes = to_ints(ctx, ctx.constant(1, "axes"), "axes");
    if (axes && axes->empty()) axes.reset();
    if (!axes && ctx.attr_int("noop_with_empty_axes", 0) != 0) return ctx.set_output(0, x);
  } else {
    axes = ctx.attr_ints("axes");
  }
  if (!axes)
    ctx.fail("no axes: every axis, the batch's among them (supported: axes after the batch)");
  const int64_t rank = onnx_rank(Value(x));
  std::vector<int64_t> example_axes;
  for (int64_t a : *axes) {
    const int64_t k = normalize_axis(ctx, a, rank, "axis");
    if (k == 0) ctx.fail("axis 0 is the batch dimension (supported: axes after it)");
    example_axes.push_back(k - 1);
  }
  std::sort(example_axes.begin(), example_axes.end());
  if (std::adjacent_find(example_axes.begin(), example_axes.end()) != example_axes.end())
    ctx.fail("axes repeat");
  Computed y = x;
  if (how.before) y = ctx.add(ElementwiseLayer(*how.before), {y});
  y = reduce_axes(ctx, y, example_axes, how.base, keepdims);
  if (how.after) y = ctx.add(ElementwiseLayer(*how.after), {y});
  ctx.set_output(0, y);
}

}  // namespace

void add_reduce_ops(std::map<std::string, Converter, std::less<>>& t) {
  using E = ElementwiseFunction;
  const std::pair<const char*, Reduction> ops[] = {
      {"ReduceMax", {Base::Max, {}, {}}},
      {"ReduceMin", {Base::Min, {}, {}}},
      {"ReduceMean", {Base::Mean, {}, {}}},
      {"ReduceSum", {Base::Total, {}, {}}},
      {"ReduceL1", {Base::Total, E::Abs, {}}},
      {"ReduceL2", {Base::Total, E::Square, E::Sqrt}},
      {"ReduceSumSquare", {Base::Total, E::Square, {}}},
      {"ReduceLogSum", {Base::Total, {}, E::Log}},
      {"ReduceLogSumExp", {Base::Total, E::Exp, E::Log}},
  };
  for (const auto& [op, how] : ops)
    t[op] = [how = how](Context& ctx) { reduce(ctx, how); };
}

}  // namespace strata::onnx_io
