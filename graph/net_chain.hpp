// NetChain: layers applied one after the other, each layer's Output feeding
// the next one's Input. Ports: Input and Output.
//
//   NetChain net({ConvolutionLayer(16, {3, 3}).padding_size(1),
//                 InstanceNormalizationLayer(), ElementwiseLayer("Ramp")},
//                Input({1, 8, 8}));
#pragma once

#include "graph/net.hpp"

namespace strata {

class NetChain : public Net {
 public:
  // Layers without a name are named by their 1-based position ("1", "2", …).
  // Shapes are inferred at once; a conflict throws an Error naming both ends.
  explicit NetChain(std::vector<LayerEntry> layers, Input input = {}, Output output = {});
  NetChain(std::vector<LayerEntry> layers, Output output)
      : NetChain(std::move(layers), {}, output) {}

  // Regular values: copies are deep, and a chain may be assigned another.
  NetChain(const NetChain&) = default;
  NetChain(NetChain&&) = default;
  NetChain& operator=(const NetChain&) = default;
  NetChain& operator=(NetChain&&) = default;

  std::string type() const override { return "NetChain"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<NetChain>(*this); }
};

}  // namespace strata
