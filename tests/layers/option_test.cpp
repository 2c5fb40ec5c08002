// The option tables, array initializers and traits that layers declare, and
// what the code around layers makes of them without naming concrete types.
#include "layers/option.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "graph/net_chain.hpp"
#include "layers/convolution.hpp"
#include "layers/linear.hpp"
#include "layers/registry.hpp"
#include "train/initialize.hpp"
#include "train/net_train.hpp"

using namespace strata;

namespace {

// A layer type defined outside layers/: y = Factor · Slope ⊙ x. Its array has
// a name no code outside this file knows, and it declares both traits.
class ScaleLayer : public Layer {
 public:
  ScaleLayer()
      : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
              {ArraySlot::parameter("Slope", Shape(), Initializer::constant(0.25))}) {}
  ScaleLayer& factor(double f) { return assign_option(*this, "Factor", f); }
  double factor() const { return factor_; }

  std::string type() const override { return "ScaleLayer"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ScaleLayer>(*this); }
  const OptionTable& option_table() const override {
    static const OptionTable table = OptionsOf<ScaleLayer>().add(
        "Factor", &ScaleLayer::factor_,
        Number{[](double f) { return f != 0; }, "a number other than 0"}, Affects::Nothing);
    return table;
  }
  LayerTraits traits() const override { return traits_; }
  LayerTraits traits_;

  void forward(Inputs in, Outputs out, Workspace*, const RunContext&) const override {
    out[0]->resize(in[0]->shape());
    for (int64_t i = 0; i < in[0]->size(); ++i)
      (*out[0])[i] =
          static_cast<float>(factor_) * (*in[0])[i] * array_value(0)[i % array_value(0).size()];
  }
  void backward(Inputs, Inputs, Inputs, Workspace*, Outputs, Outputs) const override {}

 protected:
  void infer() override {
    constrain_output(0, inputs_[0].shape);
    constrain_array(0, inputs_[0].shape);
  }

 private:
  double factor_ = 1;
};

}  // namespace

TEST_CASE("options: every registered layer's options round-trip through set_option") {
  for (const auto& type : layer_types()) {
    CAPTURE(type);
    auto layer = make_layer(type);
    const nlohmann::json options = layer->options();
    // What options() shows is what the table declares, and nothing else.
    for (const auto& [key, value] : options.items()) {
      const auto keys = layer->option_keys();
      CHECK(std::find(keys.begin(), keys.end(), key) != keys.end());
      layer->set_option(key, value);
    }
    CHECK(layer->options() == options);
    // The unknown-key message lists exactly the declared keys.
    std::string listed;
    for (const auto& k : layer->option_keys())
      listed += (listed.empty() ? "" : ", ") + k;
    CHECK_THROWS_WITH_AS(layer->set_option("NoSuchOption", 1),
                         ("unknown option \"NoSuchOption\" for " + type +
                          " (options: " + (listed.empty() ? "none" : listed) + ")")
                             .c_str(),
                         Error);
  }
}

TEST_CASE("options: a declared check serves JSON and the C++ setter alike") {
  ScaleLayer layer;
  CHECK(layer.options() == nlohmann::json{{"Factor", 1.0}});
  layer.set_option("Factor", 3);
  CHECK(layer.factor() == 3);
  layer.factor(-2);
  CHECK(layer.options() == nlohmann::json{{"Factor", -2.0}});
  CHECK_THROWS_WITH_AS(layer.set_option("Factor", 0),
                       "Factor: expected a number other than 0, got 0", Error);
  CHECK_THROWS_WITH_AS(layer.factor(0), "Factor: expected a number other than 0, got 0", Error);
  CHECK_THROWS_WITH_AS(layer.set_option("Factor", "big"), "Factor: expected a number, got \"big\"",
                       Error);
  CHECK(layer.factor() == -2);  // a refused value changes nothing
}

TEST_CASE("options: an option that affects shapes forgets what inference knew") {
  LinearLayer layer(8);
  layer.constrain_input(0, Shape{3});
  layer.infer_shapes();
  CHECK(layer.outputs()[0].shape == Shape{8});
  CHECK(layer.arrays()[LinearLayer::kWeights].shape == Shape{8, 3});
  layer.set_option("Size", 5);
  layer.infer_shapes();
  CHECK(layer.outputs()[0].shape == Shape{5});
  CHECK(layer.arrays()[LinearLayer::kWeights].shape == Shape{5, 3});
  CHECK(layer.inputs()[0].shape == Shape{3});  // inputs come from outside: kept

  // Through the C++ setter too, and an array with a value keeps its shape.
  ConvolutionLayer conv(4, {3, 3});
  conv.constrain_input(0, Shape{2, 8, 8});
  conv.infer_shapes();
  conv.set_array("Biases", Tensor({4}));
  conv.padding_size(1);
  CHECK(conv.outputs()[0].shape == Shape());
  CHECK(conv.arrays()[ConvolutionLayer::kWeights].shape == Shape());
  CHECK(conv.arrays()[ConvolutionLayer::kBiases].shape == Shape{4});
  conv.infer_shapes();
  CHECK(conv.outputs()[0].shape == Shape{4, 8, 8});
}

TEST_CASE("NetInitialize follows the initializer the layer declares, whatever the array's name") {
  NetChain net({{"scale", ScaleLayer()}}, Input({2, 3}));
  NetInitialize(net, {.seed = 1});
  const Tensor* slope = net.layer(0).array("Slope");
  REQUIRE(slope != nullptr);
  CHECK(slope->shape() == Dims{2, 3});
  for (float v : slope->values())
    CHECK(v == 0.25f);
}

TEST_CASE("Initializer fans: [out, in, k…] and [in, out, k…]") {
  const auto [in1, out1] = Initializer::weights().fan_in_out({8, 4, 3, 3});
  CHECK(in1 == 36);
  CHECK(out1 == 72);
  const auto [in2, out2] = Initializer::weights(Initializer::Fans::InOut).fan_in_out({8, 4, 3, 3});
  CHECK(in2 == 72);
  CHECK(out2 == 36);
  const auto [in3, out3] = Initializer::weights().fan_in_out({10, 5});
  CHECK(in3 == 5);
  CHECK(out3 == 10);
}

TEST_CASE("traits: a rectifier declared by any layer type makes the weights before it Kaiming") {
  // Linear 400 → 300: Kaiming's spread sqrt(2/400) ≈ 0.0707, Xavier's
  // sqrt(2/700) ≈ 0.0535; the sample of 120,000 tells them apart.
  auto spread = [](bool rectifier) {
    ScaleLayer act;
    act.traits_.rectifier = rectifier;
    NetChain net({{"fc", LinearLayer(300)}, {"act", act}}, Input({400}));
    NetInitialize(net, {.seed = 5});
    double s = 0;
    const Tensor& w = *net.layer(0).array("Weights");
    for (float v : w.values())
      s += double(v) * v;
    return std::sqrt(s / static_cast<double>(w.size()));
  };
  CHECK(spread(true) == doctest::Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
  CHECK(spread(false) == doctest::Approx(std::sqrt(2.0 / 700)).epsilon(0.02));
}

TEST_CASE("traits: a net ending in a layer that outputs probabilities defaults to CrossEntropy") {
  ScaleLayer probabilities;
  probabilities.traits_.outputs_probabilities = true;
  CHECK(default_loss(NetChain({LinearLayer(3), probabilities}, Input({2}))) ==
        LossFunction::CrossEntropy);
  CHECK(default_loss(NetChain({LinearLayer(3), ScaleLayer()}, Input({2}))) ==
        LossFunction::MeanSquared);
}
