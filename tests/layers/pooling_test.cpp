#include "layers/pooling.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "layers/registry.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::check_gradients;
using strata::testing::GradCheckOptions;
using strata::testing::random_tensor;

namespace {

// Distinct values 0.01 apart in [-1, 1), shuffled: a finite-difference step
// of 1e-3 never changes which input of a window is the maximum.
Tensor distinct_tensor(const Dims& shape, uint64_t seed) {
  Tensor t(shape);
  REQUIRE(t.size() <= 200);
  std::vector<int64_t> order(static_cast<size_t>(t.size()));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int64_t>(i);
  Rng rng(seed);
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[rng.below(i)]);
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] = -1.0f + 0.01f * static_cast<float>(order[static_cast<size_t>(i)]);
  return t;
}

Tensor pool(const PoolingLayer& layer, const Tensor& x) {
  Tensor y;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  auto ws = layer.make_workspace();
  layer.forward(in, out, ws.get(), RunContext{});
  return y;
}

}  // namespace

TEST_CASE("PoolingLayer matches PyTorch's max_pool and avg_pool (forward and backward)") {
  strata::testing::check_reference_file("pooling.json");
}

TEST_CASE("PoolingLayer options: defaults, C++ setters and JSON") {
  SUBCASE("defaults") {
    PoolingLayer layer({2, 2});
    CHECK(layer.type() == "PoolingLayer");
    CHECK(layer.function() == PoolingFunction::Max);
    CHECK(layer.options() ==
          nlohmann::json{
              {"KernelSize", {2, 2}}, {"Stride", 1}, {"PaddingSize", 0}, {"Function", "Max"}});
    CHECK(layer.arrays().empty());
  }
  SUBCASE("chained setters and round trip") {
    auto layer = PoolingLayer(3)
                     .stride({2, 1})
                     .padding_size({{1, 0}, {0, 2}})
                     .function(PoolingFunction::Mean);
    CHECK(layer.options() == nlohmann::json{{"KernelSize", 3},
                                            {"Stride", {2, 1}},
                                            {"PaddingSize", {{1, 0}, {0, 2}}},
                                            {"Function", "Mean"}});
    layer.function("Total");
    CHECK(layer.function() == PoolingFunction::Total);
    CHECK(to_string(PoolingFunction::Max) == "Max");
    auto copy = make_layer("PoolingLayer");
    const auto options = layer.options();
    for (const auto& [key, value] : options.items())
      copy->set_option(key, value);
    CHECK(copy->options() == options);
    CHECK(make_layer("PoolingLayer")->options()["KernelSize"].is_null());
  }
  SUBCASE("bad values name the option") {
    PoolingLayer layer;
    CHECK_THROWS_WITH_AS(layer.set_option("Function", "Min"),
                         "Function: expected \"Max\", \"Mean\" or \"Total\", got \"Min\"", Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Function", 1), "Function: expected a string, got 1",
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("KernelSize", 0),
                         doctest::Contains("KernelSize: expected an integer of at least 1"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Stride", {2, 2, 2, 2}),
                         doctest::Contains("Stride: expected one integer or a list of 1 to 3"),
                         Error);
    CHECK_THROWS_WITH_AS(layer.set_option("PaddingSize", {{0, 1}, {1}}),
                         doctest::Contains("PaddingSize: expected"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Dilation", 0),
                         doctest::Contains("Dilation: expected an integer of at least 1"), Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Rounding", "Round"),
                         "Rounding: expected \"Floor\" or \"Ceiling\", got \"Round\"", Error);
    CHECK_THROWS_WITH_AS(layer.set_option("Dilations", 1),
                         doctest::Contains("unknown option \"Dilations\" for PoolingLayer"), Error);
  }
  SUBCASE("Dilation and Rounding: shown when set, round trip") {
    auto layer = PoolingLayer(2).dilation({2, 3}).rounding(PoolingRounding::Ceiling);
    CHECK(layer.dilation() == SpatialSizes{2, 3});
    CHECK(layer.rounding() == PoolingRounding::Ceiling);
    CHECK(layer.options() == nlohmann::json{{"KernelSize", 2},
                                            {"Stride", 1},
                                            {"PaddingSize", 0},
                                            {"Function", "Max"},
                                            {"Dilation", {2, 3}},
                                            {"Rounding", "Ceiling"}});
    auto copy = make_layer("PoolingLayer");
    const auto options = layer.options();
    for (const auto& [key, value] : options.items())
      copy->set_option(key, value);
    CHECK(copy->options() == options);
    layer.dilation(1).rounding("Floor");
    CHECK(
        layer.options() ==
        nlohmann::json{{"KernelSize", 2}, {"Stride", 1}, {"PaddingSize", 0}, {"Function", "Max"}});
    CHECK_THROWS_WITH_AS(layer.dilation({2, 2, 2, 2}),
                         doctest::Contains("Dilation: expected one integer or a list of 1 to 3"),
                         Error);
  }
}

TEST_CASE("PoolingLayer shape inference") {
  SUBCASE("output shapes in 1, 2 and 3 dimensions, channels both ways") {
    auto one = PoolingLayer(3).stride(2).padding_size(1);
    one.constrain_input(0, Shape{4, 9});
    one.infer_shapes();
    CHECK(one.outputs()[0].shape == Shape{4, 5});

    auto two = PoolingLayer({2, 3}).stride(2).padding_size({{1, 0}, {0, 2}});
    two.constrain_input(0, Shape{kUnknownDim, 6, 7});
    two.constrain_output(0, Shape{8, kUnknownDim, kUnknownDim});
    two.infer_shapes();
    CHECK(two.inputs()[0].shape == Shape{8, 6, 7});
    CHECK(two.outputs()[0].shape == Shape{8, 3, 4});

    PoolingLayer three(2);
    three.constrain_input(0, Shape{3, 4, 5, 6});
    three.infer_shapes();
    CHECK(three.outputs()[0].shape == Shape{3, 3, 4, 5});
    CHECK(three.shapes_known());
  }
  SUBCASE("Dilation and Rounding") {
    auto dilated = PoolingLayer(3).dilation({2, 1}).padding_size(1);
    dilated.constrain_input(0, Shape{2, 9, 9});
    dilated.infer_shapes();
    CHECK(dilated.outputs()[0].shape == Shape{2, 7, 9});  // (9 + 2 − 5) + 1, (9 + 2 − 3) + 1

    // 8 + 2 − 3 = 7 over stride 4: 2 windows rounded down, 3 rounded up.
    auto floor = PoolingLayer(3).stride(4).padding_size(1);
    floor.constrain_input(0, Shape{1, 8});
    floor.infer_shapes();
    CHECK(floor.outputs()[0].shape == Shape{1, 2});
    auto ceiling = PoolingLayer(3).stride(4).padding_size(1).rounding(PoolingRounding::Ceiling);
    ceiling.constrain_input(0, Shape{1, 8});
    ceiling.infer_shapes();
    CHECK(ceiling.outputs()[0].shape == Shape{1, 3});
    // 5 + 2 − 2 = 5 over stride 2: 4 windows rounded up, but the 4th would
    // start in the padding after the input (PyTorch drops it).
    auto dropped = PoolingLayer(2).stride(2).padding_size(1).rounding("Ceiling");
    dropped.constrain_input(0, Shape{1, 5});
    dropped.infer_shapes();
    CHECK(dropped.outputs()[0].shape == Shape{1, 3});

    // Stride 1: both roundings agree; the input follows from the output.
    auto back = PoolingLayer(2).dilation(3).rounding("Ceiling");
    back.constrain_output(0, Shape{2, 4});
    back.infer_shapes();
    CHECK(back.inputs()[0].shape == Shape{2, 7});

    auto ranks = PoolingLayer({2, 2}).dilation({1, 1, 1});
    CHECK_THROWS_WITH_AS(ranks.infer_shapes(),
                         "Dilation: expected 2 values (one per spatial dimension, as "
                         "KernelSize), got 3",
                         Error);
    auto small = PoolingLayer(3).dilation(2);
    small.constrain_input(0, Shape{1, 4});
    CHECK_THROWS_WITH_AS(small.infer_shapes(),
                         "Input: size 4 in spatial dimension 1 is smaller than the kernel, which "
                         "spans 5 with dilation 2",
                         Error);
    // Positions −1 and 2 of a window over 2 inputs: none inside.
    auto empty = PoolingLayer(2).dilation(3).padding_size(1);
    empty.constrain_input(0, Shape{1, 2});
    CHECK_THROWS_WITH_AS(empty.infer_shapes(),
                         "Dilation: window 1 in spatial dimension 1 holds no input (its positions "
                         "step over the 2 inputs into the padding), with Dilation 3 and "
                         "KernelSize 2",
                         Error);
    CHECK_THROWS_WITH_AS(empty(random_tensor({1, 1, 2}, 1)),
                         doctest::Contains("Dilation: window 1 in spatial dimension 1 holds no "
                                           "input"),
                         Error);
  }
  SUBCASE("input sizes from the output where the stride is 1") {
    auto layer = PoolingLayer({3, 2}).stride({1, 2}).padding_size({1, 0});
    layer.constrain_output(0, Shape{2, 5, 3});
    layer.infer_shapes();
    CHECK(layer.inputs()[0].shape == Shape{2, 5, kUnknownDim});
  }
  SUBCASE("errors") {
    PoolingLayer missing;
    missing.constrain_input(0, Shape{3, 8, 8});
    CHECK_THROWS_WITH_AS(missing.infer_shapes(), "KernelSize: required option is missing", Error);

    PoolingLayer small({3, 3});
    small.constrain_input(0, Shape{3, 8, 2});
    CHECK_THROWS_WITH_AS(small.infer_shapes(),
                         "Input: size 2 in spatial dimension 2 is smaller than the kernel, which "
                         "spans 3",
                         Error);

    auto padded = PoolingLayer(2).padding_size({{0, 2}});
    padded.constrain_input(0, Shape{3, 8});
    CHECK_THROWS_WITH_AS(padded.infer_shapes(),
                         "PaddingSize: expected less than KernelSize 2 on each side (else a "
                         "window can lie entirely in the padding), got [[0,2]]",
                         Error);

    auto ranks = PoolingLayer({2, 2}).padding_size({1, 1, 1});
    CHECK_THROWS_WITH_AS(ranks.infer_shapes(),
                         "PaddingSize: expected 2 values (one per spatial dimension, as "
                         "KernelSize), got 3",
                         Error);

    PoolingLayer two({2, 2});
    two.constrain_input(0, Shape{3, 8});
    CHECK_THROWS_WITH_AS(two.infer_shapes(),
                         "Input: expected [?, ?, ?] (channels and 2 spatial dimensions), but it "
                         "is [3, 8]",
                         Error);
  }
}

TEST_CASE("PoolingLayer gradients match finite differences") {
  GradCheckOptions options;
  options.step = 1e-3;
  struct Case {
    const char* name;
    PoolingLayer layer;
    Dims batch;
  };
  std::vector<Case> cases;
  for (auto f : {PoolingFunction::Max, PoolingFunction::Mean, PoolingFunction::Total}) {
    cases.push_back({"1d", PoolingLayer(3).stride(2).padding_size(1).function(f), {2, 2, 9}});
    cases.push_back(
        {"2d", PoolingLayer({2, 3}).padding_size({{1, 0}, {1, 2}}).function(f), {1, 2, 4, 5}});
    cases.push_back({"3d", PoolingLayer(2).stride({1, 2, 1}).function(f), {1, 2, 3, 4, 3}});
    cases.push_back({"2d tiles", PoolingLayer(2).stride(2).function(f), {2, 2, 4, 6}});
    cases.push_back(
        {"2d dilation",
         PoolingLayer({2, 3}).dilation({2, 1}).stride({1, 2}).padding_size(1).function(f),
         {1, 2, 5, 6}});
    cases.push_back({"1d dilation, ceiling",
                     PoolingLayer(2).dilation(2).stride(2).rounding("Ceiling").function(f),
                     {2, 2, 8}});
    cases.push_back({"2d ceiling past the padding",
                     PoolingLayer(3).stride(2).padding_size(1).rounding("Ceiling").function(f),
                     {1, 2, 6, 5}});
    cases.push_back({"3d dilation, ceiling",
                     PoolingLayer(2).dilation({1, 2, 1}).stride(2).rounding("Ceiling").function(f),
                     {1, 1, 3, 5, 5}});
  }
  uint64_t seed = 1;
  for (auto& c : cases) {
    CAPTURE(c.name);
    CAPTURE(to_string(c.layer.function()));
    c.layer.constrain_input(0, Shape(Dims(c.batch.begin() + 1, c.batch.end())));
    c.layer.infer_shapes();
    auto report = check_gradients(c.layer, {distinct_tensor(c.batch, seed++)}, options);
    CAPTURE(report.worst);
    CHECK(report.checked > 20);
    CHECK(report.max_error <= 1.0);
  }
}

TEST_CASE("PoolingLayer semantics at the edges") {
  // One channel, 1 × 4: [1, 3, 3, -2].
  const Tensor x({1, 1, 4}, std::vector<float>{1, 3, 3, -2});
  SUBCASE("Max ignores padding, even when every input is negative") {
    auto layer = PoolingLayer(2).stride(2).padding_size(1);
    const Tensor neg({1, 1, 4}, std::vector<float>{-1, -3, -3, -2});
    CHECK(pool(layer, neg) == Tensor({1, 1, 3}, std::vector<float>{-1, -3, -2}));
  }
  SUBCASE("Mean counts padding as zeros; Total sums") {
    auto mean = PoolingLayer(2).stride(2).padding_size(1).function(PoolingFunction::Mean);
    CHECK(pool(mean, x) == Tensor({1, 1, 3}, std::vector<float>{0.5f, 3, -1}));
    auto total = PoolingLayer(2).stride(2).padding_size(1).function(PoolingFunction::Total);
    CHECK(pool(total, x) == Tensor({1, 1, 3}, std::vector<float>{1, 6, -2}));
  }
  SUBCASE("Max routes the gradient of a tie to the first maximum") {
    PoolingLayer layer(2);  // windows [1, 3], [3, 3], [3, -2]
    Tensor y = pool(layer, x);
    CHECK(y == Tensor({1, 1, 3}, std::vector<float>{3, 3, 3}));
    const Tensor dy({1, 1, 3}, std::vector<float>{1, 10, 100});
    Tensor dx;
    const Tensor* in[] = {&x};
    const Tensor* outc[] = {&y};
    const Tensor* gout[] = {&dy};
    Tensor* gin[] = {&dx};
    auto ws = layer.make_workspace();
    Tensor* out[] = {&y};
    layer.forward(in, out, ws.get(), RunContext{});
    layer.backward(in, outc, gout, ws.get(), gin, {});
    CHECK(dx == Tensor({1, 1, 4}, std::vector<float>{0, 11, 100, 0}));
    // Max needs the indices its forward kept.
    auto fresh = layer.make_workspace();
    CHECK_THROWS_WITH_AS(layer.backward(in, outc, gout, fresh.get(), gin, {}),
                         "backward called without a matching forward", Error);
  }
  SUBCASE("applies to one example and to a batch") {
    PoolingLayer layer({2, 2});
    layer.constrain_input(0, Shape{2, 4, 4});
    Tensor a = random_tensor({2, 4, 4}, 3);
    Tensor ya = layer(a);
    CHECK(ya.shape() == Dims{2, 3, 3});
    CHECK(layer(a.reshaped({1, 2, 4, 4})).reshaped({2, 3, 3}) == ya);
    CHECK_THROWS_WITH_AS(layer(random_tensor({2, 4}, 1)), doctest::Contains("Input: expected"),
                         Error);
  }
}

TEST_CASE("Max pooling 2×2 / 2 keeps the scan order, ties and NaN rules on every path") {
  // Small planes (flat pair sweep), wide rows, and odd sizes (window loop);
  // inputs of few distinct values (many ties) and some NaNs. A Training
  // forward keeps the maxima's indices; after an Inference one the backward
  // finds them again.
  for (const Mode mode : {Mode::Inference, Mode::Training})
    for (const Dims& shape : {Dims{3, 5, 4, 6}, Dims{2, 3, 4, 40}, Dims{1, 2, 6, 7}}) {
      CAPTURE(to_string(shape));
      CAPTURE(mode == Mode::Training);
      Tensor x = random_tensor(shape, 7);
      for (int64_t i = 0; i < x.size(); ++i) {
        x[i] = std::floor(x[i] * 2.0f);  // -2, -1, 0, 1
        if (i % 13 == 5 || i % 17 == 3) x[i] = std::numeric_limits<float>::quiet_NaN();
      }
      PoolingLayer layer({2, 2});
      layer.stride(2);
      Tensor y, dx;
      const Tensor* in[] = {&x};
      Tensor* out[] = {&y};
      auto ws = layer.make_workspace();
      layer.forward(in, out, ws.get(), RunContext{mode});
      Tensor dy(y.shape());
      for (int64_t i = 0; i < dy.size(); ++i)
        dy[i] = static_cast<float>(i + 1);
      const Tensor* outc[] = {&y};
      const Tensor* gout[] = {&dy};
      Tensor* gin[] = {&dx};
      layer.backward(in, outc, gout, ws.get(), gin, {});
      // The definition: scan a, b (top row), c, d; `v > m || isnan(v)` replaces.
      const int64_t planes = shape[0] * shape[1], h = shape[2], w = shape[3];
      const int64_t oh = h / 2, ow = w / 2;
      Tensor want_dx(x.shape());
      bool same = true;
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            float m = -std::numeric_limits<float>::infinity();
            int64_t best = p * h * w + 2 * i * w + 2 * j;
            for (int64_t di = 0; di < 2; ++di)
              for (int64_t dj = 0; dj < 2; ++dj) {
                const int64_t k = p * h * w + (2 * i + di) * w + 2 * j + dj;
                if (x[k] > m || std::isnan(x[k])) {
                  m = x[k];
                  best = k;
                }
              }
            const float got = y[(p * oh + i) * ow + j];
            same = same && (got == m || (std::isnan(got) && std::isnan(m)));
            want_dx[best] += dy[(p * oh + i) * ow + j];
          }
      CHECK(same);
      CHECK(dx == want_dx);
    }
}

TEST_CASE("Mean and Total pooling 2×2 / 2 give the general path's results, bit for bit") {
  // [2, 3, 6, 8] takes the path for windows that tile the planes; one more
  // row and column ([2, 3, 7, 9]) the general one, with the same windows.
  const Tensor x = random_tensor({2, 3, 6, 8}, 11);
  Tensor wide({2, 3, 7, 9});
  for (int64_t p = 0; p < 6; ++p)
    for (int64_t i = 0; i < 7; ++i)
      for (int64_t j = 0; j < 9; ++j)
        wide[(p * 7 + i) * 9 + j] = i < 6 && j < 8 ? x[(p * 6 + i) * 8 + j] : 100.0f;
  for (auto f : {PoolingFunction::Mean, PoolingFunction::Total}) {
    CAPTURE(to_string(f));
    PoolingLayer layer({2, 2});
    layer.stride(2).function(f);
    auto run = [&](const Tensor& input, const Tensor* dy, Tensor& y, Tensor& dx) {
      const Tensor* in[] = {&input};
      Tensor* out[] = {&y};
      auto ws = layer.make_workspace();
      layer.forward(in, out, ws.get(), RunContext{});
      if (!dy) return;
      const Tensor* outc[] = {&y};
      const Tensor* gout[] = {dy};
      Tensor* gin[] = {&dx};
      layer.backward(in, outc, gout, ws.get(), gin, {});
    };
    Tensor y_fast, y_general, dx_fast, dx_general, unused;
    run(x, nullptr, y_fast, unused);
    run(wide, nullptr, y_general, unused);
    REQUIRE(y_fast.shape() == Dims{2, 3, 3, 4});
    REQUIRE(y_general.shape() == Dims{2, 3, 3, 4});
    CHECK(y_fast == y_general);
    // The definition, in double: (a + b + c + d) times 1/4 (Mean) or 1.
    const double scale = f == PoolingFunction::Mean ? 0.25 : 1.0;
    double worst = 0;
    for (int64_t p = 0; p < 6; ++p)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 4; ++j) {
          const float* top = x.data() + (p * 6 + 2 * i) * 8 + 2 * j;
          const double want = scale * (double{top[0]} + top[1] + top[8] + top[9]);
          worst = std::max(worst, std::abs(y_fast[(p * 3 + i) * 4 + j] - want));
        }
    CHECK(worst < 1e-6);
    const Tensor dy = random_tensor(y_fast.shape(), 12);
    run(x, &dy, y_fast, dx_fast);
    run(wide, &dy, y_general, dx_general);
    bool same = true;
    for (int64_t p = 0; p < 6; ++p)
      for (int64_t i = 0; i < 7; ++i)
        for (int64_t j = 0; j < 9; ++j) {
          const float general = dx_general[(p * 7 + i) * 9 + j];
          same = same && (i < 6 && j < 8 ? general == dx_fast[(p * 6 + i) * 8 + j] : general == 0);
        }
    CHECK(same);
  }
}
