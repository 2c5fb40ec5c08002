// Gemm and MatMul with a constant right operand -> LinearLayer, alpha, beta
// and transB folded into Weights and Biases.
#include "layers/linear.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {
namespace {

// Weights [M, K] from B [K, M] (or [M, K] when transposed), times alpha.
Tensor weights_of(const Context& ctx, const Constant& b, bool trans, double alpha) {
  if (b.dims.size() != 2) ctx.fail("input 1 (B) must be a matrix");
  const int64_t rows = b.dims[0], cols = b.dims[1];
  const int64_t m = trans ? rows : cols, k = trans ? cols : rows;
  Tensor w({m, k});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      w[i * k + j] = static_cast<float>(
          alpha * b.values[static_cast<size_t>(trans ? i * cols + j : j * cols + i)]);
  return w;
}

void linear(Context& ctx, const Tensor& w, Tensor biases) {
  const Computed& a = ctx.computed(0);
  if (a.shape.rank() != 1)
    ctx.fail("input 0 has rank " + std::to_string(a.shape.rank() + 1) +
             " (supported: rank 2, a batch of vectors)");
  LinearLayer layer(w.dim(0));
  layer.set_array("Weights", w);
  layer.set_array("Biases", std::move(biases));
  ctx.set_output(0, ctx.add(layer, {a}));
}

void gemm(Context& ctx) {
  if (ctx.attr_int("transA", 0) != 0) ctx.fail("transA 1 is not supported (the batch comes first)");
  if (ctx.opset() < 7 && ctx.has_attr("broadcast")) ctx.ignore_attr("broadcast");
  const double alpha = ctx.attr_float("alpha", 1), beta = ctx.attr_float("beta", 1);
  const Tensor w = weights_of(ctx, ctx.constant(1, "B"), ctx.attr_int("transB", 0) != 0, alpha);
  const int64_t m = w.dim(0);
  Tensor b({m}, 0.0f);
  if (ctx.has_input(2)) {
    const Constant& c = ctx.constant(2, "C");
    const bool per_output =
        c.size() == m && (c.dims.size() == 1 || (c.dims.size() == 2 && c.dims[0] == 1));
    if (c.size() != 1 && !per_output)
      ctx.fail("C of shape " + to_string(c.dims) +
               " is not supported (supported: [M], [1, M] or one number)");
    for (int64_t i = 0; i < m; ++i)
      b[i] = static_cast<float>(beta * c.values[static_cast<size_t>(c.size() == 1 ? 0 : i)]);
  }
  linear(ctx, w, std::move(b));
}

void matmul(Context& ctx) {
  const Tensor w = weights_of(ctx, ctx.constant(1, "B"), false, 1);
  linear(ctx, w, Tensor({w.dim(0)}, 0.0f));
}

}  // namespace

void add_linear_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["Gemm"] = gemm;
  t["MatMul"] = matmul;
}

}  // namespace strata::onnx_io
