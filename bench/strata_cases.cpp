// The strata side of the benchmarks.
#include <benchmark/benchmark.h>

#include <memory>

#include "cases.hpp"
#include "digits_net.hpp"
#include "strata.hpp"

namespace bench {

namespace {

using strata::Tensor;

Tensor random_tensor(const std::vector<int64_t>& dims, uint64_t seed, float lo = -1, float hi = 1) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return Tensor(dims, random_values(n, seed, lo, hi));
}

// A layer with its arrays set from the same seeds as the libtorch side.
std::unique_ptr<strata::Layer> make_layer(const CaseSpec& c) {
  using namespace strata;
  const int64_t channels = c.input[1];
  switch (c.op) {
    case Op::InstanceNorm: {
      auto l = std::make_unique<InstanceNormalizationLayer>();
      l->set_array("Gamma", random_tensor({channels}, 2, 0.5f, 1.5f));
      l->set_array("Beta", random_tensor({channels}, 3));
      return l;
    }
    case Op::BatchNorm: {
      auto l = std::make_unique<BatchNormalizationLayer>();
      l->set_array("Gamma", random_tensor({channels}, 2, 0.5f, 1.5f));
      l->set_array("Beta", random_tensor({channels}, 3));
      l->set_array("MovingMean", Tensor({channels}, 0.0f));
      l->set_array("MovingVariance", Tensor({channels}, 1.0f));
      return l;
    }
    case Op::Convolution: {
      auto l = std::make_unique<ConvolutionLayer>(c.out_channels, SpatialSizes{c.kernel, c.kernel});
      l->padding_size(c.kernel / 2);
      l->set_array("Weights",
                   random_tensor({c.out_channels, channels, c.kernel, c.kernel}, 2, -0.1f, 0.1f));
      l->set_array("Biases", random_tensor({c.out_channels}, 3));
      return l;
    }
    case Op::Deconvolution: {
      auto l =
          std::make_unique<DeconvolutionLayer>(c.out_channels, SpatialSizes{c.kernel, c.kernel});
      l->stride(c.stride).padding_size(c.kernel / 2).output_padding(c.stride - 1);
      l->set_array("Weights",
                   random_tensor({channels, c.out_channels, c.kernel, c.kernel}, 2, -0.1f, 0.1f));
      l->set_array("Biases", random_tensor({c.out_channels}, 3));
      return l;
    }
    case Op::LocalResponseNorm: {
      auto l = std::make_unique<LocalResponseNormalizationLayer>();
      l->channel_window_size(kLrnWindow).alpha(kLrnAlpha).beta(kLrnBeta).bias(kLrnBias);
      return l;
    }
    case Op::ResizeLinear:
    case Op::ResizeNearest: {
      auto l = std::make_unique<ResizeLayer>();
      l->scale(2).resampling(c.op == Op::ResizeLinear ? Resampling::Linear : Resampling::Nearest);
      return l;
    }
    case Op::PadReflected: {
      auto l = std::make_unique<PaddingLayer>(PaddingPairs{{0, 0}, {c.pad, c.pad}, {c.pad, c.pad}});
      l->padding(PaddingMode::Reflected);
      return l;
    }
    case Op::Linear: {
      auto l = std::make_unique<LinearLayer>(c.out_channels);
      l->set_array("Weights", random_tensor({c.out_channels, channels}, 2, -0.05f, 0.05f));
      l->set_array("Biases", random_tensor({c.out_channels}, 3));
      return l;
    }
    case Op::MaxPool: {
      auto l = std::make_unique<PoolingLayer>(SpatialSizes{2, 2});
      l->stride(2);
      return l;
    }
    case Op::DigitsStep:
      break;
  }
  return nullptr;
}

void run_layer(benchmark::State& state, const CaseSpec& c) {
  auto layer = make_layer(c);
  const Tensor x = random_tensor(c.input, 1);
  auto ws = layer->make_workspace();
  Tensor y, dx;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  const strata::RunContext training{strata::Mode::Training, nullptr};
  layer->forward(in, out, ws.get(), training);
  const Tensor dy = random_tensor(y.shape(), 4);
  std::vector<Tensor> array_grads(layer->arrays().size());
  std::vector<Tensor*> array_grad_ptrs;
  for (size_t i = 0; i < array_grads.size(); ++i)
    array_grad_ptrs.push_back(layer->arrays()[i].trainable ? &array_grads[i] : nullptr);
  const Tensor* outs[] = {&y};
  const Tensor* gouts[] = {&dy};
  Tensor* gins[] = {&dx};
  for (auto _ : state) {
    layer->forward(in, out, ws.get(), training);
    if (c.pass == Pass::ForwardBackward)
      layer->backward(in, outs, gouts, ws.get(), gins, array_grad_ptrs);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
}

void run_digits_step(benchmark::State& state, const CaseSpec& c) {
  using namespace strata;
  NetChain net = digits_net();
  NetInitialize(net, {.seed = 1});
  SGD sgd(kDigitsLearningRate);
  sgd.momentum(kDigitsMomentum).l2_regularization(kDigitsL2);
  TrainingStep step(net, sgd, LossFunction::CrossEntropy);
  const Tensor x = random_tensor(c.input, 1, 0, 1);
  Tensor t({c.input[0]});
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<float>(i % 10);
  Rng rng(1);
  // One untimed step first (it sizes the buffers), as on the libtorch side.
  step(x, t, rng);
  for (auto _ : state)
    benchmark::DoNotOptimize(step(x, t, rng));
}

}  // namespace

void register_strata(const CaseSpec& c) {
  auto* b = c.op == Op::DigitsStep
                ? benchmark::RegisterBenchmark((c.name() + "/strata").c_str(), run_digits_step, c)
                : benchmark::RegisterBenchmark((c.name() + "/strata").c_str(), run_layer, c);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace bench
