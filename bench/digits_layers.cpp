// Where a training step of the main job's net goes: the forward and backward
// time of each layer, averaged over many steps, at a given batch size and
// thread count (the arrays are not updated: the times do not depend on them).
//
//   digits_layers [--threads 1] [--batch-size 16] [--steps 2000]
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "digits_net.hpp"
#include "strata.hpp"

int main(int argc, char** argv) {
  using namespace strata;
  using Clock = std::chrono::steady_clock;
  std::map<std::string, std::string> opt{
      {"--threads", "1"}, {"--batch-size", "16"}, {"--steps", "2000"}};
  for (int i = 1; i < argc; i += 2) {
    if (!opt.count(argv[i]) || i + 1 >= argc) {
      std::fprintf(stderr, "digits_layers: expected --threads N, --batch-size N or --steps N\n");
      return 2;
    }
    opt[argv[i]] = argv[i + 1];
  }
  try {
    set_num_threads(std::stoi(opt["--threads"]));
    const int64_t batch = std::stoll(opt["--batch-size"]);
    const int steps = std::stoi(opt["--steps"]), warm = 100;
    NetChain net = bench::digits_net();
    NetInitialize(net, {.seed = 1});
    const size_t n = net.size();
    Rng rng(3);
    std::vector<Tensor> act(n + 1), grad(n + 1);
    act[0] = Tensor({batch, 1, 8, 8});
    for (int64_t i = 0; i < act[0].size(); ++i)
      act[0][i] = static_cast<float>(rng.uniform());
    std::vector<std::unique_ptr<Workspace>> ws;
    std::vector<std::vector<Tensor>> array_grads(n);
    std::vector<std::vector<Tensor*>> array_grad_ptrs(n);
    for (size_t i = 0; i < n; ++i) {
      ws.push_back(net.layer(i).make_workspace());
      array_grads[i].resize(net.layer(i).arrays().size());
      for (auto& g : array_grads[i])
        array_grad_ptrs[i].push_back(&g);
    }
    std::vector<double> forward_us(n), backward_us(n);
    auto micros = [](Clock::time_point t0) {
      return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    };
    for (int s = 0; s < warm + steps; ++s) {
      const bool timed = s >= warm;
      for (size_t i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        const Tensor* in[] = {&act[i]};
        Tensor* out[] = {&act[i + 1]};
        net.layer(i).forward(in, out, ws[i].get(), RunContext{Mode::Training, nullptr});
        if (timed) forward_us[i] += micros(t0);
      }
      grad[n] = act[n];  // any output gradient of the right shape
      for (size_t i = n; i-- > 0;) {
        const auto t0 = Clock::now();
        const Tensor* in[] = {&act[i]};
        const Tensor* outs[] = {&act[i + 1]};
        const Tensor* out_grads[] = {&grad[i + 1]};
        Tensor* in_grads[] = {i == 0 ? nullptr : &grad[i]};  // none for the net's input
        net.layer(i).backward(in, outs, out_grads, ws[i].get(), in_grads, array_grad_ptrs[i]);
        if (timed) backward_us[i] += micros(t0);
      }
    }
    double total = 0;
    for (size_t i = 0; i < n; ++i)
      total += (forward_us[i] + backward_us[i]) / steps;
    std::printf("digits net, batch %lld, %d threads: µs per step (share of the step)\n",
                static_cast<long long>(batch), num_threads());
    for (size_t i = 0; i < n; ++i) {
      const double f = forward_us[i] / steps, b = backward_us[i] / steps;
      std::printf("  %-8s forward %7.1f  backward %7.1f  (%4.1f%%)\n", net.layer_name(i).c_str(), f,
                  b, 100 * (f + b) / total);
    }
    std::printf("  total    %.1f µs (layers only: no loss, no optimizer)\n", total);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "digits_layers: %s\n", e.what());
    return 1;
  }
  return 0;
}
