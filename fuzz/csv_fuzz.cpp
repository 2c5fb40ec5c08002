// Fuzzes the CSV dataset reader (parse_csv_dataset) on text in memory.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/error.hpp"
#include "serialization/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const strata::CsvDataset d = strata::parse_csv_dataset(text);
    // What it promises: N rows of F features and one target each.
    if (d.inputs.rank() != 2 || d.targets.rank() != 1 || d.inputs.dim(0) != d.targets.dim(0) ||
        d.inputs.dim(0) == 0 || d.inputs.dim(1) == 0)
      std::abort();
    if (!d.column_names.empty() &&
        static_cast<int64_t>(d.column_names.size()) != d.inputs.dim(1) + 1)
      std::abort();
  } catch (const strata::Error& e) {
    if (std::strchr(e.what(), '\n')) std::abort();  // messages are one line
  }
  return 0;
}
