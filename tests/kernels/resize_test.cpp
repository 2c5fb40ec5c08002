#include "kernels/resize.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "core/threads.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using namespace strata::kernels;
using strata::testing::random_tensor;

TEST_CASE("linear_axis uses half-pixel centres clamped at 0") {
  // 4 → 8: c_j = (j + 0.5) / 2 − 0.5 = 0.5 j − 0.25, clamped at 0; the last
  // one, 3.25, keeps both weights on input 3.
  const ResizeAxis a = linear_axis(4, 8, std::nullopt);
  CHECK(a.lo == std::vector<int64_t>{0, 0, 0, 1, 1, 2, 2, 3});
  CHECK(a.hi == std::vector<int64_t>{1, 1, 1, 2, 2, 3, 3, 3});
  CHECK(a.w_hi == std::vector<float>{0, 0.25f, 0.75f, 0.25f, 0.75f, 0.25f, 0.75f, 0.25f});
  CHECK(a.w_lo[2] == 0.25f);
  CHECK_FALSE(a.identity);
  // A given scale is used for the mapping even where the size stays.
  const ResizeAxis s = linear_axis(3, 3, 1.2);
  CHECK_FALSE(s.identity);
  CHECK(s.w_hi[1] == doctest::Approx(0.75));
  CHECK(linear_axis(5, 5, std::nullopt).identity);
  CHECK(linear_axis(5, 5, 1.0).identity);
}

TEST_CASE("nearest_axis takes floor(i / s), exactly") {
  // s = 6 / 10: floor(10 j / 6), whole numbers at j = 3 exactly.
  CHECK(nearest_axis(10, 6, std::nullopt).lo == std::vector<int64_t>{0, 1, 3, 5, 6, 8});
  CHECK(nearest_axis(10, 6, 0.6).lo == std::vector<int64_t>{0, 1, 3, 5, 6, 8});
  CHECK(nearest_axis(3, 3, 1.2).lo == std::vector<int64_t>{0, 0, 1});
  CHECK(nearest_axis(2, 5, 2.5).lo == std::vector<int64_t>{0, 0, 0, 1, 1});
  CHECK(nearest_axis(4, 4, std::nullopt).identity);
}

TEST_CASE("resize_grad is the adjoint of resize, and the same for any thread count") {
  struct Case {
    Dims in, out;
    std::vector<double> scales;
  };
  const std::vector<Case> cases{{{7}, {11}, {}},
                                {{9}, {4}, {0.5}},
                                {{5, 3}, {3, 7}, {}},
                                {{5, 4}, {8, 2}, {1.7, 0.6}},
                                {{3, 4, 2}, {5, 3, 3}, {}},
                                {{3, 4, 3}, {4, 5, 4}, {1.4, 1.4, 1.4}},
                                {{4, 4}, {4, 9}, {}}};
  const int threads = num_threads();
  for (const auto& c : cases) {
    for (ResizeMethod method : {ResizeMethod::Linear, ResizeMethod::Nearest}) {
      CAPTURE(to_string(c.in));
      CAPTURE(static_cast<int>(method));
      const ResizePlan plan = plan_resize(method, c.in, c.out, c.scales);
      const int64_t planes = 6;
      const Tensor x = random_tensor({planes, plan.in_size}, 1);
      const Tensor w = random_tensor({planes, plan.out_size}, 2);
      std::vector<float> y(static_cast<size_t>(w.size())), dx(static_cast<size_t>(x.size()));
      std::vector<float> scratch;
      resize(plan, planes, x.data(), y.data(), scratch);
      resize_grad(plan, planes, w.data(), dx.data(), scratch);
      double lhs = 0, rhs = 0;
      for (int64_t i = 0; i < w.size(); ++i)
        lhs += double(y[i]) * w[i];
      for (int64_t i = 0; i < x.size(); ++i)
        rhs += double(x[i]) * dx[i];
      CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5));

      set_num_threads(1);
      std::vector<float> y1(y.size()), dx1(dx.size()), scratch1;
      resize(plan, planes, x.data(), y1.data(), scratch1);
      resize_grad(plan, planes, w.data(), dx1.data(), scratch1);
      set_num_threads(threads);
      CHECK(y1 == y);
      CHECK(dx1 == dx);
    }
  }
}

TEST_CASE("resize copies axes it does not change, infinities included") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x{1, inf, 3, -inf, 5, 6};
  const ResizePlan plan = plan_resize(ResizeMethod::Linear, Dims{2, 3}, Dims{2, 3}, {});
  std::vector<float> y(6), scratch;
  resize(plan, 1, x.data(), y.data(), scratch);
  CHECK(y == x);
  // Nearest never mixes neighbours, so an infinity stays where it is copied.
  const ResizePlan up = plan_resize(ResizeMethod::Nearest, Dims{3}, Dims{6}, {});
  std::vector<float> z(12);
  resize(up, 2, x.data(), z.data(), scratch);
  CHECK(z == std::vector<float>{1, 1, inf, inf, 3, 3, -inf, -inf, 5, 5, 6, 6});
}
