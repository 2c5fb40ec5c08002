// GCC 12.0-12.2 reports a false -Wmaybe-uninitialized inside the AVX-512
// intrinsics that Eigen's GEMM inlines (`__m512 __Y = __Y;` in
// _mm512_undefined_ps), and with sanitizers a -Wuninitialized; the pragma
// covers only the headers, not the code below.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "layers/linear.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/option.hpp"
#pragma GCC diagnostic pop

namespace strata {

LinearLayer::LinearLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape::of_rank(1)}},
            {ArraySlot::parameter("Weights", Shape::of_rank(2), Initializer::weights()),
             ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros())}) {}

LinearLayer::LinearLayer(int64_t size) : LinearLayer() {
  this->size(size);
}

const OptionTable& LinearLayer::option_table() const {
  static const OptionTable table = OptionsOf<LinearLayer>().add(
      "Size", &LinearLayer::size_, Required{Integer{.min = 1, .expected = "a positive integer"}});
  return table;
}

LinearLayer& LinearLayer::size(int64_t value) {
  return assign_option(*this, "Size", std::optional<int64_t>(value));
}

std::unique_ptr<Layer> LinearLayer::clone() const {
  return std::make_unique<LinearLayer>(*this);
}

void LinearLayer::infer() {
  if (!size_) throw Error("Size: required option is missing");
  const int64_t size = *size_;
  constrain_output(0, Shape{size}, "Size");
  constrain_array(kBiases, Shape{size}, "Size");
  constrain_array(kWeights, Shape{size, kUnknownDim}, "Size rows");

  const Shape& in = inputs_[0].shape;
  if (!in.rank_known()) return;
  // The number of inputs is the product of the example's dimensions; Weights
  // may fix it, and with it one unknown input dimension.
  const auto [known, unknown, unknown_at] = count_dims(in);
  if (unknown == 0) {
    constrain_array(
        kWeights, Shape{size, known},
        "Size, then the " + std::to_string(known) + " elements of Input " + in.to_string());
    return;
  }
  const Shape& w = arrays_[kWeights].shape;
  if (unknown == 1 && w.dim_known(1)) {
    if (known == 0 || w[1] % known != 0)
      throw Error("Input: " + in.to_string() + " cannot have " + std::to_string(w[1]) +
                  " elements, the columns of Weights " + w.to_string());
    Shape want = in;
    want[unknown_at] = w[1] / known;
    constrain_input(0, want, "elements fixed by Weights");
  }
}

namespace {

// Rows of a batch (or of the Weights gradient) per GEMM: the split depends on
// the sizes alone, so every thread count computes each element the same way.
constexpr int64_t kBlockRows = 64;

int64_t blocks_of(int64_t rows) {
  return (rows + kBlockRows - 1) / kBlockRows;
}

// Work (multiply-adds) below which one thread does it all.
constexpr int64_t kParallelWork = int64_t{1} << 18;

}  // namespace

void LinearLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                          const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  const Tensor& w = array_value(kWeights);
  const Tensor& b = array_value(kBiases);
  if (x.rank() < 1) throw Error("Input: expected a batch, got a rank 0 tensor");
  const int64_t batch = x.dim(0), size = w.dim(0), n = w.dim(1);
  if (x.size() != batch * n)
    throw Error("Input: expected " + std::to_string(n) + " elements per example (Weights are " +
                to_string(w.shape()) + "), got a batch of shape " + to_string(x.shape()));
  Tensor& y = *out[0];
  y.resize({batch, size});
  const ConstMatrixMap W(w.data(), size, n);
  const Eigen::Map<const Eigen::RowVectorXf> bias(b.data(), size);
  // y = x Wᵀ + b, in blocks of examples.
  parallel_for(
      blocks_of(batch),
      [&](int64_t k) {
        const int64_t r0 = k * kBlockRows, rows = std::min(kBlockRows, batch - r0);
        MatrixMap Y(y.data() + r0 * size, rows, size);
        Y.noalias() = ConstMatrixMap(x.data() + r0 * n, rows, n) * W.transpose();
        Y.rowwise() += bias;
      },
      std::max<int64_t>(1, kParallelWork / std::max<int64_t>(1, kBlockRows * size * n)));
}

void LinearLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* /*ws*/,
                           Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  const Tensor& w = array_value(kWeights);
  const Tensor& dy = *out_grad[0];
  const int64_t batch = x.dim(0), size = w.dim(0), n = w.dim(1);
  if (dy.rank() != 2 || dy.dim(0) != batch || dy.dim(1) != size)
    throw Error("Output gradient: expected shape " + to_string(Dims{batch, size}) + ", got " +
                to_string(dy.shape()));
  const int64_t grain =
      std::max<int64_t>(1, kParallelWork / std::max<int64_t>(1, kBlockRows * size * n));
  const ConstMatrixMap W(w.data(), size, n), X(x.data(), batch, n), dY(dy.data(), batch, size);
  if (Tensor* dx = in_grad.empty() ? nullptr : in_grad[0]) {
    dx->resize(x.shape());
    // dx = dy W, in blocks of examples.
    parallel_for(
        blocks_of(batch),
        [&](int64_t k) {
          const int64_t r0 = k * kBlockRows, rows = std::min(kBlockRows, batch - r0);
          MatrixMap(dx->data() + r0 * n, rows, n).noalias() = dY.middleRows(r0, rows) * W;
        },
        grain);
  }
  Tensor* dw = array_grad.size() > kWeights ? array_grad[kWeights] : nullptr;
  Tensor* db = array_grad.size() > kBiases ? array_grad[kBiases] : nullptr;
  if (dw) dw->resize({size, n});
  if (db) db->resize({size});
  // dW = dyᵀ x and db = Σ dy over the batch, in blocks of outputs: each block
  // sums over the whole batch, so nothing is reduced across threads.
  parallel_for(
      blocks_of(size),
      [&](int64_t k) {
        const int64_t o0 = k * kBlockRows, outs = std::min(kBlockRows, size - o0);
        if (dw)
          MatrixMap(dw->data() + o0 * n, outs, n).noalias() =
              dY.middleCols(o0, outs).transpose() * X;
        if (db)
          for (int64_t o = o0; o < o0 + outs; ++o) {
            double s = 0;
            for (int64_t i = 0; i < batch; ++i)
              s += dy.data()[i * size + o];
            (*db)[o] = static_cast<float>(s);
          }
      },
      grain);
}

}  // namespace strata
