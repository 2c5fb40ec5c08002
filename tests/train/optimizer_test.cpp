#include "train/optimizer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::compare_tensors;
using strata::testing::random_tensor;
using strata::testing::tensor_from_json;

namespace {

std::vector<Tensor> tensors(const nlohmann::json& list) {
  std::vector<Tensor> out;
  for (const auto& t : list)
    out.push_back(tensor_from_json(t));
  return out;
}

// Runs steps [first, last) of a reference case on `params`.
void run_steps(Optimizer& optimizer, std::vector<Tensor>& params, const nlohmann::json& c,
               size_t first, size_t last) {
  std::vector<Tensor*> p;
  for (auto& t : params)
    p.push_back(&t);
  for (size_t k = first; k < last; ++k) {
    CAPTURE(k);
    const auto grads = tensors(c.at("gradients")[k]);
    std::vector<const Tensor*> g;
    for (const auto& t : grads)
      g.push_back(&t);
    if (c.contains("learning_rates")) optimizer.set_learning_rate(c["learning_rates"][k]);
    optimizer.step(p, g);
    const auto want = tensors(c.at("trajectory")[k]);
    REQUIRE(want.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      CAPTURE(i);
      CHECK(compare_tensors(params[i], want[i], 1e-5, 1e-6) <= 1.0);
    }
  }
}

}  // namespace

TEST_CASE("SGD and ADAM follow torch.optim's trajectories") {
  const auto file = strata::testing::load_test_data("optimizers.json");
  REQUIRE(file.at("cases").size() >= 10);
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    auto optimizer = make_optimizer(c.at("method").get<std::string>(), c.at("options"));
    auto params = tensors(c.at("parameters"));
    const size_t steps = c.at("gradients").size();
    run_steps(*optimizer, params, c, 0, steps);
    CHECK(optimizer->steps() == static_cast<int64_t>(steps));
  }
}

TEST_CASE("an exported optimizer state continues identically after import") {
  const auto file = strata::testing::load_test_data("optimizers.json");
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    const size_t steps = c.at("gradients").size(), half = steps / 2;
    // Uninterrupted.
    auto straight = make_optimizer(c.at("method").get<std::string>(), c.at("options"));
    auto p1 = tensors(c.at("parameters"));
    run_steps(*straight, p1, c, 0, steps);
    // Interrupted halfway: a new optimizer from the exported state.
    auto first = make_optimizer(c.at("method").get<std::string>(), c.at("options"));
    auto p2 = tensors(c.at("parameters"));
    run_steps(*first, p2, c, 0, half);
    const OptimizerState state = first->state();
    CHECK(state.steps == static_cast<int64_t>(half));
    auto second = make_optimizer(c.at("method").get<std::string>(), c.at("options"));
    second->set_state(state);
    CHECK(second->steps() == static_cast<int64_t>(half));
    if (c.contains("learning_rates")) second->set_learning_rate(c["learning_rates"][half - 1]);
    run_steps(*second, p2, c, half, steps);
    for (size_t i = 0; i < p1.size(); ++i)
      CHECK(p1[i] == p2[i]);  // bitwise
    const auto end1 = straight->state(), end2 = second->state();
    CHECK(end1.tensors == end2.tensors);
  }
}

TEST_CASE("optimizer state names its buffers by parameter") {
  Tensor w({2, 2}, 1.0f), b({3}, 1.0f), gw({2, 2}, 0.5f), gb({3}, 0.25f);
  std::vector<Tensor*> p{&w, &b};
  std::vector<const Tensor*> g{&gw, &gb};

  SGD plain(0.1);
  CHECK(plain.state().tensors.empty());
  plain.step(p, g);
  CHECK(plain.state().steps == 1);
  CHECK(plain.state().tensors.empty());  // no momentum, no buffers

  SGD sgd(0.1);
  sgd.momentum(0.5);
  sgd.step(p, g);
  auto s = sgd.state();
  CHECK(s.method == "SGD");
  REQUIRE(s.tensors.size() == 2);
  CHECK(s.tensors[0].first == "0.Velocity");
  CHECK(s.tensors[1].first == "1.Velocity");
  CHECK(s.tensors[1].second == gb);  // v = g on the first step

  Adam adam;
  adam.step(p, g);
  s = adam.state();
  CHECK(s.method == "ADAM");
  REQUIRE(s.tensors.size() == 4);
  CHECK(s.tensors[0].first == "0.FirstMoment");
  CHECK(s.tensors[1].first == "0.SecondMoment");
  CHECK(s.tensors[3].first == "1.SecondMoment");
  CHECK(s.tensors[3].second.shape() == Dims{3});
}

TEST_CASE("optimizer state import is checked") {
  Tensor w({2, 2}, 1.0f), b({3}, 1.0f), gw({2, 2}, 0.5f), gb({3}, 0.25f);
  std::vector<Tensor*> p{&w, &b};
  std::vector<const Tensor*> g{&gw, &gb};
  Adam adam;
  adam.step(p, g);
  const OptimizerState good = adam.state();

  Adam other;
  auto bad = good;
  bad.method = "SGD";
  CHECK_THROWS_WITH_AS(other.set_state(bad), "optimizer state: it is the state of SGD, not of ADAM",
                       Error);
  bad = good;
  bad.steps = -1;
  CHECK_THROWS_WITH_AS(other.set_state(bad), doctest::Contains("steps: expected 0 or more"), Error);
  bad = good;
  bad.tensors[1].first = "0.Variance";
  CHECK_THROWS_WITH_AS(other.set_state(bad),
                       "optimizer state: unexpected entry \"0.Variance\" (ADAM keeps "
                       "<i>.FirstMoment, <i>.SecondMoment, <i> a parameter index)",
                       Error);
  bad = good;
  bad.tensors[1].first = "x.SecondMoment";
  CHECK_THROWS_WITH_AS(other.set_state(bad),
                       doctest::Contains("unexpected entry \"x.SecondMoment\""), Error);
  bad = good;
  bad.tensors[3].first = "1.FirstMoment";
  CHECK_THROWS_WITH_AS(other.set_state(bad), "optimizer state: \"1.FirstMoment\" appears twice",
                       Error);
  bad = good;
  bad.tensors.pop_back();
  CHECK_THROWS_WITH_AS(other.set_state(bad), "optimizer state: missing \"1.SecondMoment\"", Error);
  bad = good;
  bad.tensors.clear();
  CHECK_THROWS_WITH_AS(other.set_state(bad), doctest::Contains("missing \"0.FirstMoment\""), Error);
  bad = good;
  bad.tensors[3].second = Tensor({4});
  CHECK_THROWS_WITH_AS(other.set_state(bad),
                       "optimizer state: \"1.SecondMoment\" has shape [4], but \"1.FirstMoment\" "
                       "has [3]",
                       Error);
  bad = good;
  bad.steps = 0;
  CHECK_THROWS_WITH_AS(other.set_state(bad), doctest::Contains("a state of 0 steps has no buffers"),
                       Error);
  // A failed import changes nothing.
  CHECK(other.steps() == 0);
  CHECK(other.state().tensors.empty());

  // Consistent state, but for other parameters: refused at the next step.
  other.set_state(good);
  Tensor w3({3, 2}, 1.0f), gw3({3, 2}, 0.5f);
  std::vector<Tensor*> p3{&w3, &b};
  std::vector<const Tensor*> g3{&gw3, &gb};
  CHECK_THROWS_WITH_AS(other.step(p3, g3),
                       "parameter 0 has shape [3, 2], but the optimizer's state is for [2, 2] "
                       "(pass the same parameters, in the same order, every step)",
                       Error);
  CHECK(w3 == Tensor({3, 2}, 1.0f));
  CHECK(other.steps() == 1);
}

TEST_CASE("optimizer steps refuse mismatched parameters and gradients") {
  Tensor w({2, 3}, 1.0f), b({3}, 1.0f), gw({2, 3}, 0.5f), gb({3}, 0.25f), wrong({3, 2});
  SGD sgd(0.1);
  sgd.momentum(0.9);
  std::vector<Tensor*> p{&w, &b};
  CHECK_THROWS_WITH_AS(sgd.step(p, std::vector<const Tensor*>{&gw}), "2 parameters but 1 gradients",
                       Error);
  CHECK_THROWS_WITH_AS(sgd.step(p, std::vector<const Tensor*>{&wrong, &gb}),
                       "the gradient of parameter 0 has shape [3, 2], expected [2, 3] (the "
                       "parameter's shape)",
                       Error);
  CHECK_THROWS_WITH_AS(sgd.step(p, std::vector<const Tensor*>{&gw, nullptr}),
                       "the gradient of parameter 1 is null", Error);
  CHECK_THROWS_WITH_AS(
      sgd.step(std::vector<Tensor*>{&w, nullptr}, std::vector<const Tensor*>{&gw, &gb}),
      "parameter 1 is null", Error);
  CHECK(sgd.steps() == 0);
  CHECK(w == Tensor({2, 3}, 1.0f));
  sgd.step(p, std::vector<const Tensor*>{&gw, &gb});
  CHECK_THROWS_WITH_AS(sgd.step(std::vector<Tensor*>{&w}, std::vector<const Tensor*>{&gw}),
                       "1 parameters, but the optimizer's state is for 2 (pass the same "
                       "parameters, in the same order, every step)",
                       Error);
}

TEST_CASE("gradient clipping scales all gradients together to the bound") {
  // One parameter, gradient (3, 4): norm 5.
  Tensor p({2}, 0.0f), g({2}, std::vector<float>{3, 4});
  std::vector<Tensor*> ps{&p};
  std::vector<const Tensor*> gs{&g};
  SGD sgd(1.0);
  sgd.gradient_clipping(1.0);
  sgd.step(ps, gs);
  CHECK(p[0] == doctest::Approx(-0.6).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(-0.8).epsilon(1e-6));
  // Below the bound: unchanged.
  sgd.gradient_clipping(10.0);
  p.fill(0);
  sgd.step(ps, gs);
  CHECK(p[0] == -3.0f);
  CHECK(p[1] == -4.0f);
  // Across parameters: (3, 4) and (12): norm 13.
  Tensor q({1}, 0.0f), h({1}, 12.0f);
  p.fill(0);
  SGD both(1.0);
  both.gradient_clipping(1.3);
  both.step(std::vector<Tensor*>{&p, &q}, std::vector<const Tensor*>{&g, &h});
  CHECK(p[0] == doctest::Approx(-0.3).epsilon(1e-6));
  CHECK(q[0] == doctest::Approx(-1.2).epsilon(1e-6));
}

TEST_CASE("optimizer options: defaults, setters, JSON and errors") {
  SGD sgd;
  CHECK(sgd.learning_rate() == 0.01);
  CHECK(sgd.options() == nlohmann::json{{"LearningRate", 0.01},
                                        {"Momentum", 0.0},
                                        {"L2Regularization", 0.0},
                                        {"GradientClipping", nullptr}});
  sgd.learning_rate(0.5).momentum(0.9).l2_regularization(1e-4).gradient_clipping(2);
  CHECK(sgd.options()["Momentum"] == 0.9);
  CHECK(sgd.options()["GradientClipping"] == 2.0);
  sgd.set_option("GradientClipping", nullptr);
  CHECK(sgd.gradient_clipping() == 0);
  sgd.set_learning_rate(0.25);  // between steps, as a schedule does
  CHECK(sgd.learning_rate() == 0.25);

  Adam adam;
  CHECK(adam.options() == nlohmann::json{{"LearningRate", 0.001},
                                         {"Beta1", 0.9},
                                         {"Beta2", 0.999},
                                         {"Epsilon", 1e-8},
                                         {"L2Regularization", 0.0},
                                         {"GradientClipping", nullptr}});
  auto made = make_optimizer("ADAM", {{"Beta2", 0.99}, {"LearningRate", 0.1}});
  CHECK(made->method() == "ADAM");
  CHECK(made->options()["Beta2"] == 0.99);
  CHECK(made->learning_rate() == 0.1);

  CHECK_THROWS_WITH_AS(SGD(-0.1), "LearningRate: expected a non-negative number, got -0.1", Error);
  CHECK_THROWS_WITH_AS(sgd.set_learning_rate(std::nan("")), doctest::Contains("LearningRate"),
                       Error);
  CHECK_THROWS_WITH_AS(sgd.momentum(1.0), "Momentum: expected a number in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(sgd.momentum(-0.5), doctest::Contains("Momentum"), Error);
  CHECK_THROWS_WITH_AS(sgd.l2_regularization(-1e-3),
                       "L2Regularization: expected a non-negative number, got -0.001", Error);
  CHECK_THROWS_WITH_AS(sgd.gradient_clipping(-1),
                       "GradientClipping: expected a non-negative number (0 for none), got -1",
                       Error);
  CHECK_THROWS_WITH_AS(adam.beta1(1.0), "Beta1: expected a number in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(adam.beta2(-0.1), "Beta2: expected a number in [0, 1), got -0.1", Error);
  CHECK_THROWS_WITH_AS(adam.epsilon(0), "Epsilon: expected a positive number, got 0", Error);
  CHECK_THROWS_WITH_AS(adam.set_option("Beta1", "high"),
                       doctest::Contains("Beta1: expected a number"), Error);
  CHECK_THROWS_WITH_AS(sgd.set_option("Nesterov", true),
                       "unknown option \"Nesterov\" for SGD (options: LearningRate, Momentum, "
                       "L2Regularization, GradientClipping)",
                       Error);
  CHECK_THROWS_WITH_AS(make_optimizer("Adam", nlohmann::json::object()),
                       "unknown optimization method \"Adam\" (methods: SGD, ADAM)", Error);
  CHECK_THROWS_WITH_AS(make_optimizer("SGD", 0.1),
                       doctest::Contains("expected options as a JSON object"), Error);
  // Options unchanged by the failed setters.
  CHECK(sgd.momentum() == 0.9);
  CHECK(adam.beta1() == 0.9);
}

TEST_CASE("optimizer updates are the same for any thread count") {
  // Large enough to be split over threads.
  Tensor w = random_tensor({300, 300}, 3), g = random_tensor({300, 300}, 4);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor p = w;
    Adam adam(0.01);
    adam.gradient_clipping(10);
    for (int k = 0; k < 3; ++k)
      adam.step(std::vector<Tensor*>{&p}, std::vector<const Tensor*>{&g});
    return p;
  };
  const int threads = num_threads();
  CHECK(run(1) == run(2));
  set_num_threads(threads);
}
