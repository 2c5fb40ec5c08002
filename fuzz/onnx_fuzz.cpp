// Fuzzes the ONNX importer: bytes -> import_onnx_bytes (protobuf parsing,
// tensor decoding, constant folding, the op table, net construction). A model
// either imports or is refused with a one-line strata::Error; external data
// is refused (no model folder).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "onnx_io/import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    strata::OnnxImportOptions options;
    options.max_file_bytes = 1 << 20;
    strata::import_onnx_bytes({data, size}, "fuzz.onnx", {}, options);
  } catch (const strata::Error& e) {
    if (std::strchr(e.what(), '\n')) std::abort();  // messages are one line
  }
  return 0;
}
