// The number of threads strata's kernels use (OpenMP). Results never depend
// on it: every reduction is split into pieces fixed by the sizes alone and
// summed in a fixed order.
#pragma once

namespace strata {

// Threads used by the parallel loops from now on (process-wide, as
// omp_set_num_threads for threads started later); at least 1.
void set_num_threads(int count);
// The number of threads the next parallel loop will use.
int num_threads();

}  // namespace strata
