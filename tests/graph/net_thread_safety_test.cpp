// Applying one initialized net from many threads at once: forward is const,
// and everything a call writes lives in that call's workspace, so the results
// must be those of one thread, bit for bit. strata's pool has 2 threads
// meanwhile: one caller at a time shares its loops with the helper, the
// others run theirs alone. Built also under ThreadSanitizer (make test-tsan),
// which reports any unsynchronized sharing.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/rng.hpp"
#include "core/threads.hpp"
#include "graph/net_chain.hpp"
#include "layers/convolution.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/linear.hpp"
#include "layers/pooling.hpp"
#include "layers/softmax.hpp"
#include "train/initialize.hpp"

using namespace strata;

namespace {

Tensor random_batch(const Dims& shape, uint64_t seed) {
  Rng rng(seed);
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<float>(rng.normal());
  return t;
}

}  // namespace

TEST_CASE("one net applied from 8 threads at once gives the single-threaded results") {
  NetChain net({ConvolutionLayer(6, {3, 3}).padding_size(1), InstanceNormalizationLayer(),
                ElementwiseLayer(ElementwiseFunction::Ramp), PoolingLayer(2).stride(2),
                FlattenLayer(), LinearLayer(10), SoftmaxLayer()},
               Input({3, 12, 12}));
  NetInitialize(net, {.seed = 7});
  const int pool_threads = num_threads();
  set_num_threads(2);

  constexpr int kThreads = 8;
  constexpr int kCalls = 6;  // per thread, alternating the two ways of applying
  std::vector<Tensor> inputs, expected;
  for (int i = 0; i < kThreads * kCalls; ++i) {
    inputs.push_back(random_batch({1 + i % 3, 3, 12, 12}, 100 + i));
    expected.push_back(net(inputs.back()));
    REQUIRE(expected.back().shape() == Dims{1 + i % 3, 10});
  }

  std::vector<std::vector<Tensor>> got(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads)  // start together, to overlap as much as possible
        std::this_thread::yield();
      // Once through operator() (a fresh workspace per call), once through
      // forward with this thread's workspace, reused from call to call.
      auto ws = net.make_workspace();
      for (int c = 0; c < kCalls; ++c) {
        const Tensor& x = inputs[static_cast<size_t>(t * kCalls + c)];
        if (c % 2 == 0) {
          got[t].push_back(net(x));
        } else {
          Tensor y;
          const Tensor* in[] = {&x};
          Tensor* out[] = {&y};
          net.forward(in, out, ws.get(), RunContext{});
          got[t].push_back(std::move(y));
        }
      }
    });
  for (auto& th : threads)
    th.join();
  set_num_threads(pool_threads);

  for (int t = 0; t < kThreads; ++t)
    for (int c = 0; c < kCalls; ++c) {
      CAPTURE(t);
      CAPTURE(c);
      CHECK(got[t][c] == expected[static_cast<size_t>(t * kCalls + c)]);
    }
}
