// Sums over a window of neighbouring channels, and local response
// normalization built on them.
//
// A batch is laid out as [batch, channels, n]: channel c of example e is the
// plane of n contiguous floats at (e·channels + c)·n. The window of channel c
// with radius r is the channels max(0, c − r) … min(C − 1, c + r): channels
// outside [0, C) count as zeros.
//
// Window sums slide along the channels, in double: the plane entering the
// window is added and the plane leaving it subtracted, so a sum costs two
// terms per element whatever the radius. Subtraction can cancel: the error of
// a slid sum is about 2^-53 times the terms added since the sum was last
// computed directly, so it is recomputed directly at the start of every block
// of channel_block(r) channels, and whenever it is not finite (an Inf or NaN
// leaving the window would otherwise stay in the sum). In float it would be
// about 2^-24 times those terms: a large channel next to small ones would
// leave its rounding in their sums.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace strata::kernels {

// Positions summed at a time (the running sums of one chunk stay in L1).
inline constexpr int64_t kWindowChunk = 256;

// Channels per block of sliding sums: at least 16, and at least the window,
// so that the direct sum at a block's start costs at most one term per
// element of the block.
inline int64_t channel_block(int64_t radius) {
  return std::max<int64_t>(16, 2 * radius + 1);
}

// For the channels [c0, c1) of one example and the positions [p0, p0 + len),
// len ≤ kWindowChunk: calls emit(c, sum) for each c in order, with
//   sum[i] = Σ over c' in the window of c of term(c', p0 + i)   (doubles).
// term must be a cheap, pure function (it is called twice per element).
template <typename Term, typename Emit>
void sliding_channel_sums(int64_t channels, int64_t radius, int64_t c0, int64_t c1, int64_t p0,
                          int64_t len, Term term, Emit emit) {
  double acc[kWindowChunk];
  auto direct = [&](int64_t c) {
    std::fill_n(acc, len, 0.0);
    const int64_t last = std::min(channels - 1, c + radius);
    for (int64_t k = std::max<int64_t>(0, c - radius); k <= last; ++k)
      for (int64_t i = 0; i < len; ++i)
        acc[i] += term(k, p0 + i);
  };
  direct(c0);
  emit(c0, static_cast<const double*>(acc));
  for (int64_t c = c0 + 1; c < c1; ++c) {
    const int64_t enter = c + radius, leave = c - radius - 1;
    if (enter < channels && leave >= 0) {
      for (int64_t i = 0; i < len; ++i)
        acc[i] += term(enter, p0 + i) - term(leave, p0 + i);
    } else if (enter < channels) {
      for (int64_t i = 0; i < len; ++i)
        acc[i] += term(enter, p0 + i);
    } else if (leave >= 0) {
      for (int64_t i = 0; i < len; ++i)
        acc[i] -= term(leave, p0 + i);
    }
    // (An integer OR of comparisons, which vectorizes; NaN fails the test too.)
    int not_finite = 0;
    for (int64_t i = 0; i < len; ++i)
      not_finite |= !(std::fabs(acc[i]) <= std::numeric_limits<double>::max());
    if (not_finite) direct(c);
    emit(c, static_cast<const double*>(acc));
  }
}

// Local response normalization, with radius n = ChannelWindowSize and
// size = 2n + 1: for each channel c and position p
//   B = Bias + Alpha / size · Σ_{c' in the window of c} x_{c'p}²,
//   D = B^Beta,  y = x / D.
// The squares, their sums, B and D are computed in double (x² cannot
// overflow, nor can B for any float x), and rounded to float at the end. A negative B with a
// non-integer Beta gives NaN, and B = 0 gives x / 0 (NaN for x = 0), as IEEE arithmetic (and
// PyTorch) do.
struct LocalResponseParams {
  int64_t radius = 2;
  double alpha = 1.0, beta = 0.5, bias = 1.0;
};

// y = x / D over a batch [batch, channels, n]. base and denom, both null or
// both not, receive B and D (the same layout) for the backward pass.
void local_response_forward(const float* x, int64_t batch, int64_t channels, int64_t n,
                            const LocalResponseParams& params, float* y, float* base, float* denom);

// The input gradient, from the forward's B and D:
//   dx_c = dy_c / D_c − (2·Alpha·Beta / size) · x_c · Σ_{j in the window of c}
//          dy_j · x_j / (D_j · B_j)
// (y_j depends on x_c through B_j exactly when c is in the window of j, which
// is when j is in the window of c; ∂D_j/∂x_c = Beta·B_j^(Beta−1)·2·Alpha/size·x_c).
void local_response_backward(const float* x, const float* dy, const float* base, const float* denom,
                             int64_t batch, int64_t channels, int64_t n,
                             const LocalResponseParams& params, float* dx);

}  // namespace strata::kernels
