// Trains the digits net as the main job does (examples/digits/train_digits.cpp:
// bench::digits_net(), NetInitialize seed 1, SGD 0.05 with momentum 0.9 and
// L2 0.003, the rate falling along a cosine over the rounds, batch 16, 20
// rounds, reshuffled every round, CrossEntropy) and prints one JSON line: the
// examples per second over the training alone (no validation during it), the
// training time, the accuracy on the test set and the peak memory. Driven by
// digits_vs_pytorch.py, which times PyTorch on the same data the same way.
//
//   digits_train [--data DIR] [--rounds 20] [--batch-size 16]
//                [--learning-rate 0.05] [--momentum 0.9] [--l2 0.003]
//                [--seed 1] [--threads 2]
//
// DIR holds digits_train.csv, digits_test.csv and net.json (default: the
// source tree's examples/digits). The net is built in code, as the main job
// builds it, and checked against DIR/net.json first.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "cases.hpp"
#include "digits_net.hpp"
#include "strata.hpp"

namespace {

// The peak resident memory of this process in MB (VmHWM: unlike getrusage's
// ru_maxrss, it starts afresh at exec, so a parent's size does not count).
double peak_memory_mb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kb = 0;
  while (status >> key) {
    if (key == "VmHWM:") {
      status >> kb;
      break;
    }
    status.ignore(1 << 10, '\n');
  }
  return kb / 1024.0;
}

// A digits CSV as the main job reads it: [N, 1, 8, 8], pixels / 16.
strata::Dataset load(const std::filesystem::path& file) {
  strata::CsvDataset csv = strata::read_csv_dataset(file);
  strata::Tensor x = csv.inputs.reshaped({csv.inputs.dim(0), 1, 8, 8});
  x.vec() *= 1.0f / 16.0f;
  return {std::move(x), std::move(csv.targets)};
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt{
      {"--data", STRATA_DIGITS_DIR},
      {"--rounds", std::to_string(bench::kDigitsRounds)},
      {"--batch-size", std::to_string(bench::kDigitsTrainBatch)},
      {"--learning-rate", std::to_string(bench::kDigitsLearningRate)},
      {"--momentum", std::to_string(bench::kDigitsMomentum)},
      {"--l2", std::to_string(bench::kDigitsL2)},
      {"--seed", "1"},
      {"--threads", "2"}};
  if (argc % 2 == 0) {
    std::fprintf(stderr, "digits_train: expected --option value pairs\n");
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!opt.count(argv[i])) {
      std::fprintf(stderr, "digits_train: unknown option %s\n", argv[i]);
      return 2;
    }
    opt[argv[i]] = argv[i + 1];
  }
  try {
    using namespace strata;
    set_num_threads(std::stoi(opt["--threads"]));
    const std::filesystem::path dir = opt["--data"];
    bench::check_digits_net_file(dir / "net.json");
    const Dataset train = load(dir / "digits_train.csv");
    const Dataset test = load(dir / "digits_test.csv");

    const uint64_t seed = std::stoull(opt["--seed"]);
    const int rounds = std::stoi(opt["--rounds"]);
    NetChain net = bench::digits_net();
    NetInitialize(net, {.seed = seed});
    SGD sgd(std::stod(opt["--learning-rate"]));
    sgd.momentum(std::stod(opt["--momentum"])).l2_regularization(std::stod(opt["--l2"]));
    const auto cosine = LearningRateSchedule::cosine(sgd.learning_rate(), rounds);
    TrainOptions options;
    options.batch_size = std::stoll(opt["--batch-size"]);
    options.rounds = rounds;
    options.seed = seed;
    options.loss = LossFunction::CrossEntropy;
    options.schedule = cosine;
    options.quiet = true;
    const TrainResult r = NetTrain(net, train, options, sgd);

    // NetTrain's examples/s counts the rounds' training time alone.
    double train_seconds = 0;
    for (const auto& round : r.rounds)
      train_seconds += round.seconds;
    const Evaluation ev = evaluate(net, test, LossFunction::CrossEntropy);
    std::printf(
        "{\"examples_per_second\": %.1f, \"train_seconds\": %.4f, \"final_loss\": %.5f, "
        "\"test_accuracy\": %.4f, \"peak_rss_mb\": %.1f}\n",
        r.examples_per_second, train_seconds, r.rounds.back().loss, *ev.accuracy, peak_memory_mb());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "digits_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
