// A dense float32 tensor: a concrete shape and contiguous row-major storage.
// A tensor that holds a batch has the batch as its leading dimension.
#pragma once

// GCC 12 with -march=native reports -W(maybe-)uninitialized false positives
// inside Eigen 3.4's AVX-512 GEMM (Eigen's own code, instantiated wherever a
// product is used); they are silenced for Eigen's headers only.
#pragma GCC diagnostic push
#if !defined(__clang__)  // GCC's name; Clang would warn about an unknown group
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <span>
#include <vector>

#include "core/shape.hpp"

namespace strata {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

// Values written as nested lists, for Tensor::from: a number, or a list of
// literals of equal shape.
class TensorLiteral {
 public:
  TensorLiteral(double value) : value_(value), leaf_(true) {}  // NOLINT: implicit by design
  TensorLiteral(std::initializer_list<TensorLiteral> items)    // NOLINT
      : items_(items) {}

  bool leaf() const { return leaf_; }
  double value() const { return value_; }
  const std::vector<TensorLiteral>& items() const { return items_; }

 private:
  double value_ = 0;
  bool leaf_ = false;
  std::vector<TensorLiteral> items_;
};

class Tensor {
 public:
  // A rank-0 tensor holding one zero.
  Tensor() : Tensor(Dims{}) {}
  // A tensor of the given shape filled with `fill`. Note: Tensor({4}) is a
  // zero tensor of shape [4], not a tensor holding 4 (that is
  // Tensor::from({4})); Tensor::zeros({4}) says the same more plainly.
  explicit Tensor(Dims shape, float fill = 0.0f);
  // A tensor of the given shape holding `data` (row-major); sizes must agree.
  Tensor(Dims shape, std::vector<float> data);

  // Named constructors, as libtorch's.
  static Tensor zeros(Dims shape) { return Tensor(std::move(shape), 0.0f); }
  static Tensor ones(Dims shape) { return Tensor(std::move(shape), 1.0f); }
  static Tensor full(Dims shape, float value) { return Tensor(std::move(shape), value); }
  // From nested lists, as torch::tensor: Tensor::from({{1, 2}, {3, 4}}) has
  // shape [2, 2], Tensor::from({4}) shape [1] holding 4, Tensor::from(2.5)
  // rank 0. Ragged lists are an Error naming where they differ.
  static Tensor from(const TensorLiteral& literal);

  const Dims& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t i) const { return shape_[i]; }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> values() { return data_; }
  std::span<const float> values() const { return data_; }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }

  // Element by multi-index (bounds checked; for tests and tools, not kernels).
  float& at(std::initializer_list<int64_t> index);
  float at(std::initializer_list<int64_t> index) const;

  VectorMap vec() { return {data_.data(), size()}; }
  ConstVectorMap vec() const { return {data_.data(), size()}; }
  // A rows x cols row-major view of the storage; rows * cols must equal size().
  MatrixMap matrix(int64_t rows, int64_t cols);
  ConstMatrixMap matrix(int64_t rows, int64_t cols) const;

  // Changes the shape, keeping the allocation when it is large enough (so a
  // buffer reused every step allocates only once: neither the shape nor the
  // values are reallocated). Contents are unspecified.
  void resize(const Dims& shape) { resize(std::span<const int64_t>(shape)); }
  void resize(std::initializer_list<int64_t> shape) {
    resize(std::span<const int64_t>(shape.begin(), shape.size()));
  }
  void resize(std::span<const int64_t> shape);
  // Same elements, another shape with the same number of elements.
  Tensor reshaped(Dims shape) const;
  void fill(float value);

  // Equal shapes and bit-identical values (so NaN == NaN and −0 != +0).
  bool operator==(const Tensor& other) const;

 private:
  Dims shape_;
  std::vector<float> data_;
};

// "Tensor [2, 3] {{1, 2, 3}, {4, 5, 6}}": the shape and the values, at most
// six per dimension (the rest shown as "…").
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace strata
