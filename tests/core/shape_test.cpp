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
