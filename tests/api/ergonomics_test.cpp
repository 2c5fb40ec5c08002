// The C++ API as a new user writes it: named tensor constructors and nested
// lists, printing, nets as regular values, one-call input shapes, schedules
// and temporary optimizers given to NetTrain.
#include <doctest/doctest.h>

#include <sstream>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "graph/net_graph.hpp"
#include "graph/summary.hpp"
#include "layers/elementwise.hpp"
#include "layers/linear.hpp"
#include "layers/softmax.hpp"
#include "layers/total.hpp"
#include "train/initialize.hpp"
#include "train/net_train.hpp"

using namespace strata;

TEST_CASE("Tensor::zeros, ones, full and from nested lists") {
  CHECK(Tensor::zeros({4}) == Tensor(Dims{4}, 0.0f));
  CHECK(Tensor::ones({2, 3}) == Tensor(Dims{2, 3}, 1.0f));
  CHECK(Tensor::full({2}, 7.5f) == Tensor(Dims{2}, std::vector<float>{7.5f, 7.5f}));
  // As torch::tensor({4}): one element holding 4, not a shape.
  CHECK(Tensor::from({4}) == Tensor(Dims{1}, std::vector<float>{4}));
  CHECK(Tensor::from({{1, 2}, {3, 4.5}}) == Tensor(Dims{2, 2}, std::vector<float>{1, 2, 3, 4.5}));
  CHECK(Tensor::from({{{1}, {2}}}).shape() == Dims{1, 2, 1});
  CHECK(Tensor::from(2.5) == Tensor(Dims{}, std::vector<float>{2.5}));
  CHECK_THROWS_WITH_AS(Tensor::from({{1, 2}, {3}}),
                       "Tensor::from: item [1] has 1 items where 2 are expected (ragged list)",
                       Error);
  CHECK_THROWS_WITH_AS(Tensor::from({{1, 2}, 3}),
                       "Tensor::from: item [1] has a number where 2 are expected (ragged list)",
                       Error);
  CHECK_THROWS_WITH_AS(Tensor::from({1, {2}}),
                       "Tensor::from: item [1] is a list where the first items hold numbers "
                       "(ragged list)",
                       Error);
}

TEST_CASE("Tensors and nets print") {
  std::ostringstream s;
  s << Tensor::from({{1, 2, 3}, {4, 5, 6}});
  CHECK(s.str() == "Tensor [2, 3] {{1, 2, 3}, {4, 5, 6}}");
  std::ostringstream big;
  Tensor t({10});
  for (int i = 0; i < 10; ++i)
    t[i] = static_cast<float>(i);
  big << t;
  CHECK(big.str() == "Tensor [10] {0, 1, 2, 3, 4, …, 9}");
  std::ostringstream scalar;
  scalar << Tensor::from(0.5);
  CHECK(scalar.str() == "Tensor [] 0.5");

  NetChain net({{"fc", LinearLayer(3)}, SoftmaxLayer()}, Input({4}));
  std::ostringstream summary;
  summary << net;
  CHECK(summary.str() == NetSummary(net));
  CHECK(summary.str().find("fc") != std::string::npos);
}

TEST_CASE("Nets are regular values: copied, moved and assigned") {
  NetChain a({{"fc", LinearLayer(3)}}, Input({4}));
  NetInitialize(a, {.seed = 1});
  NetChain b({{"other", LinearLayer(2)}, {"act", ElementwiseLayer("Tanh")}}, Input({5}));
  b = a;
  CHECK(b.size() == 1);
  CHECK(b.layer_name(0) == "fc");
  CHECK(*b.layer(0).array("Weights") == *a.layer(0).array("Weights"));
  // A deep copy: changing one leaves the other.
  b.layer(0).set_array("Biases", Tensor::ones({3}));
  CHECK(*a.layer(0).array("Biases") == Tensor::zeros({3}));
  NetChain c({LinearLayer(1)}, Input({1}));
  c = std::move(b);
  CHECK(*c.layer(0).array("Biases") == Tensor::ones({3}));
  CHECK(c(Tensor::ones({4})).shape() == Dims{3});

  NetGraph g({{"x", LinearLayer(2)}}, {{"#Input", "x"}, {"x", "#Output"}}, {{"Input", {3}}});
  NetGraph h({{"y", LinearLayer(1)}, {"z", TotalLayer()}},
             {{"#Input", "y"}, {"y", "z"}, {"#Input", "z"}, {"z", "#Output"}});
  h = g;
  CHECK(h.size() == 1);
  CHECK(h.connections().size() == 2);
  CHECK(h.outputs()[0].shape == Shape{2});
}

TEST_CASE("layer.input(shape) fixes the input and infers at once") {
  LinearLayer fc(3);
  fc.input({4});
  CHECK(fc.arrays()[LinearLayer::kWeights].shape == Shape{3, 4});
  NetInitialize(fc);  // no separate infer_shapes needed
  CHECK(fc(Tensor::ones({4})).shape() == Dims{3});
  // A shape that cannot fit fails at once, naming the layer and port.
  LinearLayer small(2);
  small.set_array("Weights", Tensor::zeros({2, 5}));
  CHECK_THROWS_WITH_AS(small.input({4}), doctest::Contains("LinearLayer"), Error);
  CHECK_THROWS_WITH_AS(TotalLayer().input({4}), doctest::Contains("input ports"), Error);
}

TEST_CASE("NetTrain takes a LearningRateSchedule as it is, and a temporary optimizer") {
  Dataset data{Tensor::from({{1, 0}, {0, 1}, {1, 1}, {0, 0}}), Tensor::from({1, 0, 1, 0})};
  auto rates = [&](RoundSchedule schedule) {
    NetChain net({LinearLayer(1)}, Input({2}));
    std::vector<double> seen;
    TrainOptions o{.batch_size = 2, .rounds = 3, .schedule = std::move(schedule), .quiet = true};
    o.on_round = [&](const RoundRecord& r) {
      seen.push_back(r.learning_rate);
      return true;
    };
    NetTrain(net, data, o, SGD(0.4));  // a temporary optimizer
    return seen;
  };
  // Round 1 of NetTrain is round 0 of the schedule: no off-by-one adapter.
  const auto step = rates(LearningRateSchedule::step(0.4, 1, 0.5));
  REQUIRE(step.size() == 3);
  CHECK(step[0] == doctest::Approx(0.4));
  CHECK(step[1] == doctest::Approx(0.2));
  CHECK(step[2] == doctest::Approx(0.1));
  const auto fn = rates([](int round, double rate) { return rate / round; });
  CHECK(fn[2] == doctest::Approx(0.4 / 3));
}

TEST_CASE("TrainOptions' designated initializers go in the order users set them") {
  // This compiles only with the fields declared in this order (a designated
  // initializer must follow it): sizes, seed, the learning rate, the loss
  // and validation, then reporting.
  Dataset data{Tensor::from({{1, 0}, {0, 1}, {1, 1}, {0, 0}}), Tensor::from({1, 0, 1, 0})};
  const TrainOptions o{.batch_size = 2,
                       .rounds = 2,
                       .seed = 3,
                       .shuffle = false,
                       .schedule = LearningRateSchedule::cosine(0.1, 2),
                       .learning_rate_multipliers = {{"1", 1}},
                       .loss = LossFunction::MeanSquared,
                       .validation = data,
                       .quiet = true};
  NetChain net({LinearLayer(1)}, Input({2}));
  const TrainResult r = NetTrain(net, data, o, SGD(0.1));
  REQUIRE(r.rounds.size() == 2);
  CHECK(r.rounds[0].validation_loss.has_value());
}
