// bench_all: every case for strata and libtorch in one process, on the same
// inputs and thread count, with the machine's probes, then a summary table:
// the two times, the ratio libtorch/strata, and strata's GB/s or GFLOP/s as a
// fraction of the probe's figure.
//
//   bench_all [--threads=N] [--rounds=R] [google benchmark flags]
//
// Defaults: 2 threads; the whole suite runs R = 3 times in a row and the
// table shows each case's median over the rounds (interleaving the rounds
// spreads a burst of load from other processes over all cases).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cases.hpp"
#include "core/threads.hpp"
#include "probes.hpp"

namespace {

// The console output as usual, and every run's seconds per iteration kept
// for the summary.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs)
      if (!r.error_occurred && r.iterations > 0 && r.run_type == Run::RT_Iteration) {
        seconds_[r.run_name.function_name].push_back(r.real_accumulated_time /
                                                     static_cast<double>(r.iterations));
        cpu_[r.run_name.function_name].push_back(r.cpu_accumulated_time /
                                                 static_cast<double>(r.iterations));
      }
  }

  // The median over all runs (rounds and repetitions), or 0 when the
  // benchmark did not run.
  double seconds(const std::string& name) const { return median_of(seconds_, name); }
  // The same for the CPU time of the thread that runs the benchmark (on one
  // thread, all of it: unlike the wall clock, not inflated by time spent
  // descheduled on a busy machine).
  double cpu_seconds(const std::string& name) const { return median_of(cpu_, name); }

 private:
  static double median_of(const std::map<std::string, std::vector<double>>& m,
                          const std::string& name) {
    auto it = m.find(name);
    if (it == m.end()) return 0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }

  std::map<std::string, std::vector<double>> seconds_, cpu_;
};

std::string format_time(double s) {
  char buf[32];
  if (s <= 0) return "—";
  if (s < 1e-3)
    std::snprintf(buf, sizeof buf, "%.1f µs", s * 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  return buf;
}

// The system's 1-minute load average: how busy the machine was (other
// processes on the same cores slow both sides, libtorch's OpenMP barriers most).
std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "unknown";
  char buf[64] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  if (!ok) return "unknown";
  std::string s(buf);
  return s.substr(0, s.find(' '));
}

void print_summary(const Collector& c, int threads, int rounds, const std::string& load_before) {
  const std::string probe_gemm = bench::gemm_probe_name();
  const double gemm_seconds = c.seconds(probe_gemm);
  const double n = static_cast<double>(bench::kGemmProbeSize);
  const double gemm_gflops = gemm_seconds > 0 ? 2 * n * n * n / gemm_seconds / 1e9 : 0;

  std::printf(
      "\n## Summary (%d thread%s, medians of %d rounds; load average %s before, %s after)\n\n",
      threads, threads == 1 ? "" : "s", rounds, load_before.c_str(), load_average().c_str());
  if (bench::have_libtorch()) std::printf("libtorch %s\n\n", bench::libtorch_version().c_str());
  std::printf("Probes: %s %s GFLOP/s; copy bandwidth (read + write) by size:", probe_gemm.c_str(),
              gemm_gflops > 0 ? std::to_string(static_cast<int>(gemm_gflops + 0.5)).c_str() : "—");
  std::set<int64_t> sizes;
  for (const auto& k : bench::all_cases())
    if (k.bytes() > 0) sizes.insert(k.input_elements());
  for (int64_t e : sizes) {
    const double s = c.seconds(bench::copy_probe_name(e));
    if (s > 0)
      std::printf(" %s %.1f GB/s;", bench::copy_probe_name(e).substr(11).c_str(),
                  8.0 * static_cast<double>(e) / s / 1e9);
  }
  // A vector loop's copy: its stores read each line first (the ceiling of a
  // one-pass kernel, which "of probe" does not use).
  std::printf(" by a vector loop:");
  for (int64_t e : sizes) {
    const double s = c.seconds(bench::loop_copy_probe_name(e));
    if (s > 0)
      std::printf(" %s %.1f GB/s;", bench::loop_copy_probe_name(e).substr(16).c_str(),
                  8.0 * static_cast<double>(e) / s / 1e9);
  }
  std::printf("\n\n");
  // On one thread, also the ratio of CPU times (the fairer figure on a busy
  // machine; on more threads the main thread's CPU time is not the whole).
  const bool cpu = threads == 1;
  std::printf("| case | strata | libtorch | libtorch/strata | strata throughput | of probe |%s\n",
              cpu ? " libtorch/strata, CPU time |" : "");
  std::printf("|---|---:|---:|---:|---:|---:|%s\n", cpu ? "---:|" : "");
  for (const auto& k : bench::all_cases()) {
    const std::string name = k.name();
    const double s = c.seconds(name + "/strata");
    const double t = c.seconds(name + "/libtorch");
    if (s <= 0) continue;
    char ratio[32] = "—", rate[48] = "—", fraction[32] = "—";
    if (t > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", t / s);
    if (k.bytes() > 0) {
      const double gbs = k.bytes() / s / 1e9;
      std::snprintf(rate, sizeof rate, "%.1f GB/s", gbs);
      const double probe = c.seconds(bench::copy_probe_name(k.input_elements()));
      if (probe > 0) {
        const double probe_gbs = 8.0 * static_cast<double>(k.input_elements()) / probe / 1e9;
        std::snprintf(fraction, sizeof fraction, "%.0f%%", 100 * gbs / probe_gbs);
      }
    } else if (k.flops() > 0) {
      const double gflops = k.flops() / s / 1e9;
      std::snprintf(rate, sizeof rate, "%.1f GFLOP/s", gflops);
      if (gemm_gflops > 0)
        std::snprintf(fraction, sizeof fraction, "%.0f%%", 100 * gflops / gemm_gflops);
    } else if (k.op == bench::Op::DigitsStep) {
      std::snprintf(rate, sizeof rate, "%.0f examples/s", static_cast<double>(k.input[0]) / s);
    }
    char cpu_ratio[32] = " — |";
    const double sc = c.cpu_seconds(name + "/strata"), tc = c.cpu_seconds(name + "/libtorch");
    if (sc > 0 && tc > 0) std::snprintf(cpu_ratio, sizeof cpu_ratio, " %.2fx |", tc / sc);
    std::printf("| %s | %s | %s | %s | %s | %s |%s\n", name.c_str(), format_time(s).c_str(),
                format_time(t).c_str(), ratio, rate, fraction, cpu ? cpu_ratio : "");
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, rounds = 3;
  std::vector<char*> args{argv[0]};
  std::string min_time = "--benchmark_min_time=0.2";
  args.push_back(min_time.data());
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
    } else if (std::strncmp(argv[i], "--rounds=", 9) == 0) {
      rounds = std::max(1, std::atoi(argv[i] + 9));
    } else {
      args.push_back(argv[i]);  // later flags override the defaults above
    }
  }
  // libtorch allocates its outputs on every call; with glibc's default,
  // blocks of a few MB come from fresh mmap'd pages each time (page faults
  // cost libtorch up to 2x, depending on what ran before). Serve them from
  // the heap for a fair, stable comparison. (strata allocates nothing per call.)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  strata::set_num_threads(threads);
  bench::set_libtorch_threads(threads);

  std::set<int64_t> copy_sizes;
  bench::register_gemm_probe();
  for (const auto& k : bench::all_cases()) {
    if (k.bytes() > 0 && copy_sizes.insert(k.input_elements()).second)
      bench::register_copy_probe(k.input_elements());
    bench::register_strata(k);
    bench::register_libtorch(k);
  }

  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  Collector collector;
  const std::string load_before = load_average();
  for (int r = 0; r < rounds; ++r)
    benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  print_summary(collector, threads, rounds, load_before);
  return 0;
}
