#include "layers/batch_normalization.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

namespace {

BatchNormalizationLayer with_arrays(int64_t channels, uint64_t seed) {
  BatchNormalizationLayer layer;
  layer.set_array("Gamma", random_tensor({channels}, seed, 0.5f, 1.5f));
  layer.set_array("Beta", random_tensor({channels}, seed + 1));
  layer.set_array("MovingMean", random_tensor({channels}, seed + 2));
  layer.set_array("MovingVariance", random_tensor({channels}, seed + 3, 0.5f, 2.0f));
  return layer;
}

Tensor run(const Layer& layer, const Tensor& x, Mode mode, Workspace* ws) {
  Tensor y;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  layer.forward(in, out, ws, RunContext{mode, nullptr});
  return y;
}

}  // namespace

TEST_CASE("BatchNormalizationLayer matches PyTorch's batch_norm (training and eval, backward)") {
  strata::testing::check_reference_file("batch_normalization.json");
}

TEST_CASE("BatchNormalizationLayer update_state matches PyTorch's running statistics") {
  const auto file = strata::testing::load_test_data("batch_normalization.json");
  int checked = 0;
  for (const auto& c : file.at("cases")) {
    if (!c.contains("moving_after")) continue;
    CAPTURE(c.at("name").get<std::string>());
    auto layer = strata::testing::layer_for_case("BatchNormalizationLayer", c);
    const Tensor x = strata::testing::tensor_from_json(c.at("inputs")[0]);
    const Tensor mean_before = *layer->array("MovingMean");
    auto ws = layer->make_workspace();
    run(*layer, x, Mode::Training, ws.get());
    // The forward alone leaves the state alone.
    CHECK(*layer->array("MovingMean") == mean_before);
    layer->update_state(ws.get());
    for (const char* name : {"MovingMean", "MovingVariance"}) {
      CAPTURE(name);
      const Tensor want = strata::testing::tensor_from_json(c["moving_after"][name]);
      CHECK(strata::testing::compare_tensors(*layer->array(name), want, 1e-4, 1e-5) <= 1.0);
    }
    // Committing twice would count the batch twice: the second call does nothing.
    const Tensor after = *layer->array("MovingVariance");
    layer->update_state(ws.get());
    CHECK(*layer->array("MovingVariance") == after);
    ++checked;
  }
  CHECK(checked == 6);
}

TEST_CASE("BatchNormalizationLayer update_state after an inference forward changes nothing") {
  auto layer = with_arrays(3, 1);
  layer.constrain_input(0, Shape{3, 4});
  layer.infer_shapes();
  const Tensor mm = *layer.array("MovingMean"), mv = *layer.array("MovingVariance");
  auto ws = layer.make_workspace();
  run(layer, random_tensor({5, 3, 4}, 2), Mode::Inference, ws.get());
  layer.update_state(ws.get());
  layer.update_state(nullptr);
  CHECK(*layer.array("MovingMean") == mm);
  CHECK(*layer.array("MovingVariance") == mv);
}

TEST_CASE("BatchNormalizationLayer update_state needs the moving statistics") {
  auto layer = with_arrays(2, 1);
  auto ws = layer.make_workspace();
  run(layer, random_tensor({4, 2}, 2), Mode::Training, ws.get());
  layer.clear_array("MovingVariance");
  CHECK_THROWS_WITH_AS(layer.update_state(ws.get()),
                       doctest::Contains("MovingVariance: not initialized"), Error);
}

TEST_CASE("BatchNormalizationLayer defaults and options") {
  BatchNormalizationLayer layer;
  CHECK(layer.type() == "BatchNormalizationLayer");
  CHECK(layer.epsilon() == doctest::Approx(0.001));
  CHECK(layer.momentum() == doctest::Approx(0.9));
  CHECK(layer.options() == nlohmann::json{{"Epsilon", 0.001}, {"Momentum", 0.9}});
  layer.epsilon(1e-5).momentum(0.99);
  CHECK(layer.momentum() == doctest::Approx(0.99));
  layer.set_option("Momentum", 0);
  CHECK(layer.momentum() == 0.0);
  layer.set_option("Momentum", 1);
  CHECK(layer.momentum() == 1.0);
  CHECK_THROWS_WITH_AS(layer.set_option("Momentum", 1.5),
                       doctest::Contains("Momentum: expected a number between 0 and 1"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Momentum", "high"), doctest::Contains("Momentum"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Epsilon", 0.0), doctest::Contains("Epsilon"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Moment", 0.1), doctest::Contains("\"Moment\""), Error);
  CHECK(layer.missing_arrays() ==
        std::vector<std::string>{"Gamma", "Beta", "MovingMean", "MovingVariance"});
  CHECK(layer.arrays()[0].trainable);
  CHECK(layer.arrays()[1].trainable);
  CHECK_FALSE(layer.arrays()[2].trainable);
  CHECK_FALSE(layer.arrays()[3].trainable);
}

TEST_CASE("BatchNormalizationLayer gradients match finite differences") {
  for (Mode mode : {Mode::Training, Mode::Inference}) {
    for (Dims shape : {Dims{5, 3}, Dims{3, 2, 7}, Dims{2, 2, 4, 3}, Dims{2, 2, 2, 3, 2}}) {
      CAPTURE(to_string(shape));
      CAPTURE(mode == Mode::Training);
      auto layer = with_arrays(shape[1], 3);
      strata::testing::GradCheckOptions o;
      o.mode = mode;
      auto report = check_gradients(layer, {random_tensor(shape, 11)}, o);
      CAPTURE(report.worst);
      CHECK(report.checked > 10);
      CHECK(report.max_error <= 1.0);
    }
  }
}

TEST_CASE("BatchNormalizationLayer training normalizes each channel over the batch") {
  auto layer = with_arrays(2, 4);
  layer.set_array("Gamma", Tensor({2}, 1.0f));
  layer.set_array("Beta", Tensor({2}, 0.0f));
  Tensor x = random_tensor({6, 2, 5}, 8, -3.0f, 5.0f);
  Tensor y = run(layer, x, Mode::Training, nullptr);
  for (int64_t c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    for (int64_t b = 0; b < 6; ++b)
      for (int64_t i = 0; i < 5; ++i)
        m += y.at({b, c, i});
    m /= 30;
    for (int64_t b = 0; b < 6; ++b)
      for (int64_t i = 0; i < 5; ++i)
        v += (y.at({b, c, i}) - m) * (y.at({b, c, i}) - m);
    CHECK(m == doctest::Approx(0).epsilon(1e-5).scale(1));
    CHECK(v / 30 == doctest::Approx(1).epsilon(1e-3));
  }
}

TEST_CASE("BatchNormalizationLayer gives the same result for any thread count") {
  auto layer = with_arrays(4, 6);
  Tensor x = random_tensor({16, 4, 9, 9}, 2);
  const int threads = strata::num_threads();
  auto ws1 = layer.make_workspace(), ws2 = layer.make_workspace();
  strata::set_num_threads(1);
  Tensor y1 = run(layer, x, Mode::Training, ws1.get());
  strata::set_num_threads(std::max(2, threads));
  Tensor y2 = run(layer, x, Mode::Training, ws2.get());
  strata::set_num_threads(threads);
  CHECK(y1 == y2);
  auto copy = layer.clone();
  layer.update_state(ws1.get());
  copy->update_state(ws2.get());
  CHECK(*layer.array("MovingVariance") == *copy->array("MovingVariance"));
}

TEST_CASE("BatchNormalizationLayer refuses training on one value per channel") {
  auto layer = with_arrays(3, 1);
  CHECK_THROWS_WITH_AS(run(layer, random_tensor({1, 3}, 1), Mode::Training, nullptr),
                       doctest::Contains("more than one value per channel"), Error);
  // Inference on one example is fine.
  CHECK(run(layer, random_tensor({1, 3}, 1), Mode::Inference, nullptr).shape() == Dims{1, 3});
}

TEST_CASE("BatchNormalizationLayer backward needs a forward") {
  auto layer = with_arrays(2, 1);
  Tensor x = random_tensor({3, 2}, 1), dx;
  auto ws = layer.make_workspace();
  const Tensor* in[] = {&x};
  Tensor* gin[] = {&dx};
  CHECK_THROWS_WITH_AS(layer.backward(in, in, in, ws.get(), gin, {}),
                       doctest::Contains("without a forward"), Error);
}

TEST_CASE("BatchNormalizationLayer shape inference") {
  SUBCASE("from the input: every array is one per channel") {
    BatchNormalizationLayer layer;
    layer.constrain_input(0, Shape{16, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{16, 8, 8});
    for (const auto& a : layer.arrays())
      CHECK(a.shape == Shape{16});
    CHECK(layer.shapes_known());
  }
  SUBCASE("rank 1 input (after a LinearLayer)") {
    BatchNormalizationLayer layer;
    layer.constrain_input(0, Shape{10});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{10});
    CHECK(layer.arrays()[3].shape == Shape{10});
  }
  SUBCASE("a present MovingVariance fixes the channel count") {
    BatchNormalizationLayer layer;
    layer.set_array("MovingVariance", Tensor({6}, 1.0f));
    layer.constrain_input(0, Shape::of_rank(2));
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{6, kUnknownDim});
    CHECK(layer.outputs()[0].shape == Shape{6, kUnknownDim});
    CHECK(layer.arrays()[0].shape == Shape{6});
  }
  SUBCASE("the output fixes the input") {
    BatchNormalizationLayer layer;
    layer.constrain_output(0, Shape{3, 5});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 5});
  }
  SUBCASE("a wrong channel count is an error naming the array") {
    BatchNormalizationLayer layer;
    layer.set_array("MovingMean", Tensor({16}, 0.0f));
    CHECK_THROWS_WITH_AS(
        layer.constrain_input(0, Shape{8, 4, 4}) && layer.infer_shapes(),
        doctest::Contains("MovingMean: expected [8] (one per Input channel), but it is [16]"),
        Error);
  }
  SUBCASE("arrays that disagree") {
    BatchNormalizationLayer layer;
    layer.set_array("Gamma", Tensor({4}, 1.0f));
    CHECK_THROWS_WITH_AS(layer.set_array("Beta", Tensor({5}, 0.0f)),
                         "Beta: expected shape [4], got [5]", Error);
  }
  SUBCASE("rank 0 input is refused") {
    BatchNormalizationLayer layer;
    layer.constrain_input(0, Shape(Dims{}));
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), doctest::Contains("Input: expected rank 1 or more"),
                         Error);
  }
}

TEST_CASE("BatchNormalizationLayer applies to one example in inference mode") {
  auto layer = with_arrays(3, 5);
  layer.constrain_input(0, Shape{3, 2});
  layer.infer_shapes();
  Tensor x = random_tensor({3, 2}, 1);
  Tensor y = layer(x);
  const Tensor &g = *layer.array("Gamma"), &b = *layer.array("Beta");
  const Tensor &mm = *layer.array("MovingMean"), &mv = *layer.array("MovingVariance");
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 2; ++i)
      CHECK(y.at({c, i}) ==
            doctest::Approx(g[c] * (x.at({c, i}) - mm[c]) / std::sqrt(mv[c] + 0.001) + b[c])
                .epsilon(1e-5));
}

TEST_CASE("BatchNormalizationLayer statistics stay exact: a large mean, far first values") {
  // The first values of a channel guess its mean; the layer sums again when
  // they are far from it.
  for (int variant = 0; variant < 2; ++variant) {
    CAPTURE(variant);
    auto layer = with_arrays(3, 11);
    Tensor x = random_tensor({4, 3, 10, 10}, 12);
    if (variant == 0) {
      for (float& v : x.values())
        v += 1e4f;
    } else {
      for (int64_t i = 0; i < 64; ++i)
        x[i] = 1e3f;  // channel 0 of example 0
    }
    auto ws = layer.make_workspace();
    const Tensor y = run(layer, x, Mode::Training, ws.get());
    const Tensor& gamma = *layer.array("Gamma");
    const Tensor& beta = *layer.array("Beta");
    for (int64_t c = 0; c < 3; ++c) {
      double m = 0, v = 0;
      for (int64_t e = 0; e < 4; ++e)
        for (int64_t i = 0; i < 100; ++i)
          m += x[(e * 3 + c) * 100 + i];
      m /= 400;
      for (int64_t e = 0; e < 4; ++e)
        for (int64_t i = 0; i < 100; ++i)
          v += (x[(e * 3 + c) * 100 + i] - m) * (x[(e * 3 + c) * 100 + i] - m);
      v /= 400;
      double worst = 0;
      for (int64_t e = 0; e < 4; ++e)
        for (int64_t i = 0; i < 100; ++i) {
          const int64_t k = (e * 3 + c) * 100 + i;
          const double want = gamma[c] * (x[k] - m) / std::sqrt(v + layer.epsilon()) + beta[c];
          worst = std::max(worst, std::abs(y[k] - want) / (1e-4 + 1e-4 * std::abs(want)));
        }
      CHECK(worst <= 1.0);
    }
  }
}
