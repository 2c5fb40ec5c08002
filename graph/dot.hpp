// A picture of a net, as the Wolfram framework draws every NetGraph: the net
// in Graphviz's DOT language. Each layer is a box labelled with its name,
// type and output shape; the net's own ports are ellipses; each connection
// is an edge; a nested NetChain or NetGraph is a cluster around its layers.
//
//   std::ofstream("net.dot") << NetDot(net);   // then: dot -Tsvg net.dot
#pragma once

#include <string>

#include "layers/layer.hpp"

namespace strata {

std::string NetDot(const Layer& net);

}  // namespace strata
