#include "graph/net_chain.hpp"

#include "core/error.hpp"

namespace strata {

NetChain::NetChain(std::vector<LayerEntry> layers, Input input, Output output)
    : Net({{"Input", input.shape}}, {{"Output", output.shape}}) {
  try {
    if (layers.empty()) throw Error("a chain needs at least one layer");
    set_layers(std::move(layers));
    for (size_t k = 0; k < nodes_.size(); ++k) {
      const Layer& l = *nodes_[k].layer;
      if (l.inputs().size() != 1 || l.outputs().size() != 1)
        throw Error(l.describe(nodes_[k].name) + " has " + std::to_string(l.inputs().size()) +
                    " inputs and " + std::to_string(l.outputs().size()) +
                    " outputs; a chain takes layers with one of each (use a NetGraph)");
      nodes_[k].sources = {k == 0 ? Source{kNetPort, 0} : Source{k - 1, 0}};
    }
    finish({Source{nodes_.size() - 1, 0}});
  } catch (Error& e) {
    throw e.add_context("NetChain");
  }
}

}  // namespace strata
