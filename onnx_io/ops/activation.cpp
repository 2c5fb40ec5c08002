// Activations and Softmax: ElementwiseLayer's functions, ParametricRampLayer
// (PRelu), HardSwish as x · HardSigmoid(x), and SoftmaxLayer.
#include <cmath>

#include "layers/constant_times.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/parametric_ramp.hpp"
#include "layers/reshape.hpp"
#include "layers/softmax.hpp"
#include "layers/threading.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void elementwise(Context& ctx, const ElementwiseLayer& layer) {
  ctx.set_output(0, ctx.add(layer, {ctx.computed(0)}));
}

Converter plain(ElementwiseFunction f) {
  return [f](Context& ctx) { elementwise(ctx, ElementwiseLayer(f)); };
}

// An attribute ONNX lets vary that strata fixes (Elu's alpha, Selu's gamma).
void require_attr(Context& ctx, std::string_view name, double fallback, double expected) {
  const double v = ctx.attr_float(name, fallback);
  if (std::abs(v - expected) > 1e-6 * std::max(1.0, std::abs(expected)))
    ctx.fail(std::string(name) + " " + number(v) +
             " is not supported (supported: " + number(expected) + ")");
}

void clip(Context& ctx) {
  std::optional<double> low, high;
  if (ctx.opset() < 11) {
    if (ctx.has_attr("min")) low = ctx.attr_float("min", 0);
    if (ctx.has_attr("max")) high = ctx.attr_float("max", 0);
  } else {
    for (size_t i : {size_t{1}, size_t{2}}) {
      if (!ctx.has_input(i)) continue;
      const Constant& c = ctx.constant(i, i == 1 ? "min" : "max");
      if (c.size() != 1 || !c.all_known())
        ctx.fail("input " + std::to_string(i) + " must be one number");
      (i == 1 ? low : high) = c.values[0];
    }
  }
  const Computed& x = ctx.computed(0);
  if (!low && !high) return ctx.set_output(0, x);
  if (low && !high && *low == 0)
    return elementwise(ctx, ElementwiseLayer(ElementwiseFunction::Ramp));
  if (!low || !high || !std::isfinite(*low) || !std::isfinite(*high))
    ctx.fail("a Clip with one bound is not supported (supported: both bounds, or min 0)");
  if (*low > *high) ctx.fail("min " + number(*low) + " is above max " + number(*high));
  elementwise(ctx, ElementwiseLayer(ElementwiseFunction::Clip).range(*low, *high));
}

// SoftmaxLayer normalizes over the channels (the first dimension of an
// example): ONNX axis 1. Before opset 13 the input is flattened from `axis`
// into a matrix; for axis 1 that is one softmax over the whole example.
void softmax(Context& ctx) {
  const Computed& x = ctx.computed(0);
  const int64_t rank = static_cast<int64_t>(x.shape.rank()) + 1;
  const int64_t axis =
      normalize_axis(ctx, ctx.attr_int("axis", ctx.opset() < 13 ? 1 : -1), rank, "axis");
  if (axis != 1)
    ctx.fail("axis " + std::to_string(axis) + " of a rank-" + std::to_string(rank) +
             " input is not supported (supported: axis 1, the channels)");
  if (ctx.opset() >= 13 || rank == 2) return ctx.set_output(0, ctx.add(SoftmaxLayer(), {x}));
  const Dims dims = known_dims(ctx, x, "softmax over the flattened example");
  const Computed flat = ctx.add(FlattenLayer(), {x});
  const Computed y = ctx.add(SoftmaxLayer(), {flat});
  ctx.set_output(0, ctx.add(ReshapeLayer(dims), {y}));
}

// PRelu -> ParametricRampLayer: a slope per channel (ONNX shape [C, 1, …],
// or [1, C, 1, …]), or one number (repeated over the channels); any other
// slope broadcasting within an example as Ramp(x) + (−slope)·Ramp(−x).
void prelu(Context& ctx) {
  const Computed& x = ctx.computed(0);
  const Constant& slope = ctx.constant(1, "slope");
  if (!slope.all_known()) ctx.fail("the slope is not known at import");
  const int64_t rank = onnx_rank(Value(x));
  if (rank < 2) ctx.fail("an input of rank " + std::to_string(rank) + " has no channels");
  const int64_t channels = x.shape.dims()[0];
  std::vector<float> values;
  if (slope.size() == 1 && channels > 0) {
    values.assign(static_cast<size_t>(channels), static_cast<float>(slope.values[0]));
  } else {
    // The slope's dims right-aligned against x's: every one but the channel's is 1.
    const auto n = static_cast<int64_t>(slope.dims.size());
    bool per_channel = n <= rank && n >= rank - 1 && slope.size() == channels;
    for (int64_t k = 0; per_channel && k < n; ++k)
      per_channel = slope.dims[static_cast<size_t>(k)] == (k + rank - n == 1 ? channels : 1);
    if (!per_channel) {
      // Any other slope that broadcasts within an example:
      // Ramp(x) + (−slope) · Ramp(−x).
      Constant negated = slope;
      for (double& v : negated.values)
        v = -v;
      const Tensor minus_slope = operand_array(ctx, negated, x);
      const Computed pos = ctx.add(ElementwiseLayer(ElementwiseFunction::Ramp), {x});
      const Computed flip = ctx.add(ConstantTimesLayer(Tensor(Dims{1}, -1.0f)), {x});
      const Computed neg = ctx.add(ElementwiseLayer(ElementwiseFunction::Ramp), {flip});
      const Computed scaled = ctx.add(ConstantTimesLayer(minus_slope), {neg});
      return ctx.set_output(0, ctx.add(ThreadingLayer(ThreadingFunction::Plus), {pos, scaled}));
    }
    values.assign(slope.values.begin(), slope.values.end());
  }
  ParametricRampLayer layer;
  const Dims dims{static_cast<int64_t>(values.size())};
  layer.set_array("Slope", Tensor(dims, std::move(values)));
  ctx.set_output(0, ctx.add(layer, {x}));
}

// HardSwish: x · HardSigmoid(x) (ONNX's alpha 1/6 and beta 1/2 are PyTorch's).
void hard_swish(Context& ctx) {
  const Computed& x = ctx.computed(0);
  const Computed gate = ctx.add(ElementwiseLayer(ElementwiseFunction::HardSigmoid), {x});
  ctx.set_output(0, ctx.add(ThreadingLayer(ThreadingFunction::Times), {x, gate}));
}

}  // namespace

void add_activation_ops(std::map<std::string, Converter, std::less<>>& t) {
  using F = ElementwiseFunction;
  t["Relu"] = plain(F::Ramp);
  t["Sigmoid"] = plain(F::LogisticSigmoid);
  t["Tanh"] = plain(F::Tanh);
  t["Softplus"] = plain(F::Softplus);
  t["Softsign"] = plain(F::Softsign);
  t["Abs"] = plain(F::Abs);
  t["Exp"] = plain(F::Exp);
  t["Log"] = plain(F::Log);
  t["Sqrt"] = plain(F::Sqrt);
  t["Erf"] = plain(F::Erf);
  t["Sin"] = plain(F::Sin);
  t["Cos"] = plain(F::Cos);
  t["LeakyRelu"] = [](Context& ctx) {
    elementwise(ctx, ElementwiseLayer(F::LeakyRamp).alpha(ctx.attr_float("alpha", 0.01)));
  };
  t["Elu"] = [](Context& ctx) {
    require_attr(ctx, "alpha", 1.0, 1.0);
    elementwise(ctx, ElementwiseLayer(F::ELU));
  };
  t["Selu"] = [](Context& ctx) {
    // ONNX's defaults are the float32 roundings of PyTorch's constants.
    require_attr(ctx, "alpha", 1.67326319217681884765625, 1.6732632423543772);
    require_attr(ctx, "gamma", 1.05070102214813232421875, 1.0507009873554805);
    elementwise(ctx, ElementwiseLayer(F::SELU));
  };
  t["HardSigmoid"] = [](Context& ctx) {
    require_attr(ctx, "alpha", 0.2, 1.0 / 6);
    require_attr(ctx, "beta", 0.5, 0.5);
    elementwise(ctx, ElementwiseLayer(F::HardSigmoid));
  };
  t["Clip"] = clip;
  t["PRelu"] = prelu;
  t["HardSwish"] = hard_swish;
  t["Reciprocal"] = [](Context& ctx) { elementwise(ctx, ElementwiseLayer(F::Power).exponent(-1)); };
  t["Softmax"] = softmax;
}

}  // namespace strata::onnx_io
