// Small helpers the kernels share: integer division rounding up, short
// vectorized copies, and per-thread scratch buffers.
#pragma once

#include <cstdint>
#include <vector>

#include "core/threads.hpp"
#include "kernels/plane_sums.hpp"

namespace strata::kernels {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// n floats from src to dst. Explicit vectors: for the short rows copied here,
// a plain loop (which the compiler makes a memmove call) costs more in calls.
inline void copy_floats(const float* src, int64_t n, float* dst) {
  int64_t j = 0;
  for (; j + plane_sums::kWidth <= n; j += plane_sums::kWidth)
    plane_sums::store(dst + j, plane_sums::load(src + j));
  for (; j < n; ++j)
    dst[j] = src[j];
}

// One scratch buffer per thread of the pool.
using ThreadBuffers = std::vector<std::vector<float>>;

// Per-thread buffers of at least `size` floats each, sized before a loop (a
// thread may run any item, so all are sized for the largest). Never shrinks:
// a warm step allocates nothing.
inline void ensure_threads(ThreadBuffers& buffers, int64_t size) {
  if (buffers.size() < static_cast<size_t>(num_threads()))
    buffers.resize(static_cast<size_t>(num_threads()));
  for (auto& b : buffers)
    if (b.size() < static_cast<size_t>(size)) b.resize(static_cast<size_t>(size));
}

// The calling thread's buffer (sized by ensure_threads).
inline float* thread_buffer(ThreadBuffers& buffers) {
  return buffers[static_cast<size_t>(thread_index())].data();
}

}  // namespace strata::kernels
