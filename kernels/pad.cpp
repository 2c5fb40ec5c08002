#include "kernels/pad.hpp"

#include <algorithm>

#include "core/threads.hpp"

namespace strata::kernels {

namespace {

// Elements handed to a thread at a time, about: rows are grouped up to this,
// and long rows of the gradient split at it. Fixed, so the split does not
// depend on the thread count.
constexpr int64_t kChunk = 4096;

int64_t product(const std::vector<int64_t>& v, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i)
    p *= v[i];
  return p;
}

// dst (outer, n_in, inner) = the adjoint of padding dimension d of src
// (outer, n_out, inner): the interior copied, then each border row added into
// its source row, in order.
void fold(const PadPlan& plan, size_t d, int64_t outer, int64_t inner, const float* src,
          float* dst) {
  const int64_t n_in = plan.in[d], n_out = plan.out[d], b = plan.before[d];
  const std::vector<int64_t>& source = plan.source[d];
  if (inner == 1) {
    // The last dimension: whole rows at a time.
    const int64_t rows = std::max<int64_t>(1, kChunk / std::max<int64_t>(1, n_out));
    parallel_for((outer + rows - 1) / rows, [&](int64_t k) {
      for (int64_t r = k * rows; r < std::min(outer, (k + 1) * rows); ++r) {
        const float* s = src + r * n_out;
        float* t = dst + r * n_in;
        std::copy_n(s + b, n_in, t);
        for (int64_t o = 0; o < b; ++o)
          t[source[o]] += s[o];
        for (int64_t o = b + n_in; o < n_out; ++o)
          t[source[o]] += s[o];
      }
    });
    return;
  }
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
  parallel_for(outer * chunks, [&](int64_t u) {
    const int64_t r = u / chunks, lo = (u % chunks) * kChunk;
    const int64_t len = std::min(kChunk, inner - lo);
    const float* s = src + r * n_out * inner + lo;
    float* t = dst + r * n_in * inner + lo;
    for (int64_t i = 0; i < n_in; ++i)
      std::copy_n(s + (b + i) * inner, len, t + i * inner);
    auto add = [&](int64_t o) {
      const float* from = s + o * inner;
      float* to = t + source[o] * inner;
      for (int64_t j = 0; j < len; ++j)
        to[j] += from[j];
    };
    for (int64_t o = 0; o < b; ++o)
      add(o);
    for (int64_t o = b + n_in; o < n_out; ++o)
      add(o);
  });
}

}  // namespace

int64_t pad_source(PadMode mode, int64_t o, int64_t before, int64_t n) {
  const int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::Constant:
      return -1;
    case PadMode::Fixed:
      return i < 0 ? 0 : n - 1;
    case PadMode::Reflected:
      return i < 0 ? -i : 2 * (n - 1) - i;
    case PadMode::Periodic:
      return ((i % n) + n) % n;
  }
  return -1;
}

PadPlan plan_pad(std::span<const int64_t> in, std::span<const std::pair<int64_t, int64_t>> pads,
                 PadMode mode) {
  PadPlan p;
  p.mode = mode;
  const size_t r = in.size();
  p.in.assign(in.begin(), in.end());
  for (size_t d = 0; d < r; ++d) {
    p.before.push_back(pads[d].first);
    p.out.push_back(in[d] + pads[d].first + pads[d].second);
  }
  p.in_stride.assign(r, 1);
  p.out_stride.assign(r, 1);
  for (size_t d = r; d-- > 1;) {
    p.in_stride[d - 1] = p.in_stride[d] * p.in[d];
    p.out_stride[d - 1] = p.out_stride[d] * p.out[d];
  }
  p.source.resize(r);
  for (size_t d = 0; d < r; ++d) {
    p.source[d].resize(static_cast<size_t>(p.out[d]));
    for (int64_t o = 0; o < p.out[d]; ++o)
      p.source[d][static_cast<size_t>(o)] = pad_source(mode, o, p.before[d], p.in[d]);
  }
  // The gradient folds the padded dimensions back one at a time, last first;
  // every fold but the final one writes to scratch (two buffers, alternating).
  if (mode != PadMode::Constant) {
    std::vector<int64_t> cur = p.out;
    int64_t largest = 0, folds = 0;
    for (size_t d = r; d-- > 0;) {
      if (p.in[d] == p.out[d]) continue;
      cur[d] = p.in[d];
      largest = std::max(largest, product(cur, 0, r));
      ++folds;
    }
    p.scratch_size = folds > 1 ? 2 * largest : 0;
  }
  return p;
}

void pad(const PadPlan& plan, float value, const float* x, float* y) {
  const size_t r = plan.in.size();
  if (r == 0) return;
  const int64_t w_in = plan.in[r - 1], w_out = plan.out[r - 1], b = plan.before[r - 1];
  const int64_t rows = product(plan.out, 0, r - 1);
  const std::vector<int64_t>& last = plan.source[r - 1];
  const bool constant = plan.mode == PadMode::Constant;
  const int64_t grain = std::max<int64_t>(1, kChunk / std::max<int64_t>(1, w_out));
  parallel_for(
      rows,
      [&](int64_t row) {
        float* yr = y + row * w_out;
        // The source row: each outer dimension's index mapped on its own.
        int64_t rest = row, offset = 0;
        for (size_t d = r - 1; d-- > 0;) {
          const int64_t s = plan.source[d][static_cast<size_t>(rest % plan.out[d])];
          rest /= plan.out[d];
          if (s < 0) {
            std::fill_n(yr, w_out, value);
            return;
          }
          offset += s * plan.in_stride[d];
        }
        const float* xr = x + offset;
        if (constant) {
          std::fill_n(yr, b, value);
          std::fill(yr + b + w_in, yr + w_out, value);
        } else {
          for (int64_t o = 0; o < b; ++o)
            yr[o] = xr[last[o]];
          for (int64_t o = b + w_in; o < w_out; ++o)
            yr[o] = xr[last[o]];
        }
        std::copy_n(xr, w_in, yr + b);
      },
      grain);
}

void pad_grad(const PadPlan& plan, const float* dy, float* dx, float* scratch) {
  const size_t r = plan.in.size();
  if (r == 0) return;
  if (plan.mode == PadMode::Constant) {
    // The border's gradient goes nowhere: dx is the interior of dy.
    const int64_t w_in = plan.in[r - 1];
    const int64_t rows = product(plan.in, 0, r - 1);
    const int64_t grain = std::max<int64_t>(1, kChunk / std::max<int64_t>(1, w_in));
    parallel_for(
        rows,
        [&](int64_t row) {
          int64_t rest = row, offset = plan.before[r - 1];
          for (size_t d = r - 1; d-- > 0;) {
            offset += (rest % plan.in[d] + plan.before[d]) * plan.out_stride[d];
            rest /= plan.in[d];
          }
          std::copy_n(dy + offset, w_in, dx + row * w_in);
        },
        grain);
    return;
  }
  size_t first = r;  // the padded dimension folded last (writes dx)
  for (size_t d = 0; d < r && first == r; ++d)
    if (plan.in[d] != plan.out[d]) first = d;
  if (first == r) {
    std::copy_n(dy, product(plan.in, 0, r), dx);
    return;
  }
  std::vector<int64_t> cur = plan.out;
  const float* src = dy;
  float* buffers[2] = {scratch, scratch + plan.scratch_size / 2};
  int next = 0;
  for (size_t d = r; d-- > first;) {
    if (plan.in[d] == plan.out[d]) continue;
    float* dst = d == first ? dx : buffers[next];
    next ^= 1;
    fold(plan, d, product(cur, 0, d), product(cur, d + 1, r), src, dst);
    cur[d] = plan.in[d];
    src = dst;
  }
}

}  // namespace strata::kernels
