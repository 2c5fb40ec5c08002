// The one table from net-file type names to layer factories.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "layers/layer.hpp"

namespace strata {

// A default-constructed layer of the given type; throws an Error listing the
// known types for an unknown one.
std::unique_ptr<Layer> make_layer(std::string_view type);

// Every type name make_layer knows, in the order of the spec's catalog.
std::vector<std::string> layer_types();

}  // namespace strata
