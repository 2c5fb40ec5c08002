#include "layers/constant_times.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/registry.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"
#include "train/initialize.hpp"
#include "train/net_train.hpp"
#include "train/optimizer.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::random_tensor;

namespace {

constexpr int64_t U = kUnknownDim;

// Forward and backward of a layer with one input and one array: y, dx, dScaling.
struct Run {
  Tensor y, dx, da;
};

Run run(const Layer& layer, const Tensor& x, const Tensor& dy) {
  Run r;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&r.y};
  auto ws = layer.make_workspace();
  layer.forward(in, out, ws.get(), {});
  const Tensor* outc[] = {&r.y};
  const Tensor* dyp[] = {&dy};
  Tensor* dx[] = {&r.dx};
  Tensor* da[] = {&r.da};
  layer.backward(in, outc, dyp, ws.get(), dx, da);
  return r;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

}  // namespace

TEST_CASE("ConstantTimesLayer matches PyTorch's broadcasting product (forward and backward)") {
  strata::testing::check_reference_file("constant_times.json");
}

TEST_CASE("ConstantTimesLayer ports, array and options") {
  ConstantTimesLayer layer;
  CHECK(layer.type() == "ConstantTimesLayer");
  CHECK(layer.options() == nlohmann::json::object());
  REQUIRE(layer.arrays().size() == 1);
  CHECK(layer.arrays()[0].name == "Scaling");
  CHECK(layer.arrays()[0].trainable);
  CHECK(layer.arrays()[0].init.value == 1.0);
  CHECK(layer.array("Scaling") == nullptr);
  CHECK(make_layer("ConstantTimesLayer")->arrays()[0].name == "Scaling");
  CHECK_THROWS_WITH_AS(layer.set_option("Scaling", 2), doctest::Contains("unknown option"), Error);
  ConstantTimesLayer given(Tensor({1}, 3.0f));
  CHECK((*given.array("Scaling")) == Tensor({1}, 3.0f));
  given.constrain_input(0, Shape{2});
  CHECK(given(Tensor({3, 2}, 2.0f)) == Tensor({3, 2}, 6.0f));
}

TEST_CASE("ConstantTimesLayer gradients match finite differences") {
  for (const Dims& s : {Dims{3, 4, 5}, Dims{3, 1, 1}, Dims{1}, Dims{5}, Dims{4, 1}}) {
    CAPTURE(to_string(s));
    ConstantTimesLayer layer(random_tensor(s, 1, -2.0f, 2.0f));
    auto report = check_gradients(layer, {random_tensor({2, 3, 4, 5}, 2)});
    CAPTURE(report.worst);
    CHECK(report.max_error <= 1.0);
  }
  ConstantTimesLayer one_d(random_tensor({6}, 3));
  CHECK(check_gradients(one_d, {random_tensor({3, 6}, 4)}).max_error <= 1.0);
}

TEST_CASE("ConstantTimesLayer shape inference") {
  SUBCASE("Automatic Scaling takes the example's shape") {
    ConstantTimesLayer layer;
    layer.constrain_input(0, Shape{3, U, 5});
    layer.infer_shapes();
    CHECK(layer.arrays()[0].shape == Shape{3, U, 5});
    CHECK(layer.outputs()[0].shape == Shape{3, U, 5});
    layer.constrain_output(0, Shape{U, 4, U});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, 4, 5});
    CHECK(layer.arrays()[0].shape == Shape{3, 4, 5});
  }
  SUBCASE("a given Scaling fixes the dimensions where it is not 1") {
    ConstantTimesLayer layer(Tensor({3, 1, 1}, 2.0f));
    layer.constrain_input(0, Shape::of_rank(3));
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{3, U, U});
    CHECK(layer.outputs()[0].shape == Shape{3, U, U});
    CHECK(layer.arrays()[0].shape == Shape{3, 1, 1});
  }
  SUBCASE("a Scaling of another broadcasting shape replaces an inferred one") {
    ConstantTimesLayer layer;
    layer.constrain_input(0, Shape{3, 4, 5});
    layer.infer_shapes();
    layer.set_array("Scaling", Tensor({3, 1, 1}, 2.0f));
    CHECK(layer.arrays()[0].shape == Shape{3, 1, 1});
    layer.set_array("Scaling", Tensor({5}, 2.0f));
    layer.clear_array("Scaling");
    layer.infer_shapes();
    CHECK(layer.arrays()[0].shape == Shape{3, 4, 5});
  }
  SUBCASE("errors name Scaling and the Input") {
    ConstantTimesLayer layer;
    layer.constrain_input(0, Shape{4});
    layer.infer_shapes();
    CHECK_THROWS_WITH_AS(
        layer.set_array("Scaling", Tensor({3, 4}, 1.0f)),
        "Scaling: [3, 4] does not broadcast to the Input's [4]: it has more dimensions", Error);
    ConstantTimesLayer channels;
    channels.constrain_input(0, Shape{3, 4, 5});
    CHECK_THROWS_WITH_AS(channels.set_array("Scaling", Tensor({2, 1, 1}, 1.0f)),
                         "Scaling: [2, 1, 1] does not broadcast to the Input's [3, 4, 5]: "
                         "dimension 0 is 2 and dimension 0 is 3",
                         Error);
    ConstantTimesLayer rows(Tensor({4, 1}, 1.0f));
    CHECK_THROWS_WITH_AS(rows.constrain_input(0, Shape{2, 3, 5}) && rows.infer_shapes(),
                         "Scaling: [4, 1] does not broadcast to the Input's [2, 3, 5]: "
                         "dimension 0 is 4 and dimension 1 is 3",
                         Error);
  }
}

TEST_CASE("ConstantTimesLayer: NetInitialize, a JSON round trip and NetTrain") {
  SUBCASE("NetInitialize makes Automatic Scaling the example's shape, all 1") {
    NetChain net({ConstantTimesLayer()}, Input({3, 4, 5}));
    NetInitialize(net);
    const Tensor s = NetExtract(net, "1/Scaling");
    CHECK(s == Tensor({3, 4, 5}, 1.0f));
  }
  SUBCASE("a given per-channel Scaling survives the round trip") {
    const nlohmann::json doc = {
        {"format", "strata-net"},
        {"version", 1},
        {"type", "NetChain"},
        {"Input", {3, 2, 2}},
        {"layers",
         {{{"type", "ConstantTimesLayer"},
           {"Scaling", {{"shape", {3, 1, 1}}, {"data", {0.5, -2.0, 3.0}}}}}}}};
    auto net = net_from_json(doc);
    const nlohmann::json written = net_to_json(*net);
    CHECK(written["layers"][0]["Scaling"]["shape"] == nlohmann::json{3, 1, 1});
    auto again = net_from_json(written);
    CHECK(net_to_json(*again) == written);
    const Tensor x = random_tensor({2, 3, 2, 2}, 1);
    const Tensor y = (*again)(x);
    CHECK(y == (*net)(x));
    CHECK(y[4] == -2.0f * x[4]);
  }
  SUBCASE("NetTrain learns a per-channel Scaling") {
    NetChain net({ConstantTimesLayer(Tensor({2, 1}, 1.0f))}, Input({2, 3}));
    Dataset data{random_tensor({16, 2, 3}, 1), Tensor({16, 2, 3})};
    for (int64_t n = 0; n < 16; ++n)
      for (int64_t i = 0; i < 6; ++i)
        data.targets[n * 6 + i] = data.inputs[n * 6 + i] * (i < 3 ? 2.0f : -1.0f);
    SGD sgd(0.5);
    NetTrain(net, data, {.batch_size = 4, .rounds = 20, .quiet = true}, sgd);
    const Tensor s = NetExtract(net, "1/Scaling");
    CHECK(s.shape() == Dims{2, 1});
    CHECK(s[0] == doctest::Approx(2.0).epsilon(0.02));
    CHECK(s[1] == doctest::Approx(-1.0).epsilon(0.02));
  }
}

TEST_CASE("ConstantTimesLayer gives the same bits on any number of threads") {
  const int threads = num_threads();
  ConstantTimesLayer layer(random_tensor({16, 1, 1}, 1));
  const Tensor x = random_tensor({4, 16, 30, 40}, 2), dy = random_tensor({4, 16, 30, 40}, 3);
  set_num_threads(1);
  const Run a = run(layer, x, dy);
  set_num_threads(4);
  const Run b = run(layer, x, dy);
  set_num_threads(threads);
  CHECK(same_bits(a.y, b.y));
  CHECK(same_bits(a.dx, b.dx));
  CHECK(same_bits(a.da, b.da));
  CHECK(a.da.shape() == Dims{16, 1, 1});
}
