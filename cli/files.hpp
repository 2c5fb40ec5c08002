// What the commands share about files: loading nets, checking outputs before
// any work is done, and options of the form NAME=FILE.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "layers/layer.hpp"

namespace strata::cli {

// A net file (JSON) or, by its .onnx suffix, an ONNX model imported as it
// loads (`strata import` writes the same net as a file).
std::unique_ptr<Layer> load_net_file(const std::string& path);

// Throws unless every array of the net is present, with a message that names
// the file, the missing arrays and the command that creates them.
void require_initialized(const Layer& net, const std::string& net_file);

// Checks, before any work, that `path` can be written: its directory exists
// and takes a new file (a temporary is created there and removed again), and
// it is not a directory. So that a long training does not fail at the end.
void check_writable(const std::string& path);

// check_writable, and the suffix is one write_tensor_file knows (.npy, .json).
void check_tensor_output(const std::string& path);

// Splits "NAME=FILE" at the first '='; `option` names the option in errors.
std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& option);

}  // namespace strata::cli
