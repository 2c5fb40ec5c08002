// Training data as CSV: one example a row, comma-separated numbers; the last
// column is the target (a class index or a number), the others are the
// example's features, which the caller reshapes to the net's input shape.
//
// - An optional header row comes first. By default (CsvHeader::Automatic)
//   the first row is the header when none of its cells is a number (nor, in
//   the last column, a class label), so that a typo in a number of the first
//   row ("5.1,3.5,1.4x,0.2,0") is an error rather than a header, and a header
//   of numbers ("0,1,2,3") is data; CsvHeader::Present and Absent say which
//   it is (strata's --header and --no-header).
// - Lines may end in \n or \r\n; a trailing newline, blank lines and a UTF-8
//   byte-order mark are ignored. Cells may be quoted ("a, b", with "" for a
//   quote) and padded with spaces.
// - Every data row must have as many cells as the first row, each a finite
//   number within float32's range. Errors give the line and column:
//   "train.csv: line 7, column 3 (pixel2): \"abc\" is not a number".
// - Given class labels, the target may also be a label, which stands for its
//   index ("dog" for 1 with labels cat, dog, bird); a label that is also a
//   number is taken as the label. An unknown label is an error naming the
//   line and the label. The first row is then a header when a feature cell
//   or the target is neither a number nor (the target) a label.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"

namespace strata {

// Whether the first row is a header (see above).
enum class CsvHeader { Automatic, Present, Absent };

struct CsvDataset {
  Tensor inputs;                          // [N, F]: the features of N examples
  Tensor targets;                         // [N]: the last column
  std::vector<std::string> column_names;  // the header's cells, or empty without a header
  size_t header_line = 0;                 // the header's line (1 but for blank lines), or 0
};

// Parses CSV text; errors name the line ("line 7, column 3: ...").
CsvDataset parse_csv_dataset(std::string_view text,
                             const std::vector<std::string>& class_labels = {},
                             CsvHeader header = CsvHeader::Automatic);
// Reads a CSV file; errors also name the file.
CsvDataset read_csv_dataset(const std::filesystem::path& path,
                            const std::vector<std::string>& class_labels = {},
                            CsvHeader header = CsvHeader::Automatic);

}  // namespace strata
