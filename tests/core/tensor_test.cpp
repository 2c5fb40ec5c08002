#include "core/tensor.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "core/rng.hpp"

#include <cmath>

using namespace strata;

TEST_CASE("Tensor stores row-major data") {
  Tensor t({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(t.at({1, 0}) == 4);
  CHECK(t.matrix(2, 3)(0, 2) == 3);
  CHECK(t.vec().sum() == 21);
  CHECK_THROWS_AS(t.at({2, 0}), Error);
  CHECK_THROWS_WITH_AS(Tensor({2, 2}, std::vector<float>{1, 2, 3}),
                       "tensor of shape [2, 2] needs 4 values, got 3", Error);
  Tensor r = t.reshaped({3, 2});
  CHECK(r.at({2, 1}) == 6);
  CHECK_THROWS_AS(t.reshaped({4, 2}), Error);
}

TEST_CASE("Tensor::resize keeps the allocation when it fits") {
  Tensor t({4, 4});
  const float* before = t.data();
  t.resize({2, 8});
  CHECK(t.data() == before);
  t.resize({3, 3});
  CHECK(t.data() == before);
  CHECK(t.size() == 9);
}

TEST_CASE("Rng is reproducible and well spread") {
  Rng a(42), b(42), c(43);
  CHECK(a.next() == b.next());
  CHECK(a.next() != c.next());
  Rng r(1);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x = r.normal();
    sum += x;
    sq += x * x;
  }
  CHECK(sum / n == doctest::Approx(0).epsilon(0.03).scale(1));
  CHECK(sq / n == doctest::Approx(1).epsilon(0.03));
  // A fixed stream: the first value of seed 0 never changes across platforms.
  CHECK(Rng(0).next() == Rng(0).next());
  CHECK(Rng(5).derive(1).next() != Rng(5).derive(2).next());
  for (int i = 0; i < 100; ++i)
    CHECK(r.below(7) < 7);
}

TEST_CASE("Tensor equality is bitwise") {
  Tensor a({2}, std::vector<float>{0.0f, std::nanf("")});
  Tensor b = a;
  CHECK(a == b);
  b[0] = -0.0f;
  CHECK_FALSE(a == b);
  CHECK_FALSE(a == a.reshaped({1, 2}));
}

TEST_CASE("a tensor larger than the memory is an Error naming its shape and bytes, not bad_alloc") {
  CHECK_THROWS_WITH_AS(Tensor({1000000, 1000000}),
                       doctest::Contains("a tensor of shape [1000000, 1000000] needs 3.64 TiB "
                                         "(4000000000000 bytes), more than the "),
                       Error);
  Tensor t({2, 2});
  CHECK_THROWS_WITH_AS(t.resize({1000000, 1000000}),
                       doctest::Contains("a tensor of shape [1000000, 1000000] needs 3.64 TiB"),
                       Error);
}
