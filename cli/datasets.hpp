// Datasets for `strata train` and `strata evaluate`: read from files, shaped
// for a net, and checked against it with errors that name the file.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "layers/layer.hpp"
#include "serialization/csv.hpp"
#include "train/loss.hpp"
#include "train/net_train.hpp"

namespace strata::cli {

// Where a dataset comes from: a CSV file (features then the target on each
// row), or a tensor file of inputs (.npy or .json, batch first) with a tensor
// file of targets. The option names are for error messages.
struct DataFiles {
  std::string data;
  std::string targets;  // empty for a CSV
  std::string data_option = "--data";
  std::string targets_option = "--targets";
  // Whether a CSV file's first row is a header (--header, --no-header).
  CsvHeader header = CsvHeader::Automatic;
};

// Adds --header and --no-header to a command, for every CSV file it reads
// into these DataFiles.
void add_csv_header_flags(CLI::App& cmd, std::vector<DataFiles*> files);

// Reads the examples for the net's single input. A CSV row's features are
// reshaped to the net's Input shape (which must then be known, up to at most
// one dimension that the feature count determines); tensor inputs must be a
// batch of examples that fit it. Every input value is multiplied by
// `input_scale`. What the net did not know yet of its input shape is taken
// from the data and shapes are inferred again; conflicts name the file.
// NaN or infinity in a tensor file's inputs or targets is an error naming
// the file and the element, and so is an input that --input-scale makes
// infinite (naming the flag). A CSV header taken as such (not by --header)
// is noted (take_notes).
Dataset read_dataset(Layer& net, const DataFiles& files, double input_scale);

// Checks the targets against the net's output for the loss, before any work:
// CrossEntropy needs one class index per example, an integer from 0 to the
// number of classes − 1; MeanSquared needs targets shaped like the output.
// The notes gathered while reading (a CSV header skipped), once: strata
// prints them on stderr after a command succeeds (a failure's one line is
// the error), and train --quiet drops them.
std::vector<std::string> take_notes();

void check_targets(const Layer& net, const Dataset& data, LossFunction loss,
                   const DataFiles& files);

}  // namespace strata::cli
