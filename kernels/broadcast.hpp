// Kernels for elementwise ops whose operands broadcast (ThreadingLayer,
// ConstantPlusLayer, ConstantTimesLayer): how each operand is read in a loop
// over the output, and an operand's gradient, summed over the dimensions it
// was repeated along.
//
// Tensors are batch-first. The per-example dims of the operands broadcast
// (NumPy rules, as broadcast() in core/shape.hpp); the batch dimension is
// shared. An operand that is not batched (a layer's array, the same for every
// example) is read by every example of the batch.
#pragma once

#include <cstdint>
#include <span>

#include "core/shape.hpp"
#include "core/tensor.hpp"

namespace strata {

struct BroadcastOperand {
  std::span<const int64_t> dims;  // the tensor's dims
  bool batched = true;            // dims[0] is the batch; false: shared by every example
};

// The output's dims: the batch of the batched operands (at least one), then
// the broadcast of the per-example dims. Throws an Error when the batches
// differ or the dims do not broadcast. Allocates nothing once `out` has the
// capacity.
void broadcast_dims(std::span<const BroadcastOperand> operands, Dims& out);

// A loop over a broadcast output in row-major order, in rows: runs along the
// output's last dimension, made as long as possible by merging adjacent
// dimensions along which every operand is laid out alike. Element j of a row
// that starts at output offset o is output o + j and, of operand k,
// offset(k) + j * row_stride(k) — row_stride is 0 along a broadcast dimension.
class BroadcastLoop {
 public:
  // Plans the loop over an output of dims `out` (batch first). Throws an
  // Error for an operand that does not broadcast to it. Planning again for
  // operands of the same ranks allocates nothing.
  void plan(std::span<const int64_t> out, std::span<const BroadcastOperand> operands);

  size_t operand_count() const { return operand_rank_.size() - 1; }
  int64_t rows() const { return rows_; }
  int64_t row_length() const { return dims_.back(); }
  int64_t row_stride(size_t k) const { return stride(k, dims_.size() - 1); }
  // The merged output dims and operand k's strides along them (0 where it
  // repeats), for a loop of one's own.
  const Dims& dims() const { return dims_; }
  int64_t stride(size_t k, size_t j) const { return strides_[k * dims_.size() + j]; }
  // Where operand k's part of row `row` starts; needs no state, so rows can be
  // shared among threads.
  int64_t offset(size_t k, int64_t row) const;

  // Calls f(out_offset, offsets) for every row in order, offsets[k] being
  // operand k's offset (quicker than offset() for each row).
  template <typename F>
  void for_each_row(F&& f);

  // Operand k's gradient, given the gradient of the output: resizes `out` to
  // the operand's dims and sums into each element the gradient of every
  // output element that read it.
  void sum_to_operand(size_t k, const Tensor& grad, Tensor& out);

 private:
  Dims dims_;             // merged output dims
  Dims strides_;          // operand-major: operand k, merged dim j
  int64_t rows_ = 0;      // product of dims_ but the last
  int64_t size_ = 0;      // output elements
  Dims operand_dims_;     // every operand's dims, one after the other
  Dims operand_rank_;     // where each operand's dims start in operand_dims_, and the end
  Dims full_, keep_;      // planning scratch
  Dims index_, offsets_;  // for_each_row's counters
};

// Sums a gradient of the output's shape (batch first) over the dimensions an
// operand was broadcast along: the operand's gradient, of its dims.
void sum_broadcast_gradient(const Tensor& grad, BroadcastOperand operand, Tensor& out);

template <typename F>
void BroadcastLoop::for_each_row(F&& f) {
  const size_t n = dims_.size(), m = operand_count();
  if (rows_ == 0 || row_length() == 0) return;
  index_.assign(n, 0);
  offsets_.assign(m, 0);
  int64_t out = 0;
  for (int64_t row = 0;;) {
    f(out, std::span<const int64_t>(offsets_));
    out += row_length();
    if (++row == rows_) return;
    // The odometer over all dims but the last.
    for (size_t j = n - 1; j-- > 0;) {
      for (size_t k = 0; k < m; ++k)
        offsets_[k] += strides_[k * n + j];
      if (++index_[j] < dims_[j]) break;
      for (size_t k = 0; k < m; ++k)
        offsets_[k] -= strides_[k * n + j] * dims_[j];
      index_[j] = 0;
    }
  }
}

}  // namespace strata
