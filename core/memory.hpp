// How much memory this process can have, so that an allocation too large to
// succeed is refused up front with a message naming it ("hidden/Weights
// [1000000000, 4] needs 14.9 GiB ...") instead of ending in std::bad_alloc,
// or in the kernel's out-of-memory killer, halfway through.
#pragma once

#include <cstdint>
#include <string>

namespace strata {

struct MemoryLimit {
  uint64_t bytes;      // at most this many bytes can be allocated now
  std::string source;  // what sets it: "physical memory", "ulimit -v", ...
};

// The smallest of the machine's physical memory, what the address-space
// limit (RLIMIT_AS, `ulimit -v`) leaves beside the address space in use, and
// the cgroup's memory limit (a container's memory.max).
MemoryLimit memory_limit();

// "512 bytes", "1.5 KiB", "14.9 GiB": binary units, three digits.
std::string bytes_text(uint64_t bytes);

// Throws Error unless `bytes` can be had: "WHAT needs 14.9 GiB (16000000000
// bytes), more than the 3.8 GiB this process can have (ulimit -v)". Cheap
// for small sizes (below 16 MiB nothing is looked up).
void check_allocation(uint64_t bytes, const std::string& what);

}  // namespace strata
