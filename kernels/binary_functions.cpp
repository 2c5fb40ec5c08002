#include "kernels/binary_functions.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/threads.hpp"

namespace strata::binary {

namespace {

// Rows are cut into pieces of this many elements, a split fixed by the sizes
// alone; below kParallelMin output elements, threads cost more than they save.
constexpr int64_t kPiece = 4096;
constexpr int64_t kParallelMin = int64_t{1} << 13;

struct Plus {
  float operator()(float a, float b) const { return a + b; }
};
struct Subtract {
  float operator()(float a, float b) const { return a - b; }
};
struct Times {
  float operator()(float a, float b) const { return a * b; }
};
struct Divide {
  float operator()(float a, float b) const { return a / b; }
};
// b != b: a NaN on either side is the result (std::max would drop it).
struct Max {
  float operator()(float a, float b) const { return b > a || b != b ? b : a; }
};
struct Min {
  float operator()(float a, float b) const { return b < a || b != b ? b : a; }
};
struct Power {
  float operator()(float a, float b) const { return std::pow(a, b); }
};

// An operand along a piece of a row: element j is p[j * s], s being 0 (one
// element repeated) or 1 (contiguous).
struct Run {
  const float* p;
  int64_t s;
  float operator[](int64_t j) const { return p[j * s]; }
};

// Calls body(o, n, run) for every piece of every row, spread over the threads:
// the piece is output elements [o, o + n), and run(k) is operand k along it.
template <typename Body>
void for_pieces(const BroadcastLoop& loop, std::span<const float* const> x, Body&& body) {
  const int64_t rows = loop.rows(), len = loop.row_length();
  if (rows == 0 || len == 0) return;
  const int64_t per_row = (len + kPiece - 1) / kPiece;
  const int64_t piece = std::min(len, kPiece);
  parallel_for(
      rows * per_row,
      [&](int64_t p) {
        const int64_t r = p / per_row, begin = (p % per_row) * kPiece;
        auto run = [&](size_t k) {
          const int64_t s = loop.row_stride(k);
          return Run{x[k] + loop.offset(k, r) + begin * s, s};
        };
        body(r * len + begin, std::min(kPiece, len - begin), run);
      },
      std::max<int64_t>(1, kParallelMin / piece));
}

// y[j] = f(a[j], b[j]) for j < n, with a loop of its own for each kind of
// stride so that each one vectorizes.
template <typename F>
void row(F f, Run a, Run b, float* y, int64_t n) {
  if (a.s == 1 && b.s == 1) {
    for (int64_t j = 0; j < n; ++j)
      y[j] = f(a.p[j], b.p[j]);
  } else if (a.s == 1) {
    const float v = b.p[0];
    for (int64_t j = 0; j < n; ++j)
      y[j] = f(a.p[j], v);
  } else if (b.s == 1) {
    const float v = a.p[0];
    for (int64_t j = 0; j < n; ++j)
      y[j] = f(v, b.p[j]);
  } else {
    std::fill(y, y + n, f(a.p[0], b.p[0]));
  }
}

template <typename F>
void fold(F f, const BroadcastLoop& loop, std::span<const float* const> x, float* y) {
  for_pieces(loop, x, [&](int64_t o, int64_t n, auto run) {
    float* out = y + o;
    row(f, run(0), run(1), out, n);
    for (size_t k = 2; k < x.size(); ++k)
      row(f, Run{out, 1}, run(k), out, n);
  });
}

// The operand that Max or Min takes an output element from: equal to it, or
// NaN like it.
bool holds(float v, float y) {
  return v == y || (v != v && y != y);
}

void check(const BroadcastLoop& loop, std::span<const float* const> x, Function f) {
  if (x.size() < 2 || loop.operand_count() != x.size() || (exactly_two(f) && x.size() != 2))
    throw Error("internal: " + std::to_string(x.size()) + " operands for a loop of " +
                std::to_string(loop.operand_count()));
}

}  // namespace

void apply(Function f, const BroadcastLoop& loop, std::span<const float* const> x, float* y) {
  check(loop, x, f);
  switch (f) {
    case Function::Plus:
      return fold(Plus{}, loop, x, y);
    case Function::Subtract:
      return fold(Subtract{}, loop, x, y);
    case Function::Times:
      return fold(Times{}, loop, x, y);
    case Function::Divide:
      return fold(Divide{}, loop, x, y);
    case Function::Max:
      return fold(Max{}, loop, x, y);
    case Function::Min:
      return fold(Min{}, loop, x, y);
    case Function::Power:
      return fold(Power{}, loop, x, y);
  }
}

void partial(Function f, size_t k, const BroadcastLoop& loop, std::span<const float* const> x,
             const float* y, const float* g, float* t) {
  check(loop, x, f);
  if (k >= x.size()) throw Error("internal: no operand " + std::to_string(k));
  for_pieces(loop, x, [&](int64_t o, int64_t n, auto run) {
    const float* dy = g + o;
    const float* out = y + o;
    float* d = t + o;
    switch (f) {
      case Function::Plus:
        std::copy(dy, dy + n, d);
        return;
      case Function::Subtract:
        if (k == 0) {
          std::copy(dy, dy + n, d);
        } else {
          for (int64_t j = 0; j < n; ++j)
            d[j] = -dy[j];
        }
        return;
      case Function::Times:
        // The product of the other operands, without dividing by this one
        // (which may be 0).
        std::copy(dy, dy + n, d);
        for (size_t i = 0; i < x.size(); ++i)
          if (i != k) row(Times{}, Run{d, 1}, run(i), d, n);
        return;
      case Function::Divide:
        if (k == 0) {
          row(Divide{}, Run{dy, 1}, run(1), d, n);
        } else {
          const Run b = run(1);
          for (int64_t j = 0; j < n; ++j)
            d[j] = -dy[j] * (out[j] / b[j]);
        }
        return;
      case Function::Power: {
        const Run a = run(0), e = run(1);
        if (k == 0) {
          for (int64_t j = 0; j < n; ++j)
            d[j] = e[j] == 0.0f ? 0.0f : dy[j] * (e[j] * std::pow(a[j], e[j] - 1.0f));
        } else {
          for (int64_t j = 0; j < n; ++j)
            d[j] = a[j] == 0.0f && e[j] >= 0.0f ? 0.0f : dy[j] * (out[j] * std::log(a[j]));
        }
        return;
      }
      case Function::Max:
      case Function::Min: {
        const Run v = run(k);
        for (int64_t j = 0; j < n; ++j)
          d[j] = holds(v[j], out[j]) ? dy[j] : 0.0f;
        // An earlier operand holding the same value takes it first.
        for (size_t i = 0; i < k; ++i) {
          const Run w = run(i);
          for (int64_t j = 0; j < n; ++j)
            d[j] = holds(w[j], out[j]) ? 0.0f : d[j];
        }
        return;
      }
    }
  });
}

}  // namespace strata::binary
