// ONNX export: a strata net as an ONNX model that ONNX Runtime (or any other
// ONNX consumer) runs with the net's outputs.
//
//   strata::export_onnx(net, "model.onnx");
//   strata::export_onnx(net, "model.onnx", {.opset = 13});
//
// The graph's inputs and outputs are named after the net's ports; dimension 0
// of each is the batch and stays symbolic ("N"). Nodes are named after layer
// paths ("block1/conv"; a layer of several nodes adds the op: "gelu/Erf"),
// initializers after array paths ("conv1/Weights"). Training-only behaviour is
// exported in its inference form: DropoutLayer becomes an Identity,
// BatchNormalizationLayer normalizes with its moving statistics.
//
// A net with Automatic arrays or unknown shapes, or a layer ONNX cannot
// express at the chosen opset, is refused with an Error of one line naming the
// layer and why; nothing is written then. Every model is checked with onnx's
// checker and strict shape inference before it is written. docs/onnx.md lists
// the mapping of every layer type.
#pragma once

#include <filesystem>
#include <string>

#include "layers/layer.hpp"

namespace strata {

struct OnnxExportOptions {
  // The opset of the default domain: 13 to 17.
  int opset = 17;
};

inline constexpr int kMinExportOpset = 13;
inline constexpr int kMaxExportOpset = 17;

// Writes the model atomically (a temporary file renamed into place).
void export_onnx(const Layer& net, const std::filesystem::path& path,
                 const OnnxExportOptions& options = {});

// The serialized ModelProto.
std::string export_onnx_bytes(const Layer& net, const OnnxExportOptions& options = {});

}  // namespace strata
