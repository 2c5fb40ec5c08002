// Arithmetic: folded when every input is a constant (shape computations),
// TotalLayer for the sum of computed tensors of one shape.
#include <cmath>
#include <functional>

#include "core/error.hpp"
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

// A binary or variadic op of numbers; `integer` is its integer form (Div).
Converter numeric(Fn f, std::optional<Fn> integer = std::nullopt, bool sum_of_computed = false) {
  return [=](Context& ctx) {
    if (all_constant(ctx)) {
      const auto in = constants(ctx);
      const auto type = result_type(in);
      const Fn& g = type == Constant::Type::Int && integer ? *integer : f;
      return ctx.set_output(0, broadcast_apply(ctx, in, type, [&](std::span<const double> a) {
                              double acc = a[0];
                              for (size_t i = 1; i < a.size(); ++i)
                                acc = g(acc, a[i]);
                              return type == Constant::Type::Float
                                         ? static_cast<double>(static_cast<float>(acc))
                                         : acc;
                            }));
    }
    std::vector<Computed> in;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      if (ctx.is_constant(i))
        ctx.fail("input " + std::to_string(i) + " is a constant: " + ctx.op() +
                 " of a computed tensor and a constant is not " +
                 "supported yet (it needs ConstantPlusLayer/ConstantTimesLayer)");
      in.push_back(ctx.computed(i));
    }
    if (in.size() == 1) return ctx.set_output(0, in[0]);
    if (!sum_of_computed)
      ctx.fail(ctx.op() +
               " of two computed tensors is not supported yet (it needs ThreadingLayer)");
    for (const auto& c : in)
      if (!(c.shape == in[0].shape) || !c.shape.fully_known())
        ctx.fail(
            "inputs of shapes " + in[0].shape.to_string() + " and " + c.shape.to_string() +
            " per example: broadcasting is not supported yet (supported: equal, known shapes)");
    ctx.set_output(0, ctx.add(TotalLayer(), in));
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
  t["Add"] = numeric(std::plus<double>(), std::nullopt, true);
  t["Sum"] = numeric(std::plus<double>(), std::nullopt, true);
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
    const Constant& c = ctx.constant(0, "X");
    ctx.set_output(
        0, broadcast_apply(ctx, {&c}, c.type, [](std::span<const double> a) { return -a[0]; }));
  };
}

}  // namespace strata::onnx_io
