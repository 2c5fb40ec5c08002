#include "graph/class_labels.hpp"

#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "graph/net.hpp"

namespace strata {

namespace {

// The probabilities as rows of one example each.
int64_t class_count(const Tensor& p, const std::vector<std::string>& labels) {
  if (p.rank() != 1 && p.rank() != 2)
    throw Error("decode_class: expected probabilities of shape [n, classes] or [classes], got " +
                to_string(p.shape()));
  const int64_t classes = p.dim(p.rank() - 1);
  if (classes == 0) throw Error("decode_class: no classes (shape " + to_string(p.shape()) + ")");
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != classes)
    throw Error("decode_class: " + std::to_string(labels.size()) + " class labels, but " +
                std::to_string(classes) + " classes in probabilities of shape " +
                to_string(p.shape()));
  return classes;
}

std::string label_of(const std::vector<std::string>& labels, int64_t i) {
  return labels.empty() ? std::to_string(i) : labels[static_cast<size_t>(i)];
}

}  // namespace

const std::vector<std::string>& class_labels(const Layer& net) {
  static const std::vector<std::string> none;
  const auto* n = dynamic_cast<const Net*>(&net);
  return n ? n->class_labels() : none;
}

std::vector<std::string> decode_class(const Tensor& probabilities,
                                      const std::vector<std::string>& labels) {
  std::vector<std::string> out;
  for (const auto& top : decode_top_classes(probabilities, labels, 1))
    out.push_back(top[0].label);
  return out;
}

std::vector<std::vector<ClassProbability>> decode_top_classes(
    const Tensor& probabilities, const std::vector<std::string>& labels, int64_t k) {
  if (k < 1) throw Error("decode_top_classes: k must be at least 1, got " + std::to_string(k));
  const int64_t classes = class_count(probabilities, labels);
  const int64_t n = probabilities.size() / classes;
  const int64_t keep = std::min(k, classes);
  std::vector<std::vector<ClassProbability>> out(static_cast<size_t>(n));
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t e = 0; e < n; ++e) {
    const float* row = probabilities.data() + e * classes;
    std::iota(order.begin(), order.end(), 0);
    // Stable: equal values keep the lower index first.
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    for (int64_t r = 0; r < keep; ++r)
      out[static_cast<size_t>(e)].push_back({label_of(labels, order[static_cast<size_t>(r)]),
                                             order[static_cast<size_t>(r)],
                                             row[order[static_cast<size_t>(r)]]});
  }
  return out;
}

}  // namespace strata
