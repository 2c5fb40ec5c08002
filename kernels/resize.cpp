#include "kernels/resize.hpp"

#include <algorithm>
#include <cmath>

#include "core/threads.hpp"

namespace strata::kernels {

namespace {

// Resizes `rows` contiguous rows along the innermost axis.
void rows_forward(const ResizeAxis& a, bool nearest, int64_t rows, const float* x, float* y) {
  const int64_t* lo = a.lo.data();
  const int64_t* hi = a.hi.data();
  const float* wl = a.w_lo.data();
  const float* wh = a.w_hi.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = x + r * a.in;
    float* t = y + r * a.out;
    if (nearest) {
      for (int64_t j = 0; j < a.out; ++j)
        t[j] = s[lo[j]];
    } else {
      for (int64_t j = 0; j < a.out; ++j)
        t[j] = wl[j] * s[lo[j]] + wh[j] * s[hi[j]];
    }
  }
}

// Resizes along a middle axis of [outer, in, inner] to [outer, out, inner]:
// whole rows of `inner` at a time, which vectorize.
void slabs_forward(const ResizeAxis& a, bool nearest, int64_t outer, int64_t inner, const float* x,
                   float* y) {
  for (int64_t o = 0; o < outer; ++o) {
    const float* s = x + o * a.in * inner;
    float* t = y + o * a.out * inner;
    for (int64_t j = 0; j < a.out; ++j) {
      const float* p = s + a.lo[j] * inner;
      float* q = t + j * inner;
      if (nearest) {
        std::copy_n(p, inner, q);
      } else {
        const float* p2 = s + a.hi[j] * inner;
        const float wl = a.w_lo[j], wh = a.w_hi[j];
        for (int64_t k = 0; k < inner; ++k)
          q[k] = wl * p[k] + wh * p2[k];
      }
    }
  }
}

// The adjoints of the two: dx (input-sized) = Σ weight · dy, in output order.
void rows_adjoint(const ResizeAxis& a, bool nearest, int64_t rows, const float* dy, float* dx) {
  std::fill_n(dx, rows * a.in, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const float* g = dy + r * a.out;
    float* d = dx + r * a.in;
    for (int64_t j = 0; j < a.out; ++j) {
      if (nearest) {
        d[a.lo[j]] += g[j];
      } else {
        d[a.lo[j]] += a.w_lo[j] * g[j];
        d[a.hi[j]] += a.w_hi[j] * g[j];
      }
    }
  }
}

void slabs_adjoint(const ResizeAxis& a, bool nearest, int64_t outer, int64_t inner, const float* dy,
                   float* dx) {
  std::fill_n(dx, outer * a.in * inner, 0.0f);
  for (int64_t o = 0; o < outer; ++o) {
    const float* g = dy + o * a.out * inner;
    float* d = dx + o * a.in * inner;
    for (int64_t j = 0; j < a.out; ++j) {
      const float* gj = g + j * inner;
      float* p = d + a.lo[j] * inner;
      if (nearest) {
        for (int64_t k = 0; k < inner; ++k)
          p[k] += gj[k];
      } else {
        float* p2 = d + a.hi[j] * inner;
        const float wl = a.w_lo[j], wh = a.w_hi[j];
        for (int64_t k = 0; k < inner; ++k)
          p[k] += wl * gj[k];
        for (int64_t k = 0; k < inner; ++k)
          p2[k] += wh * gj[k];
      }
    }
  }
}

// The sizes of the two intermediate results of a plane: after width, and
// after width and height.
struct Stages {
  int64_t after_w, after_h;
};

Stages stages(const ResizePlan& p) {
  const auto& [d, h, w] = p.axes;
  return {d.in * h.in * w.out, d.in * h.out * w.out};
}

// For each of `planes` planes, in parallel: body(src, dst, buf_w, buf_h) on
// the plane of `from` (planes of from_size) and of `to` (planes of to_size),
// with the thread's scratch for what the width stage and the height stage
// make. A plan that resizes no axis copies each plane instead.
template <typename Body>
void each_plane(const ResizePlan& plan, int64_t planes, const float* from, int64_t from_size,
                float* to, int64_t to_size, std::vector<float>& scratch, Body body) {
  // Named references rather than a structured binding, which lambdas may
  // capture only from C++20 compilers newer than clang 14.
  const ResizeAxis& ad = plan.axes[0];
  const ResizeAxis& ah = plan.axes[1];
  const ResizeAxis& aw = plan.axes[2];
  const bool copy = ad.identity && ah.identity && aw.identity;
  const Stages st = stages(plan);
  const size_t need = static_cast<size_t>(plan.scratch_per_plane) * num_threads();
  if (scratch.size() < need) scratch.resize(need);
  float* base = scratch.data();
  parallel_for(planes, [&](int64_t p) {
    const float* src = from + p * from_size;
    float* dst = to + p * to_size;
    if (copy) {
      std::copy_n(src, from_size, dst);
      return;
    }
    float* buf_w = base + thread_index() * plan.scratch_per_plane;
    body(src, dst, buf_w, buf_w + st.after_w);
  });
}

}  // namespace

ResizeAxis linear_axis(int64_t in, int64_t out, std::optional<double> scale) {
  ResizeAxis a;
  a.in = in;
  a.out = out;
  const double step = scale ? 1.0 / *scale : static_cast<double>(in) / static_cast<double>(out);
  a.identity = in == out;
  for (int64_t j = 0; j < out; ++j) {
    const double c = std::max((static_cast<double>(j) + 0.5) * step - 0.5, 0.0);
    const int64_t lo = std::min(static_cast<int64_t>(std::floor(c)), in - 1);
    const double lambda = std::clamp(c - static_cast<double>(lo), 0.0, 1.0);
    a.lo.push_back(lo);
    a.hi.push_back(std::min(lo + 1, in - 1));
    a.w_lo.push_back(static_cast<float>(1.0 - lambda));
    a.w_hi.push_back(static_cast<float>(lambda));
    a.identity = a.identity && lo == j && lambda == 0.0;
  }
  return a;
}

ResizeAxis nearest_axis(int64_t in, int64_t out, std::optional<double> scale) {
  ResizeAxis a;
  a.in = in;
  a.out = out;
  a.identity = in == out;
  for (int64_t j = 0; j < out; ++j) {
    // floor(j / s): exact in integers for s = out / in; a double division
    // (correctly rounded, so exact at whole numbers) for a given scale.
    const int64_t i =
        scale ? static_cast<int64_t>(std::floor(static_cast<double>(j) / *scale)) : j * in / out;
    const int64_t lo = std::min(i, in - 1);
    a.lo.push_back(lo);
    a.identity = a.identity && lo == j;
  }
  a.hi = a.lo;
  a.w_lo.assign(static_cast<size_t>(out), 1.0f);
  a.w_hi.assign(static_cast<size_t>(out), 0.0f);
  return a;
}

ResizePlan plan_resize(ResizeMethod method, std::span<const int64_t> in,
                       std::span<const int64_t> out, std::span<const double> scales) {
  ResizePlan p;
  p.method = method;
  const size_t r = in.size(), first = 3 - r;
  for (size_t d = 0; d < r; ++d) {
    const std::optional<double> s =
        scales.empty() ? std::nullopt : std::optional<double>(scales[d]);
    p.axes[first + d] = method == ResizeMethod::Linear ? linear_axis(in[d], out[d], s)
                                                       : nearest_axis(in[d], out[d], s);
  }
  for (const auto& a : p.axes) {
    p.in_size *= a.in;
    p.out_size *= a.out;
  }
  const Stages st = stages(p);
  p.scratch_per_plane = st.after_w + st.after_h;
  return p;
}

void resize(const ResizePlan& plan, int64_t planes, const float* x, float* y,
            std::vector<float>& scratch) {
  // Named references rather than a structured binding, which lambdas may
  // capture only from C++20 compilers newer than clang 14.
  const ResizeAxis& ad = plan.axes[0];
  const ResizeAxis& ah = plan.axes[1];
  const ResizeAxis& aw = plan.axes[2];
  const bool nearest = plan.method == ResizeMethod::Nearest;
  // The last axis to resize writes the output.
  const int last = !ad.identity ? 0 : !ah.identity ? 1 : !aw.identity ? 2 : -1;
  each_plane(plan, planes, x, plan.in_size, y, plan.out_size, scratch,
             [&](const float* src, float* dst, float* buf_w, float* buf_h) {
               if (!aw.identity) {
                 float* t = last == 2 ? dst : buf_w;
                 rows_forward(aw, nearest, ad.in * ah.in, src, t);
                 src = t;
               }
               if (!ah.identity) {
                 float* t = last == 1 ? dst : buf_h;
                 slabs_forward(ah, nearest, ad.in, aw.out, src, t);
                 src = t;
               }
               if (!ad.identity) slabs_forward(ad, nearest, 1, ah.out * aw.out, src, dst);
             });
}

void resize_grad(const ResizePlan& plan, int64_t planes, const float* dy, float* dx,
                 std::vector<float>& scratch) {
  // Named references rather than a structured binding, which lambdas may
  // capture only from C++20 compilers newer than clang 14.
  const ResizeAxis& ad = plan.axes[0];
  const ResizeAxis& ah = plan.axes[1];
  const ResizeAxis& aw = plan.axes[2];
  const bool nearest = plan.method == ResizeMethod::Nearest;
  // In reverse: depth, height, width; the last of them writes dx.
  const int last = !aw.identity ? 2 : !ah.identity ? 1 : !ad.identity ? 0 : -1;
  each_plane(plan, planes, dy, plan.out_size, dx, plan.in_size, scratch,
             [&](const float* src, float* dst, float* buf_w, float* buf_h) {
               if (!ad.identity) {
                 float* t = last == 0 ? dst : buf_h;
                 slabs_adjoint(ad, nearest, 1, ah.out * aw.out, src, t);
                 src = t;
               }
               if (!ah.identity) {
                 float* t = last == 1 ? dst : buf_w;
                 slabs_adjoint(ah, nearest, ad.in, aw.out, src, t);
                 src = t;
               }
               if (!aw.identity) rows_adjoint(aw, nearest, ad.in * ah.in, src, dst);
             });
}

}  // namespace strata::kernels
