// The digits job with the C++ API: builds the same net as net.json in code
// (digits_net.hpp), trains it on the first 1,500 digits, evaluates it on the
// last 297, extracts the first layer's Gamma by name, saves the trained net
// and the loss plot.
//
//   train_digits [DATA_DIR] [OUT_DIR]
#include <cstdio>
#include <filesystem>
#include <string>

#include "examples/digits/digits_net.hpp"
#include "strata.hpp"

using namespace strata;

namespace {

Dataset load(const std::filesystem::path& file) {
  CsvDataset csv = read_csv_dataset(file);
  Tensor x = csv.inputs.reshaped({csv.inputs.dim(0), 1, 8, 8});
  x.vec() *= 1.0f / 16.0f;  // pixels 0..16 -> [0, 1]
  return {std::move(x), std::move(csv.targets)};
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path data = argc > 1 ? argv[1] : "examples/digits";
  const std::filesystem::path out = argc > 2 ? argv[2] : "out";
  try {
    const Dataset train = load(data / "digits_train.csv");
    const Dataset test = load(data / "digits_test.csv");

    NetChain net = digits::digits_net();  // examples/digits/digits_net.hpp
    NetInitialize(net, {.seed = 1});
    std::printf("%s\n", NetSummary(net).c_str());

    // SGD with momentum and L2 regularization, the rate falling along a cosine
    // over the 20 rounds.
    SGD sgd(0.05);
    sgd.momentum(0.9).l2_regularization(0.003);
    const auto cosine = LearningRateSchedule::cosine(0.05, 20);
    TrainOptions options{.batch_size = 16, .rounds = 20, .seed = 1, .validation = test};
    options.schedule = cosine;
    const TrainResult result = NetTrain(net, train, options, sgd);

    const Evaluation ev = evaluate(net, test, LossFunction::CrossEntropy);
    std::printf("test accuracy: %.2f%% (%lld examples), test loss %.4f\n", 100 * *ev.accuracy,
                static_cast<long long>(ev.examples), ev.loss);
    std::printf("training: %.2f s, %.0f examples/s\n", result.seconds, result.examples_per_second);

    const Tensor gamma = NetExtract(net, "norm1/Gamma");
    std::printf("norm1/Gamma:");
    for (float g : gamma.values())
      std::printf(" %.3f", g);
    std::printf("\n");

    std::filesystem::create_directories(out);
    save_net(out / "digits-net.json", net);
    write_loss_plot(out / "digits-loss.svg", result);
    std::printf("wrote %s and %s\n", (out / "digits-net.json").c_str(),
                (out / "digits-loss.svg").c_str());
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "train_digits: %s\n", e.what());
    return 1;
  }
}
