// ONNX export (onnx_io/export.hpp): every layer type, NetChain and NetGraph,
// nested, several inputs and outputs, 1–3 spatial dimensions. Each exported
// model passes onnx's checker with strict shape inference, and is written
// with its input and strata's outputs to build/tests/onnx_export/ for
// tests/onnx/ort_check.js (the ctest onnx.export_ort) to run in ONNX Runtime.
// Importing the model back gives strata's outputs bit for bit.
#include "onnx_io/export.hpp"

#include <doctest/doctest.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "onnx_io/import.hpp"
#include "pytorch_models.hpp"
#include "serialization/net_json.hpp"
#include "serialization/npy.hpp"
#include "train/initialize.hpp"

using namespace strata;
using nlohmann::json;

namespace {

const std::filesystem::path kCases = std::filesystem::path(STRATA_TEST_BINARY_DIR) / "onnx_export";

// The models that do not round-trip, by case name (prefix), and why: a lone
// DropoutLayer exports as an Identity from input to output, and a net with
// no layer is refused by design. Each is still exported, checked and run in ONNX Runtime; the round
// trip is tried and reported.
const std::vector<std::string> kRoundTripPending = {"dropout"};

bool round_trip_pending(const std::string& name) {
  for (const auto& p : kRoundTripPending)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

struct Case {
  std::string name;
  std::string net;         // the net file's text, without format and version
  double lo = -2, hi = 2;  // the inputs' range
};

std::unique_ptr<Layer> make_net(const std::string& text) {
  json doc = json::parse(text);
  doc["format"] = "strata-net";
  doc["version"] = 1;
  auto net = net_from_json(doc);
  NetInitialize(*net, {.seed = 7});
  // Arrays away from their initial values, so that every one matters (a
  // variance stays positive).
  Rng rng(11);
  for (auto& ref : net->all_arrays()) {
    Tensor* t = ref.layer->mutable_array(ref.index);
    const bool positive = ref.path.ends_with("Variance");
    for (float& v : t->values())
      v = positive ? static_cast<float>(0.5 + rng.uniform())
                   : v + static_cast<float>(rng.uniform() - 0.5);
  }
  return net;
}

std::vector<Tensor> random_inputs(const Layer& net, const Case& c, int64_t batch) {
  Rng rng(3);
  std::vector<Tensor> xs;
  for (const auto& p : net.inputs()) {
    Dims dims{batch};
    for (auto d : p.shape.dims())
      dims.push_back(d);
    Tensor x(dims);
    for (float& v : x.values())
      v = static_cast<float>(c.lo + (c.hi - c.lo) * rng.uniform());
    xs.push_back(std::move(x));
  }
  return xs;
}

std::vector<Tensor> run_net(const Layer& net, const std::vector<Tensor>& xs) {
  std::vector<const Tensor*> in;
  for (const auto& x : xs)
    in.push_back(&x);
  std::vector<Tensor> ys(net.outputs().size());
  std::vector<Tensor*> out;
  for (auto& y : ys)
    out.push_back(&y);
  auto ws = net.make_workspace();
  net.forward(in, out, ws.get(), {});
  return ys;
}

json tensor_json(const Tensor& t) {
  return {{"shape", t.shape()}, {"data", std::vector<float>(t.values().begin(), t.values().end())}};
}

void check_with_onnx(const std::string& bytes) {
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(bytes));
  CHECK_NOTHROW(onnx::checker::check_model(model));
  CHECK_NOTHROW(onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                                   onnx::ShapeInferenceOptions(true, 1, true)));
}

// Exports, checks, writes the ORT case and checks the round trip; returns
// whether the model imports.
bool export_case(const std::string& name, const Layer& net, const std::vector<Tensor>& xs,
                 int opset, bool require_round_trip) {
  INFO(name);
  const std::string bytes = export_onnx_bytes(net, {.opset = opset});
  check_with_onnx(bytes);
  const auto ys = run_net(net, xs);
  std::filesystem::create_directories(kCases);
  std::ofstream(kCases / (name + ".onnx"), std::ios::binary) << bytes;
  json spec;
  for (size_t i = 0; i < xs.size(); ++i)
    spec["inputs"][net.inputs()[i].name] = tensor_json(xs[i]);
  for (size_t i = 0; i < ys.size(); ++i)
    spec["outputs"][net.outputs()[i].name] = tensor_json(ys[i]);
  std::ofstream(kCases / (name + ".json")) << spec.dump();

  std::unique_ptr<Layer> back;
  try {
    back = import_onnx_bytes(
        std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), name, {});
  } catch (const Error& e) {
    if (require_round_trip)
      FAIL_CHECK("import: " << std::string(e.what()));
    else
      MESSAGE(name << ": does not round-trip yet: " << std::string(e.what()));
    return false;
  }
  if (!require_round_trip) {
    // Tried and reported, not required (see kRoundTripPending).
    try {
      const auto back_ys = run_net(*back, xs);
      bool same = back_ys.size() == ys.size() && back->inputs().size() == net.inputs().size();
      for (size_t i = 0; same && i < ys.size(); ++i)
        same = back_ys[i] == ys[i] && back->outputs()[i].name == net.outputs()[i].name;
      for (size_t i = 0; same && i < xs.size(); ++i)
        same = back->inputs()[i].name == net.inputs()[i].name;
      if (!same) MESSAGE(name << ": round trip imports but differs");
      return same;
    } catch (const Error& e) {
      MESSAGE(name << ": does not round-trip yet: " << std::string(e.what()));
      return false;
    }
  }
  // Ports keep their names; the outputs are strata's, bit for bit.
  REQUIRE(back->inputs().size() == net.inputs().size());
  for (size_t i = 0; i < xs.size(); ++i)
    CHECK(back->inputs()[i].name == net.inputs()[i].name);
  const auto back_ys = run_net(*back, xs);
  REQUIRE(back_ys.size() == ys.size());
  for (size_t i = 0; i < ys.size(); ++i) {
    CHECK(back->outputs()[i].name == net.outputs()[i].name);
    CHECK(back_ys[i].shape() == ys[i].shape());
    CHECK(std::equal(ys[i].values().begin(), ys[i].values().end(), back_ys[i].values().begin(),
                     back_ys[i].values().end()));
  }
  return true;
}

std::string chain(const std::string& input, const std::string& layers) {
  return R"({"type": "NetChain", "Input": )" + input + R"(, "layers": [)" + layers + "]}";
}

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"instance_norm_2d",
       chain("[3, 5, 6]", R"({"type": "InstanceNormalizationLayer", "Epsilon": 1e-5})")},
      {"instance_norm_1d", chain("[3, 7]", R"({"type": "InstanceNormalizationLayer"})")},
      {"batch_norm_2d", chain("[3, 4, 4]", R"({"type": "BatchNormalizationLayer"})")},
      {"batch_norm_vector",
       chain("[5]", R"({"type": "BatchNormalizationLayer", "Epsilon": 0.01})")},
      {"conv_2d",
       chain(
           "[3, 8, 7]",
           R"({"type": "ConvolutionLayer", "OutputChannels": 4, "KernelSize": [3, 2], "Stride": 2, "PaddingSize": [[1, 0], [0, 2]], "Dilation": [1, 2]})")},
      {"conv_1d_groups",
       chain(
           "[4, 9]",
           R"({"type": "ConvolutionLayer", "OutputChannels": 6, "KernelSize": 3, "ChannelGroups": 2, "Biases": false})")},
      {"conv_3d",
       chain(
           "[2, 4, 5, 6]",
           R"({"type": "ConvolutionLayer", "OutputChannels": 3, "KernelSize": 2, "PaddingSize": 1})")},
      {"deconv_2d",
       chain(
           "[3, 4, 5]",
           R"({"type": "DeconvolutionLayer", "OutputChannels": 4, "KernelSize": 3, "Stride": 2, "PaddingSize": 1, "OutputPadding": 1})")},
      {"deconv_asym",
       chain(
           "[2, 5, 4]",
           R"({"type": "DeconvolutionLayer", "OutputChannels": 4, "KernelSize": [3, 2], "Stride": [2, 1], "PaddingSize": [[1, 0], [0, 1]], "ChannelGroups": 2, "Dilation": [1, 2]})")},
      {"deconv_1d",
       chain(
           "[2, 6]",
           R"({"type": "DeconvolutionLayer", "OutputChannels": 3, "KernelSize": 4, "Stride": 3, "Biases": false})")},
      {"deconv_3d",
       chain(
           "[2, 3, 3, 3]",
           R"({"type": "DeconvolutionLayer", "OutputChannels": 2, "KernelSize": 2, "Stride": 2})")},
      {"linear_vector", chain("[6]", R"({"type": "LinearLayer", "Size": 4})")},
      {"linear_flattens", chain("[2, 3, 4]", R"({"type": "LinearLayer", "Size": 5})")},
      {"pool_max_2d",
       chain("[3, 7, 6]",
             R"({"type": "PoolingLayer", "KernelSize": 3, "Stride": 2, "PaddingSize": 1})")},
      {"pool_mean_2d",
       chain(
           "[3, 7, 6]",
           R"({"type": "PoolingLayer", "KernelSize": [3, 2], "Stride": 2, "PaddingSize": [[1, 1], [0, 1]], "Function": "Mean"})")},
      {"pool_total_1d",
       chain("[2, 9]",
             R"({"type": "PoolingLayer", "KernelSize": 3, "Stride": 2, "Function": "Total"})")},
      {"pool_max_dilation_ceiling",
       chain(
           "[3, 9, 8]",
           R"({"type": "PoolingLayer", "KernelSize": 3, "Stride": 2, "PaddingSize": 1, "Dilation": [2, 1], "Rounding": "Ceiling"})")},
      {"pool_max_dilation_1d",
       chain("[2, 11]",
             R"({"type": "PoolingLayer", "KernelSize": 2, "Stride": 2, "Dilation": 3})")},
      {"pool_mean_ceiling",
       chain(
           "[2, 6, 7]",
           R"({"type": "PoolingLayer", "KernelSize": 3, "Stride": 2, "PaddingSize": 1, "Function": "Mean", "Rounding": "Ceiling"})")},
      {"pool_mean_ceiling_unpadded",
       chain(
           "[2, 7, 5]",
           R"({"type": "PoolingLayer", "KernelSize": [2, 3], "Stride": 2, "Function": "Mean", "Rounding": "Ceiling"})")},
      {"pool_max_ceiling_dropped",
       chain(
           "[2, 5, 6]",
           R"({"type": "PoolingLayer", "KernelSize": 2, "Stride": 2, "PaddingSize": 1, "Rounding": "Ceiling"})")},
      {"pool_total_ceiling",
       chain(
           "[2, 6, 7]",
           R"({"type": "PoolingLayer", "KernelSize": 3, "Stride": 2, "PaddingSize": 1, "Function": "Total", "Rounding": "Ceiling"})")},
      {"pool_max_3d",
       chain("[2, 4, 4, 4]", R"({"type": "PoolingLayer", "KernelSize": 2, "Stride": 2})")},
      {"softmax_channels", chain("[5, 3, 2]", R"({"type": "SoftmaxLayer"})")},
      {"softmax_vector", chain("[6]", R"({"type": "SoftmaxLayer"})")},
      {"flatten", chain("[2, 3, 4]", R"({"type": "FlattenLayer"})")},
      {"reshape", chain("[2, 3, 4]", R"({"type": "ReshapeLayer", "Dimensions": [4, -1]})")},
      {"dropout", chain("[3, 4]", R"({"type": "DropoutLayer", "DropoutProbability": 0.3})")},
      {"lrn_2d",
       chain(
           "[7, 3, 3]",
           R"({"type": "LocalResponseNormalizationLayer", "ChannelWindowSize": 2, "Alpha": 0.5, "Beta": 0.75, "Bias": 2})")},
      {"lrn_1d",
       chain("[5, 4]", R"({"type": "LocalResponseNormalizationLayer", "ChannelWindowSize": 1})")},
      {"pad_constant",
       chain(
           "[2, 3, 4]",
           R"({"type": "PaddingLayer", "PaddingSize": [[1, 0], [0, 2], [1, 1]], "Padding": 0.5})")},
      {"pad_fixed",
       chain(
           "[2, 3, 4]",
           R"({"type": "PaddingLayer", "PaddingSize": [[0, 0], [2, 1], [1, 3]], "Padding": "Fixed"})")},
      {"pad_reflected",
       chain(
           "[2, 3, 4]",
           R"({"type": "PaddingLayer", "PaddingSize": [[0, 0], [2, 1], [1, 3]], "Padding": "Reflected"})")},
      {"pad_periodic",
       chain(
           "[2, 3, 4]",
           R"({"type": "PaddingLayer", "PaddingSize": [[1, 0], [3, 1], [0, 4]], "Padding": "Periodic"})")},
      {"resize_linear_scale", chain("[2, 3, 4]", R"({"type": "ResizeLayer", "Scale": [2, 1.5]})")},
      {"resize_linear_dims",
       chain("[2, 3, 5]", R"({"type": "ResizeLayer", "Dimensions": [7, 3]})")},
      {"resize_nearest_scale",
       chain("[2, 3, 4]", R"({"type": "ResizeLayer", "Scale": 2, "Resampling": "Nearest"})")},
      {"resize_nearest_dims",
       chain("[2, 4, 6]",
             R"({"type": "ResizeLayer", "Dimensions": [6, 4], "Resampling": "Nearest"})")},
      {"resize_linear_1d", chain("[2, 5]", R"({"type": "ResizeLayer", "Scale": 2.5})")},
      {"resize_linear_3d",
       chain("[1, 2, 3, 4]", R"({"type": "ResizeLayer", "Dimensions": [4, 3, 2]})")},
      {"aggregation_max", chain("[3, 4, 5]", R"({"type": "AggregationLayer", "Function": "Max"})")},
      {"aggregation_min", chain("[3, 4]", R"({"type": "AggregationLayer", "Function": "Min"})")},
      {"aggregation_mean",
       chain("[3, 2, 3, 4]", R"({"type": "AggregationLayer", "Function": "Mean"})")},
      {"aggregation_total",
       chain("[3, 4, 5]", R"({"type": "AggregationLayer", "Function": "Total"})")},
      {"constant_times",
       chain(
           "[3, 4, 5]",
           R"({"type": "ConstantTimesLayer", "Scaling": {"shape": [3, 1, 1], "data": [0.5, -1, 2]}})")},
      {"constant_times_full", chain("[3, 4]", R"({"type": "ConstantTimesLayer"})")},
      {"constant_plus_row",
       chain(
           "[3, 4, 5]",
           R"({"type": "ConstantPlusLayer", "Biases": {"shape": [5], "data": [1, 2, 3, 4, 5]}})")},
      {"parametric_ramp_2d", chain("[3, 4, 5]", R"({"type": "ParametricRampLayer"})")},
      {"parametric_ramp_vector", chain("[4]", R"({"type": "ParametricRampLayer"})")},
      {"total_chain_graph",
       R"({"type": "NetGraph", "Inputs": {"A": [3, 4], "B": [3, 4], "C": [3, 4]}, "layers": [{"name": "t", "type": "TotalLayer"}], "connections": [["#A", "t"], ["#B", "t"], ["#C", "t"], ["t", "#Output"]]})"},
      {"catenate",
       R"({"type": "NetGraph", "Inputs": {"A": [2, 4, 3], "B": [3, 4, 3]}, "layers": [{"name": "cat", "type": "CatenateLayer"}], "connections": [["#A", "cat"], ["#B", "cat"], ["cat", "#Output"]]})"},
  };
  return c;
}

std::vector<std::string> elementwise_functions() {
  return {"Ramp",  "Tanh", "LogisticSigmoid", "ELU",        "SELU", "GELU", "Softplus",
          "Abs",   "Exp",  "Square",          "Sin",        "Cos",  "Erf",  "Softsign",
          "Swish", "Mish", "HardTanh",        "HardSigmoid"};
}

}  // namespace

TEST_CASE(
    "ONNX export: every layer type passes onnx's checker, round-trips, and is written for ONNX "
    "Runtime") {
  std::set<std::string> types;
  std::vector<Case> all = cases();
  for (const auto& f : elementwise_functions())
    all.push_back(
        {"elementwise_" + f,
         chain("[2, 3, 4]", R"({"type": "ElementwiseLayer", "Function": ")" + f + "\"}")});
  all.push_back({"elementwise_Log",
                 chain("[2, 5]", R"({"type": "ElementwiseLayer", "Function": "Log"})"), 0.1, 3});
  all.push_back({"elementwise_Sqrt",
                 chain("[2, 5]", R"({"type": "ElementwiseLayer", "Function": "Sqrt"})"), 0.1, 3});
  all.push_back(
      {"elementwise_LeakyRamp",
       chain("[2, 5]", R"({"type": "ElementwiseLayer", "Function": "LeakyRamp", "Alpha": 0.2})")});
  all.push_back(
      {"elementwise_Clip",
       chain("[2, 5]",
             R"({"type": "ElementwiseLayer", "Function": "Clip", "Range": [-0.5, 1.25]})")});
  all.push_back(
      {"elementwise_Power",
       chain("[2, 5]", R"({"type": "ElementwiseLayer", "Function": "Power", "Exponent": 1.5})"),
       0.1, 3});
  for (const auto& f : {"Plus", "Times", "Max", "Min", "Subtract", "Divide", "Power"}) {
    const std::string n =
        std::string(f) == "Plus" || std::string(f) == "Times" ? ", [\"#C\", \"t\"]" : "";
    const std::string inputs = n.empty() ? R"({"A": [3, 4, 5], "B": [5]})"
                                         : R"({"A": [3, 4, 5], "B": [4, 1], "C": [3, 1, 5]})";
    all.push_back({std::string("threading_") + f,
                   R"({"type": "NetGraph", "Inputs": )" + inputs +
                       R"(, "layers": [{"name": "t", "type": "ThreadingLayer", "Function": ")" + f +
                       R"("}], "connections": [["#A", "t"], ["#B", "t"])" + n +
                       R"(, ["t", "#Output"]]})",
                   std::string(f) == "Power" || std::string(f) == "Divide" ? 0.5 : -2.0, 2.0});
  }
  int round_trips = 0;
  for (const auto& c : all) {
    INFO(c.name);
    const auto net = make_net(c.net);
    for (const auto& [name, child] : net->children())
      types.insert(child->type());
    round_trips +=
        export_case(c.name, *net, random_inputs(*net, c, 2), 17, !round_trip_pending(c.name));
  }
  // Every layer type of the registry is covered; every model whose ops the
  // importer knows came back.
  CHECK(types.size() == 21);
  MESSAGE(round_trips << " of " << all.size() << " single-layer models round-trip bit for bit");
  CHECK(round_trips >= 80);
}

TEST_CASE(
    "ONNX export: nested nets, several inputs and outputs, the test suite's whole nets, every "
    "opset") {
  const std::string nested = R"({"type": "NetGraph", "Inputs": {"Image": [3, 8, 8], "Bias": [4]},
    "layers": [
      {"name": "block", "type": "NetChain", "layers": [
        {"name": "conv", "type": "ConvolutionLayer", "OutputChannels": 4, "KernelSize": 3, "PaddingSize": 1},
        {"name": "norm", "type": "BatchNormalizationLayer"},
        {"name": "act", "type": "ElementwiseLayer", "Function": "Ramp"},
        {"name": "inner", "type": "NetGraph", "layers": [
          {"name": "a", "type": "ElementwiseLayer", "Function": "Tanh"},
          {"name": "sum", "type": "TotalLayer"}],
         "connections": [["#Input", "a"], ["a", "sum"], ["#Input", "sum"], ["sum", "#Output"]]}]},
      {"name": "pool", "type": "AggregationLayer", "Function": "Mean"},
      {"name": "shift", "type": "ThreadingLayer", "Function": "Plus"},
      {"name": "probs", "type": "SoftmaxLayer"}],
    "connections": [["#Image", "block"], ["block", "pool"], ["pool", "shift"], ["#Bias", "shift"],
                    ["shift", "probs"], ["probs", "#Probabilities"], ["block", "#Features"],
                    ["#Bias", "#Echo"]]})";
  const Case c{"whole_nested_graph", nested};
  const auto net = make_net(nested);
  const auto xs = random_inputs(*net, c, 3);
  for (int opset = kMinExportOpset; opset <= kMaxExportOpset; ++opset)
    export_case("whole_nested_graph_opset" + std::to_string(opset), *net, xs, opset,
                !round_trip_pending("whole_nested_graph"));

  // Graph ports, node names after layer paths, initializers after array paths.
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(export_onnx_bytes(*net)));
  std::vector<std::string> names;
  for (const auto& v : model.graph().input())
    names.push_back(v.name());
  CHECK(names == std::vector<std::string>{"Image", "Bias"});
  CHECK(model.graph().input(0).type().tensor_type().shape().dim(0).dim_param() == "N");
  names.clear();
  for (const auto& v : model.graph().output())
    names.push_back(v.name());
  CHECK(names == std::vector<std::string>{"Probabilities", "Features", "Echo"});
  std::set<std::string> nodes, inits;
  for (const auto& n : model.graph().node())
    nodes.insert(n.name());
  for (const auto& t : model.graph().initializer())
    inits.insert(t.name());
  CHECK(nodes.count("block/conv"));
  CHECK(nodes.count("block/inner/sum"));
  CHECK(inits.count("block/conv/Weights"));
  CHECK(inits.count("block/norm/MovingVariance"));

  // The test suite's net files.
  for (const auto* file : {"spec_chain", "spec_graph", "style_transfer", "single_layer"}) {
    auto whole = load_net(std::string(STRATA_TEST_DATA_DIR) + "/nets/" + file + ".json");
    if (!whole->missing_arrays().empty()) NetInitialize(*whole, {.seed = 1});
    export_case(std::string("whole_") + file, *whole, random_inputs(*whole, c, 2), 17,
                !round_trip_pending(std::string("whole_") + file));
  }
  // The PyTorch-exported models, imported and exported again.
  for (const auto* file : {"mlp_opset11", "resnet_opset13", "mobilenet_opset17", "conv3d_opset17",
                           "conv1d_opset13", "concat_opset13", "constants_opset17"}) {
    const auto imported =
        import_onnx(std::string(STRATA_TEST_DATA_DIR) + "/onnx/" + file + ".onnx");
    export_case(std::string("reexport_") + file, *imported, random_inputs(*imported, c, 2), 17,
                !round_trip_pending(std::string("reexport_") + file));
  }
}

TEST_CASE(
    "ONNX export: every PyTorch-exported test model, imported and exported again, is written for "
    "ONNX Runtime with PyTorch's outputs") {
  // export(import(model)): the ORT case holds the model's input and the
  // outputs PyTorch computed (tests/data/onnx/make_models.py), so that
  // onnx.export_ort checks ONNX Runtime against PyTorch, not against strata.
  int written = 0;
  for (const std::string& name : strata::testing::kPyTorchModels) {
    CAPTURE(name);
    const std::string dir = std::string(STRATA_TEST_DATA_DIR) + "/onnx/";
    const auto imported = import_onnx(dir + name + ".onnx");
    const Tensor x = read_npy(dir + name + ".input.npy");
    const Tensor want = read_npy(dir + name + ".output.npy");
    REQUIRE(imported->inputs().size() == 1);
    REQUIRE(imported->outputs().size() == 1);
    const std::string bytes = export_onnx_bytes(*imported, {.opset = 17});
    check_with_onnx(bytes);
    std::filesystem::create_directories(kCases);
    std::ofstream(kCases / ("pytorch_" + name + ".onnx"), std::ios::binary) << bytes;
    json spec;
    spec["inputs"][imported->inputs()[0].name] = tensor_json(x);
    spec["outputs"][imported->outputs()[0].name] = tensor_json(want);
    std::ofstream(kCases / ("pytorch_" + name + ".json")) << spec.dump();
    ++written;
  }
  CHECK(written == 18);
}

TEST_CASE("ONNX export refuses with one line naming the layer, and writes nothing") {
  const auto path = kCases.parent_path() / "onnx_export_refused" / "refused.onnx";
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::remove(path);
  json doc = json::parse(chain(
      "[3, 4, 4]",
      R"({"name": "conv1", "type": "ConvolutionLayer", "OutputChannels": 2, "KernelSize": 3})"));
  doc["format"] = "strata-net";
  doc["version"] = 1;
  const auto automatic = net_from_json(doc);
  CHECK_THROWS_WITH(export_onnx(*automatic, path),
                    "conv1 (ConvolutionLayer): array Weights, Biases is Automatic (run "
                    "NetInitialize, strata init, first)");
  CHECK_FALSE(std::filesystem::exists(path));
  auto ok = automatic->clone();
  NetInitialize(*ok);
  CHECK_THROWS_WITH(export_onnx(*ok, path, {.opset = 12}),
                    "ONNX export: opset 12 is not supported (13 to 17)");
  CHECK_FALSE(std::filesystem::exists(path));
  // Pooling options ONNX cannot express at opsets 13–17.
  const auto mean = make_net(chain(
      "[2, 6, 6]",
      R"({"name": "pool", "type": "PoolingLayer", "KernelSize": 2, "Dilation": 2, "Function": "Mean"})"));
  CHECK_THROWS_WITH(
      export_onnx(*mean, path),
      "pool (PoolingLayer): Dilation with Function Mean needs AveragePool's dilations (opset 19)");
  // Height 7: 3 windows rounded down, a 4th rounded up; width 5 + 1 + 1: a
  // 4th window rounded up starts in the padding after, and is dropped.
  const auto mixed = make_net(chain(
      "[1, 7, 5]",
      R"({"name": "pool", "type": "PoolingLayer", "KernelSize": 2, "Stride": 2, "PaddingSize": [0, 1], "Rounding": "Ceiling"})"));
  CHECK_THROWS_WITH(export_onnx(*mixed, path),
                    "pool (PoolingLayer): Rounding Ceiling where one dimension gains a last "
                    "window and another drops one is not expressible with ceil_mode");
  CHECK_FALSE(std::filesystem::exists(path));
  export_onnx(*ok, path);
  CHECK(std::filesystem::file_size(path) > 100);
}
