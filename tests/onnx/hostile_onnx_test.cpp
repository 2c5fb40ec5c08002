// The catalogue of hostile ONNX files (tests/data/hostile_onnx, written by
// tests/data/make_hostile_onnx.py): each is refused with one line naming the
// file and the problem, quickly and without a large allocation; and a model
// whose weights are external data beside it loads.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "onnx_io/import.hpp"
#include "serialization/npy.hpp"
#include "support/reference.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const fs::path kData = STRATA_TEST_DATA_DIR;
const fs::path kHostile = kData / "hostile_onnx";

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

const std::pair<const char*, const char*> kCatalogue[] = {
    {"empty.onnx", "not an ONNX model (no graph)"},
    {"truncated.onnx", "not an ONNX model (malformed or truncated protobuf)"},
    {"garbage.onnx", "not an ONNX model (malformed or truncated protobuf)"},
    {"huge_dims.onnx", "initializer 'w': dims [1099511627776, 1099511627776]: shape"},
    {"dims_overflow.onnx", "has more than 1073741824 elements"},
    {"negative_dim.onnx", "initializer 'w': dims [-4, 4]: negative dimension"},
    {"raw_size_mismatch.onnx", "initializer 'w': 12 bytes of data for dims [4, 4] (64 bytes)"},
    {"float_data_mismatch.onnx", "initializer 'w': 3 values for dims [4, 4] (16 elements)"},
    {"huge_input_dims.onnx", "has more than 1099511627776 elements"},
    {"cycle.onnx", "node 'first' (Relu, opset 13): input 0 ('b') is not defined"},
    {"missing_input.onnx", "node 'add' (Add, opset 13): input 1 ('nowhere') is not defined"},
    {"missing_output.onnx", "output 'y' is not computed by any node"},
    {"unknown_op.onnx", "node 'foo' (FooBar, opset 13): op FooBar is not supported"},
    {"missing_output_opset9.onnx", "output 'y' is not computed by any node"},
    {"missing_input_opset9.onnx", "node 'add' (Add, opset 9): input 1 ('nowhere') is not defined"},
    {"cycle_opset9.onnx", "node 'first' (Relu, opset 9): input 0 ('b') is not defined"},
    {"unknown_op_opset9.onnx", "node 'foo' (FooBar, opset 9): op FooBar is not supported"},
    {"resize_huge_sizes.onnx",
     "node 'resize' (Resize, opset 13): sizes must be between 1 and 2^30"},
    {"resize_huge_scales.onnx", "scales must be positive and at most 2^30"},
    {"pad_huge.onnx", "node 'pad' (Pad, opset 13): pads above 2^30 are not supported"},
    {"convtranspose_huge_stride.onnx", "strides must be between 0 and 1073741824"},
    {"avgpool_exclude_pad_huge.onnx",
     "node 'pool' (AveragePool, opset 13): count_include_pad 0 with pads: more than 16777216 "
     "output positions per channel are not supported"},
    {"external_escapes.onnx",
     "external data location \"../onnx/mlp_opset11.onnx\" leaves the model's folder"},
    {"external_absolute.onnx", "external data location \"/etc/passwd\" leaves the model's folder"},
    {"external_missing.onnx", "nothing.bin is missing or not a file"},
    {"external_beyond_file.onnx", "external data (offset 100000, length 64) disagrees"},
    {"external_length_disagrees.onnx", "external data (offset 0, length 8) disagrees"},
    {"external_offset_overflows.onnx",
     "external data offset \"18446744073709551608\" is not a number"},
};

std::string error_importing(const fs::path& path) {
  try {
    import_onnx(path.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "(imported)";
}

long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

}  // namespace

TEST_CASE("every hostile ONNX file is refused with one line naming the file and the problem") {
  std::set<std::string> listed;
  const long rss_before = peak_rss_mb();
  for (const auto& [file, expected] : kCatalogue) {
    const std::string name = file;
    CAPTURE(name);
    listed.insert(file);
    const fs::path path = kHostile / file;
    REQUIRE(fs::exists(path));
    const auto start = std::chrono::steady_clock::now();
    const std::string message = error_importing(path);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(message.rfind(path.string() + ": ", 0) == 0);
    CHECK(doctest::String(message.c_str()) == doctest::Contains(expected));
    CHECK(message.find('\n') == std::string::npos);
    CHECK(seconds < 2);
  }
  // Sizes are checked before anything is allocated.
  if (!kSanitized) CHECK(peak_rss_mb() - rss_before < 256);
  for (const auto& entry : fs::directory_iterator(kHostile)) {
    CAPTURE(entry.path());
    CHECK(listed.count(entry.path().filename().string()) == 1);
  }
}

TEST_CASE("a model whose weights are external data beside it loads and computes") {
  const auto net = import_onnx((kData / "onnx_external" / "model.onnx").string());
  const Tensor x = read_npy((kData / "onnx_external" / "input.npy").string());
  const Tensor want = read_npy((kData / "onnx_external" / "output.npy").string());
  const Tensor y = (*net)(x);
  REQUIRE(y.shape() == want.shape());
  CHECK(testing::compare_tensors(y, want, 1e-5, 1e-6) <= 1.0);
}
