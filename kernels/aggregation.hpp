// Reductions of whole planes: x is [planes, n], n contiguous floats a plane
// (one plane per example and channel), y one value a plane.
//
// Sums are taken in 16 float lanes over blocks of 1024 elements, the blocks
// added in double: vectorized, accurate for long planes, and in an order fixed
// by n alone (the same bits on any thread count).
//
// Extremes: the largest (smallest) element, and its index in memory order:
// the first of equal extremes. A NaN wins over any number (the plane's result
// is NaN, and its index that of the first NaN). A plane of n = 0 gives −Inf
// for the maximum and +Inf for the minimum (the identities), index −1.
#pragma once

#include <cstdint>

namespace strata::kernels {

// y[p] = scale · Σ of plane p (0 for n = 0).
void plane_sums(const float* x, int64_t planes, int64_t n, double scale, float* y);

// y[p] = the maximum (max = true) or minimum of plane p; index[p], unless
// null, its position within the plane.
void plane_extremes(const float* x, int64_t planes, int64_t n, bool max, float* y, int64_t* index);

}  // namespace strata::kernels
