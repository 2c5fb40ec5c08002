#include "core/memory.hpp"

#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>

#include "core/error.hpp"

namespace strata {

namespace {

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
// Smaller allocations are not worth a look at /proc: if they fail, the
// process was out of memory anyway.
constexpr uint64_t kCheckedFrom = uint64_t{16} << 20;

uint64_t physical_memory() {
  struct sysinfo info {};
  if (sysinfo(&info) != 0) return kUnlimited;
  return static_cast<uint64_t>(info.totalram) * info.mem_unit;
}

// The address space this process uses now (VmSize), in bytes.
uint64_t address_space_in_use() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  if (!(statm >> pages)) return 0;
  return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// The memory limit of this process's cgroup: v2's memory.max ("max" when
// there is none), or v1's memory.limit_in_bytes (a huge number for none).
uint64_t cgroup_memory_limit() {
  std::ifstream group("/proc/self/cgroup");
  std::string line;
  uint64_t limit = kUnlimited;
  while (std::getline(group, line)) {
    std::string file;
    if (line.rfind("0::", 0) == 0)
      file = "/sys/fs/cgroup" + line.substr(3) + "/memory.max";
    else if (const size_t at = line.find(":memory:"); at != std::string::npos)
      file = "/sys/fs/cgroup/memory" + line.substr(at + 8) + "/memory.limit_in_bytes";
    else
      continue;
    std::ifstream in(file);
    uint64_t bytes = 0;
    if (in >> bytes) limit = std::min(limit, bytes);
  }
  return limit;
}

}  // namespace

MemoryLimit memory_limit() {
  MemoryLimit limit{physical_memory(), "physical memory"};
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const uint64_t used = address_space_in_use();
    const uint64_t left = as.rlim_cur > used ? as.rlim_cur - used : 0;
    if (left < limit.bytes) limit = {left, "what the address-space limit (ulimit -v) leaves"};
  }
  if (const uint64_t group = cgroup_memory_limit(); group < limit.bytes)
    limit = {group, "the cgroup's memory limit"};
  return limit;
}

std::string bytes_text(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g %s", value, kUnits[unit]);
  return buffer;
}

void check_allocation(uint64_t bytes, const std::string& what) {
  if (bytes < kCheckedFrom) return;
  const MemoryLimit limit = memory_limit();
  if (bytes <= limit.bytes) return;
  throw Error(what + " needs " + bytes_text(bytes) + " (" + std::to_string(bytes) +
              " bytes), more than the " + bytes_text(limit.bytes) + " this process can have (" +
              limit.source + ")");
}

}  // namespace strata
