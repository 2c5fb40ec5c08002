// Shapes. `Dims` is the concrete shape of a tensor; `Shape` is what shape
// inference knows of one: its rank may be unknown, and so may any dimension.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace strata {

using Dims = std::vector<int64_t>;

// Marks a dimension not yet known (`null` in a net file).
inline constexpr int64_t kUnknownDim = -1;

// The most elements a tensor may have (4 TiB of floats): far beyond any real
// net, and small enough that arithmetic on sizes cannot overflow.
inline constexpr int64_t kMaxElements = int64_t{1} << 40;

// The product of dims; throws strata::Error on a negative dimension or when
// the product exceeds `limit` (so sizes are checked before any allocation).
int64_t checked_num_elements(const Dims& dims, int64_t limit = kMaxElements);

// "[8, 16, 16]".
std::string to_string(const Dims& dims);

class Shape {
 public:
  // A shape of unknown rank.
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims), rank_known_(true) {}
  explicit Shape(Dims dims) : dims_(std::move(dims)), rank_known_(true) {}

  // A shape of known rank whose dimensions are all unknown.
  static Shape of_rank(size_t rank) { return Shape(Dims(rank, kUnknownDim)); }

  bool rank_known() const { return rank_known_; }
  size_t rank() const { return dims_.size(); }
  int64_t operator[](size_t i) const { return dims_[i]; }
  int64_t& operator[](size_t i) { return dims_[i]; }
  const Dims& dims() const { return dims_; }
  bool dim_known(size_t i) const { return dims_[i] != kUnknownDim; }

  // Rank and every dimension known.
  bool fully_known() const;
  // The number of elements; the shape must be fully known.
  int64_t num_elements() const;

  bool operator==(const Shape& other) const = default;

  // "[8, ?, 16]", or "[...]" for an unknown rank.
  std::string to_string() const;

 private:
  Dims dims_;
  bool rank_known_ = false;
};

// The most specific shape consistent with both, or nullopt when they conflict
// (different ranks, or different known dimensions).
std::optional<Shape> merge(const Shape& a, const Shape& b);

// What a shape of known rank says of its element count: the product of its
// known dimensions, how many are unknown and where the (last) unknown one is.
struct DimCount {
  int64_t known = 1;
  int unknown = 0;
  size_t unknown_at = 0;
};
DimCount count_dims(const Shape& shape);

// Does a concrete tensor shape fit what is known of a shape?
bool fits(const Dims& dims, const Shape& shape);

// ---- Broadcasting (NumPy rules), of per-example shapes
// Shapes are aligned at the right; where one has a dimension of 1 (or no
// dimension at all) and another has n, the 1 repeats to n. The result has
// the largest rank.

// The shape the given shapes broadcast to, as far as it is known. Throws an
// Error when two known dimensions differ and neither is 1:
// "[3, 4] and [5, 4] do not broadcast: dimension 0 is 3 and 5".
Shape broadcast(const Shape& a, const Shape& b);
Shape broadcast(std::span<const Shape> shapes);

// Inference both ways for output = broadcast(inputs...): refines what is
// known of each input and of the output, and throws an Error on a conflict.
// From the output to the inputs: an output of known rank bounds the inputs'
// ranks (and fixes the one input of unknown rank when no other reaches it);
// an output dimension of 1 makes it 1 in every input; one that is not 1 must
// come from some input, and fixes that input's dimension when only one input
// can provide it. Returns whether anything became known.
bool infer_broadcast(std::span<Shape> inputs, Shape& output);

}  // namespace strata
