#include "train/initialize.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/instance_normalization.hpp"

using namespace strata;

TEST_CASE("NetInitialize fills Gamma with 1 and Beta with 0 and keeps present arrays") {
  InstanceNormalizationLayer given;
  given.set_array("Gamma", Tensor({3}, 5.0f));
  NetChain net({given}, Input({3, 2, 2}));
  NetInitialize(net);
  CHECK(NetExtract(net, "1/Gamma") == Tensor({3}, 5.0f));
  CHECK(NetExtract(net, "1/Beta") == Tensor({3}, 0.0f));
  NetInitialize(net, {.reinitialize_all = true});
  CHECK(NetExtract(net, "1/Gamma") == Tensor({3}, 1.0f));
}

TEST_CASE("NetInitialize needs known shapes") {
  NetChain net({InstanceNormalizationLayer()});
  CHECK_THROWS_WITH_AS(NetInitialize(net), doctest::Contains("cannot initialize 1/Gamma"), Error);
  CHECK_THROWS_WITH_AS(parse_init_method("He"), doctest::Contains("Kaiming, Xavier"), Error);
}
