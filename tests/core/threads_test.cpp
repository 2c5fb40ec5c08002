// The thread pool, and results that do not depend on the number of threads:
// instance normalization, convolution and a whole training step give
// bit-identical results on 1, 2 and 3 threads.
#include "core/threads.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "examples/digits/digits_net.hpp"
#include "graph/net_chain.hpp"
#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/pooling.hpp"
#include "layers/softmax.hpp"
#include "support/gradcheck.hpp"
#include "train/initialize.hpp"
#include "train/training_step.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

// Runs f with `count` threads, then restores the thread count.
template <typename F>
auto with_threads(int count, F f) {
  const int before = num_threads();
  set_num_threads(count);
  auto result = f();
  set_num_threads(before);
  return result;
}

// Forward and backward of a layer (training mode); returns the output, the
// input gradient and the array gradients.
std::vector<Tensor> forward_backward(const Layer& layer, const Tensor& x, uint64_t seed) {
  Tensor y, dx;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  auto ws = layer.make_workspace();
  layer.forward(in, out, ws.get(), RunContext{Mode::Training, nullptr});
  const Tensor dy = random_tensor(y.shape(), seed);
  std::vector<Tensor> grads(layer.arrays().size());
  std::vector<Tensor*> grad_ptrs;
  for (auto& g : grads)
    grad_ptrs.push_back(&g);
  const Tensor* outs[] = {&y};
  const Tensor* gouts[] = {&dy};
  Tensor* gins[] = {&dx};
  layer.backward(in, outs, gouts, ws.get(), gins, grad_ptrs);
  std::vector<Tensor> all{y, dx};
  all.insert(all.end(), grads.begin(), grads.end());
  return all;
}

void check_bitwise(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i] == b[i]);
  }
}

}  // namespace

TEST_CASE("parallel_for runs every index once, on any number of threads") {
  for (int threads : {1, 2, 3}) {
    for (int64_t n : {1, 2, 7, 1000, 100003}) {
      for (int64_t grain : {1, 16, 5000}) {
        CAPTURE(threads);
        CAPTURE(n);
        CAPTURE(grain);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> index_ok{true};
        with_threads(threads, [&] {
          parallel_for(
              n,
              [&](int64_t i) {
                hits[static_cast<size_t>(i)].fetch_add(1);
                if (thread_index() < 0 || thread_index() >= num_threads()) index_ok = false;
              },
              grain);
          return 0;
        });
        bool once = true;
        for (auto& h : hits)
          once = once && h.load() == 1;
        CHECK(once);
        CHECK(index_ok);
      }
    }
  }
}

TEST_CASE("parallel_for inside a loop, and from two threads at once") {
  with_threads(2, [] {
    std::vector<std::atomic<int>> hits(64 * 64);
    parallel_for(64, [&](int64_t i) {
      parallel_for(64, [&](int64_t j) { hits[static_cast<size_t>(i * 64 + j)].fetch_add(1); });
    });
    bool once = true;
    for (auto& h : hits)
      once = once && h.load() == 1;
    CHECK(once);

    // Two callers at once: one gets the pool, the other runs its loop alone.
    std::vector<int64_t> a(100000), b(100000);
    std::thread other([&] { parallel_for(100000, [&](int64_t i) { b[i] = 2 * i; }); });
    parallel_for(100000, [&](int64_t i) { a[i] = 3 * i; });
    other.join();
    bool right = true;
    for (int64_t i = 0; i < 100000; ++i)
      right = right && a[i] == 3 * i && b[i] == 2 * i;
    CHECK(right);
    return 0;
  });
}

TEST_CASE("set_num_threads rejects a count outside 1..1024") {
  const int before = num_threads();
  CHECK_THROWS_WITH_AS(set_num_threads(0), "thread count: expected from 1 to 1024, got 0", Error);
  CHECK_THROWS_WITH_AS(set_num_threads(1025), "thread count: expected from 1 to 1024, got 1025",
                       Error);
  CHECK(num_threads() == before);
}

TEST_CASE("InstanceNormalizationLayer is bit-identical on 1 and 2 threads") {
  // Planes in one piece, and planes large enough to be split in chunks.
  for (const Dims& shape : {Dims{6, 5, 9, 11}, Dims{2, 3, 150, 151}, Dims{64, 8, 8, 8}}) {
    CAPTURE(to_string(shape));
    InstanceNormalizationLayer layer;
    layer.set_array("Gamma", random_tensor({shape[1]}, 1, 0.5f, 1.5f));
    layer.set_array("Beta", random_tensor({shape[1]}, 2));
    Tensor x = random_tensor(shape, 3, -2.0f, 5.0f);
    const auto one = with_threads(1, [&] { return forward_backward(layer, x, 4); });
    const auto two = with_threads(2, [&] { return forward_backward(layer, x, 4); });
    check_bitwise(one, two);
  }
}

TEST_CASE("ConvolutionLayer is bit-identical on 1 and 2 threads") {
  // Small images side by side, and large ones in tiles of positions.
  for (const Dims& shape : {Dims{37, 6, 5, 7}, Dims{5, 16, 40, 40}}) {
    CAPTURE(to_string(shape));
    ConvolutionLayer layer(8, {3, 3});
    layer.padding_size(1).channel_groups(2);
    layer.set_array("Weights", random_tensor({8, shape[1] / 2, 3, 3}, 1));
    layer.set_array("Biases", random_tensor({8}, 2));
    Tensor x = random_tensor(shape, 3);
    const auto one = with_threads(1, [&] { return forward_backward(layer, x, 4); });
    const auto two = with_threads(2, [&] { return forward_backward(layer, x, 4); });
    check_bitwise(one, two);
  }
}

TEST_CASE("a training step is bit-identical on 1, 2 and 3 threads") {
  // The main job's digits net, and one with biases and Max pooling: three
  // steps of SGD with momentum on a batch of 64 and one of 16.
  auto train = [](bool main_job, int64_t batch, int threads) {
    return with_threads(threads, [&] {
      NetChain net =
          main_job
              ? digits::digits_net()
              : NetChain(
                    {ConvolutionLayer(8, {3, 3}).padding_size(1), InstanceNormalizationLayer(),
                     ElementwiseLayer("Ramp"), PoolingLayer({2, 2}).stride(2),
                     ConvolutionLayer(16, {3, 3}).padding_size(1), InstanceNormalizationLayer(),
                     ElementwiseLayer("Ramp"), PoolingLayer({2, 2}).stride(2), FlattenLayer(),
                     LinearLayer(10), SoftmaxLayer()},
                    Input({1, 8, 8}));
      NetInitialize(net, {.seed = 7});
      SGD sgd(0.05);
      sgd.momentum(0.9);
      TrainingStep step(net, sgd, LossFunction::CrossEntropy);
      Tensor x = random_tensor({batch, 1, 8, 8}, 8, 0.0f, 1.0f), t({batch});
      for (int64_t i = 0; i < batch; ++i)
        t[i] = static_cast<float>((i * 7) % 10);
      Rng rng(9);
      std::vector<Tensor> result;
      for (int s = 0; s < 3; ++s)
        result.push_back(Tensor({1}, {static_cast<float>(step(x, t, rng))}));
      for (const auto& ref : net.all_arrays())
        result.push_back(*ref.layer->array(ref.layer->arrays()[ref.index].name));
      return result;
    });
  };
  for (bool main_job : {true, false})
    for (int64_t batch : {64, 16}) {
      CAPTURE(main_job);
      CAPTURE(batch);
      const auto one = train(main_job, batch, 1);
      check_bitwise(one, train(main_job, batch, 2));
      check_bitwise(one, train(main_job, batch, 3));
    }
}
