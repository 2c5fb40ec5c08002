#include "train/initialize.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "core/threads.hpp"
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

#include <cmath>

#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/linear.hpp"

namespace {

double stddev(const Tensor& t) {
  double m = 0, v = 0;
  for (float x : t.values())
    m += x;
  m /= t.size();
  for (float x : t.values())
    v += (x - m) * (x - m);
  return std::sqrt(v / t.size());
}

NetChain init_net() {
  return NetChain({{"conv", ConvolutionLayer(64, {3, 3})},
                   {"norm", InstanceNormalizationLayer()},
                   {"ramp", ElementwiseLayer("Ramp")},
                   {"linear", LinearLayer(100)}},
                  Input({32, 6, 6}));
}

}  // namespace

TEST_CASE("NetInitialize: Kaiming before a Ramp, Xavier otherwise, with the right spread") {
  NetChain net = init_net();
  NetInitialize(net, {.seed = 3});
  // conv reaches a Ramp through the normalization: Kaiming, std sqrt(2 / fan_in).
  CHECK(stddev(NetExtract(net, "conv/Weights")) ==
        doctest::Approx(std::sqrt(2.0 / (32 * 9))).epsilon(0.03));
  // linear does not: Xavier, std sqrt(2 / (fan_in + fan_out)).
  CHECK(stddev(NetExtract(net, "linear/Weights")) ==
        doctest::Approx(std::sqrt(2.0 / (64 * 4 * 4 + 100))).epsilon(0.03));
  CHECK(NetExtract(net, "linear/Biases") == Tensor({100}, 0.0f));

  NetChain xavier = init_net();
  NetInitialize(xavier, {.method = InitMethod::Xavier, .seed = 3});
  CHECK(stddev(NetExtract(xavier, "conv/Weights")) ==
        doctest::Approx(std::sqrt(2.0 / (32 * 9 + 64 * 9))).epsilon(0.03));
  NetChain random = init_net();
  NetInitialize(random, {.method = InitMethod::Random, .scale = 0.2, .seed = 3});
  CHECK(stddev(NetExtract(random, "linear/Weights")) == doctest::Approx(0.2).epsilon(0.03));
}

TEST_CASE("NetInitialize is bit-identical for a seed, on any thread count") {
  NetChain a = init_net(), b = init_net(), c = init_net();
  const int threads = num_threads();
  set_num_threads(1);
  NetInitialize(a, {.seed = 11});
  set_num_threads(2);
  NetInitialize(b, {.seed = 11});
  set_num_threads(threads);
  NetInitialize(c, {.seed = 12});
  CHECK(NetExtractArrays(a) == NetExtractArrays(b));
  CHECK_FALSE(NetExtract(a, "conv/Weights") == NetExtract(c, "conv/Weights"));
}

TEST_CASE("NetInitialize refuses arrays larger than the memory, naming them, before allocating") {
  // 10^12 floats: 3.64 TiB, more than any machine this runs on.
  NetChain net({{"hidden", LinearLayer(1000000)}, {"out", LinearLayer(2)}}, Input({1000000}));
  CHECK_THROWS_WITH_AS(NetInitialize(net),
                       doctest::Contains("cannot initialize hidden/Weights [1000000, 1000000] "
                                         "(LinearLayer): it needs 3.64 TiB (4000000000000 bytes), "
                                         "more than the "),
                       Error);
  // Nothing was made, not even the arrays that would have fitted.
  CHECK(net.missing_arrays().size() == 4);
}
