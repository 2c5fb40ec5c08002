#include "core/shape.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"

using namespace strata;

TEST_CASE("Shape knows what is known") {
  Shape unknown;
  CHECK_FALSE(unknown.rank_known());
  CHECK(unknown.to_string() == "[...]");
  Shape partly{3, kUnknownDim, 5};
  CHECK(partly.rank() == 3);
  CHECK_FALSE(partly.fully_known());
  CHECK(partly.to_string() == "[3, ?, 5]");
  CHECK_THROWS_AS(partly.num_elements(), Error);
  CHECK(Shape{2, 3, 4}.num_elements() == 24);
}

TEST_CASE("merge fills unknowns and detects conflicts") {
  CHECK(*merge(Shape{3, kUnknownDim}, Shape{kUnknownDim, 4}) == Shape{3, 4});
  CHECK(*merge(Shape(), Shape{1, 2}) == Shape{1, 2});
  CHECK_FALSE(merge(Shape{3, 4}, Shape{3, 5}).has_value());
  CHECK_FALSE(merge(Shape{3}, Shape{3, 1}).has_value());
  CHECK(fits({3, 4}, Shape{kUnknownDim, 4}));
  CHECK_FALSE(fits({3, 4}, Shape{3}));
}

TEST_CASE("checked_num_elements refuses overflow and negative dimensions") {
  CHECK(checked_num_elements({}) == 1);
  CHECK(checked_num_elements({2, 0, 5}) == 0);
  CHECK_THROWS_WITH_AS(checked_num_elements({1 << 30, 1 << 30, 1 << 30}),
                       doctest::Contains("more than"), Error);
  CHECK_THROWS_WITH_AS(checked_num_elements({2, -1}), doctest::Contains("negative"), Error);
}

namespace {

constexpr int64_t U = kUnknownDim;

// NumPy's rule on concrete shapes, written out plainly.
std::optional<Dims> naive_broadcast(const Dims& a, const Dims& b) {
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// Every shape of rank 0 to 2 with dimensions 1 to 3.
std::vector<Dims> small_shapes() {
  std::vector<Dims> all = {{}};
  for (int64_t i = 1; i <= 3; ++i) {
    all.push_back({i});
    for (int64_t j = 1; j <= 3; ++j)
      all.push_back({i, j});
  }
  return all;
}

// What is known of `dims` when the bits of `mask` hide its dimensions (bit
// i) or its whole rank (bit 2).
Shape hide(const Dims& dims, unsigned mask) {
  if (mask & 4u) return Shape();
  Shape s(dims);
  for (size_t i = 0; i < dims.size(); ++i)
    if (mask & (1u << i)) s[i] = U;
  return s;
}

}  // namespace

TEST_CASE("broadcast follows NumPy on known shapes") {
  for (const Dims& a : small_shapes())
    for (const Dims& b : small_shapes()) {
      CAPTURE(to_string(a));
      CAPTURE(to_string(b));
      const auto want = naive_broadcast(a, b);
      if (want) {
        CHECK(broadcast(Shape(a), Shape(b)) == Shape(*want));
      } else {
        CHECK_THROWS_WITH_AS(broadcast(Shape(a), Shape(b)), doctest::Contains("do not broadcast"),
                             Error);
      }
    }
  CHECK(broadcast(Shape{8, 1, 6, 1}, Shape{7, 1, 5}) == Shape{8, 7, 6, 5});
  const Shape three[] = {Shape{3, 1}, Shape{1, 4}, Shape(Dims{})};  // and a scalar
  CHECK(broadcast(three) == Shape{3, 4});
}

TEST_CASE("broadcast errors name the shapes and the dimensions") {
  CHECK_THROWS_WITH_AS(broadcast(Shape{3, 4}, Shape{5, 4}),
                       "[3, 4] and [5, 4] do not broadcast: dimension 0 is 3 and 5", Error);
  CHECK_THROWS_WITH_AS(
      broadcast(Shape{2, 3, 4}, Shape{5, 4}),
      "[2, 3, 4] and [5, 4] do not broadcast: dimension 1 is 3 and dimension 0 is 5", Error);
  const Shape three[] = {Shape{3}, Shape{1}, Shape{U, 2}};
  CHECK_THROWS_WITH_AS(broadcast(three),
                       "[3] and [?, 2] do not broadcast: dimension 0 is 3 and dimension 1 is 2",
                       Error);
  std::vector<Shape> in = {Shape{3, 4}, Shape{4}};
  Shape out{5, 4};
  CHECK_THROWS_WITH_AS(infer_broadcast(in, out),
                       "[3, 4] does not broadcast to [5, 4]: dimension 0 is 3 and 5", Error);
  in = {Shape{2, 3, 4}, Shape()};
  out = Shape{3, 4};
  CHECK_THROWS_WITH_AS(infer_broadcast(in, out),
                       "[2, 3, 4] does not broadcast to [3, 4]: it has more dimensions", Error);
  in = {Shape{4}, Shape{3, 4}};
  out = Shape::of_rank(3);
  CHECK_THROWS_WITH_AS(infer_broadcast(in, out),
                       "[4] and [3, 4] broadcast to rank 2, not [?, ?, ?]", Error);
  in = {Shape{1, 4}, Shape{U}};
  out = Shape{3, 4};
  CHECK_THROWS_WITH_AS(infer_broadcast(in, out),
                       "[1, 4] and [?] do not broadcast to [3, 4]: no input has dimension 0 of 3",
                       Error);
}

TEST_CASE("broadcast with unknown dimensions and ranks") {
  // A known dimension that is not 1 decides the output's.
  CHECK(broadcast(Shape{U, 4}, Shape{3, 1}) == Shape{3, 4});
  // 1 against unknown: unknown.
  CHECK(broadcast(Shape{U}, Shape{1}) == Shape{U});
  // An unknown rank leaves the rank unknown.
  CHECK_FALSE(broadcast(Shape(), Shape{3, 4}).rank_known());
  CHECK(broadcast(Shape(Dims{}), Shape(Dims{})) == Shape(Dims{}));
}

TEST_CASE("infer_broadcast reasons from the output to the inputs") {
  // Given the output and one input, the other: [1, 4] can only give 4, so the
  // 3 comes from the other input, which must then have rank 2.
  std::vector<Shape> in = {Shape{1, 4}, Shape()};
  Shape out{3, 4};
  CHECK(infer_broadcast(in, out));
  CHECK(in[1] == Shape{3, U});
  // An output dimension of 1 is 1 in every input.
  in = {Shape{U, U}, Shape{U}};
  out = Shape{1, 5};
  CHECK(infer_broadcast(in, out));
  CHECK(in[0] == Shape{1, U});
  CHECK(in[1] == Shape{U});
  // The one input that can reach the output's rank has it.
  in = {Shape{4}, Shape()};
  out = Shape::of_rank(3);
  CHECK(infer_broadcast(in, out));
  CHECK(in[1] == Shape::of_rank(3));
  // Two inputs that may give the 5: nothing more is known.
  in = {Shape{U}, Shape{U}};
  out = Shape{5};
  CHECK_FALSE(infer_broadcast(in, out));
  CHECK(in[0] == Shape{U});
  // Nothing to learn reports no change.
  in = {Shape{3, 4}, Shape{4}};
  out = Shape{3, 4};
  CHECK_FALSE(infer_broadcast(in, out));
}

TEST_CASE("infer_broadcast keeps every completion of what it was told") {
  // For every broadcast a, b -> c of small shapes, and every way of hiding
  // parts of the three, inference must not refuse them and must leave each
  // consistent with the concrete shapes.
  int checked = 0;
  for (const Dims& a : small_shapes())
    for (const Dims& b : small_shapes()) {
      const auto c = naive_broadcast(a, b);
      if (!c) continue;
      for (unsigned ma = 0; ma < 8; ++ma)
        for (unsigned mb = 0; mb < 8; ++mb)
          for (unsigned mc = 0; mc < 8; ++mc) {
            std::vector<Shape> in = {hide(a, ma), hide(b, mb)};
            Shape out = hide(*c, mc);
            CAPTURE(in[0].to_string());
            CAPTURE(in[1].to_string());
            CAPTURE(out.to_string());
            REQUIRE_NOTHROW(infer_broadcast(in, out));
            REQUIRE(fits(a, in[0]));
            REQUIRE(fits(b, in[1]));
            REQUIRE(fits(*c, out));
            ++checked;
          }
    }
  CHECK(checked > 1000);
}
