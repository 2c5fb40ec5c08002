// Reference values from independent implementations (PyTorch, NumPy), stored
// as JSON under tests/data/ next to the scripts that made them.
//
// A reference file: {"type": LayerType, "cases": [{
//   "name", "options": {..}, "arrays": {name: T}, "inputs": [T..], "outputs": [T..],
//   optional "mode": "Training", "output_grads": [T..], "input_grads": [T..],
//   "array_grads": {name: T}, "rtol", "atol"}]}
// where T is a tensor {"shape": [..], "data": [..]} with the batch first.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "layers/layer.hpp"

namespace strata::testing {

Tensor tensor_from_json(const nlohmann::json& j);
// Reads tests/data/<name>.
nlohmann::json load_test_data(const std::string& name);
// Largest |a − b| / (atol + rtol·|b|); shapes must match (else +inf).
double compare_tensors(const Tensor& actual, const Tensor& expected, double rtol, double atol);
// Builds the case's layer through the registry, with its options, arrays and
// the per-example input shapes taken from the inputs.
std::unique_ptr<Layer> layer_for_case(const std::string& type, const nlohmann::json& c);
// The layer's outputs for these inputs, in the case's "mode" (default
// Inference), with the random stream of seed 0; ws is the layer's workspace
// (make_workspace()), kept by the caller for a backward pass.
std::vector<Tensor> forward_case(const Layer& layer, const std::vector<Tensor>& inputs,
                                 const nlohmann::json& c, Workspace* ws);
// Checks every case of a reference file (forward, and backward when the case
// has gradients) with doctest assertions.
void check_reference_file(const std::string& name);

}  // namespace strata::testing
