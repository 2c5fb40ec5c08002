#include "serialization/net_json.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/registry.hpp"
#include "serialization/atomic_file.hpp"
#include "support/gradcheck.hpp"
#include "train/initialize.hpp"

using namespace strata;
using nlohmann::json;
using strata::testing::random_tensor;

namespace {

std::string data_path(const std::string& name) {
  return std::string(STRATA_TEST_DATA_DIR) + "/nets/" + name;
}

// The error parsing `text` gives (doctest's String, to compare with Contains).
doctest::String error_of(const std::string& text) {
  try {
    parse_net(text, "net.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A chain with one layer of the given JSON, as text.
std::string chain_with(const std::string& layer, const std::string& input = "[2, 4, 4]") {
  return R"({"format": "strata-net", "version": 1, "type": "NetChain", "Input": )" + input +
         R"(, "layers": [)" + layer + "]}";
}

}  // namespace

TEST_CASE("the spec's examples load and infer the right shapes") {
  auto graph = load_net(data_path("spec_graph.json"));
  CHECK(graph->type() == "NetGraph");
  CHECK(graph->outputs()[0].shape == Shape{8, 16, 16});
  CHECK(NetExtractLayer(*graph, "conv").arrays()[0].shape == Shape{8, 8, 3, 3});

  auto chain = load_net(data_path("spec_chain.json"));
  CHECK(chain->outputs()[0].shape == Shape{10});
  CHECK(NetExtractOption(*chain, "norm1/Epsilon").get<double>() == doctest::Approx(1e-5));
  CHECK(NetExtractLayer(*chain, "6").arrays()[0].shape == Shape{10, 64});
  CHECK(chain->missing_arrays().size() == 6);

  auto single = load_net(data_path("single_layer.json"));
  CHECK(single->type() == "InstanceNormalizationLayer");
  CHECK((*single->array("Gamma"))[0] == 1.5f);
  CHECK(single->outputs()[0].shape == Shape{2, 3});
}

TEST_CASE("every layer type round-trips bit for bit") {
  const std::vector<std::string> layers = {
      R"({"type": "InstanceNormalizationLayer", "Epsilon": 0.01})",
      R"({"type": "BatchNormalizationLayer", "Momentum": 0.8})",
      R"({"type": "ConvolutionLayer", "OutputChannels": 4, "KernelSize": [3, 2], "Stride": 2, "PaddingSize": [[1, 0], [0, 1]], "Dilation": 1, "ChannelGroups": 2})",
      R"({"type": "ConvolutionLayer", "OutputChannels": 3, "KernelSize": 1, "Biases": false})",
      R"({"type": "ElementwiseLayer", "Function": "LeakyRamp", "Alpha": 0.2})",
      R"({"type": "PoolingLayer", "KernelSize": 2, "Function": "Mean", "PaddingSize": 1})",
      R"({"type": "SoftmaxLayer"})",
      R"({"type": "FlattenLayer"})",
      R"({"type": "ReshapeLayer", "Dimensions": [4, 8]})",
      R"({"type": "DropoutLayer", "DropoutProbability": 0.25})",
      R"({"type": "LinearLayer", "Size": 5})",
  };
  for (const auto& layer : layers) {
    CAPTURE(layer);
    auto net = parse_net(chain_with(layer), "net.json");
    NetInitialize(*net, {.method = InitMethod::Random, .scale = 0.37, .seed = 4});
    const json doc = net_to_json(*net);
    auto again = parse_net(doc.dump(), "again.json");
    CHECK(NetExtractArrays(*again) == NetExtractArrays(*net));
    CHECK(net_to_json(*again) == doc);
    Tensor x = random_tensor({3, 2, 4, 4}, 9);
    CHECK((*again)(x) == (*net)(x));
  }
}

TEST_CASE("graphs and nested nets round-trip, defaults omitted") {
  auto graph = load_net(data_path("spec_graph.json"));
  NetInitialize(*graph, {.seed = 2});
  const json doc = net_to_json(*graph);
  CHECK(doc["layers"][1].size() == 4);  // type, name, Gamma, Beta: Epsilon at its default
  CHECK(net_to_json(*graph, true)["layers"][1].contains("Epsilon"));
  auto again = net_from_json(doc);
  CHECK(NetExtractArrays(*again) == NetExtractArrays(*graph));
  Tensor x = random_tensor({2, 8, 16, 16}, 3);
  CHECK((*again)(x) == (*graph)(x));

  // Catenate and Total with several inputs, and a graph with named ports.
  const std::string two = R"({"format": "strata-net", "version": 1, "type": "NetGraph",
    "Inputs": {"A": [2, 3], "B": [1, 3]},
    "layers": [{"name": "cat", "type": "CatenateLayer"}, {"name": "norm", "type": "InstanceNormalizationLayer"},
               {"name": "sum", "type": "TotalLayer"}],
    "connections": [["#A", "cat"], ["#B", "cat"], ["cat", "norm"], ["norm", "sum"], ["cat", "sum"],
                    ["sum", "#Out"]]})";
  auto g2 = parse_net(two, "two.json");
  CHECK(g2->outputs()[0].name == "Out");
  CHECK(g2->outputs()[0].shape == Shape{3, 3});
  NetInitialize(*g2);
  const json doc2 = net_to_json(*g2);
  CHECK(doc2["Inputs"]["B"] == json::array({1, 3}));
  auto g2again = net_from_json(doc2);
  CHECK(net_to_json(*g2again) == doc2);

  const std::string nested = R"({"format": "strata-net", "version": 1, "type": "NetChain",
    "Input": [3, 5], "layers": [{"type": "NetChain", "name": "block1",
    "layers": [{"type": "InstanceNormalizationLayer", "name": "norm"}]}, {"type": "LinearLayer", "Size": 2}]})";
  auto net = parse_net(nested, "nested.json");
  CHECK(NetExtractLayer(*net, "block1/norm").arrays()[0].shape == Shape{3});
  CHECK(net_to_json(*net)["layers"][0]["layers"][0]["name"] == "norm");
}

TEST_CASE("save_net writes a file that load_net reads back") {
  const auto dir = std::filesystem::temp_directory_path() / "strata_net_json_test";
  std::filesystem::create_directories(dir);
  auto net = load_net(data_path("spec_chain.json"));
  NetInitialize(*net, {.seed = 1});
  save_net(dir / "net.json", *net);
  auto again = load_net(dir / "net.json");
  CHECK(NetExtractArrays(*again) == NetExtractArrays(*net));
  CHECK_THROWS_WITH_AS(load_net(dir / "missing.json"), doctest::Contains("missing.json"), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("bad net files get errors naming the file, the JSON path and the problem") {
  CHECK(error_of("{\"format\": \"strata-net\",\n \"version\": 1,\n \"type\": }") ==
        doctest::Contains("net.json: malformed JSON"));
  CHECK(error_of("{\"format\": \"strata-net\",\n \"version\": 1,\n \"type\": }") ==
        doctest::Contains("line 3, column 10"));
  CHECK(error_of(R"({"format": "strata-net", "version": 2, "type": "NetChain"})") ==
        "net.json: version 2 is newer than this strata reads (1); upgrade strata");
  CHECK(error_of(R"({"version": 1, "type": "NetChain"})") ==
        doctest::Contains("expected \"format\": \"strata-net\""));
  CHECK(error_of(chain_with(R"({"type": "ConvolutionLayr", "OutputChannels": 2})")) ==
        doctest::Contains("net.json: layers[0].type: unknown layer type \"ConvolutionLayr\""));
  CHECK(error_of(chain_with(R"({"type": "SoftmaxLayer", "name": "soft", "Axis": 1})")) ==
        doctest::Contains("net.json: layers[0] (soft): unknown option \"Axis\""));
  CHECK(error_of(chain_with(
            R"({"type": "ConvolutionLayer", "OutputChannels": 2, "KernelSize": "three"})")) ==
        "net.json: layers[0].KernelSize: expected an integer or a list of integers, got \"three\"");
  // Each name once: the layer's path and name, then the key.
  CHECK(
      error_of(chain_with(
          R"({"type": "ConvolutionLayer", "name": "c", "OutputChannels": -2, "KernelSize": 3})")) ==
      "net.json: layers[0] (c).OutputChannels: expected an integer of at least 1, got -2");
  CHECK(error_of(chain_with(R"({"type": "InstanceNormalizationLayer", "name": "n",
                                 "Input": [2, 4, 4], "Gamma": {"shape": [3], "data": [1, 2, 3]}})")) ==
        "net.json: layers[0] (n).Gamma: expected shape [2], got [3]");
  // Numbers in shortest round-trip form, not std::to_string's "-0.000000".
  CHECK(error_of(chain_with(R"({"type": "InstanceNormalizationLayer", "Epsilon": -1e-9})")) ==
        "net.json: layers[0].Epsilon: expected a positive number, got -1e-09");
  // An array written wrongly is not an unknown option.
  CHECK(error_of(chain_with(R"({"type": "LinearLayer", "Size": 3, "Biases": [1, 2, 3]})", "[3]")) ==
        "net.json: layers[0].Biases: expected a tensor {\"shape\": [...], \"data\": [...]}, got "
        "array [1,2,3]");
  CHECK(
      error_of(
          R"({"format": "strata-net", "version": 1, "type": "NetChain", "Inputs": [1], "layers": []})") ==
      doctest::Contains("unknown key \"Inputs\" for NetChain"));
  CHECK(
      error_of(chain_with(
          R"({"type": "InstanceNormalizationLayer", "Gamma": {"shape": [2], "data": [1, 2, 3]}})")) ==
      doctest::Contains("layers[0].Gamma.data: has 3 numbers, but shape [2] needs 2"));
  CHECK(
      error_of(chain_with(
          R"({"type": "InstanceNormalizationLayer", "Gamma": {"shape": [3], "data": [1, 2, 3]}})")) ==
      doctest::Contains("Gamma: expected [2] (one per Input channel), but it is [3]"));
  CHECK(
      error_of(chain_with(
          R"({"type": "LinearLayer", "Size": 2, "Weights": {"shape": [1000000, 1000000], "data": []}})")) ==
      doctest::Contains("layers[0].Weights"));
  CHECK(error_of(chain_with(R"({"type": "InstanceNormalizationLayer"})", "[2, \"x\"]")) ==
        doctest::Contains("Input[1]: expected a positive size or null"));
  CHECK(error_of(
            chain_with(R"({"type": "ConvolutionLayer", "OutputChannels": 2, "KernelSize": 9})")) ==
        "net.json: NetChain: 1 (ConvolutionLayer): Input: size 4 in spatial dimension 1 is smaller "
        "than the kernel, which spans 9 (1.Input is [2, 4, 4] from #Input)");
  CHECK(error_of(R"([1, 2])") == doctest::Contains("expected a net object"));
}

TEST_CASE("class labels round-trip and must fit the net's Output") {
  const std::string chain =
      R"({"format": "strata-net", "version": 1, "type": "NetChain", "Input": [4],
          "ClassLabels": ["cat", "dog", "bird"],
          "layers": [{"type": "LinearLayer", "Size": 3}, {"type": "SoftmaxLayer"}]})";
  auto net = parse_net(chain, "net.json");
  const auto& labels = dynamic_cast<const Net&>(*net).class_labels();
  CHECK(labels == std::vector<std::string>{"cat", "dog", "bird"});
  const json document = net_to_json(*net);
  CHECK(document["ClassLabels"] == json({"cat", "dog", "bird"}));
  CHECK(net_to_json(*parse_net(document.dump(), "again.json")) == document);
  // Without labels, no key.
  CHECK_FALSE(net_to_json(*parse_net(chain_with(R"({"type": "SoftmaxLayer"})"), "a.json"))
                  .contains("ClassLabels"));

  // A graph's too.
  const std::string graph =
      R"({"format": "strata-net", "version": 1, "type": "NetGraph", "Input": [4],
          "ClassLabels": ["a", "b"], "layers": [{"name": "fc", "type": "LinearLayer", "Size": 2}],
          "connections": [["#Input", "fc"], ["fc", "#Output"]]})";
  CHECK(net_to_json(*parse_net(graph, "g.json"))["ClassLabels"] == json({"a", "b"}));

  auto with = [&](const std::string& labels_json) {
    std::string text = chain;
    text.replace(text.find(R"(["cat", "dog", "bird"])"), 22, labels_json);
    return error_of(text);
  };
  CHECK(with(R"(["cat", "dog"])") ==
        "net.json: ClassLabels: 2 labels, but the net's Output [3] has 3 classes (one label per "
        "class)");
  CHECK(with(R"(["cat", 2, "bird"])") ==
        "net.json: ClassLabels[1]: expected a string, got a number");
  CHECK(with(R"("cat")") == "net.json: ClassLabels: expected a list of strings, got a string");
  CHECK(with("[]") == "net.json: ClassLabels: an empty list (leave the key out for no labels)");
  CHECK(with(R"(["cat", "cat", "bird"])") == "net.json: ClassLabels: \"cat\" is there twice");
  CHECK(error_of(R"({"format": "strata-net", "version": 1, "type": "SoftmaxLayer",
                     "ClassLabels": ["a"]})") ==
        "net.json: ClassLabels: only a NetChain or NetGraph carries class labels (put the "
        "SoftmaxLayer in a NetChain)");
  // A misspelt key is still unknown.
  CHECK(error_of(R"({"format": "strata-net", "version": 1, "type": "NetChain",
                     "ClassLabel": ["a"], "layers": [{"type": "SoftmaxLayer"}]})") ==
        doctest::Contains("unknown key \"ClassLabel\""));
}

TEST_CASE("deeply nested nets are refused, not recursed into without bound") {
  std::string text = R"({"type": "InstanceNormalizationLayer"})";
  // 100 nets are 200 levels of JSON: within the JSON depth limit (256), so
  // the loader's own limit on nets in nets refuses them.
  for (int i = 0; i < 100; ++i)
    text = R"({"type": "NetChain", "layers": [)" + text + "]}";
  text = R"({"format": "strata-net", "version": 1,)" + text.substr(1);
  CHECK(error_of(text) == doctest::Contains("nested more than 64 deep"));
}
