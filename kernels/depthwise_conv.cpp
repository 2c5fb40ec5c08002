#include "kernels/depthwise_conv.hpp"

#include <algorithm>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "core/threads.hpp"
#include "kernels/im2col.hpp"

namespace strata::kernels {

namespace {

using plane_sums::even;
using plane_sums::load;
using plane_sums::odd;
using plane_sums::padded_block;
using plane_sums::store;
using plane_sums::Vec;
constexpr int64_t kVec = plane_sums::kWidth;

// The padded plane's geometry: hp rows of wp values, wide enough for whole
// vectors of outputs (stride 1: ow rounded up, plus the kernel's reach;
// stride 2: twice that); for stride 2 each row is stored as its even
// columns, then its odd ones (`half` values each).
struct Padded {
  int64_t hp, wp, half;
};

Padded padded_of(const WindowGeometry& g) {
  const int64_t ow = ceil_div(g.out[2], kVec) * kVec;
  const int64_t reach = (g.kernel[2] - 1) * g.dilation[2];
  Padded p{};
  p.hp = std::max(g.before[1] + g.in[1],
                  (g.out[1] - 1) * g.stride[1] + (g.kernel[1] - 1) * g.dilation[1] + 1);
  p.wp = std::max(g.before[2] + g.in[2], (ow - 1) * g.stride[2] + reach + 1);
  p.wp = ceil_div(p.wp + 2 * kVec, 2 * kVec) * 2 * kVec;  // whole pairs of vectors, and slack
  p.half = p.wp / 2;
  return p;
}

constexpr int64_t kRows = 4;

// Output rows [i0, i0 + R) of a plane, stride 1 or 2, from its padded copy.
template <int64_t R>
void vector_rows(const WindowGeometry& g, const Padded& s, const float* xp, const float* w, float b,
                 int64_t i0, float* y) {
  const int64_t ow = g.out[2], kh = g.kernel[1], kw = g.kernel[2];
  const int64_t dh = g.dilation[1], dw = g.dilation[2], sh = g.stride[1], sw = g.stride[2];
  for (int64_t j = 0; j < ow; j += kVec) {
    Vec acc[R];
    for (int64_t r = 0; r < R; ++r)
      acc[r] = Vec{} + b;
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t c = 0; c < kw; ++c) {
        const int64_t col = c * dw;  // the window's column offset
        // Stride 2: column 2j + col is in the even half at j + col / 2
        // when col is even, in the odd half at j + (col − 1) / 2 otherwise.
        const int64_t at = sw == 1 ? j + col : (col % 2 ? s.half + (col - 1) / 2 : col / 2) + j;
        const float wk = w[a * kw + c];
        for (int64_t r = 0; r < R; ++r)
          acc[r] += wk * load(xp + ((i0 + r) * sh + a * dh) * s.wp + at);
      }
    for (int64_t r = 0; r < R; ++r) {
      float* yr = y + (i0 + r) * ow;
      if (j + kVec <= ow)
        store(yr + j, acc[r]);
      else
        plane_sums::store_first(yr + j, acc[r], ow - j);
    }
  }
}

// One plane: pad, then the rows.
void plane(const WindowGeometry& g, const Padded& s, const float* x, const float* w, float b,
           float* y, float* xp) {
  const int64_t ih = g.in[1], iw = g.in[2], oh = g.out[1], ow = g.out[2];
  const int64_t kh = g.kernel[1], kw = g.kernel[2], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t sh = g.stride[1], sw = g.stride[2];
  const int64_t bh = g.before[1], bw = g.before[2];
  if (sw == 2) {
    // Each padded row straight from the input as its even columns, then its
    // odd ones (the zero padding as masked-out lanes).
    for (int64_t r = 0; r < s.hp; ++r) {
      float* e = xp + r * s.wp;
      const int64_t ir = r - bh;
      if (ir < 0 || ir >= ih) {
        std::fill_n(e, s.wp, 0.0f);
        continue;
      }
      for (int64_t k = 0; k < s.half; k += kVec) {
        const Vec a = padded_block(x + ir * iw, iw, bw, 2 * k);
        const Vec c = padded_block(x + ir * iw, iw, bw, 2 * k + kVec);
        store(e + k, even(a, c));
        store(e + s.half + k, odd(a, c));
      }
    }
  } else {
    // Padded rows: zero margins around a copy of each row (wp ≥ bw + iw).
    pad_rows(x, 1, g, PaddedShape{s.hp, s.wp}, 0, s.hp, xp);
  }
  if (sw <= 2) {
    // Four output rows at a time: four independent chains of multiply-adds
    // (one row's chain alone waits on the latency of each).
    int64_t i = 0;
    for (; i + kRows <= oh; i += kRows)
      vector_rows<kRows>(g, s, xp, w, b, i, y);
    for (; i < oh; ++i)
      vector_rows<1>(g, s, xp, w, b, i, y);
    return;
  }
  for (int64_t i = 0; i < oh; ++i) {
    float* yr = y + i * ow;
    for (int64_t j = 0; j < ow; ++j) {
      float acc = b;
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t c = 0; c < kw; ++c)
          acc += w[a * kw + c] * xp[(i * sh + a * dh) * s.wp + j * sw + c * dw];
      yr[j] = acc;
    }
  }
}

}  // namespace

bool depthwise_applies(const WindowGeometry& g, int64_t groups, int64_t in_per_group,
                       int64_t out_per_group) {
  return groups > 1 && in_per_group == 1 && out_per_group == 1 && g.in[0] == 1 && g.out[0] == 1 &&
         g.kernel[0] == 1;
}

void depthwise_convolution(const WindowGeometry& g, int64_t batch, int64_t channels, const float* x,
                           const float* w, const float* bias, float* y, ThreadBuffers& padded) {
  const Padded s = padded_of(g);
  ensure_threads(padded, s.hp * s.wp);
  const int64_t in_size = g.in_size(), out_size = g.out_size(), k = g.kernel_size();
  parallel_for(batch * channels, [&](int64_t p) {
    const int64_t c = p % channels;
    plane(g, s, x + p * in_size, w + c * k, bias ? bias[c] : 0.0f, y + p * out_size,
          thread_buffer(padded));
  });
}

}  // namespace strata::kernels
