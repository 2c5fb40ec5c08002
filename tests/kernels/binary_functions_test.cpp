#include "kernels/binary_functions.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;
namespace b = strata::binary;

namespace {

// Operand k's element for output element i, by NumPy's rule written out
// (every operand batched, the output's rank).
int64_t naive_offset(const Dims& op, const Dims& out, int64_t i) {
  Dims index(out.size());
  for (size_t j = out.size(); j-- > 0;) {
    index[j] = i % out[j];
    i /= out[j];
  }
  // The batch first, the example's dims right-aligned.
  Dims aligned(out.size(), 1);
  aligned[0] = op[0];
  for (size_t r = 0; r + 1 < op.size(); ++r)
    aligned[out.size() - 1 - r] = op[op.size() - 1 - r];
  int64_t offset = 0;
  for (size_t j = 0; j < out.size(); ++j)
    offset = offset * aligned[j] + (aligned[j] == 1 ? 0 : index[j]);
  return offset;
}

struct Setup {
  std::vector<Tensor> x;
  std::vector<BroadcastOperand> ops;
  std::vector<const float*> ptr;
  Dims out;
  BroadcastLoop loop;

  explicit Setup(const std::vector<Dims>& dims, float lo = -1.0f, float hi = 1.0f) {
    for (size_t k = 0; k < dims.size(); ++k)
      x.push_back(random_tensor(dims[k], k + 1, lo, hi));
    for (const auto& t : x) {
      ops.push_back({t.shape(), true});
      ptr.push_back(t.data());
    }
    broadcast_dims(ops, out);
    loop.plan(out, ops);
  }
  float at(size_t k, int64_t i) const { return x[k][naive_offset(x[k].shape(), out, i)]; }
};

}  // namespace

TEST_CASE("binary::apply folds the operands from the left, as NumPy broadcasts them") {
  // Rows longer than a piece, short rows, repeated operands, three operands.
  const std::vector<std::vector<Dims>> cases = {{{2, 3, 5000}, {2, 3, 5000}},
                                                {{2, 3, 1}, {2, 1, 4}},
                                                {{2, 4, 3, 2}, {2, 4, 1, 1}},
                                                {{2, 1}, {2, 6000}},
                                                {{2, 7}, {2, 3, 1}, {2, 1, 7}}};
  for (const auto& dims : cases) {
    for (b::Function f : {b::Function::Plus, b::Function::Times, b::Function::Max, b::Function::Min,
                          b::Function::Subtract, b::Function::Power}) {
      if (b::exactly_two(f) && dims.size() != 2) continue;
      CAPTURE(static_cast<int>(f));
      Setup s(dims, 0.5f, 2.0f);
      CAPTURE(to_string(s.out));
      Tensor y(s.out);
      b::apply(f, s.loop, s.ptr, y.data());
      bool ok = true;
      for (int64_t i = 0; i < y.size(); ++i) {
        float want = s.at(0, i);
        for (size_t k = 1; k < dims.size(); ++k) {
          const float v = s.at(k, i);
          switch (f) {
            case b::Function::Plus:
              want = want + v;
              break;
            case b::Function::Times:
              want = want * v;
              break;
            case b::Function::Max:
              want = std::max(want, v);
              break;
            case b::Function::Min:
              want = std::min(want, v);
              break;
            case b::Function::Subtract:
              want = want - v;
              break;
            default:
              want = std::pow(want, v);
          }
        }
        ok &= y[i] == want;
      }
      CHECK(ok);
    }
  }
}

TEST_CASE("binary::partial is the derivative times the output's gradient") {
  Setup s({{2, 3, 4}, {2, 3, 1}, {2, 4}});
  Tensor y(s.out), t(s.out);
  const Tensor g = random_tensor(s.out, 9);
  b::apply(b::Function::Times, s.loop, s.ptr, y.data());
  for (size_t k = 0; k < 3; ++k) {
    b::partial(b::Function::Times, k, s.loop, s.ptr, y.data(), g.data(), t.data());
    bool ok = true;
    for (int64_t i = 0; i < t.size(); ++i) {
      float want = g[i];
      for (size_t j = 0; j < 3; ++j)
        if (j != k) want *= s.at(j, i);
      ok &= t[i] == want;
    }
    CHECK(ok);
  }
  Setup d({{2, 5}, {2, 1}}, 0.5f, 1.5f);
  Tensor q(d.out), dq(d.out);
  const Tensor gq = random_tensor(d.out, 3);
  b::apply(b::Function::Divide, d.loop, d.ptr, q.data());
  b::partial(b::Function::Divide, 1, d.loop, d.ptr, q.data(), gq.data(), dq.data());
  for (int64_t i = 0; i < dq.size(); ++i)
    CHECK(dq[i] == doctest::Approx(-gq[i] * d.at(0, i) / (d.at(1, i) * d.at(1, i))));
}

TEST_CASE("binary kernels refuse operand counts that do not fit") {
  Setup s({{2, 3}, {2, 3}, {2, 3}});
  Tensor y(s.out);
  CHECK_THROWS_AS(b::apply(b::Function::Subtract, s.loop, s.ptr, y.data()), Error);
  const std::vector<const float*> one{s.ptr[0]};
  CHECK_THROWS_AS(b::apply(b::Function::Plus, s.loop, one, y.data()), Error);
  CHECK(b::exactly_two(b::Function::Power));
  CHECK_FALSE(b::exactly_two(b::Function::Max));
}
