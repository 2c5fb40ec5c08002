// Data-parallel training against one process, run under mpirun with any
// number of processes (tests/mpi/CMakeLists.txt: 2 and 3):
//   mpirun -np 3 strata_mpi_tests EXAMPLES_DIGITS_DIR
// For each net (the digits net of the main job, one with BatchNormalization,
// one with Dropout), rank 0 first trains a copy alone, without a
// communicator; then every process trains the same net together. Checks:
// every process ends with bit-identical arrays; they equal the lone
// process's within a relative tolerance (the float additions are grouped
// differently: within a shard, then across shards), and so do the losses of
// every batch. The largest differences are printed. Exit code 0 when all
// hold, 1 otherwise (rank 0 says what failed).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "examples/digits/digits_net.hpp"
#include "strata.hpp"
#include "tests/support/net_arrays.hpp"
#include "train/mpi_communicator.hpp"

using namespace strata;
using strata::testing::array_values;
using strata::testing::relative_difference;

namespace {

// Measured with 2, 3 and 4 processes (docs/distributed.md): the largest
// relative differences were 2.3e-7 for the arrays and 1.4e-7 for the batch
// losses. The tolerances leave a margin of about 50 for another compiler or
// CPU, and are far below what a wrong weighting of the shards, BatchNorm
// statistics of the shard alone or masks by shard index give (1e-2 and more).
constexpr double kArrayTolerance = 1e-5;
constexpr double kLossTolerance = 1e-6;

Dataset load_digits(const std::string& file, int64_t count) {
  CsvDataset csv = read_csv_dataset(file);
  Tensor x = csv.inputs.reshaped({csv.inputs.dim(0), 1, 8, 8});
  x.vec() *= 1.0f / 16.0f;
  Dataset all{std::move(x), std::move(csv.targets)};
  std::vector<int64_t> first(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    first[i] = i;
  return subset(all, first);
}

NetChain batch_norm_net() {
  return NetChain({{"conv", ConvolutionLayer(8, 3).padding_size(1)},
                   {"norm", BatchNormalizationLayer()},
                   {"ramp", ElementwiseLayer("Ramp")},
                   {"pool", PoolingLayer(2).stride(2)},
                   {"flatten", FlattenLayer()},
                   {"linear", LinearLayer(10)},
                   {"softmax", SoftmaxLayer()}},
                  Input({1, 8, 8}));
}

NetChain dropout_net() {
  return NetChain({{"flatten", FlattenLayer()},
                   {"hidden", LinearLayer(32)},
                   {"ramp", ElementwiseLayer("Ramp")},
                   {"drop", DropoutLayer(0.3)},
                   {"linear", LinearLayer(10)},
                   {"softmax", SoftmaxLayer()}},
                  Input({1, 8, 8}));
}

// Trains `make()` alone on rank 0 and together on every process; returns
// whether the checks hold.
template <typename Make>
bool check(const char* name, Make make, const Dataset& data, TrainOptions options,
           MpiCommunicator& comm) {
  options.quiet = true;
  std::vector<float> alone;
  std::vector<double> alone_losses;
  if (comm.rank() == 0) {
    auto net = make();
    SGD sgd(0.05);
    sgd.momentum(0.9);
    const TrainResult r = NetTrain(net, data, options, sgd);
    alone = array_values(net);
    alone_losses = r.batch_losses;
  }
  auto net = make();
  SGD sgd(0.05);
  sgd.momentum(0.9);
  options.communicator = &comm;
  const TrainResult r = NetTrain(net, data, options, sgd);
  std::vector<float> together = array_values(net);

  // The same arrays on every process, bit for bit.
  std::vector<float> root = together;
  comm.broadcast(root.data(), static_cast<int64_t>(root.size() * sizeof(float)), 0);
  double differ = std::memcmp(root.data(), together.data(), root.size() * sizeof(float)) ? 1 : 0;
  comm.allreduce_sum(&differ, 1);
  if (comm.rank() != 0) return differ == 0;

  bool ok = true;
  if (differ > 0) {
    std::printf("FAIL %s: %g processes ended with arrays other than rank 0's\n", name, differ);
    ok = false;
  }
  if (r.batch_losses.size() != alone_losses.size()) {
    std::printf("FAIL %s: %zu batches together, %zu alone\n", name, r.batch_losses.size(),
                alone_losses.size());
    return false;
  }
  const double arrays = relative_difference(together, alone);
  const double losses = relative_difference(r.batch_losses, alone_losses);
  std::printf(
      "%s on %d processes: %zu batches; arrays differ by %.2e, batch losses by %.2e "
      "(relative); final loss %.6f\n",
      name, comm.size(), r.batch_losses.size(), arrays, losses, r.batch_losses.back());
  if (!(arrays <= kArrayTolerance)) {
    std::printf("FAIL %s: the arrays differ from one process's by %.3e > %.0e\n", name, arrays,
                kArrayTolerance);
    ok = false;
  }
  if (!(losses <= kLossTolerance)) {
    std::printf("FAIL %s: the batch losses differ from one process's by %.3e > %.0e\n", name,
                losses, kLossTolerance);
    ok = false;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mpirun -np P strata_mpi_tests EXAMPLES_DIGITS_DIR\n");
    return 2;
  }
  try {
    MpiCommunicator comm;
    set_num_threads(1);
    const std::string file = std::string(argv[1]) + "/digits_train.csv";
    // 16 · 12 + 2 examples: the last batch of 2 leaves a third process
    // without an example (an empty shard).
    const Dataset data = load_digits(file, 194);
    bool ok = true;
    ok &= check(
        "digits net", [] { return digits::digits_net(); }, data,
        {.batch_size = 16, .rounds = 2, .seed = 1}, comm);
    ok &= check(
        "BatchNormalization net", [] { return batch_norm_net(); }, data,
        {.batch_size = 16, .rounds = 3, .seed = 2}, comm);
    ok &= check(
        "Dropout net", [] { return dropout_net(); }, data,
        {.batch_size = 16, .rounds = 3, .seed = 3}, comm);
    // Every process learns whether all held.
    double failed = ok ? 0 : 1;
    comm.allreduce_sum(&failed, 1);
    if (comm.rank() == 0) std::printf(failed ? "FAILED\n" : "all checks passed\n");
    return failed ? 1 : 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "strata_mpi_tests: %s\n", e.what());
    return 1;
  }
}
