#include "train/net_train.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/aggregation.hpp"
#include "layers/constant_times.hpp"
#include "layers/convolution.hpp"
#include "layers/deconvolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/local_response_normalization.hpp"
#include "layers/padding.hpp"
#include "layers/parametric_ramp.hpp"
#include "layers/pooling.hpp"
#include "layers/resize.hpp"
#include "layers/softmax.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"
#include "train/initialize.hpp"

using namespace strata;
using strata::testing::random_tensor;
using strata::testing::tensor_from_json;

namespace {

NetChain parity_net(const std::string& name) {
  if (name == "second_edition_sgd")
    // make_training.py: the same chain in PyTorch (ReflectionPad2d, Conv2d,
    // LocalResponseNorm(3), PReLU, ConvTranspose2d, a scaling parameter,
    // bilinear interpolate by 1/2, the spatial mean).
    return NetChain({PaddingLayer({{0, 0}, {1, 1}, {1, 1}}).padding(PaddingMode::Reflected),
                     ConvolutionLayer(4, {3, 3}),
                     LocalResponseNormalizationLayer().channel_window_size(1).alpha(0.5).beta(0.75),
                     ParametricRampLayer(),
                     DeconvolutionLayer(3, {3, 3}).stride(2).padding_size(1).output_padding(1),
                     ConstantTimesLayer(Tensor({3, 1, 1}, 1.0f)),
                     ResizeLayer().scale(0.5).resampling(Resampling::Linear),
                     AggregationLayer(AggregationFunction::Mean)},
                    Input({2, 6, 6}));
  if (name == "mlp_sgd")
    return NetChain({LinearLayer(8), ElementwiseLayer("Tanh"), LinearLayer(3)}, Input({4}));
  return NetChain(
      {ConvolutionLayer(4, {3, 3}).padding_size(1).biases(false), InstanceNormalizationLayer(),
       ElementwiseLayer("Ramp"), PoolingLayer({2, 2}).stride(2), FlattenLayer(), LinearLayer(3)},
      Input({1, 6, 6}));
}

}  // namespace

TEST_CASE(
    "NetTrain matches PyTorch batch by batch (SGD, momentum, L2, clipping, Adam, second-edition "
    "layers)") {
  const auto file = strata::testing::load_test_data("training.json");
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    NetChain net = parity_net(name);
    for (const auto& [path, t] : c.at("initial").items())
      NetReplaceArray(net, path, tensor_from_json(t));
    Dataset data{tensor_from_json(c.at("inputs")), tensor_from_json(c.at("targets"))};
    auto optimizer = make_optimizer(c.at("method").get<std::string>(), c.at("options"));
    TrainOptions options;
    options.batch_size = c.at("batch_size");
    options.rounds = c.at("rounds");
    options.shuffle = false;
    options.quiet = true;
    options.loss = parse_loss_function(c.at("loss").get<std::string>());
    const TrainResult r = NetTrain(net, data, options, *optimizer);

    const auto& want = c.at("batch_losses");
    REQUIRE(r.batch_losses.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CAPTURE(i);
      CHECK(r.batch_losses[i] == doctest::Approx(want[i].get<double>()).epsilon(1e-4));
    }
    for (const auto& [path, t] : c.at("final").items()) {
      CAPTURE(path);
      CHECK(strata::testing::compare_tensors(NetExtract(net, path), tensor_from_json(t), 1e-3,
                                             1e-4) <= 1.0);
    }
  }
}

TEST_CASE("NetTrain is reproducible and uses the default loss") {
  auto make = [] {
    return NetChain({LinearLayer(6), ElementwiseLayer("Tanh"), LinearLayer(3), SoftmaxLayer()},
                    Input({4}));
  };
  Dataset data{random_tensor({40, 4}, 1), Tensor({40})};
  for (int64_t i = 0; i < 40; ++i)
    data.targets[i] = static_cast<float>(i % 3);
  TrainOptions options{.batch_size = 8, .rounds = 3, .seed = 5, .quiet = true};
  NetChain a = make(), b = make();
  const TrainResult ra = NetTrain(a, data, options);
  const TrainResult rb = NetTrain(b, data, options);
  CHECK(ra.loss == LossFunction::CrossEntropy);
  CHECK(ra.batch_losses == rb.batch_losses);
  CHECK(NetExtractArrays(a) == NetExtractArrays(b));
  CHECK(ra.batch_losses.size() == 15);
  CHECK(ra.rounds.size() == 3);
  // Another seed: another initialization and order.
  NetChain c = make();
  options.seed = 6;
  NetTrain(c, data, options);
  CHECK_FALSE(NetExtractArrays(a) == NetExtractArrays(c));
}

TEST_CASE("NetTrain learns a separable problem and reports validation") {
  NetChain net({LinearLayer(16), ElementwiseLayer("Ramp"), LinearLayer(2), SoftmaxLayer()},
               Input({2}));
  Dataset data{random_tensor({200, 2}, 3), Tensor({200})};
  for (int64_t i = 0; i < 200; ++i)
    data.targets[i] = data.inputs[2 * i] + data.inputs[2 * i + 1] > 0 ? 1.0f : 0.0f;
  Adam adam(0.02);
  const TrainResult r = NetTrain(
      net, data, {.batch_size = 16, .rounds = 30, .validation_split = 0.25, .quiet = true}, adam);
  REQUIRE(r.rounds.back().validation_accuracy.has_value());
  CHECK(*r.rounds.back().validation_accuracy >= 0.9);
  CHECK(r.rounds.back().loss < r.rounds.front().loss);
  const Evaluation ev = evaluate(net, data, LossFunction::CrossEntropy);
  CHECK(*ev.accuracy >= 0.9);
  int64_t total = 0;
  for (const auto& row : ev.confusion)
    for (int64_t v : row)
      total += v;
  CHECK(total == 200);
}

TEST_CASE("NetTrain stops on NaN, naming the round and batch, keeping the last good arrays") {
  NetChain net({LinearLayer(3)}, Input({2}));
  Dataset data{random_tensor({8, 2}, 1), random_tensor({8, 3}, 2)};
  // Example 5, in the second batch of 4; a negative NaN, which printf
  // shows as "-nan".
  data.inputs[2 * 5] = -std::nanf("");
  SGD sgd(0.1);
  TrainOptions options{.batch_size = 4, .rounds = 2, .shuffle = false, .quiet = true};
  NetInitialize(net, {.seed = 1});
  SUBCASE("NaN in the data") {
    CHECK_THROWS_WITH_AS(NetTrain(net, data, options, sgd),
                         doctest::Contains("round 1, batch 2: the loss is nan; "), Error);
    for (const auto& [path, t] : NetExtractArrays(net))
      for (float v : t.values())
        CHECK(std::isfinite(v));
  }
  SUBCASE("a learning rate that overflows") {
    data.inputs[2 * 5] = 1e30f;
    SGD huge(1e30);
    CHECK_THROWS_WITH_AS(NetTrain(net, data, options, huge), doctest::Contains("round 1, batch"),
                         Error);
    for (const auto& [path, t] : NetExtractArrays(net))
      for (float v : t.values())
        CHECK(std::isfinite(v));
  }
}

TEST_CASE("NetTrain refuses data that does not fit") {
  NetChain net({LinearLayer(3)}, Input({2}));
  CHECK_THROWS_WITH_AS(NetTrain(net, {random_tensor({8, 5}, 1), Tensor({8, 3})}, {.quiet = true}),
                       doctest::Contains("do not fit the net's Input [2]"), Error);
  CHECK_THROWS_WITH_AS(NetTrain(net, {random_tensor({8, 2}, 1), Tensor({7, 3})}, {.quiet = true}),
                       doctest::Contains("8 inputs but 7 targets"), Error);
  CHECK_THROWS_WITH_AS(
      NetTrain(net, {random_tensor({8, 2}, 1), Tensor({8, 3})}, {.batch_size = 0, .quiet = true}),
      doctest::Contains("BatchSize"), Error);
}

TEST_CASE("NetTrain flags a loss that diverges far above its start") {
  auto run = [](double rate) {
    NetChain net({LinearLayer(6), ElementwiseLayer("Tanh"), LinearLayer(3), SoftmaxLayer()},
                 Input({4}));
    Dataset data{random_tensor({40, 4}, 1), Tensor({40})};
    for (int64_t i = 0; i < 40; ++i)
      data.targets[i] = static_cast<float>(i % 3);
    return NetTrain(net, data, {.batch_size = 8, .rounds = 5, .seed = 5, .quiet = true}, SGD(rate));
  };
  const TrainResult calm = run(0.05);
  CHECK(calm.diverged_round == 0);
  const TrainResult wild = run(500);
  REQUIRE(wild.diverged_round > 0);
  const RoundRecord& r = wild.rounds[wild.diverged_round - 1];
  CHECK(r.loss > 10 * wild.batch_losses.front());
  const std::string warning = divergence_warning(r, wild.batch_losses.front());
  CHECK(warning.find("warning: round " + std::to_string(r.round) + ": loss ") == 0);
  CHECK(warning.find("times the first batch's") != std::string::npos);
  CHECK(warning.find('\n') == std::string::npos);
  CHECK(loss_diverged(1.0, 10.5));
  CHECK_FALSE(loss_diverged(1.0, 9.5));
}

TEST_CASE("data_fingerprint tells datasets apart by their shapes and values") {
  const Dataset a{random_tensor({8, 2}, 1), random_tensor({8, 3}, 2)};
  const std::string fa = data_fingerprint(a);
  CHECK(fa.size() == 16);
  CHECK(fa.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(data_fingerprint(Dataset{a.inputs, a.targets}) == fa);
  Dataset b = a;
  b.inputs[5] = std::nextafter(b.inputs[5], 2.0f);  // one value, one ulp
  CHECK(data_fingerprint(b) != fa);
  Dataset c = a;
  c.targets[0] = -c.targets[0];
  CHECK(data_fingerprint(c) != fa);
  // The same values in another shape are other data.
  const Dataset d{a.inputs.reshaped({8, 2, 1}), a.targets};
  CHECK(data_fingerprint(d) != fa);
}
