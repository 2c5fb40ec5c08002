#include "kernels/broadcast.hpp"

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

struct Case {
  Dims dims;
  bool batched;
};

// Operand k's element for the output element at `index` (batch first), by
// NumPy's rule written out: align at the right, index 0 where a dim is 1.
int64_t naive_offset(const Case& op, const Dims& out, const Dims& index) {
  Dims aligned(out.size(), 1);
  if (op.batched) aligned[0] = op.dims[0];
  const size_t e = op.dims.size() - (op.batched ? 1 : 0);
  for (size_t r = 0; r < e; ++r)
    aligned[out.size() - 1 - r] = op.dims[op.dims.size() - 1 - r];
  int64_t offset = 0;
  for (size_t j = 0; j < out.size(); ++j)
    offset = offset * aligned[j] + (aligned[j] == 1 ? 0 : index[j]);
  return offset;
}

// Calls f(output offset, index) for every element of `out` in row-major order.
template <typename F>
void each_index(const Dims& out, F f) {
  Dims index(out.size(), 0);
  const int64_t n = checked_num_elements(out);
  for (int64_t i = 0; i < n; ++i) {
    f(i, index);
    for (size_t j = out.size(); j-- > 0;) {
      if (++index[j] < out[j]) break;
      index[j] = 0;
    }
  }
}

std::vector<BroadcastOperand> operands_of(const std::vector<Case>& cases) {
  std::vector<BroadcastOperand> ops;
  for (const auto& c : cases)
    ops.push_back({c.dims, c.batched});
  return ops;
}

const std::vector<std::vector<Case>> kCases = {
    {{{2, 3, 4}, true}, {{2, 3, 4}, true}},
    {{{2, 3, 4}, true}, {{2, 4}, true}},
    {{{2, 3, 1}, true}, {{2, 1, 4}, true}},
    {{{3, 1, 5}, true}, {{4, 1}, false}, {{3, 2, 1, 1}, true}},
    {{{2, 3}, true}, {{}, false}},
    {{{4}, true}, {{1}, false}, {{4, 1}, true}},
    {{{2, 1, 3, 1, 2}, true}, {{2, 3, 1, 2}, true}, {{1, 2}, false}},
    {{{0, 3}, true}, {{3}, false}},
};

}  // namespace

TEST_CASE("broadcast_dims: the shared batch and the broadcast example") {
  Dims out;
  const std::vector<Case> c = {{{5, 3, 1}, true}, {{4}, false}, {{5, 1, 1, 1}, true}};
  broadcast_dims(operands_of(c), out);
  CHECK(out == Dims{5, 1, 3, 4});
  const std::vector<Case> batches = {{{5, 3}, true}, {{4, 3}, true}};
  CHECK_THROWS_WITH_AS(broadcast_dims(operands_of(batches), out), "batches of 5 and 4", Error);
  const std::vector<Case> bad = {{{5, 3, 4}, true}, {{2, 4}, false}};
  CHECK_THROWS_WITH_AS(broadcast_dims(operands_of(bad), out),
                       "[3, 4] and [2, 4] do not broadcast: dimension 0 is 3 and 2", Error);
  const std::vector<Case> none = {{{3}, false}};
  CHECK_THROWS_AS(broadcast_dims(operands_of(none), out), Error);
}

TEST_CASE("BroadcastLoop reads each operand where NumPy would") {
  for (const auto& cases : kCases) {
    const auto ops = operands_of(cases);
    Dims out;
    broadcast_dims(ops, out);
    CAPTURE(to_string(out));
    BroadcastLoop loop;
    loop.plan(out, ops);
    // The sum of the operands, by the loop and by the naive rule.
    std::vector<Tensor> values;
    for (size_t k = 0; k < cases.size(); ++k)
      values.push_back(random_tensor(cases[k].dims, static_cast<uint64_t>(k + 1)));
    Tensor got(out), want(out), by_offset(out);
    loop.for_each_row([&](int64_t o, std::span<const int64_t> offsets) {
      for (int64_t j = 0; j < loop.row_length(); ++j)
        for (size_t k = 0; k < values.size(); ++k)
          got[o + j] += values[k][offsets[k] + j * loop.row_stride(k)];
    });
    for (int64_t row = 0; row < loop.rows(); ++row)
      for (int64_t j = 0; j < loop.row_length(); ++j)
        for (size_t k = 0; k < values.size(); ++k)
          by_offset[row * loop.row_length() + j] +=
              values[k][loop.offset(k, row) + j * loop.row_stride(k)];
    each_index(out, [&](int64_t i, const Dims& index) {
      for (size_t k = 0; k < values.size(); ++k)
        want[i] += values[k][naive_offset(cases[k], out, index)];
    });
    CHECK(got == want);
    CHECK(by_offset == want);
  }
}

TEST_CASE("BroadcastLoop merges dimensions into long rows") {
  BroadcastLoop loop;
  const std::vector<Case> same = {{{2, 3, 4}, true}, {{2, 3, 4}, true}};
  loop.plan(Dims{2, 3, 4}, operands_of(same));
  CHECK(loop.dims() == Dims{24});
  CHECK(loop.rows() == 1);
  const std::vector<Case> last = {{{2, 3, 4}, true}, {{4}, false}};
  loop.plan(Dims{2, 3, 4}, operands_of(last));
  CHECK(loop.dims() == Dims{6, 4});
  CHECK(loop.row_stride(1) == 1);
  CHECK(loop.stride(1, 0) == 0);
  const std::vector<Case> column = {{{2, 3, 4}, true}, {{2, 3, 1}, true}};
  loop.plan(Dims{2, 3, 4}, operands_of(column));
  CHECK(loop.dims() == Dims{6, 4});
  CHECK(loop.row_stride(1) == 0);
  const std::vector<Case> bad = {{{2, 3}, true}, {{2}, false}};
  CHECK_THROWS_WITH_AS(loop.plan(Dims{2, 3}, operands_of(bad)),
                       "[2] (shared by every example) does not broadcast to [2, 3]", Error);
}

TEST_CASE("sum_broadcast_gradient sums over the repeated dimensions") {
  for (const auto& cases : kCases) {
    const auto ops = operands_of(cases);
    Dims out;
    broadcast_dims(ops, out);
    const Tensor grad = random_tensor(out, 7);
    BroadcastLoop loop;
    loop.plan(out, ops);
    for (size_t k = 0; k < cases.size(); ++k) {
      CAPTURE(to_string(out));
      CAPTURE(to_string(cases[k].dims));
      Tensor want(cases[k].dims);
      each_index(out, [&](int64_t i, const Dims& index) {
        want[naive_offset(cases[k], out, index)] += grad[i];
      });
      Tensor got, got_alone;
      loop.sum_to_operand(k, grad, got);
      sum_broadcast_gradient(grad, ops[k], got_alone);
      REQUIRE(got.shape() == cases[k].dims);
      REQUIRE(got_alone.shape() == cases[k].dims);
      for (int64_t i = 0; i < want.size(); ++i) {
        CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
        CHECK(got_alone[i] == doctest::Approx(want[i]).epsilon(1e-5));
      }
    }
  }
}
