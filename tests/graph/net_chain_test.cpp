#include "graph/net_chain.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/summary.hpp"
#include "layers/instance_normalization.hpp"
#include "support/gradcheck.hpp"
#include "train/initialize.hpp"

using namespace strata;
using strata::testing::random_tensor;

TEST_CASE("NetChain names layers by position and infers shapes through") {
  NetChain net({InstanceNormalizationLayer(), {"norm2", InstanceNormalizationLayer()}},
               Input({3, 4, 4}));
  CHECK(net.type() == "NetChain");
  CHECK(net.size() == 2);
  CHECK(net.layer_name(0) == "1");
  CHECK(net.layer_name(1) == "norm2");
  CHECK(net.outputs()[0].shape == Shape{3, 4, 4});
  CHECK(net.layer(1).arrays()[0].shape == Shape{3});
  CHECK(net.missing_arrays() ==
        std::vector<std::string>{"1/Gamma", "1/Beta", "norm2/Gamma", "norm2/Beta"});
}

TEST_CASE("NetChain infers backwards from a present array") {
  InstanceNormalizationLayer fixed;
  fixed.set_array("Gamma", Tensor({6}, 1.0f));
  NetChain net({InstanceNormalizationLayer(), fixed}, Input(Shape::of_rank(3)));
  CHECK(net.inputs()[0].shape == Shape{6, kUnknownDim, kUnknownDim});
  CHECK(net.layer(0).arrays()[0].shape == Shape{6});
}

TEST_CASE("NetChain conflicts name both layers") {
  InstanceNormalizationLayer a, b;
  a.set_array("Gamma", Tensor({8}, 1.0f));
  b.set_array("Gamma", Tensor({16}, 1.0f));
  const char* conflict =
      "NetChain: norm2.Input expects [16, ?, ?], but norm1.Output gives [8, ?, ?]";
  CHECK_THROWS_WITH_AS(NetChain({{"norm1", a}, {"norm2", b}}, Input(Shape::of_rank(3))), conflict,
                       Error);
  CHECK_THROWS_WITH_AS(NetChain({{"norm1", a}, {"norm2", b}}, Input({8, 4, 4})), conflict, Error);
  // The same pair when the shapes flow back from the later layer instead.
  InstanceNormalizationLayer b3 = b;
  b3.constrain_input(0, Shape::of_rank(3));
  CHECK_THROWS_WITH_AS(NetChain({{"norm1", a}, {"norm2", b3}}), conflict, Error);
  CHECK_THROWS_WITH_AS(NetChain({{"norm1", a}}, Input({4, 2, 2})),
                       doctest::Contains("(norm1.Input is [4, 2, 2] from #Input)"), Error);
  // Once a layer knows its input rank, a conflict is reported on the connection.
  InstanceNormalizationLayer c;
  c.set_array("Gamma", Tensor({16}, 1.0f));
  c.constrain_input(0, Shape::of_rank(3));
  CHECK_THROWS_WITH_AS(NetChain({{"norm1", a}, {"norm2", c}}, Input(Shape::of_rank(3))),
                       "NetChain: norm2.Input expects [16, ?, ?], but norm1.Output gives [8, ?, ?]",
                       Error);
  CHECK_THROWS_WITH_AS(NetChain({{"n", a}, {"n", b}}),
                       doctest::Contains("two layers are named \"n\""), Error);
  CHECK_THROWS_WITH_AS(NetChain({}), doctest::Contains("at least one layer"), Error);
}

TEST_CASE("NetChain applies its layers in order; one example or a batch") {
  NetChain net({InstanceNormalizationLayer(), InstanceNormalizationLayer()}, Input({2, 3, 3}));
  CHECK_THROWS_WITH_AS(net(random_tensor({2, 3, 3}, 1)), doctest::Contains("NetInitialize"), Error);
  NetInitialize(net);
  NetReplaceArray(net, "2/Beta", Tensor({2}, std::vector<float>{1.0f, -1.0f}));
  Tensor x = random_tensor({2, 3, 3}, 1);
  Tensor y = net(x);
  Tensor direct = net.layer(1)(net.layer(0)(x));
  CHECK(y == direct);
  CHECK(net(random_tensor({5, 2, 3, 3}, 2)).shape() == Dims{5, 2, 3, 3});
  CHECK_THROWS_WITH_AS(net(random_tensor({3, 3, 3}, 1)), doctest::Contains("Input"), Error);
}

TEST_CASE("NetChain gradients match finite differences, nested chains included") {
  NetChain inner({InstanceNormalizationLayer(), InstanceNormalizationLayer()});
  NetChain net({InstanceNormalizationLayer(), {"inner", inner}}, Input({2, 5}));
  NetInitialize(net,
                {.method = InitMethod::Random, .scale = 0.5, .seed = 3, .reinitialize_all = false});
  // Non-trivial Gamma and Beta everywhere.
  for (const auto& [path, value] : NetExtractArrays(net))
    NetReplaceArray(net, path, random_tensor(value.shape(), path.size() + 1, 0.5f, 1.5f));
  auto report = strata::testing::check_gradients(net, {random_tensor({3, 2, 5}, 4)});
  CAPTURE(report.worst);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("NetSummary lists layers, shapes and parameter counts") {
  NetChain net({{"norm", InstanceNormalizationLayer()}}, Input({4, 3, 3}));
  const std::string s = NetSummary(net);
  CHECK(s.find("norm  InstanceNormalizationLayer  [4, 3, 3]  [4, 3, 3]") != std::string::npos);
  CHECK(s.find("total parameters: 8 (trainable: 8)") != std::string::npos);
  CHECK(s.find("(Automatic)") != std::string::npos);
}
