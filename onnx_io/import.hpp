// ONNX import: a model exported from PyTorch (torch.onnx.export) or any other
// ONNX producer, as a strata net ready to apply, train, extract from and save.
//
//   auto net = strata::import_onnx("model.onnx");
//   auto net = strata::import_onnx("model.onnx", {.input_shapes = {{"x", {3, 224, 224}}}});
//
// The result is a NetChain when the graph is a chain, a NetGraph otherwise.
// Layer names come from the ONNX node names, made unique and path-safe; the
// net's ports keep the graph's input and output names ('.', '/' and '#'
// become '_'). The first dimension of every graph input is the batch and
// stays free; the shape computations PyTorch exports (Shape, Gather, Concat,
// …) are folded into the layers' options at import. What cannot be imported
// is an Error of one line naming the node, its op and opset, the attribute or
// input at fault and what is supported:
//   node 'Resize_12' (Resize, opset 13): mode "cubic" is not supported (supported: linear, nearest)
// docs/onnx.md lists the ops, what is folded and what is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "layers/layer.hpp"

namespace strata {

struct OnnxImportOptions {
  // Fixes the non-batch dimensions of graph inputs whose shape ONNX leaves
  // dynamic, by input name (as the model spells it): {"x", {3, 224, 224}}.
  std::map<std::string, Dims> input_shapes;
  // Files larger than this (the model, or an external data file) are refused
  // before they are read.
  int64_t max_file_bytes = int64_t{2} << 30;
};

// Reads and converts a .onnx file; external data files are looked up beside
// it. Every error starts with the file's name.
std::unique_ptr<Layer> import_onnx(const std::filesystem::path& path,
                                   const OnnxImportOptions& options = {});

// The same from the bytes of a model; `source` names them in errors and
// `model_dir` is where external data is looked up (empty: external data is
// refused).
std::unique_ptr<Layer> import_onnx_bytes(std::span<const uint8_t> bytes, const std::string& source,
                                         const std::filesystem::path& model_dir,
                                         const OnnxImportOptions& options = {});

// Whether a file looks like an ONNX model: the .onnx suffix.
bool is_onnx_file(const std::filesystem::path& path);

}  // namespace strata
