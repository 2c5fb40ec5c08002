#include "layers/constant_plus.hpp"

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

TEST_CASE("ConstantPlusLayer matches PyTorch's broadcasting sum (forward and backward)") {
  strata::testing::check_reference_file("constant_plus.json");
}

TEST_CASE("ConstantPlusLayer ports, array and options") {
  ConstantPlusLayer layer;
  CHECK(layer.type() == "ConstantPlusLayer");
  CHECK(layer.options() == nlohmann::json::object());
  REQUIRE(layer.arrays().size() == 1);
  CHECK(layer.arrays()[0].name == "Biases");
  CHECK(layer.arrays()[0].trainable);
  CHECK(layer.arrays()[0].init.value == 0.0);
  CHECK(make_layer("ConstantPlusLayer")->arrays()[0].name == "Biases");
  ConstantPlusLayer given(Tensor({2}, {1.0f, -1.0f}));
  given.constrain_input(0, Shape{2});
  CHECK(given(Tensor({2, 2}, 2.0f)) == Tensor({2, 2}, {3.0f, 1.0f, 3.0f, 1.0f}));
}

TEST_CASE("ConstantPlusLayer gradients match finite differences") {
  for (const Dims& s : {Dims{3, 4, 5}, Dims{3, 1, 1}, Dims{1}, Dims{5}, Dims{4, 1}}) {
    CAPTURE(to_string(s));
    ConstantPlusLayer layer(random_tensor(s, 1));
    auto report = check_gradients(layer, {random_tensor({2, 3, 4, 5}, 2)});
    CAPTURE(report.worst);
    CHECK(report.max_error <= 1.0);
  }
  // The Biases gradient sums the output gradient over the batch and the
  // repeated dimensions.
  ConstantPlusLayer layer(Tensor({2, 1}, 0.0f));
  const Run r = run(layer, Tensor({2, 2, 3}, 0.0f), Tensor({2, 2, 3}, 1.0f));
  CHECK(r.da == Tensor({2, 1}, 6.0f));
  CHECK(r.dx == Tensor({2, 2, 3}, 1.0f));
}

TEST_CASE("ConstantPlusLayer shape inference") {
  ConstantPlusLayer automatic;
  automatic.constrain_output(0, Shape{2, U});
  automatic.infer_shapes();
  CHECK(automatic.inputs()[0].shape == Shape{2, U});
  CHECK(automatic.arrays()[0].shape == Shape{2, U});

  ConstantPlusLayer given(Tensor({1, 5}, 1.0f));
  given.constrain_input(0, Shape::of_rank(3));
  given.infer_shapes();
  CHECK(given.outputs()[0].shape == Shape{U, U, 5});

  ConstantPlusLayer bad;
  bad.constrain_input(0, Shape{4});
  CHECK_THROWS_WITH_AS(
      bad.set_array("Biases", Tensor({3, 4}, 1.0f)),
      "Biases: [3, 4] does not broadcast to the Input's [4]: it has more dimensions", Error);
  CHECK_THROWS_WITH_AS(bad.set_array("Biases", Tensor({3}, 1.0f)),
                       "Biases: [3] does not broadcast to the Input's [4]: dimension 0 is 3 and "
                       "dimension 0 is 4",
                       Error);
  CHECK(bad.array("Biases") == nullptr);
}

TEST_CASE("ConstantPlusLayer: NetInitialize, a JSON round trip and NetTrain") {
  SUBCASE("NetInitialize makes Automatic Biases the example's shape, all 0") {
    NetChain net({ConstantPlusLayer()}, Input({2, 3}));
    NetInitialize(net);
    CHECK(NetExtract(net, "1/Biases") == Tensor({2, 3}, 0.0f));
  }
  SUBCASE("a given Biases survives the round trip") {
    const nlohmann::json doc = {{"format", "strata-net"},
                                {"version", 1},
                                {"type", "NetChain"},
                                {"Input", {2, 3}},
                                {"layers",
                                 {{{"type", "ConstantPlusLayer"},
                                   {"name", "shift"},
                                   {"Biases", {{"shape", {3}}, {"data", {0.5, -2.0, 3.0}}}}}}}};
    auto net = net_from_json(doc);
    const nlohmann::json written = net_to_json(*net);
    auto again = net_from_json(written);
    CHECK(net_to_json(*again) == written);
    const Tensor x = random_tensor({2, 2, 3}, 1);
    const Tensor y = (*again)(x);
    CHECK(y == (*net)(x));
    CHECK(y[4] == x[4] - 2.0f);
  }
  SUBCASE("NetTrain learns Biases of one number") {
    NetChain net({ConstantPlusLayer(Tensor({1}, 0.0f))}, Input({3}));
    Dataset data{random_tensor({8, 3}, 1), Tensor({8, 3})};
    for (int64_t i = 0; i < 24; ++i)
      data.targets[i] = data.inputs[i] + 0.75f;
    SGD sgd(0.2);
    NetTrain(net, data, {.batch_size = 4, .rounds = 30, .quiet = true}, sgd);
    CHECK(NetExtract(net, "1/Biases")[0] == doctest::Approx(0.75).epsilon(0.01));
  }
}

TEST_CASE("ConstantPlusLayer gives the same bits on any number of threads") {
  const int threads = num_threads();
  ConstantPlusLayer layer(random_tensor({30, 1}, 1));
  const Tensor x = random_tensor({4, 16, 30, 40}, 2), dy = random_tensor({4, 16, 30, 40}, 3);
  set_num_threads(1);
  const Run a = run(layer, x, dy);
  set_num_threads(4);
  const Run b = run(layer, x, dy);
  set_num_threads(threads);
  CHECK(same_bits(a.y, b.y));
  CHECK(same_bits(a.da, b.da));
  CHECK(a.da.shape() == Dims{30, 1});
}
