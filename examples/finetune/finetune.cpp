// Fine-tuning with frozen layers: the digits net (examples/digits/) is
// trained on the digits 0–4 only; its head is then replaced with a 5-class
// head for the digits 5–9 (NetReplacePart), everything before the head is
// frozen (learning-rate multipliers {"linear", 1}, {"_", 0}), and the head is
// trained on a few examples of 5–9. Against it: the same net trained from
// scratch on the same few examples, all of it, and with a random frozen body.
// Also times a training step with and without the frozen body.
//
//   finetune [DATA_DIR] [PER_CLASS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

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

// The examples of digits first..first+4, relabelled 0..4; at most `per_class`
// of each (0: all).
Dataset classes(const Dataset& data, int first, int64_t per_class = 0) {
  std::vector<int64_t> indices, count(5, 0);
  for (int64_t i = 0; i < data.size(); ++i) {
    const int c = static_cast<int>(data.targets[i]) - first;
    if (c < 0 || c >= 5 || (per_class && count[c] >= per_class)) continue;
    ++count[c];
    indices.push_back(i);
  }
  Dataset out = subset(data, indices);
  for (int64_t i = 0; i < out.size(); ++i)
    out.targets[i] -= static_cast<float>(first);
  return out;
}

double accuracy(const Layer& net, const Dataset& data) {
  return 100 * *evaluate(net, data, LossFunction::CrossEntropy).accuracy;
}

// Trains the head (or all, without multipliers) on the few examples.
void train_few(Layer& net, const Dataset& few, const LearningRateMultipliers& multipliers) {
  Adam adam(0.01);
  NetTrain(net, few,
           {.batch_size = 10,
            .rounds = 40,
            .seed = 2,
            .learning_rate_multipliers = multipliers,
            .quiet = true},
           adam);
}

// Milliseconds per training step on batches of 16, after a warm-up.
double step_ms(Layer& net, const Dataset& data, const LearningRateMultipliers& multipliers) {
  Adam adam(0.001);
  TrainingStep step(net, adam, LossFunction::CrossEntropy,
                    multipliers.empty() ? std::vector<double>{}
                                        : resolve_learning_rate_multipliers(net, multipliers));
  const Dataset batch = subset(data, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  Rng rng(1);
  for (int i = 0; i < 5; ++i)
    step(batch.inputs, batch.targets, rng);
  constexpr int kSteps = 200;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kSteps; ++i)
    step(batch.inputs, batch.targets, rng);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
             .count() /
         kSteps;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path data = argc > 1 ? argv[1] : "examples/digits";
  const int64_t per_class = argc > 2 ? std::atoll(argv[2]) : 5;
  try {
    const Dataset train = load(data / "digits_train.csv");
    const Dataset test = load(data / "digits_test.csv");
    const Dataset low_train = classes(train, 0), low_test = classes(test, 0);
    const Dataset few = classes(train, 5, per_class), high_test = classes(test, 5);

    // 1. The digits net with a 5-class head, trained on 0–4.
    auto base = NetReplacePart(digits::digits_net(), "linear", LinearLayer(5));
    NetInitialize(*base, {.seed = 1});
    SGD sgd(0.05);
    sgd.momentum(0.9).l2_regularization(0.003);
    NetTrain(*base, low_train, {.batch_size = 16, .rounds = 8, .seed = 1, .quiet = true}, sgd);
    std::printf("base net: trained on %lld examples of 0-4, test accuracy on 0-4: %.2f%%\n",
                static_cast<long long>(low_train.size()), accuracy(*base, low_test));

    // 2. A new head for 5–9, the body frozen, trained on the few examples.
    SurgeryNotes notes;
    auto tuned = NetReplacePart(*base, "linear", LinearLayer(5), &notes);
    NetInitialize(*tuned, {.seed = 3});  // the new head only: the rest is kept
    const LearningRateMultipliers head_only = {{"linear", 1}, {"_", 0}};
    const Tensor conv1 = NetExtract(*tuned, "conv1/Weights");
    train_few(*tuned, few, head_only);
    if (!(NetExtract(*tuned, "conv1/Weights") == conv1)) throw Error("conv1 changed while frozen");
    const double tuned_accuracy = accuracy(*tuned, high_test);

    // 3. The same net from scratch on the same few examples: all of it, and
    // the head alone on a random frozen body.
    auto scratch = NetReplacePart(digits::digits_net(), "linear", LinearLayer(5));
    NetInitialize(*scratch, {.seed = 3});
    auto random_body = scratch->clone();
    train_few(*scratch, few, {});
    train_few(*random_body, few, head_only);

    std::printf("5-9 with %lld examples (%lld per class), test accuracy on %lld examples of 5-9:\n",
                static_cast<long long>(few.size()), static_cast<long long>(per_class),
                static_cast<long long>(high_test.size()));
    std::printf("  fine-tuned (body from 0-4 frozen, new head): %.2f%%\n", tuned_accuracy);
    std::printf("  from scratch (whole net):                    %.2f%%\n",
                accuracy(*scratch, high_test));
    std::printf("  from scratch (random frozen body, head):     %.2f%%\n",
                accuracy(*random_body, high_test));

    // 4. What freezing saves: a step with the body frozen skips its backward.
    const double all_ms = step_ms(*scratch, low_train, {});
    const double head_ms = step_ms(*scratch, low_train, head_only);
    std::printf("training step, batch 16: all trainable %.3f ms, body frozen %.3f ms (%.1fx)\n",
                all_ms, head_ms, all_ms / head_ms);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "finetune: %s\n", e.what());
    return 1;
  }
}
