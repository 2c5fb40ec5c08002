// Probes of the machine's limits: copy bandwidth and sgemm throughput.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

inline constexpr int64_t kGemmProbeSize = 1024;

// A copy of `elements` floats (reads and writes 8·elements bytes) by memcpy,
// and the same by a vector loop (loop_copy_probe_name); both registered.
std::string copy_probe_name(int64_t elements);
std::string loop_copy_probe_name(int64_t elements);
void register_copy_probe(int64_t elements);
// C = A·B with square kGemmProbeSize matrices (2·n³ flops).
std::string gemm_probe_name();
void register_gemm_probe();

}  // namespace bench
