// NetExtract and friends: reach any layer, array or option of a net by path.
//
// A path is names joined by '/': "conv1/Weights", "2/Gamma" (a layer by its
// 1-based position, also when it has a name, as in Wolfram: "10/Biases" is the
// tenth layer's; a layer named "2" comes first), "block1/norm/Beta" (nested),
// "norm1/Epsilon" (an option), "conv1/Output" (a port), "conv1" (a layer). A path that does not
// exist gets an Error listing what exists at the level where it went wrong.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layers/layer.hpp"

namespace strata {

// What a path names: a layer, an array, an option or a port.
enum class NetPathKind { Layer, Array, Option, Port };

// What `path` names in `net` (a tool that takes any path, such as `strata
// extract`, asks this first). Throws the same Error as NetExtract for a path
// that does not exist.
NetPathKind net_path_kind(const Layer& net, std::string_view path);

// The array at `path` (a copy). Throws when the path names a layer or an
// option, or an array that is still Automatic.
Tensor NetExtract(const Layer& net, std::string_view path);

// The layer at `path`, const: an option set on a layer inside a net would
// leave the net's other shapes and the layer's arrays out of date, so options
// change through NetSetOption (graph/surgery.hpp), which infers again.
const Layer& NetExtractLayer(const Layer& net, std::string_view path);

// The value of the option at `path` ("norm1/Epsilon").
nlohmann::json NetExtractOption(const Layer& net, std::string_view path);

// The shape of the port at `path` ("conv1/Output", "Input" for the net's
// own), as shape inference knows it (one example, no batch dimension).
Shape NetExtractPortShape(const Layer& net, std::string_view path);

// Every present array, by path, in the net's order.
std::vector<std::pair<std::string, Tensor>> NetExtractArrays(const Layer& net);

// Replaces the array at `path` (the NetReplacePart idea); its shape is checked
// against what the net has inferred, and the net's shapes are inferred again.
void NetReplaceArray(Layer& net, std::string_view path, Tensor value);

}  // namespace strata
