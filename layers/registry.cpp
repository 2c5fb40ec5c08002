#include "layers/registry.hpp"

#include <functional>
#include <utility>

#include "core/error.hpp"
#include "layers/aggregation.hpp"
#include "layers/batch_normalization.hpp"
#include "layers/catenate.hpp"
#include "layers/constant_plus.hpp"
#include "layers/constant_times.hpp"
#include "layers/convolution.hpp"
#include "layers/deconvolution.hpp"
#include "layers/dropout.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/local_response_normalization.hpp"
#include "layers/padding.hpp"
#include "layers/parametric_ramp.hpp"
#include "layers/pooling.hpp"
#include "layers/reshape.hpp"
#include "layers/resize.hpp"
#include "layers/softmax.hpp"
#include "layers/threading.hpp"
#include "layers/total.hpp"

namespace strata {

namespace {

template <typename L>
std::unique_ptr<Layer> create() {
  return std::make_unique<L>();
}

using Factory = std::unique_ptr<Layer> (*)();

const std::vector<std::pair<std::string, Factory>>& table() {
  static const std::vector<std::pair<std::string, Factory>> t = {
      {"InstanceNormalizationLayer", &create<InstanceNormalizationLayer>},
      {"BatchNormalizationLayer", &create<BatchNormalizationLayer>},
      {"ConvolutionLayer", &create<ConvolutionLayer>},
      {"DeconvolutionLayer", &create<DeconvolutionLayer>},
      {"LinearLayer", &create<LinearLayer>},
      {"ElementwiseLayer", &create<ElementwiseLayer>},
      {"PoolingLayer", &create<PoolingLayer>},
      {"SoftmaxLayer", &create<SoftmaxLayer>},
      {"FlattenLayer", &create<FlattenLayer>},
      {"ReshapeLayer", &create<ReshapeLayer>},
      {"DropoutLayer", &create<DropoutLayer>},
      {"TotalLayer", &create<TotalLayer>},
      {"CatenateLayer", &create<CatenateLayer>},
      {"LocalResponseNormalizationLayer", &create<LocalResponseNormalizationLayer>},
      {"PaddingLayer", &create<PaddingLayer>},
      {"ResizeLayer", &create<ResizeLayer>},
      {"AggregationLayer", &create<AggregationLayer>},
      {"ThreadingLayer", &create<ThreadingLayer>},
      {"ConstantTimesLayer", &create<ConstantTimesLayer>},
      {"ConstantPlusLayer", &create<ConstantPlusLayer>},
      {"ParametricRampLayer", &create<ParametricRampLayer>},
  };
  return t;
}

}  // namespace

std::unique_ptr<Layer> make_layer(std::string_view type) {
  for (const auto& [name, factory] : table())
    if (name == type) return factory();
  std::string known;
  for (const auto& [name, factory] : table())
    known += (known.empty() ? "" : ", ") + name;
  throw Error("unknown layer type \"" + std::string(type) + "\" (known types: " + known + ")");
}

std::vector<std::string> layer_types() {
  std::vector<std::string> names;
  for (const auto& entry : table())
    names.push_back(entry.first);
  return names;
}

}  // namespace strata
