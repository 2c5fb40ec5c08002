#include "kernels/im2col.hpp"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <algorithm>
#include <type_traits>

#include "kernels/common.hpp"

namespace strata::kernels {

using plane_sums::kWidth;

namespace {

// The output positions ow in [0, out) whose input ow·stride + offset is
// inside [0, size): the half-open range [lo, hi).
void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t out, int64_t& lo,
                 int64_t& hi) {
  lo = offset >= 0 ? 0 : ceil_div(-offset, stride);
  hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// Walks the im2col matrix of one example and group, restricted to the output
// positions [p0, p1): row (c, kd, kh, kw), column p − p0 (at col + row · ld)
// holds x[c, od·sd + kd·dd − bd, oh·…, ow·…] (zero in the padding). Runs
// along the last dimension are split into padding / inside / padding parts so
// the inside part is a plain loop. `Accumulate` false copies x into col
// (im2col); true adds col back into x (col2im).
template <bool Accumulate, typename Ptr>
void walk_columns(Ptr x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
                  std::conditional_t<Accumulate, const float*, float*> col, int64_t ld) {
  const int64_t in_hw = g.in[1] * g.in[2];
  const int64_t sw = g.stride[2];
  // The coordinates of p0; those of later positions follow by counting.
  const int64_t od0 = p0 / (g.out[1] * g.out[2]);
  const int64_t oh0 = (p0 / g.out[2]) % g.out[1];
  const int64_t ow00 = p0 % g.out[2];
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c) {
    Ptr xc = x + c * g.in_size();
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t offd = kd * g.dilation[0] - g.before[0];
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t offh = kh * g.dilation[1] - g.before[1];
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
          const int64_t offw = kw * g.dilation[2] - g.before[2];
          int64_t lo, hi;
          valid_range(offw, sw, g.in[2], g.out[2], lo, hi);
          auto* dst = col + row * ld;
          int64_t od = od0, oh = oh0, ow0 = ow00;
          for (int64_t p = p0; p < p1;) {
            const int64_t n = std::min(g.out[2] - ow0, p1 - p);
            const int64_t id = od * g.stride[0] + offd, ih = oh * g.stride[1] + offh;
            const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
            const int64_t a = inside ? std::clamp(lo, ow0, ow0 + n) : ow0 + n;
            const int64_t b = inside ? std::clamp(hi, a, ow0 + n) : ow0 + n;
            if constexpr (!Accumulate) {
              for (int64_t ow = ow0; ow < a; ++ow)
                dst[ow - ow0] = 0.0f;
            }
            if (a < b) {
              // Input element of output w: xr[w·sw], and its column: d[w].
              Ptr xr = xc + id * in_hw + ih * g.in[2] + (a * sw + offw);
              auto* d = dst + (a - ow0);
              const int64_t m = b - a;
              if (sw == 1) {
                for (int64_t j = 0; j < m; ++j) {
                  if constexpr (Accumulate)
                    xr[j] += d[j];
                  else
                    d[j] = xr[j];
                }
              } else {
                for (int64_t j = 0; j < m; ++j) {
                  if constexpr (Accumulate)
                    xr[j * sw] += d[j];
                  else
                    d[j] = xr[j * sw];
                }
              }
            }
            if constexpr (!Accumulate) {
              for (int64_t ow = b; ow < ow0 + n; ++ow)
                dst[ow - ow0] = 0.0f;
            }
            dst += n;
            p += n;
            ow0 = 0;
            if (++oh == g.out[1]) {
              oh = 0;
              ++od;
            }
          }
        }
      }
    }
  }
}

}  // namespace

void im2col(const float* x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
            float* col, int64_t ld) {
  walk_columns<false, const float*>(x, channels, g, p0, p1, col, ld);
}

void col2im_add(const float* col, int64_t ld, int64_t channels, const WindowGeometry& g, int64_t p0,
                int64_t p1, float* x) {
  walk_columns<true, float*>(x, channels, g, p0, p1, col, ld);
}

void build_map(ColumnMap& map, const WindowGeometry& g, int64_t channels) {
  if (map.matches(g, channels)) return;
  const int64_t rows = channels * g.kernel_size(), positions = g.out_size();
  map.geo = g;
  map.channels = channels;
  map.index.resize(static_cast<size_t>(rows * positions));
  // im2col of the offsets themselves: an input holding its own offset + 1
  // (0 is padding) gives the map, by the same walk as the general case.
  std::vector<float> offsets(static_cast<size_t>(channels * g.in_size()));
  for (size_t i = 0; i < offsets.size(); ++i)
    offsets[i] = static_cast<float>(i + 1);  // exact: fewer than 2^24 entries
  std::vector<float> col(map.index.size());
  im2col(offsets.data(), channels, g, 0, positions, col.data(), positions);
  for (size_t i = 0; i < col.size(); ++i)
    map.index[i] = static_cast<int32_t>(col[i]) - 1;
}

void gather_columns(const ColumnMap& map, int64_t rows, int64_t positions, const float* xz,
                    float* col, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* idx = map.index.data() + r * positions;
    float* dst = col + r * ld;
    for (int64_t p = 0; p < positions; ++p)
      dst[p] = xz[idx[p] + 1];
  }
}

bool plane_columns_apply(const WindowGeometry& g) {
  return g.in_size() <= plane_sums::kWidth && g.out_size() <= plane_sums::kWidth;
}

void plane_columns(const ColumnMap& map, const float* x, int64_t channels, const WindowGeometry& g,
                   float* col, int64_t ld) {
  const int64_t positions = g.out_size(), k = g.kernel_size();
#ifdef __AVX512F__
  const int64_t in_size = g.in_size();
  const auto in_mask = static_cast<__mmask16>((1u << in_size) - 1);
  const auto out_mask = static_cast<__mmask16>((1u << positions) - 1);
  for (int64_t c = 0; c < channels; ++c) {
    const __m512 plane = _mm512_maskz_loadu_ps(in_mask, x + c * in_size);
    const __m512i base = _mm512_set1_epi32(static_cast<int32_t>(c * in_size));
    for (int64_t r = c * k; r < (c + 1) * k; ++r) {
      // The row's offsets into this plane; −1 (padding) gives a zero.
      const __m512i idx = _mm512_maskz_loadu_epi32(out_mask, map.index.data() + r * positions);
      const __mmask16 inside = _mm512_mask_cmpge_epi32_mask(out_mask, idx, base);
      const __m512 v = _mm512_maskz_permutexvar_ps(inside, _mm512_sub_epi32(idx, base), plane);
      _mm512_mask_storeu_ps(col + r * ld, out_mask, v);
    }
  }
#else
  for (int64_t r = 0; r < channels * k; ++r) {
    const int32_t* idx = map.index.data() + r * positions;
    for (int64_t p = 0; p < positions; ++p)
      col[r * ld + p] = idx[p] < 0 ? 0.0f : x[idx[p]];
  }
#endif
}

bool row_columns_apply(const WindowGeometry& g) {
  return g.in[0] == 1 && g.out[0] == 1 && g.kernel[0] == 1 && g.stride[1] == 2 &&
         g.stride[2] == 2 && g.dilation[1] == 1 && g.dilation[2] == 1;
}

void row_columns(const float* x, int64_t channels, const WindowGeometry& g, float* col,
                 int64_t ld) {
  using plane_sums::kWidth;
  using plane_sums::Vec;
  const int64_t h = g.in[1], w = g.in[2], oh = g.out[1], ow = g.out[2];
  const int64_t kh = g.kernel[1], kw = g.kernel[2], bh = g.before[1], bw = g.before[2];
  const int64_t s = g.stride[1];
  int64_t r = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t b = 0; b < kw; ++b, ++r) {
        float* dst = col + r * ld;
        for (int64_t i = 0; i < oh; ++i) {
          float* out = dst + i * ow;
          const int64_t ir = s * i + a - bh;
          if (ir < 0 || ir >= h) {
            std::fill_n(out, ow, 0.0f);
            continue;
          }
          const float* xr = x + (c * h + ir) * w;
          for (int64_t j = 0; j < ow; j += kWidth) {
            // Input columns s·j + b − bw + s·lane.
            const int64_t c0 = s * j + b - bw;
            Vec v;
            if (s == 1) {
              v = plane_sums::padded_block(xr, w, 0, c0);
            } else {
              const Vec lo = plane_sums::padded_block(xr, w, 0, c0),
                        hi = plane_sums::padded_block(xr, w, 0, c0 + kWidth);
              v = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                          28, 30);
            }
            if (j + kWidth <= ow)
              plane_sums::store(out + j, v);
            else
              plane_sums::store_first(out + j, v, ow - j);
          }
        }
      }
}

void scatter_columns(const ColumnMap& map, int64_t rows, int64_t positions, const float* col,
                     int64_t ld, float* xz) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* idx = map.index.data() + r * positions;
    const float* src = col + r * ld;
    for (int64_t p = 0; p < positions; ++p)
      xz[idx[p] + 1] += src[p];
  }
}

PaddedShape padded_shape(const WindowGeometry& g) {
  return {std::max(g.before[1] + g.in[1], g.out[1] + (g.kernel[1] - 1) * g.dilation[1]),
          std::max(g.before[2] + g.in[2], g.out[2] + (g.kernel[2] - 1) * g.dilation[2])};
}

void pad_rows(const float* x, int64_t channels, const WindowGeometry& g, PaddedShape s, int64_t r0,
              int64_t r1, float* xp) {
  const int64_t bw = g.before[2], w = g.in[2];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = r0; r < r1; ++r) {
      float* row = xp + (c * s.hp + r) * s.wp;
      const int64_t ih = r - g.before[1];
      if (ih < 0 || ih >= g.in[1]) {
        std::fill_n(row, s.wp, 0.0f);
        continue;
      }
      for (int64_t j = 0; j < bw; ++j)
        row[j] = 0.0f;
      copy_floats(x + (c * g.in[1] + ih) * w, w, row + bw);
      for (int64_t j = bw + w; j < s.wp; ++j)
        row[j] = 0.0f;
    }
}

namespace {

// Columns of output rows [oh0, oh1) from the padded input (Accumulate false),
// or their gradients added back into a padded gradient (true).
template <bool Accumulate>
void padded_columns(std::conditional_t<Accumulate, float*, const float*> xp, int64_t channels,
                    const WindowGeometry& g, PaddedShape s, int64_t oh0, int64_t oh1,
                    std::conditional_t<Accumulate, const float*, float*> col, int64_t ld) {
  const int64_t ow = g.out[2];
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
        auto* src = xp + (c * s.hp + oh0 + kh * g.dilation[1]) * s.wp + kw * g.dilation[2];
        auto* dst = col + row * ld;
        for (int64_t oh = oh0; oh < oh1; ++oh, src += s.wp, dst += ow) {
          if constexpr (Accumulate) {
            int64_t j = 0;
            for (; j + kWidth <= ow; j += kWidth)
              plane_sums::store(src + j, plane_sums::load(src + j) + plane_sums::load(dst + j));
            for (; j < ow; ++j)
              src[j] += dst[j];
          } else {
            copy_floats(src, ow, dst);
          }
        }
      }
}

}  // namespace

void padded_im2col(const float* xp, int64_t channels, const WindowGeometry& g, PaddedShape s,
                   int64_t oh0, int64_t oh1, float* col, int64_t ld) {
  padded_columns<false>(xp, channels, g, s, oh0, oh1, col, ld);
}

void padded_col2im_add(const float* col, int64_t ld, int64_t channels, const WindowGeometry& g,
                       PaddedShape s, int64_t oh0, int64_t oh1, float* dxp) {
  padded_columns<true>(dxp, channels, g, s, oh0, oh1, col, ld);
}

void unpad_add_rows(const float* dxp, int64_t channels, const WindowGeometry& g, PaddedShape s,
                    int64_t r0, int64_t r1, float* dx) {
  const int64_t w = g.in[2];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = std::max(r0, g.before[1]); r < std::min(r1, g.before[1] + g.in[1]); ++r) {
      const float* src = dxp + (c * s.hp + r) * s.wp + g.before[2];
      float* dst = dx + (c * g.in[1] + r - g.before[1]) * w;
      for (int64_t j = 0; j < w; ++j)
        dst[j] += src[j];
    }
}

}  // namespace strata::kernels
