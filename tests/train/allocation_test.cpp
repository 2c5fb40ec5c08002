// Once warm, a training step allocates nothing: counted by replacing the
// global operator new (for the whole test program; it only counts while a
// test asks it to).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/threads.hpp"
#include "examples/digits/digits_net.hpp"
#include "graph/net_chain.hpp"
#include "layers/deconvolution.hpp"
#include "support/gradcheck.hpp"
#include "train/initialize.hpp"
#include "train/net_train.hpp"
#include "train/training_step.hpp"

namespace {

std::atomic<bool> counting{false};
std::atomic<int64_t> allocations{0};

void* allocate(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}

// Allocations made while f runs.
template <typename F>
int64_t count_allocations(F f) {
  allocations = 0;
  counting = true;
  f();
  counting = false;
  return allocations.load();
}

}  // namespace

void* operator new(std::size_t size) {
  return allocate(size);
}
void* operator new[](std::size_t size) {
  return allocate(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
// The nothrow forms too (std::stable_sort's buffer uses them): every new of
// the program must pair with this file's delete.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return std::malloc(size ? size : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

using namespace strata;
using strata::testing::random_tensor;

TEST_CASE("a warm training step allocates nothing, on any number of threads") {
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    const int before = num_threads();
    set_num_threads(threads);
    NetChain net = digits::digits_net();
    NetInitialize(net, {.seed = 1});
    SGD sgd(0.05);
    sgd.momentum(0.9);
    TrainingStep step(net, sgd, LossFunction::CrossEntropy);
    Tensor x = random_tensor({64, 1, 8, 8}, 2, 0.0f, 1.0f), t({64});
    for (int64_t i = 0; i < 64; ++i)
      t[i] = static_cast<float>(i % 10);
    Rng rng(3);
    for (int s = 0; s < 3; ++s)
      step(x, t, rng);
    CHECK(count_allocations([&] {
            for (int s = 0; s < 10; ++s)
              step(x, t, rng);
          }) == 0);
    set_num_threads(before);
  }
}

TEST_CASE("NetTrain allocates nothing per round once warm (quiet, no validation)") {
  NetChain net = digits::digits_net();
  Dataset data{random_tensor({300, 1, 8, 8}, 4, 0.0f, 1.0f), Tensor({300})};
  for (int64_t i = 0; i < 300; ++i)
    data.targets[i] = static_cast<float>(i % 10);
  SGD sgd(0.05);
  sgd.momentum(0.9);
  TrainOptions options{.batch_size = 64, .rounds = 6, .seed = 5, .quiet = true};
  // Count from the end of round 2 to the end of round 6: four rounds of five
  // batches each (the last one partial).
  options.on_round = [](const RoundRecord& r) {
    if (r.round == 2) {
      allocations = 0;
      counting = true;
    }
    if (r.round == 6) counting = false;
    return true;
  };
  NetTrain(net, data, options, sgd);
  counting = false;
  CHECK(allocations.load() == 0);
}

TEST_CASE("a warm DeconvolutionLayer forward and backward allocate nothing, on every path") {
  // GEMMs and col2im (stride 2), the direct kernel (stride 1, wide rows),
  // small images through index maps, tiled GEMMs.
  const std::pair<DeconvolutionLayer, Dims> cases[] = {
      {DeconvolutionLayer(16, 3).stride(2).padding_size(1).output_padding(1), {8, 32, 16, 16}},
      {DeconvolutionLayer(6, {3, 3}).padding_size(1).channel_groups(2), {3, 4, 6, 24}},
      {DeconvolutionLayer(4, 2).dilation(2), {9, 3, 3, 4}},
      {DeconvolutionLayer(32, 3).stride(2), {2, 4, 16, 16}},
  };
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    const int before = num_threads();
    set_num_threads(threads);
    for (auto [layer, shape] : cases) {
      CAPTURE(layer.options().dump());
      layer.constrain_input(0, Shape(Dims(shape.begin() + 1, shape.end())));
      layer.infer_shapes();
      layer.set_array("Weights", random_tensor(layer.arrays()[0].shape.dims(), 1));
      layer.set_array("Biases", random_tensor(layer.arrays()[1].shape.dims(), 2));
      const Tensor x = random_tensor(shape, 3);
      Tensor y, dx, dw, db;
      auto ws = layer.make_workspace();
      const Tensor* in[] = {&x};
      Tensor* out[] = {&y};
      layer.forward(in, out, ws.get(), RunContext{});
      const Tensor dy = random_tensor(y.shape(), 4);
      const Tensor* outc[] = {&y};
      const Tensor* gout[] = {&dy};
      Tensor* gin[] = {&dx};
      Tensor* garr[] = {&dw, &db};
      auto step = [&] {
        layer.forward(in, out, ws.get(), RunContext{});
        layer.backward(in, outc, gout, ws.get(), gin, garr);
      };
      step();
      CHECK(count_allocations([&] {
              for (int s = 0; s < 3; ++s)
                step();
            }) == 0);
    }
    set_num_threads(before);
  }
}
