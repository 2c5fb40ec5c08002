#include "serialization/csv.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/npy.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const fs::path kCsvDir = fs::path(STRATA_TEST_DATA_DIR) / "csv";

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         (a.size() == 0 ||
          std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(float)) == 0);
}

std::vector<float> values(const Tensor& t) {
  return {t.values().begin(), t.values().end()};
}

std::string parse_error(std::string_view text) {
  try {
    parse_csv_dataset(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("CSV datasets written by NumPy read as NumPy reads them") {
  for (const char* stem : {"digits_header", "regression_crlf"}) {
    CAPTURE(stem);
    const CsvDataset data = read_csv_dataset(kCsvDir / (std::string(stem) + ".csv"));
    CHECK(bit_equal(data.inputs, read_npy(kCsvDir / (std::string(stem) + "_inputs.npy"))));
    CHECK(bit_equal(data.targets, read_npy(kCsvDir / (std::string(stem) + "_targets.npy"))));
  }
  const CsvDataset digits = read_csv_dataset(kCsvDir / "digits_header.csv");
  CHECK(digits.inputs.shape() == Dims{12, 64});
  CHECK(digits.targets.shape() == Dims{12});
  REQUIRE(digits.column_names.size() == 65);
  CHECK(digits.column_names.front() == "pixel_0_0");
  CHECK(digits.column_names.back() == "target");
  const CsvDataset regression = read_csv_dataset(kCsvDir / "regression_crlf.csv");
  CHECK(regression.inputs.shape() == Dims{10, 5});
  CHECK(regression.column_names.empty());
}

TEST_CASE("CSV without and with a header") {
  const CsvDataset plain = parse_csv_dataset("1,2,0\n3,4,1\n");
  CHECK(plain.inputs.shape() == Dims{2, 2});
  CHECK(values(plain.inputs) == std::vector<float>{1, 2, 3, 4});
  CHECK(values(plain.targets) == std::vector<float>{0, 1});
  CHECK(plain.column_names.empty());

  const CsvDataset named = parse_csv_dataset("x,y,label\n1,2,0\n3,4,1\n");
  CHECK(values(named.inputs) == std::vector<float>{1, 2, 3, 4});
  CHECK(named.column_names == std::vector<std::string>{"x", "y", "label"});

  CHECK(named.header_line == 1);
  CHECK(plain.header_line == 0);
  // Empty names count as text (pandas writes an empty first name for the
  // index column).
  const CsvDataset blank = parse_csv_dataset("\n,x,y,target\n0,5,6,1\n");
  CHECK(blank.column_names == std::vector<std::string>{"", "x", "y", "target"});
  CHECK(blank.header_line == 2);

  // A first row with a number in it is data: a typo in one of its numbers is
  // an error, not a header.
  CHECK_THROWS_WITH_AS(parse_csv_dataset("5.1,3.5,1.4x,0\n4.9,3.0,1.4,0\n"),
                       "line 1, column 3: \"1.4x\" is not a number (the first row has numbers, "
                       "so it is data; if it is a header, say so with --header)",
                       Error);
  CHECK_THROWS_WITH_AS(parse_csv_dataset(",0,1,target\n0,5,6,1\n"),
                       doctest::Contains("line 1, column 1: empty cell"), Error);
  // Unless the caller says it is a header, or that there is none.
  const CsvDataset partly = parse_csv_dataset(",0,1,target\n0,5,6,1\n", {}, CsvHeader::Present);
  CHECK(partly.column_names == std::vector<std::string>{"", "0", "1", "target"});
  CHECK(values(partly.inputs) == std::vector<float>{0, 5, 6});
  const CsvDataset numbers = parse_csv_dataset("0,1,2\n3,4,5\n", {}, CsvHeader::Present);
  CHECK(numbers.column_names == std::vector<std::string>{"0", "1", "2"});
  CHECK(values(numbers.targets) == std::vector<float>{5});
  CHECK_THROWS_WITH_AS(parse_csv_dataset("x,y,t\n3,4,5\n", {}, CsvHeader::Absent),
                       "line 1, column 1: \"x\" is not a number", Error);
}

TEST_CASE("CSV targets given as class labels") {
  const std::vector<std::string> labels = {"cat", "dog", "bird"};
  const CsvDataset named = parse_csv_dataset("x,y,animal\n1,2,dog\n3,4,bird\n5,6,0\n", labels);
  CHECK(named.column_names == std::vector<std::string>{"x", "y", "animal"});
  CHECK(values(named.inputs) == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(values(named.targets) == std::vector<float>{1, 2, 0});  // labels and indices mix
  // A first row whose target is a label is data, not a header; quoted too.
  const CsvDataset plain = parse_csv_dataset("1,2,cat\n3,4,\"dog\"\n", labels);
  CHECK(plain.column_names.empty());
  CHECK(values(plain.targets) == std::vector<float>{0, 1});
  // A label that reads as a number is the label.
  const CsvDataset numeric = parse_csv_dataset("1,2,0\n3,4,1\n", {"1", "0"});
  CHECK(values(numeric.targets) == std::vector<float>{1, 0});

  std::string message;
  try {
    parse_csv_dataset("x,y,animal\n1,2,dog\n3,4,ferret\n", labels);
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message ==
        "line 3, column 3 (animal): unknown class label \"ferret\" (ClassLabels: cat, dog, bird)");
}

TEST_CASE("CSV line ends, blank lines, spaces, quotes and a byte-order mark") {
  const std::vector<float> inputs = {1, 2, 3, 4}, targets = {0, 1};
  for (const char* text :
       {"1,2,0\r\n3,4,1\r\n", "1,2,0\r\n3,4,1", "1,2,0\n3,4,1", "\n\n1,2,0\n\n3,4,1\n\n\n",
        "\xEF\xBB\xBF"
        "1,2,0\n3,4,1\n",
        " 1 ,\t2, 0\n3 , 4 ,1 \n", "\"1\",\"2\",\"0\"\n3, \"4\" ,1\n"}) {
    CAPTURE(text);
    const CsvDataset data = parse_csv_dataset(text);
    CHECK(values(data.inputs) == inputs);
    CHECK(values(data.targets) == targets);
  }
  const CsvDataset quoted =
      parse_csv_dataset("\xEF\xBB\xBF\"width, cm\",\"the \"\"x\"\"\",target\r\n1,2,3\r\n");
  CHECK(quoted.column_names == std::vector<std::string>{"width, cm", "the \"x\"", "target"});
}

TEST_CASE("CSV numbers: forms and rounding to float32") {
  const CsvDataset data = parse_csv_dataset("+1.5,-2e-3,.5,5.,1E+2,0.1,1e-400,-1e-400,7\n");
  const std::vector<float> want = {1.5f, -2e-3f, 0.5f, 5.0f, 100.0f, 0.1f, 0.0f, -0.0f};
  REQUIRE(data.inputs.size() == 8);
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(std::memcmp(data.inputs.data() + i, &want[i], sizeof(float)) == 0);
  }
  CHECK(data.targets[0] == 7.0f);
}

TEST_CASE("CSV errors give the line and column") {
  CHECK(parse_error("") == "empty file: no rows");
  CHECK(parse_error("\r\n\n  \n") == "empty file: no rows");
  CHECK(parse_error("a,b,target\n") == "no data rows after the header (line 1)");
  CHECK(parse_error("\na,b,target\r\n\r\n") == "no data rows after the header (line 2)");
  CHECK(parse_error("1\n2\n") ==
        "line 1: 1 column, but a dataset needs at least one feature column and the target (the "
        "last column)");
  CHECK(parse_error("1,2,3\n4,5\n") == "line 2: 2 columns, but line 1 has 3");
  CHECK(parse_error("a,b,c\n1,2,3\n\n4,5,6,7\n") == "line 4: 4 columns, but line 1 has 3");
  CHECK(parse_error("1,2,3\n4\n") == "line 2: 1 column, but line 1 has 3");
  CHECK(parse_error("x,y,label\n1,2,0\n3,four,1\n") ==
        "line 3, column 2 (y): \"four\" is not a number");
  CHECK(parse_error("1,2,0\n3,four,1\n") == "line 2, column 2: \"four\" is not a number");
  CHECK(parse_error("1,2,0\r\n3,4,one\r\n") ==
        "line 2, column 3: \"one\" is not a number (targets given as class labels need a net "
        "with ClassLabels)");
  CHECK(parse_error("1,2,0\n3,0x10,1\n") == "line 2, column 2: \"0x10\" is not a number");
  CHECK(parse_error("1,2,0\n3,+-4,1\n") == "line 2, column 2: \"+-4\" is not a number");
  CHECK(parse_error("1,2,0\n3,,1\n") == "line 2, column 2: empty cell");
  CHECK(parse_error("1,2,0\n3,4,\n") == "line 2, column 3: empty cell");
  CHECK(parse_error("1,,0\n") == "line 1, column 2: empty cell");
  CHECK(parse_error("1,2,0\n3,NaN,1\n") == "line 2, column 2: NaN is not allowed");
  CHECK(parse_error("a,b,c\n1,2,nan\n") == "line 2, column 3 (c): NaN is not allowed");
  CHECK(parse_error("1,2,0\n-inf,2,1\n") == "line 2, column 1: infinity is not allowed");
  CHECK(parse_error("1,2,0\n1e39,2,1\n") ==
        "line 2, column 1: \"1e39\" is outside float32's range");
  CHECK(parse_error("1,2,0\n1e999,2,1\n") ==
        "line 2, column 1: \"1e999\" is outside float32's range");
  CHECK(parse_error("1,2,0\n\"3,4,1\n") ==
        "line 2, column 1: unterminated quoted cell (a cell cannot span lines)");
  CHECK(parse_error("\"a\"b,c\n") ==
        "line 1, column 1: text after the closing quote of a quoted cell");
  CHECK(parse_error("1,2,0\n3,4," + std::string(50, 'z') + "\n") ==
        "line 2, column 3: \"" + std::string(40, 'z') +
            "...\" is not a number (targets given as class labels need a net with ClassLabels)");
}

TEST_CASE("read_csv_dataset names the file") {
  const fs::path path =
      fs::temp_directory_path() / ("strata_csv_" + std::to_string(::getpid()) + ".csv");
  write_file_atomically(path, "x,y,label\n1,2,0\n3,4\n");
  std::string error;
  try {
    read_csv_dataset(path);
  } catch (const Error& e) {
    error = e.what();
  }
  CHECK(error == path.string() + ": line 3: 2 columns, but line 1 has 3");
  fs::remove(path);
  CHECK_THROWS_WITH_AS(
      read_csv_dataset(path),
      (path.string() + ": cannot open for reading: No such file or directory").c_str(), Error);
}

TEST_CASE("parse_csv_dataset either reads or throws Error on damaged text") {
  Rng rng(11);
  const std::string seed =
      "\xEF\xBB\xBF"
      "a,\"b, c\",target\r\n1.5,-2e-3,0\r\n3,4,1\n\n5,6,2\n";
  const std::string alphabet = ",\"\r\n \t0123456789.eE+-nafix";
  int parsed = 0, refused = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text = seed;
    const uint64_t edits = 1 + rng.below(4);
    for (uint64_t e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng.below(text.size());
      switch (rng.below(3)) {
        case 0:
          text[at] = alphabet[rng.below(alphabet.size())];
          break;
        case 1:
          text.insert(at, 1, alphabet[rng.below(alphabet.size())]);
          break;
        default:
          text.erase(at, 1 + rng.below(3));
      }
    }
    try {
      const CsvDataset data = parse_csv_dataset(text);
      CHECK(data.inputs.dim(0) == data.targets.dim(0));
      ++parsed;
    } catch (const Error&) {
      ++refused;
    }
  }
  CHECK(parsed > 1000);
  CHECK(refused > 1000);
}
