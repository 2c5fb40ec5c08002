// Arithmetic: folded when every input is a constant (shape computations);
// of computed tensors TotalLayer (a sum of one shape) or ThreadingLayer
// (broadcasting); with a constant operand ConstantTimesLayer/ConstantPlusLayer,
// or a ThreadingLayer of x and the constant made a tensor of x's shape.
#include <cmath>
#include <functional>
#include <map>

#include "core/error.hpp"
#include "layers/constant_plus.hpp"
#include "layers/constant_times.hpp"
#include "layers/elementwise.hpp"
#include "layers/pooling.hpp"
#include "layers/threading.hpp"
#include "layers/total.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {
namespace {

using Fn = std::function<double(double, double)>;

// NumPy broadcasting of constants; an element computed from one that is not
// known at import is not known either.
Constant broadcast_apply(const Context& ctx, const std::vector<const Constant*>& in,
                         Constant::Type type,
                         const std::function<double(std::span<const double>)>& f) {
  size_t rank = 0;
  for (const auto* c : in)
    rank = std::max(rank, c->dims.size());
  Dims out(rank, 1);
  for (const auto* c : in)
    for (size_t k = 0; k < c->dims.size(); ++k) {
      const int64_t d = c->dims[c->dims.size() - 1 - k];
      int64_t& o = out[rank - 1 - k];
      if (d != 1 && o != 1 && d != o)
        ctx.fail("constant shapes " + to_string(in[0]->dims) + " and " + to_string(c->dims) +
                 " do not broadcast");
      if (d != 1) o = d;
    }
  const int64_t n = checked_num_elements(out, int64_t{1} << 30);
  Constant r;
  r.type = type;
  r.dims = out;
  r.values.resize(static_cast<size_t>(n));
  bool any_tags = false;
  for (const auto* c : in)
    any_tags = any_tags || !c->tags.empty();
  if (any_tags) r.tags.assign(static_cast<size_t>(n), Constant::Known);
  std::vector<double> args(in.size());
  std::vector<int64_t> idx(rank, 0);
  for (int64_t e = 0; e < n; ++e) {
    bool unknown = false;
    for (size_t a = 0; a < in.size(); ++a) {
      const Constant& c = *in[a];
      int64_t off = 0;
      const size_t shift = rank - c.dims.size();
      for (size_t k = 0; k < c.dims.size(); ++k)
        off = off * c.dims[k] + (c.dims[k] == 1 ? 0 : idx[k + shift]);
      args[a] = c.values[static_cast<size_t>(off)];
      unknown = unknown || c.tag(static_cast<size_t>(off)) != Constant::Known;
    }
    r.values[static_cast<size_t>(e)] = f(args);
    if (unknown) r.tags[static_cast<size_t>(e)] = Constant::Unknown;
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return r;
}

bool all_constant(const Context& ctx) {
  for (size_t i = 0; i < ctx.input_count(); ++i)
    if (ctx.has_input(i) && !ctx.is_constant(i)) return false;
  return true;
}

std::vector<const Constant*> constants(const Context& ctx) {
  std::vector<const Constant*> out;
  for (size_t i = 0; i < ctx.input_count(); ++i)
    out.push_back(&ctx.constant(i, "operand"));
  return out;
}

Constant::Type result_type(const std::vector<const Constant*>& in) {
  for (const auto* c : in)
    if (c->type == Constant::Type::Float) return Constant::Type::Float;
  return in.front()->type;
}

}  // namespace

// A constant operand as the array of a ConstantTimesLayer/ConstantPlusLayer
// for a computed x: ONNX's dims right-aligned against x's (batch included);
// a leading dimension that meets the batch must be 1 and is dropped.
Tensor operand_array(const Context& ctx, const Constant& c, const Computed& x) {
  if (!c.all_known()) ctx.fail("the constant operand is not known at import");
  for (double v : c.values)
    if (!std::isfinite(static_cast<float>(v)))
      ctx.fail(
          "the constant operand holds NaN or infinity (supported: finite numbers, as a "
          "layer's array holds)");
  const int64_t rank = onnx_rank(Value(x));
  Dims dims = c.dims;
  if (static_cast<int64_t>(dims.size()) > rank)
    ctx.fail("a constant operand of shape " + to_string(c.dims) +
             " broadcasts into the batch dimension (supported: rank at most the input's)");
  if (static_cast<int64_t>(dims.size()) == rank) {
    if (dims[0] != 1)
      ctx.fail("a constant operand of shape " + to_string(c.dims) +
               " varies along the batch dimension (supported: 1 there)");
    dims.erase(dims.begin());
  }
  if (dims.empty() && x.shape.rank() > 0) dims = {1};
  std::vector<float> data(c.values.begin(), c.values.end());
  return Tensor(dims, std::move(data));
}

namespace {

Constant map_constant(const Constant& c, const std::function<double(double)>& f) {
  Constant r = c;
  r.type = Constant::Type::Float;
  for (double& v : r.values)
    v = f(v);
  return r;
}

Computed times(Context& ctx, const Constant& c, const Computed& x) {
  return ctx.add(ConstantTimesLayer(operand_array(ctx, c, x)), {x});
}

Computed plus(Context& ctx, const Constant& c, const Computed& x) {
  return ctx.add(ConstantPlusLayer(operand_array(ctx, c, x)), {x});
}

bool all_equal_to(const Constant& c, double v) {
  if (!c.all_known()) return false;
  for (double e : c.values)
    if (e != v) return false;
  return true;
}

// AveragePool times its window size (how strata exports Total pooling): the
// Mean PoolingLayer producing x becomes Total, when x feeds only this Mul and
// every window is whole (Rounding Floor). The same sums, without the rounding
// of dividing and multiplying back, so that Total pooling round-trips bit for
// bit.
bool fold_into_total_pooling(Context& ctx, const Constant& c, const Computed& x, size_t x_input) {
  auto* pool = dynamic_cast<PoolingLayer*>(ctx.producer(x));
  if (!pool || pool->function() != PoolingFunction::Mean ||
      pool->rounding() != PoolingRounding::Floor || !pool->kernel_size() ||
      ctx.input_uses(x_input) != 1 || c.size() != 1 || !c.all_known() || x.shape.rank() < 2)
    return false;
  double window = 1;
  for (size_t d = 0; d + 1 < x.shape.rank(); ++d)
    window *= static_cast<double>((*pool->kernel_size())[d]);
  if (c.values[0] != window) return false;
  pool->function(PoolingFunction::Total);
  ctx.set_output(0, x);
  return true;
}

// The value `v` comes out of a layer of type L with one source; that source.
template <class L>
const Computed* single_source(const Context& ctx, const Computed& v, const L** layer) {
  *layer = dynamic_cast<const L*>(ctx.producer(v));
  const auto* srcs = ctx.producer_sources(v);
  return *layer && srcs && srcs->size() == 1 ? &srcs->front() : nullptr;
}

bool scalar_array(const Layer& l, const char* name, double want, double tolerance) {
  const Tensor* t = l.array(name);
  return t && t->size() == 1 && std::abs((*t)[0] - want) <= tolerance;
}

bool same_value(const Computed& a, const Computed& b) {
  return a.layer == b.layer && a.port == b.port;
}

// GELU as ONNX writes it before opset 20 (PyTorch's export, and strata's):
// Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5). At the last Mul, with the
// layers the others became (ConstantTimes 1/√2, Elementwise Erf,
// ConstantPlus 1, Threading Times): one ElementwiseLayer GELU of x instead
// (the others, no longer read, are dropped).
bool fold_gelu(Context& ctx, const Constant& c, const Computed& v) {
  if (c.size() != 1 || !c.all_known() || c.values[0] != 0.5) return false;
  const auto* times = dynamic_cast<const ThreadingLayer*>(ctx.producer(v));
  const auto* srcs = ctx.producer_sources(v);
  if (!times || times->function() != ThreadingFunction::Times || !srcs || srcs->size() != 2)
    return false;
  for (size_t k = 0; k < 2; ++k) {
    const Computed& x = (*srcs)[k];
    const ConstantPlusLayer* plus = nullptr;
    const ElementwiseLayer* erf = nullptr;
    const ConstantTimesLayer* scale = nullptr;
    const Computed* e = single_source(ctx, (*srcs)[1 - k], &plus);
    if (!e || !scalar_array(*plus, "Biases", 1.0, 0)) continue;
    const Computed* d = single_source(ctx, *e, &erf);
    if (!d || erf->function() != ElementwiseFunction::Erf) continue;
    const Computed* in = single_source(ctx, *d, &scale);
    if (!in || !scalar_array(*scale, "Scaling", M_SQRT1_2, 1e-6) || !same_value(*in, x)) continue;
    ctx.set_output(0, ctx.add(ElementwiseLayer(ElementwiseFunction::GELU), {x}));
    return true;
  }
  return false;
}

ThreadingFunction threading_function(const Context& ctx) {
  static const std::map<std::string, ThreadingFunction, std::less<>> kFunctions = {
      {"Add", ThreadingFunction::Plus},  {"Sum", ThreadingFunction::Plus},
      {"Mean", ThreadingFunction::Plus}, {"Sub", ThreadingFunction::Subtract},
      {"Mul", ThreadingFunction::Times}, {"Div", ThreadingFunction::Divide},
      {"Pow", ThreadingFunction::Power}, {"Max", ThreadingFunction::Max},
      {"Min", ThreadingFunction::Min}};
  return kFunctions.at(ctx.op());
}

// The constant c as a computed tensor of x's shape, for a ThreadingLayer to
// combine with x: ElementwiseLayer Power 0 of x (1 everywhere, at ±inf and NaN
// too, with the gradient 0), then ConstantTimesLayer c (1 · c is c exactly).
// c must broadcast to x's example without enlarging it (the ThreadingLayer's
// output is then x's shape, ONNX's broadcast of the two).
Computed constant_like(Context& ctx, const Constant& c, const Computed& x) {
  const Tensor array = operand_array(ctx, c, x);
  const Dims& a = array.shape();
  if (x.shape.rank_known()) {
    const size_t rank = x.shape.rank();
    bool fits = a.size() <= rank;
    for (size_t k = 0; fits && k < std::min(a.size(), rank); ++k) {
      const int64_t d = a[a.size() - 1 - k], xd = x.shape[rank - 1 - k];
      fits = d == 1 || xd == kUnknownDim || xd == d;
    }
    if (!fits)
      ctx.fail("a constant operand of shape " + to_string(c.dims) +
               " enlarges the computed input's [N" + (rank ? ", " : "") +
               x.shape.to_string().substr(1) +
               " (supported: a constant that broadcasts to the computed input's shape)");
  }
  const Computed ones = ctx.add(ElementwiseLayer(ElementwiseFunction::Power).exponent(0), {x});
  return ctx.add(ConstantTimesLayer(array), {ones});
}

// ThreadingLayer f of x and the constant c, in the node's order.
Computed thread_with(Context& ctx, ThreadingFunction f, const Constant& c, const Computed& x,
                     bool c_first) {
  const Computed k = constant_like(ctx, c, x);
  return ctx.add(ThreadingLayer(f),
                 c_first ? std::vector<Computed>{k, x} : std::vector<Computed>{x, k});
}

// A computed x and a constant c: ConstantTimes/ConstantPlus (Sub, Div and
// Mean folded into them), Elementwise Power for a one-number exponent, Ramp for
// Max with 0; Max, Min and the other Pows as a ThreadingLayer of x and c.
// `c_first`: c is the first operand.
void with_constant(Context& ctx, const std::string& op, const Constant& c, const Computed& x,
                   bool c_first) {
  if (op == "Add" || op == "Sum") return ctx.set_output(0, plus(ctx, c, x));
  if (op == "Mean")  // (x + c) / 2, as of computed tensors: times 1/2 is dividing by 2
    return ctx.set_output(0, times(ctx, Constant::scalar(0.5), plus(ctx, c, x)));
  if (op == "Mul") {
    if (fold_into_total_pooling(ctx, c, x, c_first ? 1 : 0) || fold_gelu(ctx, c, x)) return;
    return ctx.set_output(0, times(ctx, c, x));
  }
  if (op == "Sub") {
    if (!c_first) return ctx.set_output(0, plus(ctx, map_constant(c, std::negate<double>()), x));
    const Computed neg = times(ctx, Constant::scalar(-1), x);
    return ctx.set_output(0, plus(ctx, c, neg));
  }
  if (op == "Div") {
    if (!c_first)
      return ctx.set_output(0, times(ctx, map_constant(c, [](double v) { return 1 / v; }), x));
    const Computed inv = ctx.add(ElementwiseLayer(ElementwiseFunction::Power).exponent(-1), {x});
    return ctx.set_output(0, times(ctx, c, inv));
  }
  if (!c.all_known()) ctx.fail("the constant operand is not known at import");
  if (op == "Pow") {
    // The result has the base's type: an integer base makes an integer tensor
    // (ONNX truncates), which no strata layer gives.
    if (c_first && c.type != Constant::Type::Float)
      ctx.fail(
          "a constant integer base is not supported (the result would be an integer "
          "tensor; supported: a float base)");
    if (!c_first && c.size() == 1 && onnx_rank(Value(c)) <= onnx_rank(Value(x)))
      return ctx.set_output(
          0, ctx.add(ElementwiseLayer(ElementwiseFunction::Power).exponent(c.values[0]), {x}));
    return ctx.set_output(0, thread_with(ctx, ThreadingFunction::Power, c, x, c_first));
  }
  if (op == "Max" && all_equal_to(c, 0))
    return ctx.set_output(0, ctx.add(ElementwiseLayer(ElementwiseFunction::Ramp), {x}));
  if (op == "Max" || op == "Min")
    return ctx.set_output(0, thread_with(ctx, threading_function(ctx), c, x, c_first));
  ctx.fail(op +
           " of a computed tensor and a constant is not supported (supported with a "
           "constant: Add, Sub, Mul, Div, Pow, Max, Min, Mean)");
}

// Computed tensors: TotalLayer for a sum of one known shape, ThreadingLayer
// otherwise (NumPy broadcasting within an example; the ranks must agree so
// that the batch dimensions meet); Mean is Plus then ConstantTimes 1/n.
void of_computed(Context& ctx, const std::vector<Computed>& in) {
  const bool sum = ctx.op() == "Add" || ctx.op() == "Sum" || ctx.op() == "Mean";
  const auto n = static_cast<double>(in.size());
  if (in.size() == 1) return ctx.set_output(0, in[0]);
  for (const auto& c : in)
    if (c.shape.rank() != in[0].shape.rank())
      ctx.fail("inputs of ranks " + std::to_string(in[0].shape.rank() + 1) + " and " +
               std::to_string(c.shape.rank() + 1) +
               " broadcast into the batch dimension (supported: inputs of one rank)");
  bool same = true;
  for (const auto& c : in)
    same = same && c.shape == in[0].shape && c.shape.fully_known();
  Computed y = sum && same ? ctx.add(TotalLayer(), in)
                           : ctx.add(ThreadingLayer(threading_function(ctx), in.size()), in);
  if (ctx.op() == "Mean") y = times(ctx, Constant::scalar(1 / n), y);
  ctx.set_output(0, y);
}

// A binary or variadic op of numbers; `integer` is its integer form (Div).
Converter numeric(Fn f, std::optional<Fn> integer = std::nullopt) {
  return [=](Context& ctx) {
    if (all_constant(ctx)) {
      const auto in = constants(ctx);
      const auto type = result_type(in);
      const Fn& g = type == Constant::Type::Int && integer ? *integer : f;
      const bool mean = ctx.op() == "Mean";
      return ctx.set_output(0, broadcast_apply(ctx, in, type, [&](std::span<const double> a) {
                              double acc = a[0];
                              for (size_t i = 1; i < a.size(); ++i)
                                acc = g(acc, a[i]);
                              if (mean) acc /= static_cast<double>(a.size());
                              return type == Constant::Type::Float
                                         ? static_cast<double>(static_cast<float>(acc))
                                         : acc;
                            }));
    }
    std::vector<Computed> in;
    std::vector<size_t> constant_inputs;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      if (ctx.is_constant(i))
        constant_inputs.push_back(i);
      else
        in.push_back(ctx.computed(i));
    }
    if (constant_inputs.empty()) return of_computed(ctx, in);
    if (ctx.input_count() != 2)
      ctx.fail(ctx.op() + " of " + std::to_string(ctx.input_count()) +
               " inputs with a constant among them is not supported (supported: two inputs)");
    const size_t ci = constant_inputs[0];
    with_constant(ctx, ctx.op() == "Mean" ? std::string("Mean") : ctx.op(),
                  ctx.constant(ci, "operand"), in[0], ci == 0);
  };
}

Converter comparison(std::function<bool(double, double)> f) {
  return [=](Context& ctx) {
    const auto in = constants(ctx);
    ctx.set_output(
        0, broadcast_apply(ctx, in, Constant::Type::Bool,
                           [&](std::span<const double> a) { return f(a[0], a[1]) ? 1.0 : 0.0; }));
  };
}

}  // namespace

void add_arith_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["Add"] = numeric(std::plus<double>());
  t["Sum"] = numeric(std::plus<double>());
  t["Mean"] = numeric(std::plus<double>());
  t["Sub"] = numeric(std::minus<double>());
  t["Mul"] = numeric(std::multiplies<double>());
  t["Div"] = numeric(std::divides<double>(), [](double a, double b) {
    return b == 0 ? 0.0 : std::trunc(a / b);  // integer division truncates (as C)
  });
  t["Pow"] = numeric([](double a, double b) { return std::pow(a, b); });
  t["Max"] = numeric([](double a, double b) { return std::max(a, b); });
  t["Min"] = numeric([](double a, double b) { return std::min(a, b); });
  t["Equal"] = comparison(std::equal_to<double>());
  t["Less"] = comparison(std::less<double>());
  t["Greater"] = comparison(std::greater<double>());
  t["Where"] = [](Context& ctx) {
    const auto in = constants(ctx);
    ctx.set_output(
        0, broadcast_apply(ctx, in, result_type({in[1], in[2]}),
                           [](std::span<const double> a) { return a[0] != 0 ? a[1] : a[2]; }));
  };
  t["Neg"] = [](Context& ctx) {
    if (!ctx.is_constant(0))
      return ctx.set_output(0, times(ctx, Constant::scalar(-1), ctx.computed(0)));
    const Constant& c = ctx.constant(0, "X");
    ctx.set_output(
        0, broadcast_apply(ctx, {&c}, c.type, [](std::span<const double> a) { return -a[0]; }));
  };
}

}  // namespace strata::onnx_io
