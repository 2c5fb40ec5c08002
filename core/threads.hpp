// The threads strata's kernels run on, and the parallel loop they use.
//
// Results never depend on the number of threads: every reduction is split
// into pieces fixed by the sizes alone and summed in a fixed order, so any
// thread count gives bit-identical results.
//
// parallel_for runs on a small pool of strata's own rather than OpenMP's
// fork and join: the calling thread takes part, and helpers join in as they come. A
// helper that the operating system has not scheduled (a machine busy with
// other work) is not waited for, so a busy machine slows a step down to one
// thread's speed at worst, never to a time slice per loop.
#pragma once

#include <cstdint>
#include <type_traits>

namespace strata {

// Threads used by parallel loops from now on, from 1 to 1024. The default is
// the environment's STRATA_NUM_THREADS, else OMP_NUM_THREADS (its first
// entry), else one per core this process may run on; a malformed value is an
// Error from the first call of num_threads() or of a loop large enough to
// share (unless set_num_threads came first). Call it between steps, not while
// a loop runs. When the system cannot give that many threads (under an
// address-space limit, `ulimit -v`, each thread's stack takes room), fewer
// are used, with one warning line on stderr: results do not depend on it.
void set_num_threads(int count);
// The number of threads parallel loops use.
int num_threads();
// Within a parallel_for body: which thread runs it, in [0, num_threads()),
// for per-thread scratch buffers. 0 outside.
int thread_index();

namespace detail {
using RangeFn = void (*)(const void* body, int64_t begin, int64_t end);
void run_parallel(int64_t n, int64_t grain, const void* body, RangeFn fn);
}  // namespace detail

// Calls body(i) for every i in [0, n), spread over the threads; returns when
// all calls are done. The calls must be independent of each other (each
// writes its own outputs). Threads take at least `grain` indices at a time,
// and n <= grain runs on the calling thread alone (for loops too small to
// share); so does a parallel_for inside a body. `body` must not throw.
template <typename F>
void parallel_for(int64_t n, F&& body, int64_t grain = 1) {
  if (n <= 0) return;
  if (n <= grain) {
    for (int64_t i = 0; i < n; ++i)
      body(i);
    return;
  }
  using Body = std::remove_reference_t<F>;
  detail::run_parallel(n, grain, &body, [](const void* b, int64_t begin, int64_t end) {
    Body& f = *static_cast<Body*>(const_cast<void*>(b));
    for (int64_t i = begin; i < end; ++i)
      f(i);
  });
}

}  // namespace strata
