#include "layers/instance_normalization.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

namespace {

InstanceNormalizationLayer with_arrays(int64_t channels, uint64_t seed) {
  InstanceNormalizationLayer layer;
  layer.set_array("Gamma", random_tensor({channels}, seed, 0.5f, 1.5f));
  layer.set_array("Beta", random_tensor({channels}, seed + 1));
  return layer;
}

}  // namespace

TEST_CASE("InstanceNormalizationLayer matches PyTorch's instance_norm (forward and backward)") {
  strata::testing::check_reference_file("instance_normalization.json");
}

TEST_CASE("InstanceNormalizationLayer defaults and options") {
  InstanceNormalizationLayer layer;
  CHECK(layer.type() == "InstanceNormalizationLayer");
  CHECK(layer.epsilon() == doctest::Approx(0.001));
  CHECK(layer.options()["Epsilon"].get<double>() == doctest::Approx(0.001));
  layer.set_option("Epsilon", 1e-5);
  CHECK(layer.epsilon() == doctest::Approx(1e-5));
  CHECK_THROWS_WITH_AS(layer.set_option("Epsilon", "small"), doctest::Contains("Epsilon"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Epsilon", -1.0), doctest::Contains("positive"), Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Epsilom", 0.1), doctest::Contains("\"Epsilom\""), Error);
  CHECK(layer.missing_arrays() == std::vector<std::string>{"Gamma", "Beta"});
}

TEST_CASE("InstanceNormalizationLayer gradients match finite differences") {
  for (Dims shape : {Dims{2, 3, 7}, Dims{2, 2, 4, 3}, Dims{1, 2, 3, 2, 2}}) {
    CAPTURE(to_string(shape));
    auto layer = with_arrays(shape[1], 3);
    auto report = check_gradients(layer, {random_tensor(shape, 11)});
    CAPTURE(report.worst);
    CHECK(report.checked > 10);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("InstanceNormalizationLayer shape inference works in both directions") {
  SUBCASE("from the input") {
    InstanceNormalizationLayer layer;
    layer.constrain_input(0, Shape{16, 8, 8});
    layer.infer_shapes();
    CHECK(layer.outputs()[0].shape == Shape{16, 8, 8});
    CHECK(layer.arrays()[0].shape == Shape{16});
    CHECK(layer.arrays()[1].shape == Shape{16});
    CHECK(layer.shapes_known());
  }
  SUBCASE("a present Gamma fixes the channel count") {
    InstanceNormalizationLayer layer;
    layer.set_array("Gamma", Tensor({16}, 1.0f));
    layer.constrain_input(0, Shape::of_rank(3));
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{16, kUnknownDim, kUnknownDim});
    CHECK(layer.arrays()[1].shape == Shape{16});
  }
  SUBCASE("the output fixes the input") {
    InstanceNormalizationLayer layer;
    layer.constrain_output(0, Shape{3, 5});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 5});
  }
  SUBCASE("a wrong channel count is an error naming the array") {
    InstanceNormalizationLayer layer;
    layer.set_array("Gamma", Tensor({16}, 1.0f));
    CHECK_THROWS_WITH_AS(
        layer.constrain_input(0, Shape{8, 4, 4}) && layer.infer_shapes(),
        doctest::Contains("Gamma: expected [8] (one per Input channel), but it is [16]"), Error);
  }
  SUBCASE("a Gamma that does not fit is refused") {
    InstanceNormalizationLayer layer;
    layer.constrain_input(0, Shape{8, 4, 4});
    layer.infer_shapes();
    CHECK_THROWS_WITH_AS(layer.set_array("Gamma", Tensor({16}, 1.0f)),
                         "Gamma: expected shape [8], got [16]", Error);
  }
  SUBCASE("rank 1 input is refused") {
    InstanceNormalizationLayer layer;
    layer.constrain_input(0, Shape{8});
    CHECK_THROWS_WITH_AS(layer.infer_shapes(), doctest::Contains("rank 2 or more"), Error);
  }
}

TEST_CASE("InstanceNormalizationLayer applies to one example and to a batch") {
  auto layer = with_arrays(3, 5);
  layer.constrain_input(0, Shape{3, 4, 4});
  layer.infer_shapes();
  Tensor a = random_tensor({3, 4, 4}, 1), b = random_tensor({3, 4, 4}, 2);
  Tensor batch({2, 3, 4, 4});
  std::copy(a.values().begin(), a.values().end(), batch.values().begin());
  std::copy(b.values().begin(), b.values().end(), batch.values().begin() + a.size());

  Tensor ya = layer(a);
  CHECK(ya.shape() == Dims{3, 4, 4});
  Tensor yb = layer(batch);
  CHECK(yb.shape() == Dims{2, 3, 4, 4});
  for (int64_t i = 0; i < ya.size(); ++i)
    CHECK(ya[i] == yb[i]);
  auto list = layer(std::vector<Tensor>{a, b});
  REQUIRE(list.size() == 2);
  for (int64_t i = 0; i < ya.size(); ++i)
    CHECK(list[1][i] == yb[ya.size() + i]);

  // Per channel of each example the output has mean Beta and spread Gamma.
  const Tensor& beta = *layer.array("Beta");
  double mean = 0;
  for (int64_t i = 0; i < 16; ++i)
    mean += ya[16 + i];
  CHECK(mean / 16 == doctest::Approx(beta[1]).epsilon(1e-5));

  CHECK_THROWS_WITH_AS(layer(random_tensor({4, 4, 4}, 1)),
                       doctest::Contains("Input: expected [3, 4, 4]"), Error);
  CHECK_THROWS_WITH_AS(InstanceNormalizationLayer()(a), doctest::Contains("NetInitialize"), Error);
}

TEST_CASE("InstanceNormalizationLayer is exact for inputs with a large mean") {
  // x = 1e4 + small noise: a one-pass float variance would lose the noise.
  auto layer = with_arrays(2, 9);
  layer.constrain_input(0, Shape{2, 8, 8});
  Tensor x = random_tensor({1, 2, 8, 8}, 4, -0.01f, 0.01f);
  for (float& v : x.values())
    v += 1e4f;
  Tensor y = layer(x);
  for (int64_t c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < 64; ++i)
      m += x[c * 64 + i];
    m /= 64;
    for (int64_t i = 0; i < 64; ++i)
      v += (x[c * 64 + i] - m) * (x[c * 64 + i] - m);
    v /= 64;
    for (int64_t i = 0; i < 64; ++i) {
      const double want = (*layer.array("Gamma"))[c] * (x[c * 64 + i] - m) / std::sqrt(v + 1e-3) +
                          (*layer.array("Beta"))[c];
      CHECK(std::abs(y[c * 64 + i] - want) <= 1e-3 * std::max(1.0, std::abs(want)));
    }
  }
}

namespace {

// The layer's output and gradients against the definition in double.
void check_against_double(const InstanceNormalizationLayer& layer, const Tensor& x) {
  Tensor y, dx, dgamma, dbeta;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  auto ws = layer.make_workspace();
  layer.forward(in, out, ws.get(), RunContext{Mode::Training, nullptr});
  const Tensor dy = random_tensor(x.shape(), 77);
  const Tensor* outs[] = {&y};
  const Tensor* gouts[] = {&dy};
  Tensor* gins[] = {&dx};
  Tensor* garr[] = {&dgamma, &dbeta};
  layer.backward(in, outs, gouts, ws.get(), gins, garr);
  const Tensor& gamma = *layer.array("Gamma");
  const Tensor& beta = *layer.array("Beta");
  const int64_t batch = x.dim(0), channels = x.dim(1), n = x.size() / (batch * channels);
  std::vector<double> want_dgamma(channels, 0.0), want_dbeta(channels, 0.0);
  double worst = 0;
  for (int64_t p = 0; p < batch * channels; ++p) {
    const int64_t c = p % channels;
    const float* xp = x.data() + p * n;
    const float* gp = dy.data() + p * n;
    double m = 0, v = 0, s = 0, sx = 0;
    for (int64_t i = 0; i < n; ++i)
      m += xp[i];
    m /= n;
    for (int64_t i = 0; i < n; ++i)
      v += (xp[i] - m) * (xp[i] - m);
    v /= n;
    const double inv = 1 / std::sqrt(v + layer.epsilon());
    for (int64_t i = 0; i < n; ++i) {
      s += gp[i];
      sx += gp[i] * (xp[i] - m) * inv;
    }
    want_dgamma[c] += sx;
    want_dbeta[c] += s;
    for (int64_t i = 0; i < n; ++i) {
      const double xhat = (xp[i] - m) * inv;
      const double want_y = gamma[c] * xhat + beta[c];
      const double want_dx = gamma[c] * inv * (gp[i] - s / n - xhat * sx / n);
      worst = std::max(worst, std::abs(y[p * n + i] - want_y) / (1e-4 + 1e-4 * std::abs(want_y)));
      worst =
          std::max(worst, std::abs(dx[p * n + i] - want_dx) / (1e-4 + 1e-3 * std::abs(want_dx)));
    }
  }
  CHECK(worst <= 1.0);
  for (int64_t c = 0; c < channels; ++c) {
    CHECK(dgamma[c] == doctest::Approx(want_dgamma[c]).epsilon(1e-4).scale(1.0));
    CHECK(dbeta[c] == doctest::Approx(want_dbeta[c]).epsilon(1e-4).scale(1.0));
  }
}

}  // namespace

TEST_CASE("InstanceNormalizationLayer statistics stay exact: far first values, split planes") {
  // Each plane's first values guess the mean; here they are far from it, so
  // the layer has to sum again about the mean it found.
  Tensor far = random_tensor({2, 2, 64, 64}, 5);
  for (int64_t p = 0; p < 4; ++p)
    for (int64_t i = 0; i < 64; ++i)
      far[p * 4096 + i] += 1e4f;
  check_against_double(with_arrays(2, 6), far);
  // Planes longer than a chunk, summed in pieces: a large mean, and far first values.
  Tensor big = random_tensor({1, 2, 150, 151}, 7);
  for (float& v : big.values())
    v += 1e4f;
  check_against_double(with_arrays(2, 8), big);
  // (A long plane, so that the first values can be very far: about
  // sqrt(n / 64) standard deviations.)
  Tensor big_far = random_tensor({1, 1, 512, 512}, 9);
  for (int64_t i = 0; i < 64; ++i)
    big_far[i] = 1e3f;
  check_against_double(with_arrays(1, 10), big_far);
}
