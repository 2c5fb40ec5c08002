#include "graph/class_labels.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "graph/net_graph.hpp"
#include "graph/surgery.hpp"
#include "layers/linear.hpp"
#include "layers/reshape.hpp"
#include "layers/softmax.hpp"
#include "train/initialize.hpp"

using namespace strata;

namespace {

NetChain classifier(int64_t classes) {
  return NetChain({{"fc", LinearLayer(classes)}, SoftmaxLayer()}, Input({4}));
}

doctest::String labels_error(Net& net, std::vector<std::string> labels) {
  try {
    net.set_class_labels(std::move(labels));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a net carries class labels, one per class of its Output") {
  NetChain net = classifier(3);
  CHECK(net.class_labels().empty());
  CHECK(class_labels(net).empty());
  net.set_class_labels({"cat", "dog", "bird"});
  CHECK(net.class_labels() == std::vector<std::string>{"cat", "dog", "bird"});
  CHECK(class_labels(net) == net.class_labels());
  NetChain copy = net;  // copies keep them, assignments too
  CHECK(copy.class_labels() == net.class_labels());
  NetChain other = classifier(3);
  other = net;
  CHECK(other.class_labels() == net.class_labels());
  CHECK(class_labels(LinearLayer(3)).empty());
  net.set_class_labels({});
  CHECK(net.class_labels().empty());
}

TEST_CASE("class labels that do not fit the net are errors naming ClassLabels") {
  NetChain net = classifier(3);
  CHECK(labels_error(net, {"cat", "dog"}) ==
        "ClassLabels: 2 labels, but the net's Output [3] has 3 classes (one label per class)");
  CHECK(labels_error(net, {"cat", "dog", "cat"}) == "ClassLabels: \"cat\" is there twice");
  CHECK(labels_error(net, {"cat", "", "bird"}) == "ClassLabels: a label is empty");
  CHECK(net.class_labels().empty());  // a refused list leaves none

  NetChain grid({LinearLayer(6), ReshapeLayer({2, 3})}, Input({4}));
  CHECK(labels_error(grid, {"a", "b"}) ==
        "ClassLabels: 2 labels, but the net's Output [2, 3] is not a vector of class "
        "probabilities");

  // Unknown output size: accepted, and checked once inference knows it.
  NetChain open({SoftmaxLayer()});
  open.set_class_labels({"a", "b"});
  CHECK_THROWS_WITH_AS(open.input({3}), doctest::Contains("ClassLabels: 2 labels"), Error);
}

TEST_CASE("decode_class gives the top class's label of each example") {
  const std::vector<std::string> labels = {"cat", "dog", "bird"};
  Tensor batch({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.2f, 0.3f});
  CHECK(decode_class(batch, labels) == std::vector<std::string>{"dog", "cat"});
  // One example without the batch dimension gives one label.
  CHECK(decode_class(Tensor({3}, {0.2f, 0.3f, 0.5f}), labels) == std::vector<std::string>{"bird"});
  // A tie goes to the lower index; no labels: the index.
  CHECK(decode_class(Tensor({1, 3}, {0.4f, 0.4f, 0.2f}), labels) ==
        std::vector<std::string>{"cat"});
  CHECK(decode_class(batch, {}) == std::vector<std::string>{"1", "0"});
  CHECK_THROWS_WITH_AS(decode_class(Tensor({2, 4}), labels),
                       "decode_class: 3 class labels, but 4 classes in probabilities of shape "
                       "[2, 4]",
                       Error);
  CHECK_THROWS_AS(decode_class(Tensor({2, 3, 1}), labels), Error);
}

TEST_CASE("decode_top_classes gives the k most likely with their probabilities") {
  const std::vector<std::string> labels = {"cat", "dog", "bird"};
  Tensor batch({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.2f, 0.3f});
  auto top = decode_top_classes(batch, labels, 2);
  REQUIRE(top.size() == 2);
  REQUIRE(top[0].size() == 2);
  CHECK(top[0][0].label == "dog");
  CHECK(top[0][0].index == 1);
  CHECK(top[0][0].probability == 0.7f);
  CHECK(top[0][1].label == "bird");
  CHECK(top[1][0].label == "cat");
  CHECK(top[1][1].label == "bird");
  CHECK(top[1][1].probability == 0.3f);
  // k beyond the class count gives all, in order.
  auto all = decode_top_classes(batch, labels, 10);
  REQUIRE(all[1].size() == 3);
  CHECK(all[1][2].label == "dog");
  CHECK_THROWS_AS(decode_top_classes(batch, labels, 0), Error);
}

TEST_CASE("a trained classifier's output decodes through its labels") {
  NetChain net = classifier(3);
  net.set_class_labels({"cat", "dog", "bird"});
  NetInitialize(net, {.seed = 1});
  Tensor x({4}, {1, 2, 3, 4});
  const Tensor p = net(x);
  const auto decided = decode_class(p, net.class_labels());
  const auto top = decode_top_classes(p, net.class_labels(), 3);
  CHECK(decided[0] == top[0][0].label);
  CHECK(top[0][0].probability >= top[0][1].probability);
  CHECK(top[0][1].probability >= top[0][2].probability);
}

TEST_CASE("surgery keeps class labels while the Output keeps its size") {
  NetChain net({{"fc1", LinearLayer(5)}, {"fc2", LinearLayer(3)}, SoftmaxLayer()}, Input({4}));
  net.set_class_labels({"cat", "dog", "bird"});
  SurgeryNotes notes;
  NetChain replaced =
      *dynamic_cast<NetChain*>(NetReplacePart(net, "fc1", LinearLayer(7), &notes).get());
  CHECK(replaced.class_labels() == net.class_labels());
  NetChain same = NetAppend(NetDrop(net, -1, &notes), {SoftmaxLayer()}, &notes);
  CHECK(same.class_labels() == net.class_labels());
  CHECK(notes.empty());
  NetChain five = NetAppend(NetDrop(net, -2, &notes), {SoftmaxLayer()}, &notes);
  CHECK(five.class_labels().empty());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] ==
        "ClassLabels: 3 labels, but the net's Output [5] has 5 classes (one label per class); "
        "dropped the labels");
}
