#include "kernels/pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/threads.hpp"

namespace strata::kernels {

namespace {

// The inputs first, first + step, … (< last) of a window along one dimension,
// padding left out; step is the dilation. `count` is the number of the
// window's positions inside the padded input (Mean's divisor: the kernel
// size, unless a last window of Rounding "Ceiling" sticks out past the
// padding after the input).
struct Span {
  int64_t first, last, step, count;
};

Span window_span(int64_t o, const WindowGeometry& g, size_t d) {
  const int64_t start = o * g.stride[d] - g.before[d];
  const int64_t dil = g.dilation[d], k = g.kernel[d];
  // The first position at or after 0, the end past the last one before in.
  const int64_t skip = start < 0 ? (-start + dil - 1) / dil : 0;
  const int64_t first = start + skip * dil;
  const int64_t last = std::min(start + (k - 1) * dil + 1, g.in[d]);
  const int64_t padded_end = g.in[d] + g.after[d];
  const int64_t count =
      std::min(k, padded_end > start ? (padded_end - start + dil - 1) / dil : int64_t{0});
  return {first, std::max(first, last), dil, count};
}

// Runs fn(output index, d-span, h-span, w-span) for every output position of
// one plane.
template <typename Fn>
void for_each_window(const WindowGeometry& g, Fn&& fn) {
  int64_t o = 0;
  for (int64_t od = 0; od < g.out[0]; ++od) {
    const Span sd = window_span(od, g, 0);
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const Span sh = window_span(oh, g, 1);
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o)
        fn(o, sd, sh, window_span(ow, g, 2));
    }
  }
}

// Whether every window lies inside the input (no padding to leave out) and
// the windows are 2-D or 1-D: then max pooling needs no per-window spans.
bool plain_2d(const WindowGeometry& g) {
  if (g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1) return false;
  for (size_t d = 1; d < 3; ++d)
    if (g.dilation[d] != 1 || g.before[d] != 0 ||
        (g.out[d] - 1) * g.stride[d] + g.kernel[d] > g.in[d])
      return false;
  return true;
}

// Max pooling of one plane with windows inside the input: the same scan
// order and tie rules as the general case (the first of equal maxima; a NaN
// wins), branch-free. KH, KW > 0: the kernel size known at compile time.
template <int64_t KH, int64_t KW>
void max_plane_2d(const WindowGeometry& g, const float* x, float* y, int32_t* argmax) {
  const int64_t kh = KH > 0 ? KH : g.kernel[1], kw = KW > 0 ? KW : g.kernel[2];
  const int64_t sh = g.stride[1], sw = g.stride[2], w = g.in[2];
  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
    const float* row = x + oh * sh * w;
    const int64_t base = oh * sh * w;
    float* yr = y + oh * g.out[2];
    int32_t* ar = argmax ? argmax + oh * g.out[2] : nullptr;
    for (int64_t ow = 0; ow < g.out[2]; ++ow) {
      // The first element needs no test: a value > −∞, a NaN, or −∞ itself
      // (which the general case keeps as the first) all end up in m.
      float m = row[ow * sw];
      int64_t best = base + ow * sw;
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = (i == 0 ? 1 : 0); j < kw; ++j) {
          const int64_t k = i * w + ow * sw + j;
          const float v = row[k];
          const bool take = v > m || v != v;
          m = take ? v : m;
          best = take ? base + k : best;
        }
      yr[ow] = m;
      if (ar) ar[ow] = static_cast<int32_t>(best);
    }
  }
}

// Planes per step of the 2×2 kernel below: about this many input elements.
constexpr int64_t kPairBlock = 4096;

// 2×2 windows with stride 2 that exactly tile small planes (at most
// kPairBlock elements) of even height and width: first the larger of each horizontal pair (one flat
// sweep over all the planes, which vectorizes), then the larger of each vertical pair of those.
// Same scan order and tie rules as the general case: a, b on the top row, then c, d below; the
// first of equal maxima, and a NaN wins.
// WithArgmax false: argmax is not written (and the loops carry no index).
template <bool WithArgmax>
void max_pool_2x2(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  const int64_t ow = w / 2, oh_n = h / 2;
  const int64_t block = std::max<int64_t>(1, kPairBlock / (h * w));  // planes per step
  float half[kPairBlock / 2];
  uint8_t right[kPairBlock / 2];
  for (int64_t p0 = 0; p0 < planes; p0 += block) {
    const int64_t count = std::min(block, planes - p0);
    const float* xb = x + p0 * h * w;
    const int64_t pairs = count * h * ow;
    for (int64_t i = 0; i < pairs; ++i) {
      const float a = xb[2 * i], b = xb[2 * i + 1];
      const bool take = b > a || b != b;
      half[i] = take ? b : a;
      if constexpr (WithArgmax) right[i] = take;
    }
    for (int64_t q = 0; q < count * oh_n; ++q) {
      const float* top = half + 2 * q * ow;
      [[maybe_unused]] const uint8_t* rt = right + 2 * q * ow;
      float* yq = y + (p0 * oh_n + q) * ow;
      for (int64_t j = 0; j < ow; ++j) {
        const float t = top[j], b = top[ow + j];
        const bool take = b > t || b != b;
        yq[j] = take ? b : t;
        if constexpr (WithArgmax) {
          const int64_t row = 2 * (q % oh_n);
          argmax[(p0 * oh_n + q) * ow + j] =
              static_cast<int32_t>((row + take) * w + 2 * j + (take ? rt[ow + j] : rt[j]));
        }
      }
    }
  }
}

// 2×2 windows with stride 2 that tile every plane exactly (even height and
// width, no padding): output row q of the whole batch comes from input rows
// 2q and 2q + 1, whatever the plane.
bool tiles_2x2(const WindowGeometry& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.kernel[1] == 2 && g.kernel[2] == 2 &&
         g.dilation[1] == 1 && g.dilation[2] == 1 && g.stride[1] == 2 && g.stride[2] == 2 &&
         g.before[1] == 0 && g.before[2] == 0 && g.in[1] == 2 * g.out[1] && g.in[2] == 2 * g.out[2];
}

bool exact_2x2(const WindowGeometry& g) {
  return tiles_2x2(g) && g.in_size() <= kPairBlock &&
         g.out[2] < 16;  // longer rows vectorize well in max_plane_2d
}

// Mean or Total pooling of output rows [q0, q1) of tiles_2x2 windows:
// (a + b) + (c + d), summed row by row as the general case does.
void sum_pool_2x2(const float* x, int64_t q0, int64_t q1, int64_t ow, float scale, float* y) {
  const int64_t w = 2 * ow;
  for (int64_t q = q0; q < q1; ++q) {
    const float* top = x + 2 * q * w;
    const float* bottom = top + w;
    float* yq = y + q * ow;
    for (int64_t j = 0; j < ow; ++j)
      yq[j] = ((top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1])) * scale;
  }
}

// Its gradient: each input receives its window's output gradient × scale.
void sum_pool_2x2_grad(const float* dy, int64_t q0, int64_t q1, int64_t ow, float scale,
                       float* dx) {
  const int64_t w = 2 * ow;
  for (int64_t q = q0; q < q1; ++q) {
    const float* gq = dy + q * ow;
    float* top = dx + 2 * q * w;
    float* bottom = top + w;
    for (int64_t j = 0; j < ow; ++j) {
      const float v = gq[j] * scale;
      top[2 * j] = top[2 * j + 1] = bottom[2 * j] = bottom[2 * j + 1] = v;
    }
  }
}

// Mean: 1 / the window's positions inside the padded input (1 / the kernel
// size but for a last window of Rounding "Ceiling"); Total: 1.
float window_scale(bool mean, const Span& sd, const Span& sh, const Span& sw) {
  return mean ? 1.0f / static_cast<float>(sd.count * sh.count * sw.count) : 1.0f;
}

// Output rows handed to a thread at a time: about this many output elements.
constexpr int64_t kRowBlock = 2048;

// run(q0, q1, ow) over the output rows [q0, q1) of every plane (rows of ow
// elements), a block of about kRowBlock elements per call, in parallel.
template <typename Run>
void by_row_blocks(const WindowGeometry& g, int64_t planes, Run run) {
  const int64_t rows = planes * g.out[1], ow = g.out[2];
  const int64_t block = std::max<int64_t>(1, kRowBlock / ow);
  parallel_for((rows + block - 1) / block,
               [&](int64_t k) { run(k * block, std::min(rows, (k + 1) * block), ow); });
}

}  // namespace

void max_pool(const WindowGeometry& g, int64_t planes, const float* xd, float* yd,
              int32_t* argmax) {
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const int64_t in_hw = g.in[1] * g.in[2];
  if (exact_2x2(g)) {
    // Small planes, a block of them at a time.
    const int64_t block = std::max<int64_t>(1, kPairBlock / in_size);
    parallel_for((planes + block - 1) / block, [&](int64_t k) {
      const int64_t p0 = k * block, count = std::min(block, planes - p0);
      if (argmax)
        max_pool_2x2<true>(xd + p0 * in_size, count, g.in[1], g.in[2], yd + p0 * out_size,
                           argmax + p0 * out_size);
      else
        max_pool_2x2<false>(xd + p0 * in_size, count, g.in[1], g.in[2], yd + p0 * out_size,
                            nullptr);
    });
    return;
  }
  if (plain_2d(g)) {
    const bool two_by_two = g.kernel[1] == 2 && g.kernel[2] == 2;
    parallel_for(planes, [&](int64_t plane) {
      const float* xp = xd + plane * in_size;
      float* yp = yd + plane * out_size;
      int32_t* ap = argmax ? argmax + plane * out_size : nullptr;
      if (two_by_two)
        max_plane_2d<2, 2>(g, xp, yp, ap);
      else
        max_plane_2d<0, 0>(g, xp, yp, ap);
    });
    return;
  }
  parallel_for(planes, [&](int64_t plane) {
    const float* xp = xd + plane * in_size;
    float* yp = yd + plane * out_size;
    int32_t* ap = argmax ? argmax + plane * out_size : nullptr;
    for_each_window(g, [&](int64_t o, const Span& sd, const Span& sh, const Span& sw) {
      // Scanned in window order; `>` keeps the first of equal maxima and a
      // NaN wins, as in PyTorch.
      int64_t best = (sd.first * g.in[1] + sh.first) * g.in[2] + sw.first;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t id = sd.first; id < sd.last; id += sd.step)
        for (int64_t ih = sh.first; ih < sh.last; ih += sh.step) {
          const int64_t row = id * in_hw + ih * g.in[2];
          for (int64_t iw = sw.first; iw < sw.last; iw += sw.step) {
            const float v = xp[row + iw];
            if (v > m || std::isnan(v)) {
              m = v;
              best = row + iw;
            }
          }
        }
      yp[o] = m;
      if (ap) ap[o] = static_cast<int32_t>(best);
    });
  });
}

void max_pool_grad(const WindowGeometry& g, int64_t planes, const float* dyd, const int32_t* argmax,
                   float* dxd) {
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  parallel_for(planes, [&](int64_t plane) {
    const float* gp = dyd + plane * out_size;
    const int32_t* ap = argmax + plane * out_size;
    float* dxp = dxd + plane * in_size;
    std::fill_n(dxp, in_size, 0.0f);  // here, not before the loop: in parallel
    for (int64_t o = 0; o < out_size; ++o)
      dxp[ap[o]] += gp[o];
  });
}

void sum_pool(const WindowGeometry& g, int64_t planes, const float* xd, bool mean, float* yd) {
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const int64_t in_hw = g.in[1] * g.in[2];
  if (tiles_2x2(g)) {
    by_row_blocks(g, planes, [&](int64_t q0, int64_t q1, int64_t ow) {
      sum_pool_2x2(xd, q0, q1, ow, mean ? 0.25f : 1.0f, yd);
    });
    return;
  }
  parallel_for(planes, [&](int64_t plane) {
    const float* xp = xd + plane * in_size;
    float* yp = yd + plane * out_size;
    for_each_window(g, [&](int64_t o, const Span& sd, const Span& sh, const Span& sw) {
      // Each row of the window summed on its own, then the rows in order, so
      // that the sum does not depend on the path (see sum_pool_2x2).
      float s = 0;
      bool first = true;
      for (int64_t id = sd.first; id < sd.last; id += sd.step)
        for (int64_t ih = sh.first; ih < sh.last; ih += sh.step) {
          const float* row = xp + id * in_hw + ih * g.in[2];
          float r = row[sw.first];
          for (int64_t iw = sw.first + sw.step; iw < sw.last; iw += sw.step)
            r += row[iw];
          s = first ? r : s + r;
          first = false;
        }
      yp[o] = s * window_scale(mean, sd, sh, sw);
    });
  });
}

void sum_pool_grad(const WindowGeometry& g, int64_t planes, const float* dyd, bool mean,
                   float* dxd) {
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const int64_t in_hw = g.in[1] * g.in[2];
  if (tiles_2x2(g)) {
    by_row_blocks(g, planes, [&](int64_t q0, int64_t q1, int64_t ow) {
      sum_pool_2x2_grad(dyd, q0, q1, ow, mean ? 0.25f : 1.0f, dxd);
    });
    return;
  }
  parallel_for(planes, [&](int64_t plane) {
    const float* gp = dyd + plane * out_size;
    float* dxp = dxd + plane * in_size;
    std::fill_n(dxp, in_size, 0.0f);
    for_each_window(g, [&](int64_t o, const Span& sd, const Span& sh, const Span& sw) {
      const float v = gp[o] * window_scale(mean, sd, sh, sw);
      for (int64_t id = sd.first; id < sd.last; id += sd.step)
        for (int64_t ih = sh.first; ih < sh.last; ih += sh.step) {
          float* row = dxp + id * in_hw + ih * g.in[2];
          for (int64_t iw = sw.first; iw < sw.last; iw += sw.step)
            row[iw] += v;
        }
    });
  });
}

}  // namespace strata::kernels
