// The OpenMP runtime functions strata calls, for a build without OpenMP
// (STRATA_OPENMP=OFF): `#pragma omp` is then ignored and every loop runs on
// the calling thread, so these answer as a team of one thread would.
// ThreadSanitizer builds use this, because an uninstrumented OpenMP runtime
// hides its synchronization from TSan and causes false reports.
#pragma once

#ifdef _OPENMP
#error "cmake/serial_openmp/omp.h is for builds without OpenMP"
#endif

inline int omp_get_max_threads() {
  return 1;
}
inline int omp_get_num_threads() {
  return 1;
}
inline int omp_get_thread_num() {
  return 0;
}
inline void omp_set_num_threads(int) {}
