#include "kernels/pad.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "core/threads.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::random_tensor;

namespace {

std::vector<float> run_pad(const Dims& in, const std::vector<std::pair<int64_t, int64_t>>& pads,
                           PadMode mode, float value, const std::vector<float>& x) {
  const PadPlan plan = plan_pad(in, pads, mode);
  std::vector<float> y(static_cast<size_t>(checked_num_elements(plan.out)));
  pad(plan, value, x.data(), y.data());
  return y;
}

std::vector<float> run_grad(const PadPlan& plan, const std::vector<float>& dy) {
  std::vector<float> dx(static_cast<size_t>(checked_num_elements(plan.in)), -7.0f);
  std::vector<float> scratch(static_cast<size_t>(plan.scratch_size));
  pad_grad(plan, dy.data(), dx.data(), scratch.data());
  return dx;
}

}  // namespace

TEST_CASE("pad_source maps border positions as PyTorch's modes do") {
  // n = 4, before = 3: output positions 0..9 over inputs 0..3.
  std::vector<int64_t> fixed, reflected, periodic, constant;
  for (int64_t o = 0; o < 10; ++o) {
    fixed.push_back(pad_source(PadMode::Fixed, o, 3, 4));
    reflected.push_back(pad_source(PadMode::Reflected, o, 3, 4));
    periodic.push_back(pad_source(PadMode::Periodic, o, 3, 4));
    constant.push_back(pad_source(PadMode::Constant, o, 3, 4));
  }
  CHECK(fixed == std::vector<int64_t>{0, 0, 0, 0, 1, 2, 3, 3, 3, 3});
  CHECK(reflected == std::vector<int64_t>{3, 2, 1, 0, 1, 2, 3, 2, 1, 0});
  CHECK(periodic == std::vector<int64_t>{1, 2, 3, 0, 1, 2, 3, 0, 1, 2});
  CHECK(constant == std::vector<int64_t>{-1, -1, -1, 0, 1, 2, 3, -1, -1, -1});
}

TEST_CASE("pad fills a 2 × 3 plane in each mode") {
  const std::vector<float> x{1, 2, 3, 4, 5, 6};
  const Dims in{2, 3};
  const std::vector<std::pair<int64_t, int64_t>> pads{{1, 0}, {0, 2}};
  CHECK(run_pad(in, pads, PadMode::Constant, 9, x) ==
        std::vector<float>{9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9});
  CHECK(run_pad(in, pads, PadMode::Fixed, 9, x) ==
        std::vector<float>{1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6});
  CHECK(run_pad(in, pads, PadMode::Reflected, 9, x) ==
        std::vector<float>{4, 5, 6, 5, 4, 1, 2, 3, 2, 1, 4, 5, 6, 5, 4});
  CHECK(run_pad(in, pads, PadMode::Periodic, 9, x) ==
        std::vector<float>{4, 5, 6, 4, 5, 1, 2, 3, 1, 2, 4, 5, 6, 4, 5});
}

TEST_CASE("pad_grad is the adjoint of pad, and the same for any thread count") {
  // <pad(x), w> = <x, pad_grad(w)> for every mode; rows long enough to be
  // split (4096 floats at a time) and several padded dimensions.
  struct Case {
    Dims in;
    std::vector<std::pair<int64_t, int64_t>> pads;
  };
  const std::vector<Case> cases{{{3, 4, 5}, {{0, 0}, {2, 1}, {3, 3}}},
                                {{2, 3, 2, 4}, {{1, 1}, {0, 2}, {1, 1}, {2, 0}}},
                                {{2, 9000}, {{1, 0}, {0, 0}}},
                                {{2, 3, 5000}, {{0, 0}, {2, 2}, {1, 1}}},
                                {{7}, {{4, 6}}}};
  const int threads = num_threads();
  for (const auto& c : cases) {
    for (PadMode mode :
         {PadMode::Constant, PadMode::Fixed, PadMode::Reflected, PadMode::Periodic}) {
      CAPTURE(to_string(c.in));
      CAPTURE(static_cast<int>(mode));
      const PadPlan plan = plan_pad(c.in, c.pads, mode);
      const Tensor x = random_tensor(c.in, 3);
      const Tensor w = random_tensor(plan.out, 4);
      std::vector<float> y(static_cast<size_t>(w.size()));
      pad(plan, 0.0f, x.data(), y.data());
      const std::vector<float> dx = run_grad(plan, {w.values().begin(), w.values().end()});
      double lhs = 0, rhs = 0;
      for (int64_t i = 0; i < w.size(); ++i)
        lhs += double(y[i]) * w[i];
      for (int64_t i = 0; i < x.size(); ++i)
        rhs += double(x[i]) * dx[i];
      CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5));

      set_num_threads(1);
      std::vector<float> y1(y.size());
      pad(plan, 0.0f, x.data(), y1.data());
      const std::vector<float> dx1 = run_grad(plan, {w.values().begin(), w.values().end()});
      set_num_threads(threads);
      CHECK(y1 == y);
      CHECK(dx1 == dx);
    }
  }
}
