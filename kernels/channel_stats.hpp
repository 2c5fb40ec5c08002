// The statistics of the normalization layers: means and variances over runs
// of contiguous floats, and the sums their gradients need. x is a batch laid
// out as planes of n floats, [batch, channels, n]: plane p is example
// p / channels, channel p % channels. InstanceNormalization takes statistics
// per plane, BatchNormalization per channel over the batch.
//
// Sums are vectorized and exact enough (kernels/plane_sums.hpp): taken about
// a first guess c at the mean, Σ (x − c) and Σ (x − c)² give the variance
// exactly however large the mean; when the guess was poor, the run is summed
// again about the mean found. Every split of a sum is fixed by the sizes
// alone, so results do not depend on the thread count.
//
// Normalizing uses x̂ = (x − mean_hi)·inv_std − lo, with mean_hi the mean
// rounded to float (which cancels exactly against x) and lo the rest.
#pragma once

#include <cstdint>
#include <vector>

#include "core/communicator.hpp"

namespace strata::kernels {

// Buffers kept between calls; they only grow, so a warm step allocates nothing.
struct StatsScratch {
  std::vector<float> center;                 // the point sums are taken about
  std::vector<double> part_a, part_b;        // partial sums (per chunk or plane)
  std::vector<double> channel_a, channel_b;  // per channel: the sums about center
  std::vector<double> shared;                // the sums sent across processes
};

// ---- Per plane (InstanceNormalization)

// For every plane p: mean[p], inv_std[p] = 1 / sqrt(variance + eps) (the
// biased variance), and y = gamma[c]·x̂ + beta[c] for its channel c. n > 0.
void plane_normalize(const float* x, int64_t planes, int64_t channels, int64_t n, double eps,
                     const float* gamma, const float* beta, double* mean, float* inv_std, float* y,
                     StatsScratch& scratch);

// Its backward, given the forward's mean and inv_std: per plane sum_dy[p] =
// Σ dy and sum_dy_xhat[p] = Σ dy·x̂; and, unless dx is null,
// dx = gamma[c]·inv_std·(dy − mean(dy) − x̂·mean(dy·x̂)), the means over the plane.
void plane_normalize_grad(const float* x, const float* dy, int64_t planes, int64_t channels,
                          int64_t n, const double* mean, const float* inv_std, const float* gamma,
                          double* sum_dy, double* sum_dy_xhat, float* dx, StatsScratch& scratch);

// ---- Per channel over the batch (BatchNormalization)

// mean[c] and var[c] (biased) of channel c's batch · n values; returns
// the number of values per channel (batch · n). With a communicator of more
// than one process (synchronized batch normalization), over the values of
// every process's batch (which may be empty): the first guess is rank 0's,
// the sums are reduced across processes, and the count returned is the
// total.
int64_t channel_moments(const float* x, int64_t batch, int64_t channels, int64_t n, double* mean,
                        double* var, StatsScratch& scratch, Communicator* comm = nullptr);

// Per channel: sum_dy[c] = Σ dy and sum_dy_xhat[c] = Σ dy·x̂ over the batch.
void channel_grad_sums(const float* x, const float* dy, int64_t batch, int64_t channels, int64_t n,
                       const double* mean, const float* inv_std, double* sum_dy,
                       double* sum_dy_xhat, StatsScratch& scratch);

// ---- Shared by both

// out[c] = Σ_e planes[e · channels + c], summed over e in order (out has
// `channels` entries).
void sum_over_batch(const double* planes, int64_t batch, int64_t channels, double* out);

// y = gamma·x̂ + beta over a run: (x − mean_hi)·scale + shift, the small rest
// of the mean folded into the shift.
inline void normalize_run(const float* x, float* y, int64_t n, double mean, float inv_std,
                          float gamma, float beta) {
  const float mean_hi = static_cast<float>(mean);
  const float scale = gamma * inv_std;
  const float shift = static_cast<float>(beta - (mean - mean_hi) * gamma * inv_std);
  for (int64_t i = 0; i < n; ++i)
    y[i] = (x[i] - mean_hi) * scale + shift;
}

// x̂ = (x − mean_hi)·inv_std − lo, as normalize_run normalizes.
struct Xhat {
  float mean_hi, inv_std, lo;
  Xhat(double mean, float inv) : mean_hi(static_cast<float>(mean)), inv_std(inv) {
    lo = static_cast<float>((mean - mean_hi) * inv_std);
  }
  template <typename T>  // float or plane_sums::Vec
  T operator()(T x) const {
    return (x - mean_hi) * inv_std - lo;
  }
};

// dx = g·(dy − mean_dy − x̂·mean_dyx) over a run.
inline void normalize_grad_run(const float* x, const float* dy, float* dx, int64_t n, Xhat h,
                               float g, float mean_dy, float mean_dyx) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = g * (dy[i] - mean_dy - h(x[i]) * mean_dyx);
}

}  // namespace strata::kernels
