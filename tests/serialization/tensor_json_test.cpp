#include "serialization/tensor_json.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/npy.hpp"

using namespace strata;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kDataDir = fs::path(STRATA_TEST_DATA_DIR) / "tensor_json";

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         (a.size() == 0 ||
          std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(float)) == 0);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string read_error(const json& j, std::string_view where = "layers[3].Weights") {
  return error_of([&] { tensor_from_json(j, where); });
}

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("strata_tensor_json_" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("tensor JSON round-trips every finite float32 bit pattern tried, through text") {
  Rng rng(42);
  std::vector<float> values = {0.0f,
                               -0.0f,
                               0.1f,
                               1.0f / 3.0f,
                               std::numeric_limits<float>::denorm_min(),
                               -std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::lowest(),
                               16777217.0f};
  while (values.size() < 200000) {
    const float v = std::bit_cast<float>(static_cast<uint32_t>(rng.next()));
    if (std::isfinite(v)) values.push_back(v);
  }
  const Tensor t({2, 100000}, values);
  const std::string text = tensor_to_json(t).dump();
  CHECK(bit_equal(tensor_from_json(json::parse(text), "t"), t));
  // The text form that tensor files use, too.
  CHECK(bit_equal(tensor_from_json(json::parse(tensor_to_json_text(t)), "t"), t));
}

TEST_CASE("tensor JSON numbers are NumPy's shortest float32 decimals") {
  // The .npy holds the exact bits; the .json holds repr(np.float32(v)).
  const Tensor exact = read_npy(kDataDir / "float32_values.npy");
  const json from_python = json::parse(read_file(kDataDir / "float32_values.json"));
  CHECK(bit_equal(tensor_from_json(from_python, ""), exact));
  // Same doubles, hence the same text once both are printed by one printer.
  CHECK(tensor_to_json(exact).dump() == from_python.dump());
  CHECK(tensor_to_json(Tensor({3}, std::vector<float>{0.1f, 1.0f / 3.0f, 1e-45f})).dump() ==
        R"({"data":[0.1,0.33333334,1e-45],"shape":[3]})");
}

TEST_CASE("tensor JSON of scalars, empty tensors and integers") {
  const Tensor scalar({}, std::vector<float>{2.5f});
  CHECK(tensor_to_json(scalar) == json::parse(R"({"shape": [], "data": [2.5]})"));
  CHECK(bit_equal(tensor_from_json(tensor_to_json(scalar), ""), scalar));
  const Tensor empty({2, 0, 3});
  CHECK(tensor_to_json(empty) == json::parse(R"({"shape": [2, 0, 3], "data": []})"));
  CHECK(bit_equal(tensor_from_json(tensor_to_json(empty), ""), empty));
  // Integers (as Python's json writes class indices) are numbers too.
  const Tensor ints = tensor_from_json(json::parse(R"({"shape": [3], "data": [0, -2, 7]})"), "");
  CHECK(bit_equal(ints, Tensor({3}, std::vector<float>{0, -2, 7})));
}

TEST_CASE("tensor_from_json errors name the JSON path") {
  CHECK(read_error(json::array({1, 2})) ==
        "layers[3].Weights: expected a tensor {\"shape\": [...], \"data\": [...]}, got array "
        "[1,2]");
  CHECK(read_error({{"data", {1}}}) == "layers[3].Weights: missing key \"shape\"");
  CHECK(read_error({{"shape", {1}}}) == "layers[3].Weights: missing key \"data\"");
  CHECK(read_error({{"shape", {1}}, {"data", {1}}, {"dtype", "f4"}}) ==
        "layers[3].Weights: unknown key \"dtype\" (a tensor has \"shape\" and \"data\")");
  CHECK(read_error({{"shape", 3}, {"data", {1}}}) ==
        "layers[3].Weights.shape: expected a list of dimensions, got number 3");
  CHECK(read_error({{"shape", {2, 1.5}}, {"data", {1}}}) ==
        "layers[3].Weights.shape[1]: expected a non-negative integer, got number 1.5");
  CHECK(read_error({{"shape", {2, 3.0}}, {"data", {1}}}) ==
        "layers[3].Weights.shape[1]: expected a non-negative integer, got number 3.0");
  CHECK(read_error({{"shape", {-2}}, {"data", {1}}}) ==
        "layers[3].Weights.shape[0]: expected a non-negative integer, got number -2");
  CHECK(read_error({{"shape", {"2"}}, {"data", {1}}}) ==
        "layers[3].Weights.shape[0]: expected a non-negative integer, got string \"2\"");
  CHECK(read_error(json::parse(R"({"shape": [18446744073709551615], "data": []})")) ==
        "layers[3].Weights.shape[0]: expected a non-negative integer, got number "
        "18446744073709551615");
  CHECK(read_error({{"shape", {10000000, 10000000, 10000000}}, {"data", json::array()}}) ==
        "layers[3].Weights.shape: shape [10000000, 10000000, 10000000] has more than "
        "1099511627776 elements");
  // A huge shape with little data is refused before the tensor is allocated.
  CHECK(read_error({{"shape", {1000000, 1000000}}, {"data", {1, 2}}}) ==
        "layers[3].Weights.data: has 2 numbers, but shape [1000000, 1000000] needs "
        "1000000000000");
  CHECK(read_error({{"shape", {2, 3}}, {"data", {1, 2, 3, 4, 5}}}) ==
        "layers[3].Weights.data: has 5 numbers, but shape [2, 3] needs 6");
  CHECK(read_error({{"shape", {2}}, {"data", "12"}}) ==
        "layers[3].Weights.data: expected a flat list of numbers, got string \"12\"");
  CHECK(read_error({{"shape", {2}}, {"data", {1, "x"}}}) ==
        "layers[3].Weights.data[1]: expected a number, got string \"x\"");
  CHECK(read_error({{"shape", {2}}, {"data", {1, nullptr}}}) ==
        "layers[3].Weights.data[1]: expected a number, got null null");
  CHECK(read_error({{"shape", {2}}, {"data", {true, 1}}}) ==
        "layers[3].Weights.data[0]: expected a number, got boolean true");
  CHECK(read_error({{"shape", {2, 2}}, {"data", {{1, 2}, {3, 4}}}}) ==
        "layers[3].Weights.data: has 2 numbers, but shape [2, 2] needs 4");
  CHECK(read_error({{"shape", {2}}, {"data", {{1, 2}, {3, 4}}}}) ==
        "layers[3].Weights.data[0]: expected a number, got array [1,2] (data is one flat list, "
        "in row-major order)");
  CHECK(read_error(json::parse(R"({"shape": [2], "data": [1, 1e300]})")) ==
        "layers[3].Weights.data[1]: 1e+300 is outside float32's range");
  CHECK(read_error({{"shape", {2}}, {"data", {1, std::nan("")}}}) ==
        "layers[3].Weights.data[1]: NaN is not allowed");
  CHECK(read_error({{"shape", {1}}, {"data", {-HUGE_VAL}}}) ==
        "layers[3].Weights.data[0]: infinity is not allowed");
  // Without a path, the message starts at the key.
  CHECK(read_error({{"shape", {2, 3}}, {"data", {1}}}, "") ==
        "data: has 1 number, but shape [2, 3] needs 6");
  CHECK(read_error(json::array(), "") ==
        "expected a tensor {\"shape\": [...], \"data\": [...]}, got array []");
}

TEST_CASE("tensor_to_json refuses NaN and infinity, naming the element") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(error_of([&] {
          tensor_to_json(Tensor({3}, std::vector<float>{1, std::nanf(""), 2}), "layers[0].Biases");
        }) == "layers[0].Biases.data[1]: NaN cannot be written as JSON");
  CHECK(error_of([&] {
          tensor_to_json(Tensor({2}, std::vector<float>{1, -inf}));
        }) == "data[1]: -infinity cannot be written as JSON");
  CHECK(error_of([&] { tensor_to_json(Tensor({1}, std::vector<float>{inf}), "x"); }) ==
        "x.data[0]: infinity cannot be written as JSON");
}

TEST_CASE("json_number gives the shortest double that rounds back to the float") {
  CHECK(json_number(0.1f) == 0.1);
  CHECK(json_number(1.0f) == 1.0);
  CHECK(std::signbit(json_number(-0.0f)));
  CHECK(json_number(1e-45f) == 1e-45);
  CHECK(static_cast<float>(json_number(1e-45f)) == std::numeric_limits<float>::denorm_min());
}

TEST_CASE("read_tensor_file and write_tensor_file choose the format by suffix") {
  ScratchDir dir;
  const Tensor t({2, 3}, std::vector<float>{0.1f, -2, 3.5f, 1e-30f, -0.0f, 7});
  for (const char* name : {"t.npy", "t.json", "T.JSON", "t.NPY"}) {
    CAPTURE(name);
    write_tensor_file(dir.path / name, t);
    CHECK(bit_equal(read_tensor_file(dir.path / name), t));
  }
  CHECK(read_npy(dir.path / "t.npy") == t);
  CHECK(read_file(dir.path / "t.json") ==
        "{\"shape\": [2, 3], \"data\": [0.1,-2,3.5,1e-30,-0.0,7]}\n");
  // Files written by hand or by Python.
  write_file_atomically(dir.path / "hand.json", R"({"data": [1, 2.5], "shape": [2]})");
  CHECK(bit_equal(read_tensor_file(dir.path / "hand.json"),
                  Tensor({2}, std::vector<float>{1, 2.5f})));
}

TEST_CASE("tensor file errors name the file") {
  ScratchDir dir;
  const std::string base = dir.path.string() + "/";
  const Tensor t({1}, std::vector<float>{1});
  CHECK(error_of([&] { write_tensor_file(dir.path / "t.csv", t); }) ==
        base + "t.csv: unknown tensor file type \".csv\"; expected .npy or .json");
  CHECK(error_of([&] { read_tensor_file(dir.path / "tensor"); }) ==
        base + "tensor: unknown tensor file type (no suffix); expected .npy or .json");
  CHECK_FALSE(fs::exists(dir.path / "t.csv"));
  CHECK(error_of([&] {
          write_tensor_file(dir.path / "nan.json", Tensor({1}, std::vector<float>{std::nanf("")}));
        }) == base + "nan.json: data[0]: NaN cannot be written as JSON");
  CHECK_FALSE(fs::exists(dir.path / "nan.json"));

  write_file_atomically(dir.path / "bad.json", R"({"shape": [2], "data": [1, 2,]})");
  CHECK(error_of([&] { read_tensor_file(dir.path / "bad.json"); }) ==
        base +
            "bad.json: malformed JSON: parse error at line 1, "
            "column 30: syntax error while parsing value - unexpected ']'; expected '[', '{', "
            "or a literal");
  write_file_atomically(dir.path / "short.json", R"({"shape": [2], "data": [1]})");
  CHECK(error_of([&] { read_tensor_file(dir.path / "short.json"); }) ==
        base + "short.json: data: has 1 number, but shape [2] needs 2");
  CHECK(error_of([&] { read_tensor_file(dir.path / "missing.json"); }) ==
        base + "missing.json: cannot open for reading: No such file or directory");
  CHECK(error_of([&] { read_tensor_file(dir.path / "missing.npy"); }) ==
        base + "missing.npy: cannot open for reading: No such file or directory");
}

TEST_CASE("tensor_from_json either reads or throws Error on damaged documents") {
  Rng rng(5);
  const std::string seed = R"({"shape": [2, 3], "data": [0.1, -2, 3.5e2, 1e-30, -0.0, 7]})";
  const std::string alphabet = "[]{}\",:-+.eE0123456789 shapedtnul";
  int parsed = 0, refused = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text = seed;
    const uint64_t edits = 1 + rng.below(3);
    for (uint64_t e = 0; e < edits; ++e) {
      const size_t at = rng.below(text.size());
      if (rng.below(2)) {
        text[at] = alphabet[rng.below(alphabet.size())];
      } else {
        text.insert(at, 1, alphabet[rng.below(alphabet.size())]);
      }
    }
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) continue;
    try {
      tensor_from_json(j, "t");
      ++parsed;
    } catch (const Error&) {
      ++refused;
    }
  }
  CHECK(parsed > 100);
  CHECK(refused > 100);
}
