#include "core/shape.hpp"

#include "core/error.hpp"

namespace strata {

int64_t checked_num_elements(const Dims& dims, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) throw Error("negative dimension in shape " + strata::to_string(dims));
    if (d != 0 && n > limit / d)
      throw Error("shape " + strata::to_string(dims) + " has more than " + std::to_string(limit) +
                  " elements");
    n *= d;
  }
  return n;
}

std::string to_string(const Dims& dims) {
  return Shape(dims).to_string();
}

bool Shape::fully_known() const {
  if (!rank_known_) return false;
  for (int64_t d : dims_)
    if (d == kUnknownDim) return false;
  return true;
}

int64_t Shape::num_elements() const {
  if (!fully_known()) throw Error("shape " + to_string() + " is not fully known");
  return checked_num_elements(dims_);
}

std::string Shape::to_string() const {
  if (!rank_known_) return "[...]";
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += dims_[i] == kUnknownDim ? std::string("?") : std::to_string(dims_[i]);
  }
  return s + "]";
}

std::optional<Shape> merge(const Shape& a, const Shape& b) {
  if (!a.rank_known()) return b;
  if (!b.rank_known()) return a;
  if (a.rank() != b.rank()) return std::nullopt;
  Shape out = a;
  for (size_t i = 0; i < a.rank(); ++i) {
    if (a[i] == kUnknownDim) {
      out[i] = b[i];
    } else if (b[i] != kUnknownDim && b[i] != a[i]) {
      return std::nullopt;
    }
  }
  return out;
}

DimCount count_dims(const Shape& shape) {
  DimCount c;
  for (size_t i = 0; i < shape.rank(); ++i) {
    if (shape.dim_known(i)) {
      c.known *= shape[i];
    } else {
      ++c.unknown;
      c.unknown_at = i;
    }
  }
  return c;
}

bool fits(const Dims& dims, const Shape& shape) {
  if (!shape.rank_known()) return true;
  if (dims.size() != shape.rank()) return false;
  for (size_t i = 0; i < dims.size(); ++i)
    if (shape[i] != kUnknownDim && shape[i] != dims[i]) return false;
  return true;
}

}  // namespace strata
