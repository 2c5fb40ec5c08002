#include "graph/extract.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "layers/instance_normalization.hpp"
#include "train/initialize.hpp"

using namespace strata;

TEST_CASE("NetExtract reaches arrays, options and layers by path") {
  NetChain inner({{"norm", InstanceNormalizationLayer().epsilon(1e-5)}});
  NetChain net({InstanceNormalizationLayer(), {"block1", inner}}, Input({4, 3, 3}));
  NetInitialize(net);

  CHECK(NetExtract(net, "1/Gamma") == Tensor({4}, 1.0f));
  CHECK(NetExtract(net, "block1/norm/Beta") == Tensor({4}, 0.0f));
  CHECK(NetExtractOption(net, "block1/norm/Epsilon").get<double>() == doctest::Approx(1e-5));
  CHECK(NetExtractLayer(net, "block1").type() == "NetChain");
  CHECK(NetExtractLayer(net, "block1/norm").type() == "InstanceNormalizationLayer");

  auto all = NetExtractArrays(net);
  REQUIRE(all.size() == 4);
  CHECK(all[0].first == "1/Gamma");
  CHECK(all[3].first == "block1/norm/Beta");

  CHECK_THROWS_WITH_AS(NetExtract(net, "conv9/Weights"),
                       "no \"conv9\" in NetChain (it has: 1, block1, Input, Output)", Error);
  CHECK_THROWS_WITH_AS(
      NetExtract(net, "block1/norm/Gama"),
      "no \"Gama\" in NetChain/block1/norm (it has: Gamma, Beta, Epsilon, Input, Output)", Error);
  CHECK_THROWS_WITH_AS(NetExtract(net, "block1"), doctest::Contains("is a layer"), Error);
  CHECK_THROWS_WITH_AS(NetExtract(net, "1/Epsilon"), doctest::Contains("is an option"), Error);
  CHECK_THROWS_WITH_AS(NetExtract(net, "1//Gamma"), doctest::Contains("empty part"), Error);
}

TEST_CASE("net_path_kind tells layers, arrays and options apart") {
  NetChain inner({{"norm", InstanceNormalizationLayer()}});
  NetChain net({InstanceNormalizationLayer(), {"block1", inner}}, Input({4, 3, 3}));
  CHECK(net_path_kind(net, "block1") == NetPathKind::Layer);
  CHECK(net_path_kind(net, "block1/norm") == NetPathKind::Layer);
  CHECK(net_path_kind(net, "1/Gamma") == NetPathKind::Array);  // Automatic still counts
  CHECK(net_path_kind(net, "block1/norm/Epsilon") == NetPathKind::Option);
  CHECK_THROWS_WITH_AS(net_path_kind(net, "block2"),
                       "no \"block2\" in NetChain (it has: 1, block1, Input, Output)", Error);
}

TEST_CASE("NetReplaceArray checks the shape") {
  NetChain net({InstanceNormalizationLayer()}, Input({4, 3, 3}));
  NetInitialize(net);
  NetReplaceArray(net, "1/Gamma", Tensor({4}, 2.0f));
  CHECK(NetExtract(net, "1/Gamma")[3] == 2.0f);
  CHECK_THROWS_WITH_AS(NetReplaceArray(net, "1/Gamma", Tensor({5}, 2.0f)),
                       "1/Gamma: expected shape [4], got [5]", Error);
  CHECK_THROWS_WITH_AS(NetReplaceArray(net, "1/Epsilon", Tensor({1})),
                       doctest::Contains("not an array"), Error);
}
