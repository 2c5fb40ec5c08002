#include "layers/pooling.hpp"

#include <doctest/doctest.h>

#include "support/reference.hpp"

TEST_CASE("PoolingLayer matches PyTorch's max_pool and avg_pool (forward and backward)") {
  strata::testing::check_reference_file("pooling.json");
}
