// The machine's limits, measured the same way the kernels are: a plain copy
// of a tensor's bytes (memory bandwidth at that size, so the caches count as
// they do for the kernel) and an Eigen sgemm (arithmetic).
#include "probes.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "cases.hpp"
#include "core/tensor.hpp"  // Eigen, with its GCC 12 warnings silenced
#include "core/threads.hpp"
#include "kernels/plane_sums.hpp"

namespace bench {

namespace {

// copy(dst, src, count) over a tensor of `elements` floats, in fixed chunks
// over the threads, on strata's pool, as the kernels split their work (so a
// busy machine affects the probe as it does the kernels).
template <typename Copy>
void run_chunked_copy(benchmark::State& state, int64_t elements, Copy copy) {
  const std::vector<float> src = random_values(elements, 1);
  std::vector<float> dst(src.size());
  constexpr int64_t chunks = 64;
  for (auto _ : state) {
    strata::parallel_for(chunks, [&](int64_t c) {
      const int64_t a = elements * c / chunks, b = elements * (c + 1) / chunks;
      copy(dst.data() + a, src.data() + a, b - a);
    });
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
}

void run_copy(benchmark::State& state, int64_t elements) {
  run_chunked_copy(state, elements, [](float* dst, const float* src, int64_t n) {
    std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
  });
}

// The same copy by a plain vector loop, as a kernel writes its output: its
// stores read each cache line before writing it (memcpy's `rep movsb` does
// not), the ceiling of a kernel that reads and writes each value once.
void run_loop_copy(benchmark::State& state, int64_t elements) {
  run_chunked_copy(state, elements, [](float* dst, const float* src, int64_t n) {
    namespace ps = strata::plane_sums;
    int64_t i = 0;
    for (; i + ps::kWidth <= n; i += ps::kWidth)
      ps::store(dst + i, ps::load(src + i));
    for (; i < n; ++i)
      dst[i] = src[i];
  });
}

void run_gemm(benchmark::State& state, int64_t n) {
  using Matrix = strata::RowMatrix;
  Matrix a = Eigen::Map<const Matrix>(random_values(n * n, 1).data(), n, n);
  Matrix b = Eigen::Map<const Matrix>(random_values(n * n, 2).data(), n, n);
  Matrix c(n, n);
  // Each thread computes a block of rows with Eigen's single-threaded kernel.
  constexpr int64_t blocks = 8;
  for (auto _ : state) {
    strata::parallel_for(blocks, [&](int64_t k) {
      const int64_t r0 = n * k / blocks, r1 = n * (k + 1) / blocks;
      c.middleRows(r0, r1 - r0).noalias() = a.middleRows(r0, r1 - r0) * b;
    });
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
}

}  // namespace

std::string copy_probe_name(int64_t elements) {
  return "probe copy " + std::to_string(elements * 4 / 1024) + " KiB";
}

std::string gemm_probe_name() {
  return "probe sgemm " + std::to_string(kGemmProbeSize) + "^3";
}

std::string loop_copy_probe_name(int64_t elements) {
  return "probe loop copy " + std::to_string(elements * 4 / 1024) + " KiB";
}

void register_copy_probe(int64_t elements) {
  benchmark::RegisterBenchmark(copy_probe_name(elements).c_str(), run_copy, elements)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(loop_copy_probe_name(elements).c_str(), run_loop_copy, elements)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

void register_gemm_probe() {
  benchmark::RegisterBenchmark(gemm_probe_name().c_str(), run_gemm, kGemmProbeSize)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace bench
