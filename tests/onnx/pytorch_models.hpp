// The PyTorch-exported models of tests/data/onnx/ (made by make_models.py,
// each with its input and PyTorch's outputs beside it as .npy files).
#pragma once

#include <string>
#include <vector>

namespace strata::testing {

inline const std::vector<std::string> kPyTorchModels = {
    "mlp_opset11",       "mlp_opset17",      "resnet_opset13", "mobilenet_opset11",
    "mobilenet_opset17", "conv1d_opset13",   "conv3d_opset17", "concat_opset13",
    "unet_opset13",      "style_opset11",    "style_opset17",  "bilinear_opset13",
    "prelu_lrn_opset13", "pools_opset13",    "gelu_opset13",   "reduce_opset13",
    "constants_opset11", "constants_opset17"};

}  // namespace strata::testing
