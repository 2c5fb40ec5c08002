#include "core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <sstream>

#include "core/error.hpp"
#include "core/memory.hpp"

namespace strata {

namespace {

// The element count of `shape`, once it is known that the values fit in the
// memory this process can have (a huge shape is an Error naming it, not
// std::bad_alloc).
size_t allocatable_elements(const Dims& shape) {
  const int64_t n = checked_num_elements(shape);
  check_allocation(static_cast<uint64_t>(n) * sizeof(float),
                   "a tensor of shape " + to_string(shape));
  return static_cast<size_t>(n);
}

}  // namespace

Tensor::Tensor(Dims shape, float fill)
    : shape_(std::move(shape)), data_(allocatable_elements(shape_), fill) {}

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
  if (static_cast<size_t>(n) > data_.capacity())
    check_allocation(static_cast<uint64_t>(n) * sizeof(float),
                     "a tensor of shape " + to_string(Dims(shape.begin(), shape.end())));
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
  // memcmp may not be given the null data of an empty tensor.
  return shape_ == other.shape_ &&
         (data_.empty() ||
          std::memcmp(data_.data(), other.data_.data(), data_.size() * sizeof(float)) == 0);
}

void Tensor::fill(float value) {
  std::fill(data_.begin(), data_.end(), value);
}

namespace {

// The shape of a literal, from its first element at each depth; `at` names
// the place for errors ("[1]" is the second item of the top list).
void literal_shape(const TensorLiteral& l, Dims& shape) {
  const TensorLiteral* cur = &l;
  while (!cur->leaf()) {
    shape.push_back(static_cast<int64_t>(cur->items().size()));
    if (cur->items().empty()) return;
    cur = &cur->items()[0];
  }
}

void flatten_literal(const TensorLiteral& l, const Dims& shape, size_t depth, const std::string& at,
                     std::vector<float>& out) {
  if (depth == shape.size()) {
    if (!l.leaf())
      throw Error("Tensor::from: " + (at.empty() ? std::string("the list") : "item " + at) +
                  " is a list where the first items hold numbers (ragged list)");
    out.push_back(static_cast<float>(l.value()));
    return;
  }
  if (l.leaf() || static_cast<int64_t>(l.items().size()) != shape[depth])
    throw Error("Tensor::from: " + (at.empty() ? std::string("the list") : "item " + at) + " has " +
                (l.leaf() ? std::string("a number") : std::to_string(l.items().size()) + " items") +
                " where " + std::to_string(shape[depth]) + " are expected (ragged list)");
  for (size_t i = 0; i < l.items().size(); ++i)
    flatten_literal(l.items()[i], shape, depth + 1, at + "[" + std::to_string(i) + "]", out);
}

void print_values(std::ostream& os, const Tensor& t, size_t depth, int64_t offset) {
  constexpr int64_t kShown = 6;
  if (depth == t.rank()) {
    os << t[offset];
    return;
  }
  int64_t stride = 1;
  for (size_t d = depth + 1; d < t.rank(); ++d)
    stride *= t.dim(d);
  os << '{';
  const int64_t n = t.dim(depth);
  for (int64_t i = 0; i < n; ++i) {
    if (i) os << ", ";
    if (i == kShown - 1 && n > kShown) {
      os << "…, ";
      i = n - 1;
    }
    print_values(os, t, depth + 1, offset + i * stride);
  }
  os << '}';
}

}  // namespace

Tensor Tensor::from(const TensorLiteral& literal) {
  Dims shape;
  literal_shape(literal, shape);
  std::vector<float> values;
  flatten_literal(literal, shape, 0, "", values);
  return Tensor(std::move(shape), std::move(values));
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  std::ostringstream s;  // the caller's stream flags stay as they were
  s << "Tensor " << to_string(t.shape()) << ' ';
  print_values(s, t, 0, 0);
  return os << s.str();
}

}  // namespace strata
