// Class labels out of a classifier's probabilities, as Wolfram's
// NetDecoder["Class"]: the top class of each example, or its k most likely
// classes with their probabilities.
//
//   Tensor p = net(x);                                  // [n, 3] (or [3])
//   std::vector<std::string> d = decode_class(p, net.class_labels());
//   auto top = decode_top_classes(p, net.class_labels(), 2);  // per example
//
// The labels a net carries are Net::class_labels() ("ClassLabels" in a net
// file); class_labels(layer) gives them for any loaded net file.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "layers/layer.hpp"

namespace strata {

// The class labels of a net (empty for a lone layer, or a net without any).
const std::vector<std::string>& class_labels(const Layer& net);

struct ClassProbability {
  std::string label;
  int64_t index;
  float probability;  // or score, for a net without a final SoftmaxLayer
};

// The label of the largest value of each example (the first, on a tie).
// `probabilities` is [n, classes] (a batch) or [classes] (one example, one
// label out); `labels` holds one label per class, or is empty for the class
// indices ("0", "1", …). A count that does not match is an Error.
std::vector<std::string> decode_class(const Tensor& probabilities,
                                      const std::vector<std::string>& labels);

// The k largest values of each example, largest first (on a tie, the lower
// index first); k larger than the number of classes gives all of them.
std::vector<std::vector<ClassProbability>> decode_top_classes(
    const Tensor& probabilities, const std::vector<std::string>& labels, int64_t k);

}  // namespace strata
