#include "core/threads.hpp"

#include <omp.h>

#include <string>

#include "core/error.hpp"

namespace strata {

void set_num_threads(int count) {
  if (count < 1) throw Error("thread count: expected at least 1, got " + std::to_string(count));
  omp_set_num_threads(count);
}

int num_threads() {
  return omp_get_max_threads();
}

}  // namespace strata
