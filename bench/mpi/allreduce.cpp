// The time of one allreduce (MpiCommunicator::allreduce_sum) of the fused
// gradient buffer of the main job's digits net, and of larger buffers up to
// a ResNet-18-size net's 11M parameters, for the cost model of
// docs/distributed.md:
//   mpirun -np 2 strata_allreduce_bench
// Prints per size: floats, bytes, microseconds per allreduce (the median of
// the repetitions), and the algorithmic bandwidth 2·(p−1)/p · bytes / time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "examples/digits/digits_net.hpp"
#include "strata.hpp"
#include "train/mpi_communicator.hpp"

using namespace strata;

int main() {
  try {
    MpiCommunicator comm;
    NetChain net = digits::digits_net();
    NetInitialize(net, {.seed = 1});
    int64_t trainable = 0;
    for (const ArrayRef& a : net.all_arrays())
      if (a.layer->arrays()[a.index].trainable)
        trainable += a.layer->arrays()[a.index].value->size();
    // The step's buffer: the gradients, the loss (2), the stop and failure slots (3).
    const int64_t main_job = trainable + 5;
    const int64_t sizes[] = {main_job, 1 << 20, 11'000'000};
    const int p = comm.size();
    if (comm.rank() == 0)
      std::printf(
          "allreduce on %d processes (main job's buffer: %lld floats)\n%12s %12s %12s %12s\n", p,
          static_cast<long long>(main_job), "floats", "bytes", "us", "GB/s (ring)");
    for (const int64_t n : sizes) {
      std::vector<float> buffer(static_cast<size_t>(n), 1.0f);
      const int reps = n < 100'000 ? 400 : n < 2'000'000 ? 40 : 8;
      for (int i = 0; i < 3; ++i)
        comm.allreduce_sum(buffer.data(), n);
      std::vector<double> times;
      for (int i = 0; i < reps; ++i) {
        double go = 0;  // start together
        comm.allreduce_sum(&go, 1);
        const auto t0 = std::chrono::steady_clock::now();
        comm.allreduce_sum(buffer.data(), n);
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      // Rank 0's median; every process took part in each.
      std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
      const double t = times[reps / 2];
      const double bytes = 4.0 * static_cast<double>(n);
      if (comm.rank() == 0)
        std::printf("%12lld %12.0f %12.1f %12.2f\n", static_cast<long long>(n), bytes, t * 1e6,
                    2.0 * (p - 1) / p * bytes / t / 1e9);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "strata_allreduce_bench: %s\n", e.what());
    return 1;
  }
}
