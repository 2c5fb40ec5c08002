#include "support/reference.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "layers/registry.hpp"

namespace strata::testing {

Tensor tensor_from_json(const nlohmann::json& j) {
  Dims shape = j.at("shape").get<Dims>();
  std::vector<float> data;
  for (const auto& v : j.at("data"))
    data.push_back(v.get<float>());
  return Tensor(shape, std::move(data));
}

nlohmann::json load_test_data(const std::string& name) {
  const std::string path = std::string(STRATA_TEST_DATA_DIR) + "/" + name;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return nlohmann::json::parse(in);
}

double compare_tensors(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.shape() != expected.shape()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (int64_t i = 0; i < actual.size(); ++i) {
    const double e =
        std::abs(double(actual[i]) - expected[i]) / (atol + rtol * std::abs(expected[i]));
    if (!(e <= worst)) worst = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
  }
  return worst;
}

std::unique_ptr<Layer> layer_for_case(const std::string& type, const nlohmann::json& c) {
  auto layer = make_layer(type);
  if (c.contains("options"))
    for (const auto& [key, value] : c["options"].items())
      layer->set_option(key, value);
  const auto& inputs = c.at("inputs");
  if (layer->variadic_inputs()) layer->set_input_count(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    Dims d = inputs[i].at("shape").get<Dims>();
    layer->constrain_input(i, Shape(Dims(d.begin() + 1, d.end())));
  }
  if (c.contains("arrays"))
    for (const auto& [name, t] : c["arrays"].items())
      layer->set_array(name, tensor_from_json(t));
  layer->infer_shapes();
  return layer;
}

std::vector<Tensor> forward_case(const Layer& layer, const std::vector<Tensor>& inputs,
                                 const nlohmann::json& c, Workspace* ws) {
  std::vector<Tensor> outputs(layer.outputs().size());
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
  for (const auto& t : inputs)
    in.push_back(&t);
  for (auto& t : outputs)
    out.push_back(&t);
  Rng rng(0);
  const Mode mode = c.value("mode", "Inference") == "Training" ? Mode::Training : Mode::Inference;
  layer.forward(in, out, ws, RunContext{mode, &rng});
  return outputs;
}

void check_reference_file(const std::string& name) {
  const auto file = load_test_data(name);
  const std::string type = file.at("type");
  for (const auto& c : file.at("cases")) {
    const std::string case_name = c.at("name");
    CAPTURE(case_name);
    const double rtol = c.value("rtol", 1e-4), atol = c.value("atol", 1e-5);
    auto layer = layer_for_case(type, c);
    std::vector<Tensor> inputs;
    for (const auto& t : c.at("inputs"))
      inputs.push_back(tensor_from_json(t));
    auto ws = layer->make_workspace();
    const std::vector<Tensor> outputs = forward_case(*layer, inputs, c, ws.get());
    const auto& expected = c.at("outputs");
    REQUIRE(expected.size() == outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      CAPTURE(k);
      CHECK(compare_tensors(outputs[k], tensor_from_json(expected[k]), rtol, atol) <= 1.0);
    }
    if (!c.contains("output_grads")) continue;
    std::vector<Tensor> gout, gin(inputs.size()), garr(layer->arrays().size());
    for (const auto& t : c["output_grads"])
      gout.push_back(tensor_from_json(t));
    std::vector<const Tensor*> in, outc, goutp;
    std::vector<Tensor*> ginp, garrp;
    for (const auto& t : inputs)
      in.push_back(&t);
    for (const auto& t : outputs)
      outc.push_back(&t);
    for (const auto& t : gout)
      goutp.push_back(&t);
    for (auto& t : gin)
      ginp.push_back(&t);
    for (size_t a = 0; a < garr.size(); ++a)
      garrp.push_back(layer->arrays()[a].trainable ? &garr[a] : nullptr);
    layer->backward(in, outc, goutp, ws.get(), ginp, garrp);
    if (c.contains("input_grads")) {
      for (size_t k = 0; k < gin.size(); ++k) {
        CAPTURE(k);
        CHECK(compare_tensors(gin[k], tensor_from_json(c["input_grads"][k]), rtol, atol) <= 1.0);
      }
    }
    if (c.contains("array_grads")) {
      for (const auto& [array, t] : c["array_grads"].items()) {
        CAPTURE(array);
        CHECK(compare_tensors(garr[layer->array_index(array)], tensor_from_json(t), rtol, atol) <=
              1.0);
      }
    }
  }
}

}  // namespace strata::testing
