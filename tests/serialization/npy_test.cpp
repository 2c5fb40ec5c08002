#include "serialization/npy.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "serialization/atomic_file.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const fs::path kNpyDir = fs::path(STRATA_TEST_DATA_DIR) / "npy";

// Same shape and the same bits in every element (NaN and -0 included).
bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         (a.size() == 0 ||
          std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(float)) == 0);
}

// A .npy file with the given header text (padded as numpy does) and data.
std::string npy_bytes(const std::string& dict, const std::string& data = "", int major = 1) {
  std::string header = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  header.append(64 - (prefix + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string out;
  for (float v : values)
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string parse_error(const std::string& bytes) {
  return error_of([&] { parse_npy(bytes); });
}

// The start of `text` as long as `prefix`, so a failed check shows both.
std::string prefix_of(const std::string& text, const std::string& prefix) {
  return text.substr(0, prefix.size());
}

struct ScratchFile {
  fs::path path;
  explicit ScratchFile(const std::string& name)
      : path(fs::temp_directory_path() / (std::to_string(::getpid()) + "_" + name)) {}
  ~ScratchFile() { fs::remove(path); }
};

}  // namespace

TEST_CASE("read_npy reads what NumPy wrote, in every supported dtype and version") {
  const auto expected = nlohmann::json::parse(read_file(kNpyDir / "expected.json"));
  REQUIRE(expected["files"].size() >= 18);
  for (const auto& [name, want] : expected["files"].items()) {
    CAPTURE(name);
    std::vector<float> data;
    for (const auto& v : want["data"])
      data.push_back(static_cast<float>(v.get<double>()));  // float32 values, exact in double
    const Tensor expected_tensor(want["shape"].get<Dims>(), data);

    const Tensor from_file = read_npy(kNpyDir / name);
    CHECK(bit_equal(from_file, expected_tensor));
    const std::string bytes = read_file(kNpyDir / name);
    CHECK(bit_equal(parse_npy(bytes), expected_tensor));

    const NpyHeader header = parse_npy_header(bytes);
    CHECK(header.descr == want["descr"].get<std::string>());
    CHECK(header.major_version == want["version"][0].get<int>());
    CHECK(header.minor_version == 0);
    CHECK(header.shape == want["shape"].get<Dims>());
    CHECK_FALSE(header.fortran_order);
    CHECK(header.data_offset % 64 == 0);
  }
}

TEST_CASE("NumPy's values arrive exactly: spot checks") {
  const Tensor t = read_npy(kNpyDir / "float32_2x3.npy");
  CHECK(t.shape() == Dims{2, 3});
  CHECK(t.at({0, 0}) == 0.1f);
  CHECK(std::signbit(t.at({1, 0})));
  CHECK(t.at({1, 1}) == std::numeric_limits<float>::max());
  CHECK(t.at({1, 2}) == std::numeric_limits<float>::denorm_min());
  const Tensor targets = read_npy(kNpyDir / "int64_targets.npy");
  CHECK(targets.shape() == Dims{6});
  CHECK(std::vector<float>(targets.values().begin(), targets.values().end()) ==
        std::vector<float>{0, 3, 9, 1, 2, 7});
  CHECK(read_npy(kNpyDir / "float32_scalar.npy").shape() == Dims{});
  CHECK(read_npy(kNpyDir / "float32_scalar.npy")[0] == 2.5f);
  CHECK(read_npy(kNpyDir / "float32_2x0x3.npy").size() == 0);
  CHECK(read_npy(kNpyDir / "float64_5.npy")[0] == 0.1f);
}

TEST_CASE("to_npy writes the same bytes as numpy.save") {
  for (const char* name : {"float32_2x3.npy", "float32_2x3x4.npy", "float32_scalar.npy",
                           "float32_empty.npy", "float32_2x0x3.npy"}) {
    CAPTURE(name);
    const std::string numpy_bytes = read_file(kNpyDir / name);
    CHECK(to_npy(parse_npy(numpy_bytes)) == numpy_bytes);
  }
}

TEST_CASE("write_npy and read_npy round-trip bit-exactly") {
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f / 3.0f,
                               -1e-38f,
                               std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN(),
                               std::bit_cast<float>(0x7fc12345u),  // a NaN with a payload
                               123456.789f,
                               -2.5f};
  ScratchFile file("roundtrip.npy");
  for (Dims shape : {Dims{12}, Dims{3, 4}, Dims{2, 3, 2}, Dims{1, 1, 12, 1}}) {
    CAPTURE(to_string(shape));
    const Tensor t(shape, values);
    write_npy(file.path, t);
    CHECK(bit_equal(read_npy(file.path), t));
    CHECK(bit_equal(parse_npy(to_npy(t)), t));
  }
  // A header longer than version 1.0 allows (rank 30000) switches to 2.0.
  const Tensor many_dims(Dims(30000, 1), 4.0f);
  const std::string bytes = to_npy(many_dims);
  CHECK(parse_npy_header(bytes).major_version == 2);
  CHECK(bit_equal(parse_npy(bytes), many_dims));
}

TEST_CASE("read_npy refuses files NumPy wrote in forms strata does not read") {
  auto error = [](const std::string& name) { return error_of([&] { read_npy(kNpyDir / name); }); };
  const std::string dir = kNpyDir.string() + "/";
  CHECK(error("fortran_2x3.npy") == dir +
                                        "fortran_2x3.npy: fortran_order is True (column-major "
                                        "data); strata reads C order only: save "
                                        "np.ascontiguousarray(a) instead");
  CHECK(error("big_endian.npy") ==
        dir +
            "big_endian.npy: unsupported dtype '>f4': big-endian data is not supported (strata "
            "reads float32, float64, int8/16/32/64, uint8/16/32/64 and bool, little endian; "
            "convert with a.astype('<f4'))");
  CHECK(error("complex128.npy") ==
        dir +
            "complex128.npy: unsupported dtype '<c16' (complex); strata reads float32, "
            "float64, int8/16/32/64, uint8/16/32/64 and bool, little endian");
  CHECK(error("float16.npy") ==
        dir +
            "float16.npy: unsupported dtype '<f2' (float16); strata reads float32, float64, "
            "int8/16/32/64, uint8/16/32/64 and bool, little endian");
  CHECK(error("structured.npy") ==
        dir +
            "structured.npy: unsupported dtype: structured arrays (records with named "
            "fields) are not supported");
  CHECK(error("float64_overflow.npy") ==
        dir + "float64_overflow.npy: value 1e+300 at flat index 1 is outside float32's range");
  CHECK(error("truncated.npy") ==
        dir +
            "truncated.npy: truncated .npy file: shape (2, 3) of '<f4' needs 24 bytes of "
            "data, but 19 are present");
  // The in-memory parser says the same, without a file name.
  CHECK(parse_error(read_file(kNpyDir / "truncated.npy")) ==
        "truncated .npy file: shape (2, 3) of '<f4' needs 24 bytes of data, but 19 are present");
}

TEST_CASE("parse_npy: bad magic, versions and truncated headers") {
  const std::string good =
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", floats({1, 2}));
  CHECK(bit_equal(parse_npy(good), Tensor({2}, std::vector<float>{1, 2})));

  CHECK(parse_error("") == "empty file, not a .npy file");
  CHECK(parse_error("{\"shape\": [2]}") ==
        "not a .npy file: it starts with \"{\"shape\"\" instead of \"\\x93NUMPY\"");
  CHECK(parse_error(std::string("PK\x03\x04rest", 8)) ==
        "not a .npy file: it starts with \"PK\\x03\\x04rest\" instead of \"\\x93NUMPY\" (a zip "
        "archive, such as a .npz file: extract the .npy files from it)");
  CHECK(parse_error(good.substr(0, 4)) == "truncated .npy file: 4 bytes, too short for the header");
  CHECK(parse_error(good.substr(0, 50)) ==
        "truncated .npy file: the header should be 118 bytes, but only 40 bytes follow the "
        "header length");

  std::string v4 = good;
  v4[6] = 4;
  CHECK(parse_error(v4) ==
        "unsupported .npy format version 4.0 (strata reads versions 1.0, 2.0 and 3.0)");
  std::string v11 = good;
  v11[7] = 1;
  CHECK(parse_error(v11) ==
        "unsupported .npy format version 1.1 (strata reads versions 1.0, 2.0 and 3.0)");

  // Versions 2.0 and 3.0 have a 4-byte header length.
  for (int major : {2, 3}) {
    const std::string v =
        npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floats({7}), major);
    CHECK(parse_npy(v)[0] == 7.0f);
    CHECK(parse_npy_header(v).data_offset == 128);
  }
  // A 4 GB header length in a small file.
  std::string huge_header = npy_bytes("{}", "", 2);
  huge_header[8] = huge_header[9] = huge_header[10] = huge_header[11] = '\xff';
  CHECK(parse_error(huge_header) ==
        "truncated .npy file: the header should be 4294967295 bytes, but only 52 bytes follow the "
        "header length");
}

TEST_CASE("parse_npy: malformed header dictionaries") {
  auto header_error = [](const std::string& dict) { return parse_error(npy_bytes(dict)); };
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False}") ==
        "malformed .npy header: missing key 'shape'");
  CHECK(header_error("{'fortran_order': False, 'shape': ()}") ==
        "malformed .npy header: missing key 'descr'");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}") ==
        "malformed .npy header: unexpected key 'extra' (expected 'descr', 'fortran_order' and "
        "'shape')");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}") ==
        "malformed .npy header: 'fortran_order' should be True or False, got an integer");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}") ==
        "malformed .npy header: 'shape' should be a tuple of integers, got a list");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}") ==
        "malformed .npy header: 'shape' should be a tuple of integers, got an integer");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}") ==
        "malformed .npy header: 'shape' should be a tuple of integers, got a tuple");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}") ==
        "malformed .npy header: negative dimension in shape (-2)");
  CHECK(header_error("{'descr': 4, 'fortran_order': False, 'shape': ()}") ==
        "malformed .npy header: 'descr' should be a dtype string, got an integer");
  CHECK(prefix_of(header_error("{'descr': '<f4', 'descr': '<f4'}"),
                  "malformed .npy header (duplicate key 'descr' at character 18): {'descr'") ==
        "malformed .npy header (duplicate key 'descr' at character 18): {'descr'");
  CHECK(header_error("['descr']") ==
        "malformed .npy header: expected a dict, got a list: ['descr']");
  CHECK(prefix_of(header_error("['descr']"),
                  "malformed .npy header: expected a dict, got a list: ['descr']") ==
        "malformed .npy header: expected a dict, got a list: ['descr']");
  CHECK(header_error("{'descr' '<f4'}") ==
        "malformed .npy header (expected ':' at character 10): {'descr' '<f4'}");
  CHECK(prefix_of(header_error("{'descr': '<f4"),
                  "malformed .npy header (unterminated string at character") ==
        "malformed .npy header (unterminated string at character");
  CHECK(prefix_of(header_error("{'descr': '<f4', 'fortran_order': Flase}"),
                  "malformed .npy header (unexpected character 'F' at character 35)") ==
        "malformed .npy header (unexpected character 'F' at character 35)");
  CHECK(prefix_of(header_error("{'shape': (1.5,)}"),
                  "malformed .npy header (expected an integer at character 12)") ==
        "malformed .npy header (expected an integer at character 12)");
  CHECK(prefix_of(
            header_error("{'shape': (99999999999999999999,)}"),
            "malformed .npy header (integer 99999999999999999999 out of range at character 12)") ==
        "malformed .npy header (integer 99999999999999999999 out of range at character 12)");
  CHECK(prefix_of(header_error("{} trailing"),
                  "malformed .npy header (unexpected text after the dictionary at character 4)") ==
        "malformed .npy header (unexpected text after the dictionary at character 4)");
  CHECK(header_error(std::string(40, '(') + std::string(40, ')'))
            .starts_with("malformed .npy header (nesting too deep"));
  // A Python 2 long and double quotes are fine.
  CHECK(parse_npy(npy_bytes("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L,)}",
                            floats({3})))[0] == 3.0f);
}

TEST_CASE("parse_npy checks sizes against the bytes present before allocating") {
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  // 4 TB claimed by a 128-byte file: refused without trying to allocate it.
  CHECK(parse_error(npy_bytes(f4 + "(1000000, 1000000), }", floats({1}))) ==
        "truncated .npy file: shape (1000000, 1000000) of '<f4' needs 4000000000000 bytes of "
        "data, but 4 are present");
  CHECK(parse_error(npy_bytes(f4 + "(10000000, 10000000, 10000000), }")) ==
        "array too large: shape [10000000, 10000000, 10000000] has more than 1099511627776 "
        "elements");
  CHECK(parse_error(npy_bytes(f4 + "(9223372036854775807, 9223372036854775807), }")) ==
        "array too large: shape [9223372036854775807, 9223372036854775807] has more than "
        "1099511627776 elements");
  // A zero dimension makes any other dimension harmless.
  CHECK(parse_npy(npy_bytes(f4 + "(0, 9223372036854775807), }")).size() == 0);
  CHECK(parse_error(npy_bytes(f4 + "(2,), }", floats({1, 2, 3}))) ==
        "unexpected data after the array: shape (2,) of '<f4' needs 8 bytes of data, but 12 are "
        "present");
}

TEST_CASE("read_npy names the file in every error, including I/O errors") {
  ScratchFile file("bad.npy");
  write_file_atomically(file.path, "not numpy");
  CHECK(error_of([&] { read_npy(file.path); }) ==
        file.path.string() +
            ": not a .npy file: it starts with \"not nump\" instead of \"\\x93NUMPY\"");
  write_file_atomically(file.path, "");
  CHECK(error_of([&] { read_npy(file.path); }) ==
        file.path.string() + ": empty file, not a .npy file");
  fs::remove(file.path);
  CHECK(error_of([&] { read_npy(file.path); }) ==
        file.path.string() + ": cannot open for reading: No such file or directory");
}

TEST_CASE("read_npy reads from a pipe") {
  ScratchFile fifo("pipe.npy");
  REQUIRE(::mkfifo(fifo.path.c_str(), 0600) == 0);
  const Tensor t({2, 2}, std::vector<float>{1, 2, 3, 4});
  std::thread feeder([&] {
    const std::string bytes = to_npy(t);
    FILE* f = std::fopen(fifo.path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  });
  const Tensor read = read_npy(fifo.path);
  feeder.join();
  CHECK(bit_equal(read, t));
}

TEST_CASE("parse_npy either reads or throws Error on damaged files") {
  // A small deterministic fuzz: flipped, inserted and cut bytes, mostly in
  // the header. Anything but a tensor or strata::Error (a crash, bad_alloc
  // from an unchecked size, another exception type) fails the test.
  Rng rng(7);
  std::vector<std::string> seeds;
  for (const char* name : {"float32_2x3.npy", "float64_5.npy", "int64_targets.npy",
                           "float32_v2.npy", "float32_2x3x4.npy", "bool_4.npy"})
    seeds.push_back(read_file(kNpyDir / name));
  const std::string alphabet = "()[]{}',:- 0123456789TrueFalsNn<>|f8i4u1c16\x93\n\xff";
  int parsed = 0, refused = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string bytes = seeds[rng.below(seeds.size())];
    const uint64_t edits = 1 + rng.below(3);
    for (uint64_t e = 0; e < edits && !bytes.empty(); ++e) {
      // Three in four edits land in the header.
      const size_t limit = rng.below(4) ? std::min<size_t>(bytes.size(), 128) : bytes.size();
      const size_t at = rng.below(limit);
      switch (rng.below(4)) {
        case 0:
          bytes[at] = alphabet[rng.below(alphabet.size())];
          break;
        case 1:
          bytes.insert(at, 1, alphabet[rng.below(alphabet.size())]);
          break;
        case 2:
          bytes.erase(at, 1);
          break;
        default:
          bytes.resize(at);
      }
    }
    try {
      parse_npy(bytes);
      ++parsed;
    } catch (const Error&) {
      ++refused;
    }
  }
  CHECK(parsed > 100);
  CHECK(refused > 10000);
}
