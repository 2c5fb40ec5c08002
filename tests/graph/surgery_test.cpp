#include "graph/surgery.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_graph.hpp"
#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/softmax.hpp"
#include "layers/total.hpp"
#include "serialization/net_json.hpp"
#include "train/initialize.hpp"

using namespace strata;

namespace {

NetChain trained_net() {
  NetChain net({{"conv1", ConvolutionLayer(4, {3, 3}).padding_size(1)},
                {"norm1", InstanceNormalizationLayer()},
                ElementwiseLayer("Ramp"),
                FlattenLayer(),
                {"fc", LinearLayer(10)},
                SoftmaxLayer()},
               Input({1, 6, 6}));
  NetInitialize(net, {.seed = 1});
  return net;
}

bool contains(const SurgeryNotes& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("NetDrop and NetAppend replace a head, keeping the body's arrays") {
  const NetChain net = trained_net();
  NetChain body = NetDrop(net, -2);
  REQUIRE(body.size() == 4);
  CHECK(body.layer_name(3) == "4");
  SurgeryNotes notes;
  NetChain tuned = NetAppend(body, {{"head", LinearLayer(5)}, SoftmaxLayer()}, &notes);
  CHECK(notes.empty());
  REQUIRE(tuned.size() == 6);
  CHECK(tuned.layer_name(5) == "6");
  CHECK(tuned.outputs()[0].shape == Shape{5});
  CHECK(NetExtract(tuned, "conv1/Weights") == NetExtract(net, "conv1/Weights"));
  CHECK(NetExtract(tuned, "norm1/Gamma") == NetExtract(net, "norm1/Gamma"));
  CHECK(tuned.missing_arrays() == std::vector<std::string>{"head/Weights", "head/Biases"});
  // The original is untouched.
  CHECK(net.outputs()[0].shape == Shape{10});
  CHECK(NetDrop(net, 2).layer(0).type() == "ElementwiseLayer");
  CHECK_THROWS_WITH_AS(NetDrop(net, 6), doctest::Contains("would leave none"), Error);
}

TEST_CASE("NetTake takes a range, renumbering layers named by position") {
  const NetChain net = trained_net();
  const NetChain middle = NetTake(net, 2, -3);
  REQUIRE(middle.size() == 3);
  CHECK(middle.layer_name(0) == "norm1");
  CHECK(middle.layer_name(1) == "2");  // was "3"
  CHECK(middle.inputs()[0].shape == Shape{4, 6, 6});
  CHECK(middle.outputs()[0].shape == Shape{144});
  CHECK_THROWS_WITH_AS(NetTake(net, 0, 2), doctest::Contains("start 0 is out of range"), Error);
  CHECK_THROWS_WITH_AS(NetTake(net, 1, 9), doctest::Contains("end 9 is out of range"), Error);
  CHECK_THROWS_WITH_AS(NetTake(net, 4, 2), doctest::Contains("start 4 comes after end 2"), Error);
}

TEST_CASE("NetPrepend adds layers before; shapes are inferred from the new ones") {
  const NetChain net = NetTake(trained_net(), 2, 6);  // from norm1, Input [4, 6, 6]
  const NetChain again = NetPrepend(net, {{"conv0", ConvolutionLayer(4, {3, 3}).padding_size(1)}});
  CHECK(again.size() == 6);
  CHECK(again.layer_name(0) == "conv0");
  again.missing_arrays();
  CHECK(NetExtract(again, "norm1/Beta") == NetExtract(net, "norm1/Beta"));
}

TEST_CASE("NetReplacePart replaces a layer; arrays that no longer fit become Automatic") {
  const NetChain net = trained_net();
  SurgeryNotes notes;
  auto wider = NetReplacePart(net, "conv1", ConvolutionLayer(8, {3, 3}).padding_size(1), &notes);
  CHECK(NetExtractPortShape(*wider, "conv1/Output") == Shape{8, 6, 6});
  CHECK(contains(notes, "norm1/Gamma: [4] no longer fits"));
  CHECK(contains(notes, "norm1/Beta"));
  CHECK(contains(notes, "fc/Weights: [10, 144] no longer fits"));
  CHECK_FALSE(contains(notes, "fc/Biases"));  // [10] still fits
  CHECK(notes.size() == 3);
  CHECK(NetExtract(*wider, "fc/Biases") == NetExtract(net, "fc/Biases"));
  // By position, keeping the name.
  auto smaller = NetReplacePart(net, "5", LinearLayer(3));
  CHECK(dynamic_cast<const Net&>(*smaller).layer_name(4) == "fc");
  CHECK(smaller->outputs()[0].shape == Shape{3});
  // Layers that cannot fit at all: an Error naming both ends.
  CHECK_THROWS_WITH_AS(NetReplacePart(net, "5", ConvolutionLayer(2, {3, 3})),
                       doctest::Contains("NetReplacePart \"5\""), Error);
  CHECK_THROWS_WITH_AS(NetReplacePart(net, "conv9", LinearLayer(3)),
                       doctest::Contains("no layer named \"conv9\""), Error);
}

TEST_CASE("NetReplacePart replaces an array, refusing one that does not fit its layer") {
  const NetChain net = trained_net();
  Tensor w({10, 144}, 0.5f);
  auto replaced = NetReplacePart(net, "fc/Weights", w);
  CHECK(NetExtract(*replaced, "fc/Weights") == w);
  CHECK(NetExtract(*replaced, "5/Weights") == w);
  CHECK_THROWS_WITH_AS(NetReplacePart(net, "fc/Weights", Tensor({7, 144})),
                       doctest::Contains("fc/Weights"), Error);
  CHECK_THROWS_WITH_AS(NetReplacePart(net, "fc/Weight", Tensor({10, 144})),
                       doctest::Contains("Weight"), Error);
  // In-channels are not an option: a 2-channel conv1 changes the net's Input.
  NetChain open({{"conv1", ConvolutionLayer(4, {3, 3})}, FlattenLayer()});
  auto two = NetReplacePart(open, "conv1/Weights", Tensor({4, 2, 3, 3}));
  CHECK(NetExtractPortShape(*two, "Input").rank() == 3);
  CHECK(NetExtractPortShape(*two, "Input")[0] == 2);
}

TEST_CASE("NetReplacePart works in a NetGraph and in nested nets") {
  NetGraph graph({{"conv", ConvolutionLayer(2, {3, 3}).padding_size(1)},
                  {"norm", InstanceNormalizationLayer()},
                  {"add", TotalLayer()}},
                 {{"#Input", "conv"},
                  {"conv", "norm"},
                  {"norm", "add"},
                  {"#Input", "add"},
                  {"add", "#Output"}},
                 {{"Input", {2, 4, 4}}});
  NetInitialize(graph, {.seed = 2});
  auto g = NetReplacePart(graph, "norm", ElementwiseLayer("Tanh"));
  CHECK(g->type() == "NetGraph");
  CHECK(NetExtract(*g, "conv/Weights") == NetExtract(graph, "conv/Weights"));
  NetChain outer({{"block", graph}, FlattenLayer()});
  auto o = NetReplacePart(outer, "block/norm", ElementwiseLayer("Tanh"));
  CHECK(NetExtractLayer(*o, "block/norm").type() == "ElementwiseLayer");
  CHECK(NetExtract(*o, "1/conv/Weights") == NetExtract(graph, "conv/Weights"));
}

TEST_CASE("NetExtract by position also for named layers, and port shapes") {
  const NetChain net = trained_net();
  CHECK(NetExtract(net, "5/Biases") == NetExtract(net, "fc/Biases"));
  CHECK(net_path_kind(net, "conv1/Output") == NetPathKind::Port);
  CHECK(NetExtractPortShape(net, "conv1/Output") == Shape{4, 6, 6});
  CHECK(NetExtractPortShape(net, "fc/Input") == Shape{144});
  CHECK(NetExtractPortShape(net, "Output") == Shape{10});
  CHECK_THROWS_WITH_AS(NetExtract(net, "conv1/Output"), doctest::Contains("is a port"), Error);
  CHECK_THROWS_WITH_AS(NetExtract(net, "7/Biases"), doctest::Contains("no \"7\""), Error);
}

TEST_CASE("NetSetOption infers again and makes arrays that no longer fit Automatic") {
  // NetExtractLayer's handle cannot change an option in place.
  static_assert(std::is_const_v<
                std::remove_reference_t<decltype(NetExtractLayer(std::declval<NetChain&>(), ""))>>);
  NetChain net({{"l1", LinearLayer(8)}, {"l2", LinearLayer(3)}}, Input({4}));
  NetInitialize(net, {.seed = 1});
  SurgeryNotes notes;
  NetChain wider = NetSetOption(net, "l1/Size", 9, &notes);
  CHECK(NetExtractOption(wider, "l1/Size") == 9);
  CHECK(NetExtractPortShape(wider, "l1/Output") == Shape{9});
  CHECK(wider.missing_arrays() ==
        std::vector<std::string>{"l1/Weights", "l1/Biases", "l2/Weights"});
  CHECK(contains(notes, "l1/Weights: [8, 4] no longer fits"));
  CHECK(contains(notes, "l2/Weights: [3, 8] no longer fits"));
  CHECK(NetExtract(wider, "l2/Biases") == NetExtract(net, "l2/Biases"));
  // What it writes, it reads back.
  NetInitialize(wider, {.seed = 2});
  auto again = net_from_json(net_to_json(wider));
  CHECK(NetExtract(*again, "l1/Weights").shape() == Dims{9, 4});
  // The original is untouched.
  CHECK(NetExtractOption(net, "l1/Size") == 8);

  // An option that does not affect shapes keeps every array.
  NetChain normed({{"conv", ConvolutionLayer(2, {3, 3})}, {"norm", InstanceNormalizationLayer()}},
                  Input({1, 5, 5}));
  NetInitialize(normed, {.seed = 1});
  auto eps = NetSetOption(static_cast<const Layer&>(normed), "norm/Epsilon", 0.01);
  CHECK(NetExtractOption(*eps, "norm/Epsilon") == 0.01);
  CHECK(eps->missing_arrays().empty());
  CHECK_THROWS_WITH_AS(NetSetOption(net, "l1/Size", 0), doctest::Contains("l1: Size: expected"),
                       Error);
  CHECK_THROWS_WITH_AS(NetSetOption(net, "l1/Weights", 3), doctest::Contains("is not an option"),
                       Error);
  CHECK_THROWS_WITH_AS(NetSetOption(net, "l1/Sise", 3), doctest::Contains("no \"Sise\" in"), Error);
}
