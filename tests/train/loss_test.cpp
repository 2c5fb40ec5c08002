#include "train/loss.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/softmax.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::compare_tensors;
using strata::testing::random_tensor;
using strata::testing::tensor_from_json;

namespace {

// Softmax over each row of [N, K] scores.
Tensor softmax_rows(const Tensor& z) {
  Tensor p(z.shape());
  const int64_t n = z.dim(0), k = z.dim(1);
  for (int64_t i = 0; i < n; ++i) {
    double m = z[i * k], sum = 0;
    for (int64_t j = 1; j < k; ++j)
      m = std::max<double>(m, z[i * k + j]);
    for (int64_t j = 0; j < k; ++j)
      sum += std::exp(z[i * k + j] - m);
    for (int64_t j = 0; j < k; ++j)
      p[i * k + j] = static_cast<float>(std::exp(z[i * k + j] - m) / sum);
  }
  return p;
}

// The largest error of the gradient against central differences of the loss,
// in units of the tolerance atol + rtol·|numeric|.
double finite_difference_error(const std::function<double(const Tensor&, Tensor*)>& loss,
                               const Tensor& y, float step) {
  Tensor grad;
  loss(y, &grad);
  REQUIRE(grad.shape() == y.shape());
  double worst = 0;
  for (int64_t i = 0; i < y.size(); ++i) {
    Tensor plus = y, minus = y;
    plus[i] += step;
    minus[i] -= step;
    const double numeric =
        (loss(plus, nullptr) - loss(minus, nullptr)) / (double(plus[i]) - double(minus[i]));
    const double error = std::abs(numeric - grad[i]) / (1e-4 + 1e-3 * std::abs(numeric));
    CAPTURE(i);
    CAPTURE(numeric);
    CAPTURE(grad[i]);
    CHECK(error <= 1.0);
    worst = std::max(worst, error);
  }
  return worst;
}

}  // namespace

TEST_CASE("losses match PyTorch (cross_entropy, nll_loss(log p), mse_loss) and their gradients") {
  const auto file = strata::testing::load_test_data("losses.json");
  REQUIRE(file.at("cases").size() >= 10);
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    const Tensor output = tensor_from_json(c.at("output"));
    const Tensor targets = tensor_from_json(c.at("targets"));
    const LossFunction function = parse_loss_function(c.at("loss").get<std::string>());
    const ClassScores scores = c.value("scores", "Logits") == "Probabilities"
                                   ? ClassScores::Probabilities
                                   : ClassScores::Logits;
    Tensor grad;
    const double value = compute_loss(function, output, targets, scores, &grad);
    const double expected = c.at("value");
    CHECK(std::abs(value - expected) <= 1e-6 + 1e-5 * std::abs(expected));
    CHECK(compare_tensors(grad, tensor_from_json(c.at("output_grad")), 1e-4,
                          c.value("atol", 1e-6)) <= 1.0);
    // Without a gradient: the same loss.
    CHECK(compute_loss(function, output, targets, scores, nullptr) == value);
  }
}

TEST_CASE("loss gradients match finite differences") {
  SUBCASE("CrossEntropy on logits") {
    Tensor z = random_tensor({4, 5}, 3, -2.0f, 2.0f);
    Tensor t({4}, std::vector<float>{0, 3, 4, 3});
    auto loss = [&](const Tensor& y, Tensor* g) {
      return cross_entropy_loss(y, t, ClassScores::Logits, g);
    };
    CHECK(finite_difference_error(loss, z, 1e-2f) <= 1.0);
  }
  SUBCASE("CrossEntropy on probabilities") {
    Tensor p = softmax_rows(random_tensor({3, 4}, 5));
    Tensor t({3}, std::vector<float>{2, 0, 1});
    auto loss = [&](const Tensor& y, Tensor* g) {
      return cross_entropy_loss(y, t, ClassScores::Probabilities, g);
    };
    CHECK(finite_difference_error(loss, p, 1e-3f) <= 1.0);
  }
  SUBCASE("MeanSquared") {
    Tensor y = random_tensor({3, 2, 2}, 7, -3.0f, 3.0f);
    Tensor t = random_tensor({3, 2, 2}, 8);
    auto loss = [&](const Tensor& out, Tensor* g) { return mean_squared_loss(out, t, g); };
    CHECK(finite_difference_error(loss, y, 1e-2f) <= 1.0);
  }
}

TEST_CASE("CrossEntropy on probabilities is the chain rule through softmax of the logits case") {
  const Tensor z = random_tensor({5, 6}, 21, -3.0f, 3.0f);
  const Tensor t({5}, std::vector<float>{5, 0, 2, 2, 1});
  const Tensor p = softmax_rows(z);
  Tensor gz, gp;
  const double from_logits = cross_entropy_loss(z, t, ClassScores::Logits, &gz);
  const double from_probabilities = cross_entropy_loss(p, t, ClassScores::Probabilities, &gp);
  CHECK(from_probabilities == doctest::Approx(from_logits).epsilon(1e-6));
  // Softmax backward: dz_k = p_k (dp_k − Σ_j p_j dp_j).
  for (int64_t n = 0; n < 5; ++n) {
    double dot = 0;
    for (int64_t k = 0; k < 6; ++k)
      dot += double(p[n * 6 + k]) * gp[n * 6 + k];
    for (int64_t k = 0; k < 6; ++k)
      CHECK(p[n * 6 + k] * (gp[n * 6 + k] - dot) ==
            doctest::Approx(gz[n * 6 + k]).epsilon(1e-5).scale(1e-3));
  }
}

TEST_CASE("CrossEntropy stays finite for extreme logits and zero probabilities") {
  Tensor grad;
  SUBCASE("logits of ±1000") {
    Tensor z({3, 3}, std::vector<float>{1000, -1000, 0, -1000, 1000, -1000, 1000, 1000, 1000});
    Tensor t({3}, std::vector<float>{1, 0, 2});
    const double loss = cross_entropy_loss(z, t, ClassScores::Logits, &grad);
    CHECK(std::isfinite(loss));
    // Examples 0 and 1 are wrong by 2000, example 2 is a three-way tie.
    CHECK(loss == doctest::Approx((2000.0 + 2000.0 + std::log(3.0)) / 3).epsilon(1e-6));
    for (float g : grad.values())
      CHECK(std::isfinite(g));
    CHECK(grad.at({0, 0}) == doctest::Approx(1.0 / 3));
    CHECK(grad.at({0, 1}) == doctest::Approx(-1.0 / 3));
    CHECK(grad.at({2, 2}) == doctest::Approx((1.0 / 3 - 1) / 3));
  }
  SUBCASE("logits of ±1e30") {
    Tensor z({1, 2}, std::vector<float>{1e30f, -1e30f});
    Tensor t({1}, std::vector<float>{1});
    CHECK(cross_entropy_loss(z, t, ClassScores::Logits, &grad) == doctest::Approx(2e30));
    CHECK(grad[0] == 1.0f);
    CHECK(grad[1] == -1.0f);
  }
  SUBCASE("a probability of 0 for the target is clamped to the smallest normal float") {
    Tensor p({2, 2}, std::vector<float>{1, 0, 0.5f, 0.5f});
    Tensor t({2}, std::vector<float>{1, 0});
    const double loss = cross_entropy_loss(p, t, ClassScores::Probabilities, &grad);
    const double clamped = -std::log(double(std::numeric_limits<float>::min()));
    CHECK(clamped == doctest::Approx(87.3365).epsilon(1e-5));
    CHECK(loss == doctest::Approx((clamped + std::log(2.0)) / 2));
    for (float g : grad.values())
      CHECK(std::isfinite(g));
    CHECK(grad.at({0, 1}) == doctest::Approx(-0.5 / std::numeric_limits<float>::min()));
    CHECK(grad.at({1, 0}) == doctest::Approx(-1.0));
    CHECK(grad.at({0, 0}) == 0.0f);
  }
}

TEST_CASE("the loss gradient buffer is resized and reused without reallocation") {
  Tensor z = random_tensor({8, 10}, 1);
  Tensor t({8}, 3.0f);
  Tensor grad;
  cross_entropy_loss(z, t, ClassScores::Logits, &grad);
  const float* data = grad.data();
  cross_entropy_loss(z, t, ClassScores::Logits, &grad);
  CHECK(grad.data() == data);
  mean_squared_loss(z, z, &grad);
  CHECK(grad.data() == data);
  for (float g : grad.values())
    CHECK(g == 0.0f);
}

TEST_CASE("loss names parse, and errors name the loss, the example and the shapes") {
  CHECK(parse_loss_function("CrossEntropy") == LossFunction::CrossEntropy);
  CHECK(parse_loss_function("MeanSquared") == LossFunction::MeanSquared);
  CHECK(loss_function_name(LossFunction::MeanSquared) == "MeanSquared");
  CHECK_THROWS_WITH_AS(parse_loss_function("CrossEntropyLoss"),
                       "unknown loss \"CrossEntropyLoss\" (losses: CrossEntropy, MeanSquared)",
                       Error);

  const Tensor z = random_tensor({3, 4}, 2);
  Tensor grad;
  auto ce = [&](const Tensor& out, std::vector<float> t, ClassScores s = ClassScores::Logits) {
    const Dims shape{static_cast<int64_t>(t.size())};
    return cross_entropy_loss(out, Tensor(shape, std::move(t)), s, &grad);
  };
  CHECK_THROWS_WITH_AS(ce(z, {0, 2.5f, 1}),
                       "CrossEntropy: the target of example 1 is 2.5; expected a class index, an "
                       "integer from 0 to 3",
                       Error);
  CHECK_THROWS_WITH_AS(ce(z, {0, 1, 4}), doctest::Contains("the target of example 2 is 4;"), Error);
  CHECK_THROWS_WITH_AS(ce(z, {-1, 1, 2}), doctest::Contains("the target of example 0 is -1;"),
                       Error);
  CHECK_THROWS_WITH_AS(ce(z, {0, std::nanf(""), 2}),
                       doctest::Contains("the target of example 1 is nan;"), Error);
  CHECK_THROWS_WITH_AS(ce(z, {0, 1}),
                       "CrossEntropy: expected targets of shape [3] (one class index per "
                       "example), got [2]",
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy_loss(z, Tensor({3, 1}), ClassScores::Logits, &grad),
                       doctest::Contains("expected targets of shape [3]"), Error);
  CHECK_THROWS_WITH_AS(ce(random_tensor({3, 4, 2}, 1), {0, 1, 2}),
                       "CrossEntropy: expected an output of shape [batch, classes] (one score per "
                       "class), got [3, 4, 2]",
                       Error);
  CHECK_THROWS_WITH_AS(ce(random_tensor({3}, 1), {0, 1, 2}),
                       doctest::Contains("shape [batch, classes]"), Error);
  CHECK_THROWS_WITH_AS(ce(Tensor({0, 4}), {}), "CrossEntropy: the batch is empty", Error);
  CHECK_THROWS_WITH_AS(ce(z, {0, 1, 2}, ClassScores::Probabilities),
                       doctest::Contains("which is not a probability"), Error);

  CHECK_THROWS_WITH_AS(mean_squared_loss(z, Tensor({3, 3}), &grad),
                       "MeanSquared: expected targets of shape [3, 4] (the output's shape), got "
                       "[3, 3]",
                       Error);
  CHECK_THROWS_WITH_AS(mean_squared_loss(z, Tensor({12}), &grad),
                       doctest::Contains("expected targets of shape [3, 4]"), Error);
  CHECK_THROWS_WITH_AS(mean_squared_loss(Tensor({3, 1}), Tensor({4}), &grad),
                       doctest::Contains("expected targets of shape [3, 1]"), Error);
  CHECK_THROWS_WITH_AS(mean_squared_loss(Tensor({0, 2}), Tensor({0, 2}), &grad),
                       "MeanSquared: the batch is empty", Error);
  CHECK_THROWS_WITH_AS(mean_squared_loss(Tensor(), Tensor(), &grad), doctest::Contains("a scalar"),
                       Error);
}

TEST_CASE("a net ending in SoftmaxLayer: CrossEntropy and the gradients stay finite for ±1000") {
  // The path NetTrain takes for such a net: SoftmaxLayer forward, the loss on
  // probabilities, then SoftmaxLayer backward to the logits.
  SoftmaxLayer softmax;
  softmax.constrain_input(0, Shape{3});
  softmax.infer_shapes();
  const Tensor z({4, 3}, std::vector<float>{1000, -1000, 0,      // confidently right
                                            -1000, 1000, -1000,  // confidently wrong
                                            1000, 999, -1000,    // close at the top
                                            -1000, -1000, -1000});
  const Tensor t({4}, std::vector<float>{0, 0, 1, 2});
  Tensor p, dp, dz;
  {
    const Tensor* in[] = {&z};
    Tensor* out[] = {&p};
    softmax.forward(in, out, nullptr, RunContext{});
  }
  const double loss = cross_entropy_loss(p, t, ClassScores::Probabilities, &dp);
  {
    const Tensor* in[] = {&z};
    const Tensor* out[] = {&p};
    const Tensor* gout[] = {&dp};
    Tensor* gin[] = {&dz};
    softmax.backward(in, out, gout, nullptr, gin, {});
  }
  CHECK(std::isfinite(loss));
  for (const Tensor* x : {&p, &dp, &dz})
    for (float v : x->values())
      CHECK(std::isfinite(v));
  // Probabilities are exact where representable; the confidently wrong
  // example's loss is clamped at -log(smallest normal float), not 2000.
  CHECK(p.at({2, 0}) == doctest::Approx(1 / (1 + std::exp(-1.0))));
  const double clamped = -std::log(double(std::numeric_limits<float>::min()));
  CHECK(loss == doctest::Approx((0 + clamped + std::log(1 + std::exp(1.0)) + std::log(3.0)) / 4));
  // Unsaturated examples get the exact gradient (p − onehot) / N.
  CHECK(dz.at({2, 0}) == doctest::Approx(p.at({2, 0}) / 4).epsilon(1e-5));
  CHECK(dz.at({2, 1}) == doctest::Approx((p.at({2, 1}) - 1) / 4).epsilon(1e-5));
  CHECK(dz.at({3, 2}) == doctest::Approx((1.0 / 3 - 1) / 4).epsilon(1e-5));
}
