#include "kernels/broadcast.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"

namespace strata {

namespace {

std::span<const int64_t> example_dims(const BroadcastOperand& op) {
  return op.batched ? op.dims.subspan(1) : op.dims;
}

std::string describe(const BroadcastOperand& op) {
  return to_string(Dims(op.dims.begin(), op.dims.end())) +
         (op.batched ? "" : " (shared by every example)");
}

}  // namespace

void broadcast_dims(std::span<const BroadcastOperand> operands, Dims& out) {
  int64_t batch = -1;
  size_t rank = 0;
  for (const auto& op : operands) {
    if (op.batched) {
      if (op.dims.empty()) throw Error("a batch needs a batch dimension, got a scalar");
      if (batch >= 0 && op.dims[0] != batch)
        throw Error("batches of " + std::to_string(batch) + " and " + std::to_string(op.dims[0]));
      batch = op.dims[0];
    }
    rank = std::max(rank, example_dims(op).size());
  }
  if (batch < 0) throw Error("broadcast: no operand has a batch dimension");
  out.assign(rank + 1, 1);
  out[0] = batch;
  for (const auto& op : operands) {
    const auto e = example_dims(op);
    for (size_t r = 0; r < e.size(); ++r) {
      const int64_t d = e[e.size() - 1 - r];
      int64_t& o = out[rank - r];
      if (d == 1 || d == o) continue;
      if (o != 1) {
        // broadcast() of the example shapes says which ones, and where.
        std::vector<Shape> shapes;
        for (const auto& each : operands) {
          const auto dims = example_dims(each);
          shapes.emplace_back(Dims(dims.begin(), dims.end()));
        }
        broadcast(shapes);
        throw Error("internal: dims " + std::to_string(o) + " and " + std::to_string(d) +
                    " should not broadcast");
      }
      o = d;
    }
  }
}

void BroadcastLoop::plan(std::span<const int64_t> out, std::span<const BroadcastOperand> operands) {
  const size_t rank = out.size(), m = operands.size();
  if (rank == 0) throw Error("internal: a broadcast output needs a batch dimension");
  operand_rank_.resize(m + 1);
  operand_dims_.clear();
  full_.resize(m * rank);
  // Strides over the output's dims, before merging: an operand's own
  // row-major strides, right-aligned, 0 where it has 1.
  for (size_t k = 0; k < m; ++k) {
    const auto& op = operands[k];
    operand_rank_[k] = static_cast<int64_t>(operand_dims_.size());
    operand_dims_.insert(operand_dims_.end(), op.dims.begin(), op.dims.end());
    if (op.batched && op.dims.empty()) throw Error("a batch needs a batch dimension, got a scalar");
    const size_t e = example_dims(op).size();
    if (e > rank - 1)
      throw Error(describe(op) + " does not broadcast to " +
                  to_string(Dims(out.begin(), out.end())));
    int64_t s = 1;
    for (size_t j = rank; j-- > 0;) {
      const size_t r = rank - 1 - j;
      const int64_t a = j == 0  ? (op.batched ? op.dims[0] : 1)
                        : r < e ? op.dims[op.dims.size() - 1 - r]
                                : 1;
      if (a != out[j] && a != 1)
        throw Error(describe(op) + " does not broadcast to " +
                    to_string(Dims(out.begin(), out.end())));
      full_[k * rank + j] = a == 1 ? 0 : s;
      s *= a;
    }
  }
  operand_rank_[m] = static_cast<int64_t>(operand_dims_.size());

  // Dims of 1 drop out; a dim joins the one before it when every operand
  // steps over both as over one.
  dims_.clear();
  keep_.clear();  // per merged dim: the last output dim in it
  size_ = 1;
  for (size_t j = 0; j < rank; ++j) {
    size_ *= out[j];
    if (out[j] == 1) continue;
    if (!dims_.empty()) {
      const auto last = static_cast<size_t>(keep_.back());
      bool merge = true;
      for (size_t k = 0; k < m && merge; ++k)
        merge = full_[k * rank + last] == full_[k * rank + j] * out[j];
      if (merge) {
        dims_.back() *= out[j];
        keep_.back() = static_cast<int64_t>(j);
        continue;
      }
    }
    dims_.push_back(out[j]);
    keep_.push_back(static_cast<int64_t>(j));
  }
  if (dims_.empty()) {  // a single element
    dims_.push_back(1);
    keep_.push_back(-1);
  }
  const size_t n = dims_.size();
  strides_.resize(m * n);
  for (size_t k = 0; k < m; ++k)
    for (size_t g = 0; g < n; ++g)
      strides_[k * n + g] = keep_[g] < 0 ? 0 : full_[k * rank + static_cast<size_t>(keep_[g])];
  rows_ = 1;
  for (size_t g = 0; g + 1 < n; ++g)
    rows_ *= dims_[g];
}

int64_t BroadcastLoop::offset(size_t k, int64_t row) const {
  int64_t off = 0;
  for (size_t j = dims_.size() - 1; j-- > 0;) {
    off += (row % dims_[j]) * stride(k, j);
    row /= dims_[j];
  }
  return off;
}

void BroadcastLoop::sum_to_operand(size_t k, const Tensor& grad, Tensor& out) {
  if (grad.size() != size_)
    throw Error("internal: a gradient of " + to_string(grad.shape()) + " for an output of " +
                std::to_string(size_) + " elements");
  out.resize(std::span<const int64_t>(operand_dims_.data() + operand_rank_[k],
                                      operand_dims_.data() + operand_rank_[k + 1]));
  out.fill(0.0f);
  const int64_t s = row_stride(k), length = row_length();
  const float* g = grad.data();
  float* t = out.data();
  for_each_row([&](int64_t o, std::span<const int64_t> offsets) {
    float* row = t + offsets[k];
    if (s == 0) {
      float sum = 0;
      for (int64_t j = 0; j < length; ++j)
        sum += g[o + j];
      *row += sum;
    } else {
      for (int64_t j = 0; j < length; ++j)
        row[j * s] += g[o + j];
    }
  });
}

void sum_broadcast_gradient(const Tensor& grad, BroadcastOperand operand, Tensor& out) {
  BroadcastLoop loop;
  const BroadcastOperand operands[] = {operand};
  loop.plan(grad.shape(), operands);
  loop.sum_to_operand(0, grad, out);
}

}  // namespace strata
