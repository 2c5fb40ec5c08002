#include "core/shape.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"

namespace strata {

namespace {

// "[3], [1] and [4]".
std::string list_shapes(std::span<const Shape> shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i)
    s += (i == 0 ? "" : i + 1 == shapes.size() ? " and " : ", ") + shapes[i].to_string();
  return s;
}

// The index of the dimension `r` places from the right of a shape of rank `rank`.
size_t from_right(size_t rank, size_t r) {
  return rank - 1 - r;
}

// "dimension 0 is 3 and 5", or with different ranks "dimension 1 is 3 and
// dimension 0 is 5".
std::string dims_differ(const Shape& a, const Shape& b, size_t r) {
  const size_t i = from_right(a.rank(), r), j = from_right(b.rank(), r);
  return "dimension " + std::to_string(i) + " is " + std::to_string(a[i]) + " and " +
         (i == j ? "" : "dimension " + std::to_string(j) + " is ") + std::to_string(b[j]);
}

}  // namespace

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

bool infer_broadcast(std::span<Shape> in, Shape& out) {
  // Every pass that changes something makes a rank or a dimension known, so
  // this ends; a pass that learns nothing ends it.
  for (bool any = false;; any = true) {
    bool changed = false;
    bool all_ranks = true;
    size_t max_rank = 0, unknown_ranks = 0, unknown_at = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      if (in[k].rank_known()) {
        max_rank = std::max(max_rank, in[k].rank());
      } else {
        all_ranks = false;
        ++unknown_ranks;
        unknown_at = k;
      }
    }
    if (out.rank_known()) {
      for (const Shape& s : in)
        if (s.rank_known() && s.rank() > out.rank())
          throw Error(s.to_string() + " does not broadcast to " + out.to_string() +
                      ": it has more dimensions");
      if (all_ranks && max_rank != out.rank())
        throw Error(list_shapes(in) + " broadcast to rank " + std::to_string(max_rank) + ", not " +
                    out.to_string());
      // The one input that can reach the output's rank has it.
      if (unknown_ranks == 1 && max_rank < out.rank()) {
        in[unknown_at] = Shape::of_rank(out.rank());
        continue;
      }
    } else if (all_ranks) {
      out = Shape::of_rank(max_rank);
      changed = true;
    } else {
      return any;
    }

    const size_t rank = out.rank();
    for (size_t r = 0; r < rank; ++r) {
      const size_t o = from_right(rank, r);
      int64_t value = kUnknownDim;           // the known dimension here that is not 1
      size_t from = 0;                       // the input it comes from
      size_t candidates = 0, candidate = 0;  // inputs that may have an unknown one here
      for (size_t k = 0; k < in.size(); ++k) {
        const Shape& s = in[k];
        if (s.rank_known() && s.rank() <= r) continue;
        const int64_t d = s.rank_known() ? s[from_right(s.rank(), r)] : kUnknownDim;
        if (d == 1) continue;
        if (d == kUnknownDim) {
          ++candidates;
          candidate = k;
        } else if (value == kUnknownDim) {
          value = d;
          from = k;
        } else if (d != value) {
          throw Error(in[from].to_string() + " and " + s.to_string() +
                      " do not broadcast: " + dims_differ(in[from], s, r));
        }
      }
      if (value != kUnknownDim) {
        if (out[o] != kUnknownDim && out[o] != value)
          throw Error(in[from].to_string() + " does not broadcast to " + out.to_string() + ": " +
                      dims_differ(in[from], out, r));
        changed |= out[o] == kUnknownDim;
        out[o] = value;
      } else if (candidates == 0) {
        // Every input has 1 here, or no dimension at all.
        if (out[o] != kUnknownDim && out[o] != 1)
          throw Error(list_shapes(in) + " do not broadcast to " + out.to_string() +
                      ": no input has dimension " + std::to_string(o) + " of " +
                      std::to_string(out[o]));
        changed |= out[o] == kUnknownDim;
        out[o] = 1;
      } else if (out[o] == 1) {
        // An output dimension of 1 is 1 in every input that reaches it.
        for (Shape& s : in)
          if (s.rank_known() && s.rank() > r && !s.dim_known(from_right(s.rank(), r))) {
            s[from_right(s.rank(), r)] = 1;
            changed = true;
          }
      } else if (out[o] != kUnknownDim && candidates == 1) {
        // Only one input can give the output its dimension here.
        Shape& s = in[candidate];
        if (s.rank_known()) {
          s[from_right(s.rank(), r)] = out[o];
          changed = true;
        } else if (r + 1 == rank) {
          s = Shape::of_rank(rank);
          changed = true;
        }
      }
    }
    if (!changed) return any;
  }
}

Shape broadcast(std::span<const Shape> shapes) {
  std::vector<Shape> in(shapes.begin(), shapes.end());
  Shape out;
  infer_broadcast(in, out);
  return out;
}

Shape broadcast(const Shape& a, const Shape& b) {
  const Shape both[] = {a, b};
  return broadcast(both);
}

bool fits(const Dims& dims, const Shape& shape) {
  if (!shape.rank_known()) return true;
  if (dims.size() != shape.rank()) return false;
  for (size_t i = 0; i < dims.size(); ++i)
    if (shape[i] != kUnknownDim && shape[i] != dims[i]) return false;
  return true;
}

}  // namespace strata
