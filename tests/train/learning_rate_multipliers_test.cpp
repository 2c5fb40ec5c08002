#include "train/learning_rate_multipliers.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/batch_normalization.hpp"
#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/softmax.hpp"
#include "support/gradcheck.hpp"
#include "train/initialize.hpp"
#include "train/net_train.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

// A FlattenLayer that counts its backward calls: to see which backward
// passes a frozen prefix skips.
struct CountingFlatten : FlattenLayer {
  static inline int calls = 0;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<CountingFlatten>(*this); }
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override {
    ++calls;
    FlattenLayer::backward(in, out, out_grad, ws, in_grad, array_grad);
  }
};

NetChain small_net() {
  NetChain net({{"conv1", ConvolutionLayer(3, {3, 3}).padding_size(1)},
                {"norm1", InstanceNormalizationLayer()},
                ElementwiseLayer("Ramp"),
                {"flat", CountingFlatten()},
                {"fc", LinearLayer(3)},
                SoftmaxLayer()},
               Input({1, 4, 4}));
  NetInitialize(net, {.seed = 3});
  return net;
}

Dataset small_data() {
  Dataset d{random_tensor({12, 1, 4, 4}, 5), Tensor({12})};
  for (int64_t i = 0; i < 12; ++i)
    d.targets[i] = static_cast<float>(i % 3);
  return d;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

std::vector<ArrayPathSegment> path_of(
    std::initializer_list<std::pair<const char*, const char*>> s) {
  std::vector<ArrayPathSegment> out;
  for (const auto& [name, position] : s)
    out.push_back({name, position});
  return out;
}

}  // namespace

TEST_CASE("frozen arrays are bit-identical after training (SGD with momentum and L2, Adam)") {
  for (const std::string method : {"SGD", "ADAM"}) {
    CAPTURE(method);
    NetChain net = small_net();
    const Tensor conv_w = NetExtract(net, "conv1/Weights");
    const Tensor conv_b = NetExtract(net, "conv1/Biases");
    const Tensor gamma = NetExtract(net, "norm1/Gamma");
    const Tensor fc_w = NetExtract(net, "fc/Weights");
    auto optimizer =
        method == "SGD"
            ? make_optimizer("SGD",
                             {{"LearningRate", 0.1}, {"Momentum", 0.9}, {"L2Regularization", 0.01}})
            : make_optimizer("ADAM", {{"LearningRate", 0.01}, {"L2Regularization", 0.01}});
    NetTrain(net, small_data(),
             {.batch_size = 4,
              .rounds = 3,
              .learning_rate_multipliers = {{"conv1", 0}, {"norm1/Gamma", 0}},
              .quiet = true},
             *optimizer);
    CHECK(same_bits(NetExtract(net, "conv1/Weights"), conv_w));
    CHECK(same_bits(NetExtract(net, "conv1/Biases"), conv_b));
    CHECK(same_bits(NetExtract(net, "norm1/Gamma"), gamma));
    CHECK_FALSE(same_bits(NetExtract(net, "fc/Weights"), fc_w));
    // The optimizer never saw the frozen arrays: no state kept for them.
    for (const auto& [name, t] : optimizer->state().tensors)
      CHECK(t.shape() != conv_w.shape());
  }
}

TEST_CASE("a learning-rate multiplier of 2 makes the first SGD step twice as long") {
  auto delta = [](double r) {
    NetChain net = small_net();
    const Tensor before = NetExtract(net, "fc/Weights");
    SGD sgd(0.1);
    NetTrain(
        net, small_data(),
        {.batch_size = 12, .rounds = 1, .learning_rate_multipliers = {{"fc", r}}, .quiet = true},
        sgd);
    Tensor d = NetExtract(net, "fc/Weights");
    for (int64_t i = 0; i < d.size(); ++i)
      d[i] = before[i] - d[i];
    return d;
  };
  const Tensor one = delta(1), two = delta(2);
  double largest = 0;
  for (int64_t i = 0; i < one.size(); ++i) {
    CHECK(two[i] == doctest::Approx(2 * one[i]).epsilon(1e-4));
    largest = std::max(largest, std::abs(static_cast<double>(one[i])));
  }
  CHECK(largest > 1e-4);  // the step is not trivially zero
}

TEST_CASE("Optimizer::step scales each parameter's learning rate by its multiplier") {
  Tensor p1({2}, 1.0f), p2({2}, 1.0f), g({2}, 0.5f);
  Tensor* params[] = {&p1, &p2};
  const Tensor* grads[] = {&g, &g};
  const float multipliers[] = {1.0f, 3.0f};
  SGD sgd(0.1);
  sgd.step(params, grads, multipliers);
  CHECK(p1[0] == doctest::Approx(0.95));
  CHECK(p2[0] == doctest::Approx(0.85));
  Adam adam(0.01);
  adam.step(params, grads, multipliers);  // Adam's first step is ±η·r
  CHECK(p1[0] == doctest::Approx(0.94));
  CHECK(p2[0] == doctest::Approx(0.82));
  const float bad[] = {1.0f, -1.0f};
  CHECK_THROWS_WITH_AS(sgd.step(params, grads, bad), doctest::Contains("multiplier of parameter 1"),
                       Error);
}

TEST_CASE("learning-rate multiplier patterns: names, nested paths, positions, wildcards") {
  const auto p = path_of({{"block1", "2"}, {"norm", "3"}, {"Gamma", ""}});
  CHECK(pattern_matches("block1", p));
  CHECK(pattern_matches("block1/norm", p));
  CHECK(pattern_matches("block1/norm/Gamma", p));
  CHECK_FALSE(pattern_matches("block1/norm/Beta", p));
  CHECK(pattern_matches("2", p));
  CHECK(pattern_matches("2/3", p));
  CHECK(pattern_matches("block1/3", p));
  CHECK_FALSE(pattern_matches("3", p));
  CHECK(pattern_matches("block*", p));
  CHECK(pattern_matches("bl*", p));
  CHECK_FALSE(pattern_matches("conv*", p));
  CHECK(pattern_matches("block1/n*", p));
  CHECK(pattern_matches("*", p));
  CHECK(pattern_matches("_", p));
  CHECK_FALSE(pattern_matches("block", p));  // a name, not a prefix
  CHECK_FALSE(pattern_matches("block1/norm/Gamma/x", p));
}

TEST_CASE("learning-rate multipliers resolve on a net: first match wins, default for the rest") {
  NetChain inner({{"conv", ConvolutionLayer(2, {3, 3}).padding_size(1)},
                  {"norm", InstanceNormalizationLayer()}});
  NetChain net({{"block1", inner}, {"block2", inner}, FlattenLayer(), {"fc", LinearLayer(2)}},
               Input({1, 4, 4}));
  // Arrays: block1/conv/{Weights,Biases}, block1/norm/{Gamma,Beta}, block2/…, fc/{Weights,Biases}.
  const auto all = net.all_arrays();
  REQUIRE(all.size() == 10);
  auto r = resolve_learning_rate_multipliers(
      net, {{"block1/norm", 0.5}, {"block*", 0}, {"4", 2}, {"_", 3}});
  CHECK(r == std::vector<double>{0, 0, 0.5, 0.5, 0, 0, 0, 0, 2, 2});
  r = resolve_learning_rate_multipliers(net, {{"2/conv/Weights", 0}});
  CHECK(r == std::vector<double>{1, 1, 1, 1, 0, 1, 1, 1, 1, 1});
  r = resolve_learning_rate_multipliers(net, {{"fc", 1}, {"*", 0}});
  CHECK(r == std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1});
  CHECK_THROWS_WITH_AS(resolve_learning_rate_multipliers(net, {{"conv9", 0}}),
                       doctest::Contains("\"conv9\" matches no array"), Error);
  CHECK_THROWS_WITH_AS(resolve_learning_rate_multipliers(net, {{"3", 0}}),  // FlattenLayer
                       doctest::Contains("\"3\" matches no array"), Error);
  CHECK_THROWS_WITH_AS(resolve_learning_rate_multipliers(net, {{"fc", -1}}),
                       doctest::Contains("\"fc\": expected a multiplier of at least 0"), Error);
}

TEST_CASE("NetTrain names a pattern that matches nothing") {
  NetChain net = small_net();
  CHECK_THROWS_WITH_AS(
      NetTrain(net, small_data(),
               {.rounds = 1, .learning_rate_multipliers = {{"cnov1", 0}}, .quiet = true}),
      doctest::Contains("\"cnov1\" matches no array"), Error);
}

TEST_CASE("parse_learning_rate_multipliers reads the command line's form") {
  const auto rules = parse_learning_rate_multipliers("conv*=0, fc=2,_=0.5");
  REQUIRE(rules.size() == 3);
  CHECK(rules[0] == std::pair<std::string, double>{"conv*", 0});
  CHECK(rules[1] == std::pair<std::string, double>{"fc", 2});
  CHECK(rules[2] == std::pair<std::string, double>{"_", 0.5});
  CHECK_THROWS_WITH_AS(parse_learning_rate_multipliers("conv1=0,fc"),
                       doctest::Contains("\"fc\": expected PATTERN=NUMBER"), Error);
  CHECK_THROWS_WITH_AS(parse_learning_rate_multipliers("fc=two"), doctest::Contains("\"fc=two\""),
                       Error);
}

TEST_CASE("a frozen BatchNormalizationLayer keeps its moving statistics") {
  for (const double r : {0.0, 1.0}) {
    CAPTURE(r);
    NetChain net({{"conv1", ConvolutionLayer(2, {3, 3}).padding_size(1)},
                  {"bn", BatchNormalizationLayer()},
                  FlattenLayer(),
                  {"fc", LinearLayer(3)},
                  SoftmaxLayer()},
                 Input({1, 4, 4}));
    NetInitialize(net, {.seed = 1});
    const Tensor mean = NetExtract(net, "bn/MovingMean");
    const Tensor variance = NetExtract(net, "bn/MovingVariance");
    const Tensor gamma = NetExtract(net, "bn/Gamma");
    NetTrain(
        net, small_data(),
        {.batch_size = 4, .rounds = 2, .learning_rate_multipliers = {{"bn", r}}, .quiet = true});
    CHECK(same_bits(NetExtract(net, "bn/MovingMean"), mean) == (r == 0));
    CHECK(same_bits(NetExtract(net, "bn/MovingVariance"), variance) == (r == 0));
    CHECK(same_bits(NetExtract(net, "bn/Gamma"), gamma) == (r == 0));
  }
}

TEST_CASE("backward skips the layers before the first one that trains") {
  for (const auto& [rules, calls] : std::vector<std::pair<LearningRateMultipliers, int>>{
           {{{"fc", 1}, {"_", 0}}, 0}, {{{"norm1", 0}}, 3}, {{}, 3}}) {
    NetChain net = small_net();
    CountingFlatten::calls = 0;
    NetTrain(net, small_data(),
             {.batch_size = 4, .rounds = 1, .learning_rate_multipliers = rules, .quiet = true});
    CHECK(CountingFlatten::calls == calls);
  }
}
