// The PyTorch-exported models of tests/data/onnx (make_models.py): imported
// through the C++ API, their outputs equal PyTorch's, and a fine-tuning run
// lowers the loss.
#include "onnx_io/import.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "graph/net_graph.hpp"
#include "serialization/net_json.hpp"
#include "serialization/npy.hpp"
#include "support/reference.hpp"
#include "train/net_train.hpp"

using namespace strata;

namespace {

const std::string kDir = std::string(STRATA_TEST_DATA_DIR) + "/onnx/";

Tensor apply(const Layer& net, const Tensor& x) {
  return net(x);
}

}  // namespace

TEST_CASE("PyTorch-exported models give PyTorch's outputs") {
  for (const std::string name :
       {"mlp_opset11", "mlp_opset17", "resnet_opset13", "mobilenet_opset11", "mobilenet_opset17",
        "conv1d_opset13", "conv3d_opset17", "concat_opset13", "unet_opset13", "style_opset11",
        "style_opset17", "bilinear_opset13", "prelu_lrn_opset13", "pools_opset13",
        "gelu_opset13"}) {
    CAPTURE(name);
    const auto net = import_onnx(kDir + name + ".onnx");
    const Tensor x = read_npy(kDir + name + ".input.npy");
    const Tensor want = read_npy(kDir + name + ".output.npy");
    const Tensor y = apply(*net, x);
    REQUIRE(y.shape() == want.shape());
    CHECK(testing::compare_tensors(y, want, 1e-3, 1e-4) <= 1.0);
    // The net file round-trips to the same outputs.
    const auto again = net_from_json(net_to_json(*net));
    CHECK(apply(*again, x) == y);
  }
}

TEST_CASE("an imported net is a chain when the graph is one, with the graph's port names") {
  const auto chain = import_onnx(kDir + "mobilenet_opset11.onnx");  // ports Input, Output
  CHECK(chain->type() == "NetChain");
  CHECK(chain->children().front().first == "expand_Conv");       // from "/expand/Conv"
  const auto graph = import_onnx(kDir + "resnet_opset13.onnx");  // a residual: a graph
  CHECK(graph->type() == "NetGraph");
  CHECK(graph->inputs().at(0).name == "input");
  CHECK(graph->outputs().at(0).name == "output");
  CHECK(graph->inputs().at(0).shape == Shape({3, 16, 16}));
  for (const auto& [name, layer] : graph->children())
    CHECK(name.find_first_of("/.#") == std::string::npos);
}

TEST_CASE("GELU, which ONNX writes as Div, Erf, Add, Mul, Mul, imports as one layer") {
  const auto net = import_onnx(kDir + "gelu_opset13.onnx");
  REQUIRE(net->children().size() == 2);
  CHECK(net->children()[1].second->type() == "ElementwiseLayer");
  CHECK(net->children()[1].second->options()["Function"] == "GELU");
}

TEST_CASE("a dynamic batch axis stays free") {
  const auto net = import_onnx(kDir + "mlp_opset11.onnx");
  const Tensor x = read_npy(kDir + "mlp_opset11.input.npy");  // [3, 3, 4]
  const Tensor want = read_npy(kDir + "mlp_opset11.output.npy");
  const Tensor one = apply(*net, x.reshaped({3, 3, 4}));
  Tensor first({1, 3, 4});
  for (int64_t i = 0; i < 12; ++i)
    first[i] = x[i];
  const Tensor y = apply(*net, first);
  REQUIRE(y.shape() == Dims{1, 5});
  for (int64_t i = 0; i < 5; ++i)
    CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-4));
  CHECK(one.shape() == Dims{3, 5});
}

TEST_CASE("fine-tuning an imported net lowers the loss") {
  auto net = import_onnx(kDir + "resnet_opset13.onnx");
  const Tensor x = read_npy(kDir + "resnet_opset13.input.npy");
  const Tensor y = read_npy(kDir + "resnet_opset13.output.npy");
  Tensor target = y;
  for (int64_t i = 0; i < target.size(); ++i)
    target[i] = y[i] + (i % 2 ? 0.5f : -0.5f);
  Dataset data{x, target};
  TrainOptions options{.batch_size = 2, .rounds = 20, .seed = 1, .quiet = true};
  options.loss = LossFunction::MeanSquared;
  const TrainResult r = NetTrain(*net, data, options);
  REQUIRE(r.batch_losses.size() == 20);
  CHECK(r.batch_losses.back() < 0.5 * r.batch_losses.front());
}

TEST_CASE("what cannot be imported is one line naming the node") {
  CHECK_THROWS_WITH_AS(import_onnx(kDir + "missing.onnx"), doctest::Contains("no such file"),
                       Error);
  CHECK_THROWS_WITH_AS(import_onnx(kDir), doctest::Contains("not a regular file"), Error);
  OnnxImportOptions small;
  small.max_file_bytes = 100;
  CHECK_THROWS_WITH_AS(import_onnx(kDir + "resnet_opset13.onnx", small),
                       doctest::Contains("over the limit"), Error);
  OnnxImportOptions wrong;
  wrong.input_shapes["input"] = {3, 8, 8};
  CHECK_THROWS_WITH_AS(import_onnx(kDir + "resnet_opset13.onnx", wrong),
                       doctest::Contains("dimension 2 is 16 in the model"), Error);
}
