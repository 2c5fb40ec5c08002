// Fuzzes the .npy reader (parse_npy) on bytes in memory. What it reads must
// survive a round trip through to_npy bit for bit.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/error.hpp"
#include "serialization/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  strata::Tensor tensor;
  try {
    tensor = strata::parse_npy(bytes);
  } catch (const strata::Error& e) {
    if (std::strchr(e.what(), '\n')) std::abort();  // messages are one line
    return 0;
  }
  const strata::Tensor again = strata::parse_npy(strata::to_npy(tensor));
  if (again.shape() != tensor.shape() ||
      (tensor.size() > 0 &&
       std::memcmp(again.data(), tensor.data(), sizeof(float) * tensor.values().size()) != 0))
    std::abort();  // to_npy/parse_npy disagree
  return 0;
}
