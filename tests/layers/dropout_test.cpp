#include "layers/dropout.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

namespace {

Tensor run(const DropoutLayer& layer, const Tensor& x, Mode mode, Rng* rng, Workspace* ws) {
  Tensor y;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  layer.forward(in, out, ws, RunContext{mode, rng});
  return y;
}

Tensor back(const DropoutLayer& layer, const Tensor& x, const Tensor& dy, Workspace* ws) {
  Tensor dx;
  const Tensor* in[] = {&x};
  const Tensor* gout[] = {&dy};
  Tensor* gin[] = {&dx};
  layer.backward(in, in, gout, ws, gin, {});
  return dx;
}

}  // namespace

TEST_CASE("DropoutLayer matches PyTorch's dropout where it is deterministic") {
  strata::testing::check_reference_file("dropout.json");
}

TEST_CASE("DropoutLayer options") {
  DropoutLayer layer;
  CHECK(layer.type() == "DropoutLayer");
  CHECK(layer.dropout_probability() == 0.5);
  CHECK(layer.options() == nlohmann::json{{"DropoutProbability", 0.5}});
  CHECK(DropoutLayer(0.2).dropout_probability() == doctest::Approx(0.2));
  layer.set_option("DropoutProbability", 0);
  CHECK(layer.dropout_probability() == 0.0);
  CHECK_THROWS_WITH_AS(layer.set_option("DropoutProbability", 1),
                       doctest::Contains("DropoutProbability: expected a number in [0, 1)"), Error);
  CHECK_THROWS_WITH_AS(DropoutLayer(-0.1), doctest::Contains("DropoutProbability"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("DropoutProbability", "half"),
                       doctest::Contains("DropoutProbability"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Probability", 0.1), doctest::Contains("\"Probability\""),
                       Error);
}

TEST_CASE("DropoutLayer is the identity in inference") {
  DropoutLayer layer(0.7);
  Tensor x = random_tensor({4, 3, 5}, 1);
  auto ws = layer.make_workspace();
  CHECK(run(layer, x, Mode::Inference, nullptr, ws.get()) == x);
  Tensor dy = random_tensor({4, 3, 5}, 2);
  CHECK(back(layer, x, dy, ws.get()) == dy);
  layer.constrain_input(0, Shape{3, 5});
  CHECK(layer(x) == x);
}

TEST_CASE("DropoutLayer keeps 1 - p of the elements in training, scaled by 1 / (1 - p)") {
  // 200000 Bernoulli(1 - p) draws: the kept fraction has a standard deviation
  // of at most 0.0012, so a bound of 0.006 (5 standard deviations) fails about
  // once in 10^7 seeds; with this fixed seed the test is deterministic.
  for (double p : {0.3, 0.5, 0.9}) {
    CAPTURE(p);
    DropoutLayer layer(p);
    Tensor x({4, 50000}, 2.0f);
    Rng rng(42);
    Tensor y = run(layer, x, Mode::Training, &rng, nullptr);
    const float kept_value = 2.0f * static_cast<float>(1.0 / (1.0 - p));
    int64_t kept = 0;
    double sum = 0;
    bool only_two_values = true;
    for (float v : y.values()) {
      if (v == kept_value) {
        ++kept;
      } else if (v != 0.0f) {
        only_two_values = false;
      }
      sum += v;
    }
    CHECK(only_two_values);
    CHECK(std::abs(static_cast<double>(kept) / x.size() - (1 - p)) < 0.006);
    // The expected output is the input.
    CHECK(std::abs(sum / x.size() - 2.0) < 0.006 * kept_value);
  }
}

TEST_CASE("DropoutLayer masks: the same seed gives the same mask, a new draw another") {
  DropoutLayer layer;
  Tensor x = random_tensor({3, 1000}, 5);
  Rng a(7), b(7), c(8);
  Tensor ya = run(layer, x, Mode::Training, &a, nullptr);
  CHECK(run(layer, x, Mode::Training, &b, nullptr) == ya);
  CHECK_FALSE(run(layer, x, Mode::Training, &c, nullptr) == ya);
  // The generator advances: the next step drops other elements.
  CHECK_FALSE(run(layer, x, Mode::Training, &a, nullptr) == ya);
}

TEST_CASE("DropoutLayer masks do not depend on the number of threads") {
  DropoutLayer layer(0.4);
  Tensor x = random_tensor({8, 20000}, 5);
  const int threads = num_threads();
  Rng a(3), b(3);
  set_num_threads(1);
  Tensor y1 = run(layer, x, Mode::Training, &a, nullptr);
  set_num_threads(std::max(2, threads));
  Tensor y2 = run(layer, x, Mode::Training, &b, nullptr);
  set_num_threads(threads);
  CHECK(y1 == y2);
}

TEST_CASE("DropoutLayer backward applies the forward's mask") {
  DropoutLayer layer(0.5);
  Tensor x = random_tensor({2, 500}, 5, 0.5f, 1.5f);  // no zeros of its own
  Rng rng(11);
  auto ws = layer.make_workspace();
  Tensor y = run(layer, x, Mode::Training, &rng, ws.get());
  Tensor dy = random_tensor({2, 500}, 6, 0.5f, 1.5f);
  Tensor dx = back(layer, x, dy, ws.get());
  int dropped = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    if (y[i] == 0.0f) {
      ++dropped;
      CHECK(dx[i] == 0.0f);
    } else {
      CHECK(dx[i] == dy[i] * 2.0f);
    }
  }
  CHECK(dropped > 0);
  CHECK(dropped < x.size());

  strata::testing::GradCheckOptions o;
  o.mode = Mode::Training;
  auto report = check_gradients(layer, {random_tensor({3, 4, 5}, 1)}, o);
  CAPTURE(report.worst);
  CHECK(report.checked > 10);
  CHECK(report.max_error <= 1.0);
}

TEST_CASE("DropoutLayer errors") {
  DropoutLayer layer;
  Tensor x = random_tensor({2, 3}, 1);
  CHECK_THROWS_WITH_AS(run(layer, x, Mode::Training, nullptr, nullptr),
                       doctest::Contains("training mode needs RunContext.rng"), Error);
  auto ws = layer.make_workspace();
  CHECK_THROWS_WITH_AS(back(layer, x, x, ws.get()), doctest::Contains("without a forward"), Error);
  layer.constrain_input(0, Shape{3});
  CHECK_THROWS_WITH_AS(layer.constrain_output(0, Shape{4}) && layer.infer_shapes(),
                       "Output: expected [3] (same as Input), but it is [4]", Error);
}
