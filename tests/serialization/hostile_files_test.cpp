// Hostile input: the catalogue in tests/data/hostile/ (written by
// tests/data/make_hostile.py), and a few inputs too big to keep as files,
// built here. Each must be refused with a strata::Error whose one-line
// message names the file and the problem, in bounded time and memory; no
// crash, no other exception, no stack overflow. The cases the fuzzers found
// are among them (marked "fuzz finding").
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include "core/error.hpp"
#include "graph/net.hpp"
#include "layers/linear.hpp"
#include "serialization/csv.hpp"
#include "serialization/json_document.hpp"
#include "serialization/net_json.hpp"
#include "serialization/npy.hpp"
#include "serialization/tensor_json.hpp"
#include "train/initialize.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const fs::path kHostileDir = fs::path(STRATA_TEST_DATA_DIR) / "hostile";

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// The file and the words its error must contain.
struct Hostile {
  const char* file;
  const char* expected;
};

const Hostile kCatalogue[] = {
    // Net files: dimensions.
    {"net_negative_dimension.json", "Input[0]: expected a positive size or null"},
    {"net_zero_dimension.json", "Input[0]: expected a positive size or null"},
    {"net_enormous_dimension.json", "(a size is at most 2147483648), got 99999999999"},
    {"net_dimension_beyond_int64.json", "Input[0]: expected a positive size or null"},
    {"net_product_overflows.json",
     "Input: shape [2147483648, 2147483648, 2147483648] has more than 1099511627776 elements"},
    {"net_linear_weights_overflow.json",
     "(LinearLayer): Weights: shape [2147483648, 1099511627776] has more than 1099511627776 "
     "elements"},
    {"net_array_shape_overflows.json",
     "layers[0].Weights.shape: shape [4294967296, 4294967296, 4294967296] has more than "
     "1099511627776 elements"},
    {"net_kernel_larger_than_input.json",
     "Input: size 4 in spatial dimension 1 is smaller than the kernel, which spans 9"},
    // Net files: numbers.
    {"net_nan_in_array.json", "malformed JSON: parse error at line 2, column 40"},
    // A fuzz finding: nlohmann's out_of_range escaped.
    {"net_infinity_in_array.json",
     "malformed JSON: number 1e999 at line 2, column 40 is beyond the range of a double"},
    {"net_infinite_option.json", "malformed JSON: number -1e999 at line 2, column 13"},
    {"net_beyond_float32_in_array.json", "Weights.data[0]: 1e+39 is outside float32's range"},
    {"net_string_for_number.json", "layers[0].Size: expected an integer, got \"10\""},
    {"net_string_dimension.json", "Input[0]: expected a positive size or null"},
    {"net_string_in_array.json", "layers[0].Biases.data[0]: expected a number, got string \"0.5\""},
    // Net files: structure.
    {"net_duplicate_layer_names.json", "two layers are named \"act\""},
    {"net_duplicate_key.json", "layers[0]: duplicate key \"Size\""},
    {"net_cycle.json", "the connections form a cycle through: a, b"},
    {"net_self_connection.json", "connection a -> a: a is connected to itself"},
    {"net_missing_port.json",
     "connection a.Result -> #Output: no output port named \"Result\" (there are: Output)"},
    {"net_missing_layer.json", "connection a -> b: no layer named \"b\" (there are: a)"},
    {"net_unknown_layer_type.json", "layers[0].type: unknown layer type \"ConvolutionLayr\""},
    {"net_unknown_key.json", "unknown option \"Sise\" for LinearLayer"},
    {"net_nested_lists.json",
     "Input[0]: expected a positive size or null (a size is at most 2147483648), got [[[4]]]"},
    // A message stays on one line whatever the file holds.
    {"net_control_characters.json", "unknown layer type \"Ramp\\nLayer\\x01\""},
    {"net_newer_version.json", "version 99 is newer than this strata reads"},
    {"net_truncated.json", "malformed JSON: parse error at line 1, column 61"},
    {"net_empty.json", "malformed JSON: parse error at line 1, column 1"},
    {"net_not_json.json", "malformed JSON: parse error at line 1, column 1"},
    // Issue 18: a NUL byte ended the input for nlohmann, and what followed was ignored.
    {"net_trailing_nul.json", "malformed JSON: a NUL byte at line 2, column 1"},
    {"net_nul_inside.json", "malformed JSON: a NUL byte at line 1, column 25"},
    // .npy files.
    {"npy_truncated_data.npy",
     "truncated .npy file: shape (100,) of '<f4' needs 400 bytes of data, but 12 are present"},
    {"npy_truncated_header.npy", "truncated .npy file: the header should be 118 bytes"},
    {"npy_only_magic.npy", "truncated .npy file: 6 bytes, too short for the header"},
    {"npy_mislabelled_dtype.npy", "shape (6,) of '<f8' needs 48 bytes of data, but 24 are present"},
    {"npy_mislabelled_shape.npy",
     "shape (2, 4) of '<f4' needs 32 bytes of data, but 24 are present"},
    {"npy_trailing_bytes.npy", "unexpected data after the array"},
    {"npy_csv_text.npy", "not a .npy file: it starts with \"a,b,targ\""},
    {"npy_zip_archive.npy", "(a zip archive, such as a .npz file"},
    {"npy_negative_dimension.npy", "negative dimension in shape (-2)"},
    {"npy_enormous_dimension.npy", "needs 4000000000000 bytes of data, but 0 are present"},
    {"npy_product_overflows.npy",
     "array too large: shape [4294967296, 4294967296, 4294967296] has more than 1099511627776 "
     "elements"},
    {"npy_dimension_beyond_int64.npy", "integer 99999999999999999999 out of range"},
    {"npy_string_dimension.npy", "'shape' should be a tuple of integers"},
    {"npy_header_length_beyond_file.npy", "the header should be 4294967280 bytes, but only 8"},
    {"npy_nested_header.npy", "malformed .npy header (nesting too deep"},
    {"npy_float64_beyond_float32.npy", "value 1e+300 at flat index 1 is outside float32's range"},
    {"npy_unsupported_dtype.npy", "unsupported dtype '<c8' (complex)"},
    {"npy_object_dtype.npy", "unsupported dtype '|O' (Python objects)"},
    // CSV files.
    {"csv_nan.csv", "line 3, column 2 (y): NaN is not allowed"},
    {"csv_infinity.csv", "line 2, column 2 (y): infinity is not allowed"},
    {"csv_beyond_float32.csv", "line 2, column 2 (y): \"1e39\" is outside float32's range"},
    {"csv_string_for_number.csv", "line 3, column 2 (y): \"four\" is not a number"},
    {"csv_ragged_row.csv", "line 2: 4 columns, but line 1 has 3"},
    {"csv_empty_cell.csv", "line 2, column 2: empty cell"},
    {"csv_unterminated_quote.csv", "line 2, column 1: unterminated quoted cell"},
    // A fuzz finding: without a final newline the reader read past the end.
    {"csv_header_only.csv", "no data rows after the header (line 1)"},
    {"csv_one_column.csv", "line 1: 1 column, but a dataset needs at least one feature column"},
    {"csv_empty.csv", "empty file: no rows"},
    {"csv_binary.csv", "line 2: 1 column, but line 1 has"},
    // Second battery: values no file may hold.
    {"net_negative_moving_variance.json",
     "layers[1] (norm).MovingVariance: a variance cannot be negative, but element 1 (channel 2) "
     "is -0.5"},
};

// The error loading a file by its suffix; "no error" or the other
// exception's type name are failures.
std::string error_loading(const fs::path& path) {
  try {
    const std::string suffix = path.extension().string();
    if (suffix == ".json") {
      load_net(path);
    } else if (suffix == ".npy") {
      read_npy(path);
    } else {
      read_csv_dataset(path);
    }
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a strata::Error: ") + e.what();
  }
  return "no error";
}

// The error of `f` (as above), and checks that it came within `seconds`.
doctest::String error_of(const std::function<void()>& f, double seconds = 10) {
  const auto start = std::chrono::steady_clock::now();
  std::string message = "no error";
  try {
    f();
  } catch (const Error& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("not a strata::Error: ") + e.what();
  }
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return message.c_str();
}

long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

}  // namespace

TEST_CASE("every hostile file is refused with a one-line error naming the file and the problem") {
  std::set<std::string> listed;
  const long rss_before = peak_rss_mb();
  for (const auto& [file, expected] : kCatalogue) {
    const std::string name = file;
    CAPTURE(name);
    listed.insert(file);
    const fs::path path = kHostileDir / file;
    REQUIRE(fs::exists(path));
    const auto start = std::chrono::steady_clock::now();
    const std::string message = error_loading(path);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(message.rfind(path.string() + ": ", 0) == 0);  // starts with the file
    CHECK(doctest::String(message.c_str()) == doctest::Contains(expected));
    CHECK(message.find('\n') == std::string::npos);
    CHECK(seconds < 2);
  }
  // Sizes are checked before anything is allocated (ASan's shadow memory
  // would make this meaningless).
  if (!kSanitized) CHECK(peak_rss_mb() - rss_before < 256);
  // A file added to the catalogue without an expectation is a failure too.
  for (const auto& entry : fs::directory_iterator(kHostileDir)) {
    CAPTURE(entry.path());
    CHECK(listed.count(entry.path().filename().string()) == 1);
  }
}

TEST_CASE("100000 nested lists or objects are refused before nlohmann::json recurses into them") {
  const std::string lists = std::string(100000, '[') + std::string(100000, ']');
  CHECK(error_of([&] { parse_net(lists, "deep.json"); }) ==
        "deep.json: malformed JSON: lists and objects nested more than 256 deep at line 1, "
        "column 257");
  std::string objects;
  for (int i = 0; i < 100000; ++i)
    objects += "{\"a\": ";
  objects += "1" + std::string(100000, '}');
  CHECK(error_of([&] { parse_net(objects, "deep.json"); }) ==
        doctest::Contains("nested more than 256 deep at line 1, column 1537"));
  // Unclosed, as a truncated hostile file would be.
  CHECK(error_of([&] { parse_json_document(std::string(100000, '[')); }) ==
        doctest::Contains("nested more than 256 deep"));
  // Brackets in strings do not count.
  CHECK(parse_json_document("[\"" + std::string(1000, '[') + "\"]")[0].get<std::string>().size() ==
        1000);
  // Where a value is expected deep inside a net: the same refusal, no recursion.
  const std::string net =
      R"({"format": "strata-net", "version": 1, "type": "LinearLayer", "Size": )" + lists + "}";
  CHECK(error_of([&] { parse_net(net, "deep.json"); }) ==
        doctest::Contains("nested more than 256 deep"));
  // A tensor file too.
  const fs::path path = fs::temp_directory_path() / "strata_hostile_deep_tensor.json";
  std::remove(path.c_str());
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(lists.data(), 1, lists.size(), f);
    std::fclose(f);
  }
  CHECK(error_of([&] { read_tensor_file(path); }) ==
        doctest::Contains("strata_hostile_deep_tensor.json: malformed JSON: lists and objects "
                          "nested more than 256 deep"));
  fs::remove(path);
}

TEST_CASE("NaN and infinities read from .npy are refused as a layer's arrays") {
  Tensor values({1, 2}, std::vector<float>{1.0f, std::nanf("")});
  const Tensor read = parse_npy(to_npy(values));  // a .npy may hold NaN, as data
  CHECK(std::isnan(read[1]));
  LinearLayer layer(1);
  layer.constrain_input(0, Shape{2});
  layer.infer_shapes();
  CHECK(error_of([&] { layer.set_array("Weights", read); }) == "Weights: contains NaN or infinity");
  values[1] = -INFINITY;
  CHECK(error_of([&] { layer.set_array("Weights", parse_npy(to_npy(values))); }) ==
        "Weights: contains NaN or infinity");
  CHECK(layer.array("Weights") == nullptr);
}

TEST_CASE("CSV with very many columns and blank lines does not ask for a huge allocation") {
  // Reserving rows x columns up front would be 100000 x 200000 floats (80 GB).
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += i ? ",a" : "a";
  text += std::string(200000, '\n');
  CHECK(error_of([&] { parse_csv_dataset(text); }) == "no data rows after the header (line 1)");
  // A last line without a newline (a fuzz finding: it was read past the end).
  CHECK(parse_csv_dataset("1,2,3\n4,5,6").targets.size() == 2);
  CHECK(parse_csv_dataset("1,2").inputs.size() == 1);
}

TEST_CASE("a net of a million layers loads in seconds, without deep recursion") {
  // Under sanitizers, a tenth: the point is that nothing is quadratic.
  const int n = kSanitized ? 100000 : 1000000;
  std::string text =
      R"({"format": "strata-net", "version": 1, "type": "NetChain", "Output": [3], "layers": [)";
  for (int i = 0; i < n; ++i)
    text += i ? R"(, {"type": "ElementwiseLayer", "Function": "Ramp"})"
              : R"({"type": "ElementwiseLayer", "Function": "Ramp"})";
  text += "]}";
  const auto start = std::chrono::steady_clock::now();
  auto net = parse_net(text, "huge.json");
  // Only the output was declared: the input shape came back through every layer.
  CHECK(net->inputs()[0].shape == Shape{3});
  NetInitialize(*net);
  const Tensor y = (*net)(Tensor({2, 3}, std::vector<float>{1, -2, 3, -4, 5, 6}));
  CHECK(y == Tensor({2, 3}, std::vector<float>{1, 0, 3, 0, 5, 6}));
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 60);

  // A graph of 100000 layers, every connection named: no name lookup is linear.
  const int m = kSanitized ? 10000 : 100000;
  std::string graph =
      R"({"format": "strata-net", "version": 1, "type": "NetGraph", "Input": [2], "layers": [)";
  std::string connections = R"([["#Input", "l0"])";
  for (int i = 0; i < m; ++i) {
    graph += (i ? ", " : "") + std::string(R"({"type": "ElementwiseLayer", "Function": "Tanh", )") +
             "\"name\": \"l" + std::to_string(i) + "\"}";
    if (i) connections += ", [\"l" + std::to_string(i - 1) + "\", \"l" + std::to_string(i) + "\"]";
  }
  graph += "], \"connections\": " + connections + ", [\"l" + std::to_string(m - 1) +
           "\", \"#Output\"]]}";
  const auto graph_start = std::chrono::steady_clock::now();
  auto g = parse_net(graph, "graph.json");
  CHECK(static_cast<Net&>(*g).size() == static_cast<size_t>(m));
  CHECK(g->outputs()[0].shape == Shape{2});
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - graph_start).count() < 30);
  // A missing name among them is reported without listing them all.
  const std::string missing = graph.substr(0, graph.size() - 2) + R"(, ["nope", "#Other"]]})";
  const doctest::String message = error_of([&] { parse_net(missing, "graph.json"); });
  CHECK(message == doctest::Contains("no layer named \"nope\" (there are: l0, l1, "));
  CHECK(message == doctest::Contains((std::to_string(m) + " in all)").c_str()));
  CHECK(message.size() < 400);
}

TEST_CASE("nets nested 64 deep load quickly (inference is not exponential in the depth)") {
  std::string text = R"({"type": "ElementwiseLayer", "Function": "Tanh"})";
  for (int i = 0; i < 63; ++i)
    text = R"({"type": "NetChain", "layers": [)" + text + "]}";
  text = R"({"format": "strata-net", "version": 1, "Input": [3],)" + text.substr(1);
  const auto start = std::chrono::steady_clock::now();
  auto net = parse_net(text, "nested.json");
  CHECK(net->outputs()[0].shape == Shape{3});
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5);
}
