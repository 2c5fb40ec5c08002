// What the commands share about files: loading nets, checking outputs before
// any work is done, and options of the form NAME=FILE.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// A file a command reads or writes, and what names it on the command line
// ("NET", "-o", "--loss-plot").
struct FileRole {
  std::string what;
  std::string path;
};

// Checks, before any work, that no output is one of the inputs or another
// output, comparing files rather than strings: the same file (inode) under
// another name, through a symbolic link, "./a" and "a" all count. So that
// `--loss-plot` equal to `-o`, or `-o` naming the net being applied, cannot
// replace it. Empty paths are skipped.
void check_distinct_files(const std::vector<FileRole>& inputs,
                          const std::vector<FileRole>& outputs);

// Splits "NAME=FILE" at the first '='; `option` names the option in errors.
std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& option);

}  // namespace strata::cli
