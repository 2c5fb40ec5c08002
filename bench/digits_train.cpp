// Trains the digits net as the main job does (NetTrain, SGD with momentum,
// CrossEntropy) and prints one JSON line: examples per second over the
// training, the test accuracy and the peak memory. Driven by
// digits_vs_pytorch.py, which times PyTorch on the same data the same way.
//
//   digits_train --train-inputs X.npy --train-targets T.npy
//                --test-inputs X.npy --test-targets T.npy
//                [--rounds 20] [--batch-size 64] [--learning-rate 0.1]
//                [--momentum 0.9] [--seed 1] [--threads 2]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "digits_net.hpp"
#include "strata.hpp"

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

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt{
      {"--rounds", "20"},    {"--batch-size", "64"}, {"--learning-rate", "0.1"},
      {"--momentum", "0.9"}, {"--seed", "1"},        {"--threads", "2"}};
  for (int i = 1; i + 1 < argc; i += 2)
    opt[argv[i]] = argv[i + 1];
  for (const char* required :
       {"--train-inputs", "--train-targets", "--test-inputs", "--test-targets"})
    if (!opt.count(required)) {
      std::fprintf(stderr, "digits_train: %s is required\n", required);
      return 2;
    }
  try {
    using namespace strata;
    set_num_threads(std::stoi(opt["--threads"]));
    const Dataset train{read_npy(opt["--train-inputs"]), read_npy(opt["--train-targets"])};
    const Dataset test{read_npy(opt["--test-inputs"]), read_npy(opt["--test-targets"])};
    NetChain net = bench::digits_net();
    SGD sgd(std::stod(opt["--learning-rate"]));
    sgd.momentum(std::stod(opt["--momentum"]));
    TrainOptions options;
    options.batch_size = std::stoll(opt["--batch-size"]);
    options.rounds = std::stoi(opt["--rounds"]);
    options.seed = std::stoull(opt["--seed"]);
    options.loss = LossFunction::CrossEntropy;
    options.quiet = true;
    const TrainResult r = NetTrain(net, train, options, sgd);
    const Evaluation ev = evaluate(net, test, LossFunction::CrossEntropy);
    std::string rounds;
    for (const auto& round : r.rounds)
      rounds += (rounds.empty() ? "" : ", ") + std::to_string(round.seconds);
    std::printf(
        "{\"examples_per_second\": %.1f, \"train_seconds\": %.4f, \"final_loss\": %.5f, "
        "\"test_accuracy\": %.4f, \"peak_rss_mb\": %.1f, \"round_seconds\": [%s]}\n",
        r.examples_per_second, r.seconds, r.rounds.back().loss, *ev.accuracy, peak_memory_mb(),
        rounds.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "digits_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
