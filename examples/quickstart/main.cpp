// The README's C++ example, compiled: build a chain, initialize it, apply it,
// extract parameters by name, train it briefly on random data and save it.
#include <iostream>
#include <strata.hpp>

int main() {
  using namespace strata;
  try {
    NetChain net({{"conv1", ConvolutionLayer(16, {3, 3}).padding_size(1)},
                  {"norm1", InstanceNormalizationLayer()},
                  ElementwiseLayer("Ramp"),
                  PoolingLayer({2, 2}).stride(2),
                  FlattenLayer(),
                  LinearLayer(10),
                  SoftmaxLayer()},
                 Input({1, 8, 8}));   // shapes are inferred at once
    NetInitialize(net, {.seed = 1});  // creates every Automatic array

    Tensor x({1, 8, 8});  // one example (or a batch: {n, 1, 8, 8})
    Rng rng(2);
    for (float& v : x.values())
      v = static_cast<float>(rng.uniform());
    Tensor probabilities = net(x);  // [10]
    std::cout << "probabilities of one example:";
    for (float p : probabilities.values())
      std::cout << ' ' << p;
    std::cout << "\n";

    Tensor gamma = NetExtract(net, "norm1/Gamma");      // by name
    Tensor weights = NetExtract(net, "conv1/Weights");  // [16, 1, 3, 3]
    std::cout << "norm1/Gamma has " << gamma.size() << " values, conv1/Weights "
              << to_string(weights.shape()) << "\n";
    std::cout << NetSummary(net);  // layers, shapes, parameter counts

    // 64 random examples of 10 classes, to show the training call.
    Tensor inputs({64, 1, 8, 8}), targets({64});
    for (float& v : inputs.values())
      v = static_cast<float>(rng.uniform());
    for (int64_t i = 0; i < 64; ++i)
      targets[i] = static_cast<float>(i % 10);
    SGD sgd(0.05);
    sgd.momentum(0.9);
    TrainResult r = NetTrain(net, {inputs, targets}, {.batch_size = 16, .rounds = 5}, sgd);
    std::cout << "loss after " << r.rounds.size() << " rounds: " << r.rounds.back().loss << "\n";
    save_net("quickstart-net.json", net);
    std::cout << "wrote quickstart-net.json\n";
    return 0;
  } catch (const Error& e) {
    std::cerr << "quickstart: " << e.what() << "\n";
    return 1;
  }
}
