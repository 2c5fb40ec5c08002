#include "core/tensor.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace strata {

Tensor::Tensor(Dims shape, float fill)
    : shape_(std::move(shape)), data_(static_cast<size_t>(checked_num_elements(shape_)), fill) {}

Tensor::Tensor(Dims shape, std::vector<float> data)
    : shape_(std::move(shape)), data_(std::move(data)) {
  if (checked_num_elements(shape_) != static_cast<int64_t>(data_.size()))
    throw Error("tensor of shape " + to_string(shape_) + " needs " +
                std::to_string(checked_num_elements(shape_)) + " values, got " +
                std::to_string(data_.size()));
}

static int64_t flat_index(const Dims& shape, std::initializer_list<int64_t> index) {
  if (index.size() != shape.size())
    throw Error("index of rank " + std::to_string(index.size()) + " into a tensor of shape " +
                to_string(shape));
  int64_t flat = 0;
  size_t k = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape[k])
      throw Error("index " + std::to_string(i) + " out of range for dimension " +
                  std::to_string(k) + " of shape " + to_string(shape));
    flat = flat * shape[k] + i;
    ++k;
  }
  return flat;
}

float& Tensor::at(std::initializer_list<int64_t> index) {
  return data_[flat_index(shape_, index)];
}
float Tensor::at(std::initializer_list<int64_t> index) const {
  return data_[flat_index(shape_, index)];
}

MatrixMap Tensor::matrix(int64_t rows, int64_t cols) {
  if (rows * cols != size()) throw Error("matrix view does not match tensor size");
  return {data_.data(), rows, cols};
}

ConstMatrixMap Tensor::matrix(int64_t rows, int64_t cols) const {
  if (rows * cols != size()) throw Error("matrix view does not match tensor size");
  return {data_.data(), rows, cols};
}

void Tensor::resize(std::span<const int64_t> shape) {
  // The product as checked_num_elements computes it, without building a Dims;
  // on a bad shape, checked_num_elements throws its error.
  constexpr int64_t limit = int64_t{1} << 40;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && n > limit / d)) {
      checked_num_elements(Dims(shape.begin(), shape.end()), limit);
      break;
    }
    n *= d;
  }
  shape_.assign(shape.begin(), shape.end());
  data_.resize(static_cast<size_t>(n));
}

Tensor Tensor::reshaped(Dims shape) const {
  if (checked_num_elements(shape) != size())
    throw Error("cannot reshape " + to_string(shape_) + " to " + to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

bool Tensor::operator==(const Tensor& other) const {
  return shape_ == other.shape_ &&
         std::memcmp(data_.data(), other.data_.data(), data_.size() * sizeof(float)) == 0;
}

void Tensor::fill(float value) {
  std::fill(data_.begin(), data_.end(), value);
}

}  // namespace strata
