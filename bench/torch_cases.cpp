// The libtorch side of the benchmarks: the same cases through the PyTorch C++
// API (ATen ops; oneDNN for convolution where libtorch picks it).
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "cases.hpp"

namespace bench {

namespace {

torch::Tensor random_tensor(const std::vector<int64_t>& dims, uint64_t seed, float lo = -1,
                            float hi = 1) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  std::vector<float> v = random_values(n, seed, lo, hi);
  return torch::from_blob(v.data(), dims, torch::kFloat32).clone();
}

// Forward, and the parameters that get gradients (the input first).
struct Model {
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<torch::Tensor> params;
};

Model make_model(const CaseSpec& c) {
  const int64_t channels = c.input[1];
  const double eps = 1e-3;  // strata's default Epsilon
  switch (c.op) {
    case Op::InstanceNorm: {
      auto gamma = random_tensor({channels}, 2, 0.5f, 1.5f);
      auto beta = random_tensor({channels}, 3);
      return {[=](const torch::Tensor& x) {
                return torch::instance_norm(x, gamma, beta, {}, {}, true, 0.1, eps, false);
              },
              {gamma, beta}};
    }
    case Op::BatchNorm: {
      auto gamma = random_tensor({channels}, 2, 0.5f, 1.5f);
      auto beta = random_tensor({channels}, 3);
      auto mean = torch::zeros({channels});
      auto var = torch::ones({channels});
      return {[=](const torch::Tensor& x) {
                return torch::batch_norm(x, gamma, beta, mean, var, true, 0.1, eps, false);
              },
              {gamma, beta}};
    }
    case Op::Convolution: {
      auto w = random_tensor({c.out_channels, channels, c.kernel, c.kernel}, 2, -0.1f, 0.1f);
      auto b = random_tensor({c.out_channels}, 3);
      const int64_t pad = c.kernel / 2;
      return {[=](const torch::Tensor& x) { return torch::conv2d(x, w, b, 1, pad); }, {w, b}};
    }
    case Op::Deconvolution: {
      auto w = random_tensor({channels, c.out_channels, c.kernel, c.kernel}, 2, -0.1f, 0.1f);
      auto b = random_tensor({c.out_channels}, 3);
      const int64_t pad = c.kernel / 2, stride = c.stride;
      return {[=](const torch::Tensor& x) {
                return torch::conv_transpose2d(x, w, b, stride, pad, stride - 1);
              },
              {w, b}};
    }
    case Op::LocalResponseNorm:
      return {[](const torch::Tensor& x) {
                namespace F = torch::nn::functional;
                return F::local_response_norm(x, F::LocalResponseNormFuncOptions(2 * kLrnWindow + 1)
                                                     .alpha(kLrnAlpha)
                                                     .beta(kLrnBeta)
                                                     .k(kLrnBias));
              },
              {}};
    case Op::ResizeLinear:
    case Op::ResizeNearest: {
      const bool linear = c.op == Op::ResizeLinear;
      return {[=](const torch::Tensor& x) {
                namespace F = torch::nn::functional;
                auto options = F::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2});
                if (linear)
                  options.mode(torch::kBilinear).align_corners(false);
                else
                  options.mode(torch::kNearest);
                return F::interpolate(x, options);
              },
              {}};
    }
    case Op::PadReflected: {
      const int64_t p = c.pad;
      return {[=](const torch::Tensor& x) {
                namespace F = torch::nn::functional;
                return F::pad(x, F::PadFuncOptions({p, p, p, p}).mode(torch::kReflect));
              },
              {}};
    }
    case Op::Linear: {
      auto w = random_tensor({c.out_channels, channels}, 2, -0.05f, 0.05f);
      auto b = random_tensor({c.out_channels}, 3);
      return {[=](const torch::Tensor& x) { return torch::linear(x, w, b); }, {w, b}};
    }
    case Op::MaxPool:
      return {[](const torch::Tensor& x) { return torch::max_pool2d(x, 2, 2); }, {}};
    case Op::DigitsStep:
      break;
  }
  return {};
}

void run_op(benchmark::State& state, const CaseSpec& c) {
  Model m = make_model(c);
  torch::Tensor x = random_tensor(c.input, 1);
  if (c.pass == Pass::Forward) {
    torch::NoGradGuard no_grad;
    for (auto _ : state) {
      torch::Tensor y = m.forward(x);
      benchmark::DoNotOptimize(y.data_ptr());
    }
    return;
  }
  x.requires_grad_(true);
  std::vector<torch::Tensor> wrt{x};
  for (auto& p : m.params)
    wrt.push_back(p.requires_grad_(true));
  torch::Tensor dy = random_tensor(m.forward(x).sizes().vec(), 4);
  for (auto _ : state) {
    torch::Tensor y = m.forward(x);
    // Fresh gradients, as strata's backward overwrites (no accumulation).
    auto grads = torch::autograd::grad({y}, wrt, {dy});
    benchmark::DoNotOptimize(grads[0].data_ptr());
  }
}

// bench::digits_net() (the main job's net): convolutions without biases,
// instance normalization with strata's default epsilon, mean pooling.
struct DigitsNetImpl : torch::nn::Module {
  DigitsNetImpl()
      : conv1(register_module(
            "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1).bias(false)))),
        norm1(register_module("norm1",
                              torch::nn::InstanceNorm2d(
                                  torch::nn::InstanceNorm2dOptions(32).affine(true).eps(1e-3)))),
        conv2(register_module(
            "conv2",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1).bias(false)))),
        norm2(register_module("norm2",
                              torch::nn::InstanceNorm2d(
                                  torch::nn::InstanceNorm2dOptions(64).affine(true).eps(1e-3)))),
        linear(register_module("linear", torch::nn::Linear(64 * 2 * 2, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::avg_pool2d(torch::relu(norm1(conv1(x))), 2, 2);
    x = torch::avg_pool2d(torch::relu(norm2(conv2(x))), 2, 2);
    return torch::softmax(linear(x.flatten(1)), 1);
  }
  torch::nn::Conv2d conv1;
  torch::nn::InstanceNorm2d norm1;
  torch::nn::Conv2d conv2;
  torch::nn::InstanceNorm2d norm2;
  torch::nn::Linear linear;
};
TORCH_MODULE(DigitsNet);

void run_digits_step(benchmark::State& state, const CaseSpec& c) {
  torch::manual_seed(1);
  DigitsNet net;
  net->train();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(kDigitsLearningRate)
                                               .momentum(kDigitsMomentum)
                                               .weight_decay(kDigitsL2));
  torch::Tensor x = random_tensor(c.input, 1, 0, 1);
  torch::Tensor t = torch::arange(c.input[0], torch::kLong).remainder(10);
  auto step = [&] {
    sgd.zero_grad();
    // The net ends in Softmax: CrossEntropy is the NLL of log p, as in strata.
    torch::Tensor loss = torch::nll_loss(torch::log(net->forward(x)), t);
    loss.backward();
    sgd.step();
    return loss.item<float>();
  };
  // One untimed step first: libtorch's first step sets up its kernels and
  // takes about twice as long as the next.
  step();
  for (auto _ : state)
    benchmark::DoNotOptimize(step());
}

}  // namespace

void register_libtorch(const CaseSpec& c) {
  auto* b = c.op == Op::DigitsStep
                ? benchmark::RegisterBenchmark((c.name() + "/libtorch").c_str(), run_digits_step, c)
                : benchmark::RegisterBenchmark((c.name() + "/libtorch").c_str(), run_op, c);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

bool have_libtorch() {
  return true;
}

std::string libtorch_version() {
  return TORCH_VERSION;
}

void set_libtorch_threads(int threads) {
  at::set_num_threads(threads);
  at::set_num_interop_threads(threads);
}

}  // namespace bench
