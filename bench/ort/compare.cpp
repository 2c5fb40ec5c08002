// ort_compare: inference of imported ONNX models in strata against ONNX
// Runtime, the same .onnx file and the same input on the same number of
// threads, in one benchmark run.
//
//   ort_compare [--models=DIR] [--threads=1,2] [--rounds=3] [--seconds=1]
//               [--node=node] [--script=bench/ort/ort_time.js] [MODEL...]
//
// DIR holds NAME.onnx and NAME.input.npy (bench/ort/make_models.py writes
// them; make bench-ort does both). For each model and thread count the two
// sides run alternately, --rounds times each, every time in a fresh process:
// strata as this program re-run with --child (import_onnx, then forward with
// a workspace kept across calls, as a program applying a net repeatedly
// does; set_num_threads), ONNX Runtime as `node ort_time.js`
// (onnxruntime-node, intraOpNumThreads, default graph optimizations). Each
// process warms up, then times its runs (wall clock of forward, resp. of
// session.run); the table shows the median over all timed runs of all rounds,
// the ratio ONNX Runtime / strata (above 1: strata is faster), the CPU time
// per run (user + system of all the process's threads over the timed runs,
// median over rounds: on a machine busy with other work, where wall-clock
// times include time spent descheduled, the fairer figure; with 2 threads it
// counts ONNX Runtime's spinning workers too), each side's peak
// resident memory (VmHWM of the strata process, maxRSS of the node process;
// node's own runtime, before the session is made, in parentheses) and the
// largest difference between the two outputs. The load average is printed
// before and after.
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/tensor.hpp"
#include "core/threads.hpp"
#include "layers/layer.hpp"
#include "onnx_io/import.hpp"
#include "serialization/npy.hpp"

namespace fs = std::filesystem;
using strata::Tensor;

namespace {

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// The peak resident set of this process, bytes (VmHWM).
long long peak_rss() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

// CPU time (user + system) of this process so far, all threads.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The child: one model, one thread count. Prints "rss_before peak_rss runs
// s1 s2 …" on stdout and writes the output as raw float32.
int child(const std::string& model, const std::string& input, int threads, int warmup, int runs,
          double seconds, const std::string& out_file) {
  strata::set_num_threads(threads);
  const long long rss_before = peak_rss();
  const auto net = strata::import_onnx(model);
  Tensor x = strata::read_npy(input);
  Tensor y;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  auto ws = net->make_workspace();
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i)
    net->forward(in, out, ws.get(), strata::RunContext{});
  if (runs <= 0) {  // as many as fit in `seconds`, from one more timed run
    const auto t0 = clock::now();
    net->forward(in, out, ws.get(), strata::RunContext{});
    const double t = std::chrono::duration<double>(clock::now() - t0).count();
    runs = static_cast<int>(std::clamp(seconds / t, 10.0, 1000.0));
  }
  std::vector<double> times;
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < runs; ++i) {
    const auto t0 = clock::now();
    net->forward(in, out, ws.get(), strata::RunContext{});
    times.push_back(std::chrono::duration<double>(clock::now() - t0).count());
  }
  std::ofstream(out_file, std::ios::binary)
      .write(reinterpret_cast<const char*>(y.data()),
             static_cast<std::streamsize>(y.size() * sizeof(float)));
  const double cpu = (cpu_seconds() - cpu0) / runs;
  std::printf("%lld %lld %.9g %d", rss_before, peak_rss(), cpu, runs);
  for (double t : times)
    std::printf(" %.9g", t);
  std::printf("\n");
  return 0;
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw strata::Error("cannot run: " + command);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int status = pclose(p);
  if (status != 0)
    throw strata::Error("failed (status " + std::to_string(status) + "): " + command);
  return out;
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<size_t>(f.tellg());
  std::vector<float> v(bytes / sizeof(float));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(bytes));
  return v;
}

// The numbers of a JSON array "key":[…] or a plain number "key":n from the
// node script's one line (its output is ours: no general JSON parser needed).
std::vector<double> json_numbers(const std::string& line, const std::string& key) {
  std::vector<double> v;
  const size_t at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return v;
  size_t i = at + key.size() + 3;
  const bool array = line[i] == '[';
  if (array) ++i;
  while (i < line.size()) {
    char* end = nullptr;
    const double d = std::strtod(line.c_str() + i, &end);
    if (end == line.c_str() + i) break;
    v.push_back(d);
    i = static_cast<size_t>(end - line.c_str());
    if (!array || line[i] != ',') break;
    ++i;
  }
  return v;
}

std::string json_string(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\":\"");
  if (at == std::string::npos) return "?";
  const size_t start = at + key.size() + 4;
  return line.substr(start, line.find('"', start) - start);
}

std::string format_time(double s) {
  char buf[32];
  if (s < 1e-3)
    std::snprintf(buf, sizeof buf, "%.1f µs", s * 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  return buf;
}

std::string mb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  return buf;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Side {
  std::vector<double> seconds;
  std::vector<double> cpu;  // CPU seconds per run, per round
  double rss_before = 0, peak = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc >= 2 && std::string(argv[1]) == "--child") {
    if (argc != 9) throw strata::Error("--child MODEL INPUT THREADS WARMUP RUNS SECONDS OUT");
    return child(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]),
                 std::atof(argv[7]), argv[8]);
  }
  std::string dir = "build-bench/ort_models", node = "node", script;
  std::vector<int> thread_counts{1, 2};
  int rounds = 3, warmup = 5;
  double seconds = 1.0;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* key) -> const char* {
      const std::string k = std::string(key) + "=";
      return a.rfind(k, 0) == 0 ? a.c_str() + k.size() : nullptr;
    };
    if (auto v = value("--models")) {
      dir = v;
    } else if (auto v2 = value("--threads")) {
      thread_counts.clear();
      std::stringstream ss(v2);
      std::string t;
      while (std::getline(ss, t, ','))
        thread_counts.push_back(std::stoi(t));
    } else if (auto v3 = value("--rounds")) {
      rounds = std::stoi(v3);
    } else if (auto v4 = value("--seconds")) {
      seconds = std::stod(v4);
    } else if (auto v5 = value("--warmup")) {
      warmup = std::stoi(v5);
    } else if (auto v6 = value("--node")) {
      node = v6;
    } else if (auto v7 = value("--script")) {
      script = v7;
    } else if (a.rfind("--", 0) == 0) {
      throw strata::Error("unknown flag " + a);
    } else {
      models.push_back(a);
    }
  }
  if (script.empty()) script = STRATA_ORT_SCRIPT;
  if (models.empty()) models = {"style", "resnet", "mobilenet", "digits"};
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string tmp =
      (fs::temp_directory_path() / ("ort_compare." + std::to_string(getpid()))).string();

  const std::string load_before = load_average();
  std::string ort_version = "?";
  struct Row {
    std::string model;
    int threads;
    Side strata, ort;
    double max_diff, max_ref;
  };
  std::vector<Row> rows;
  for (const std::string& name : models) {
    const std::string model = (fs::path(dir) / (name + ".onnx")).string();
    const std::string input = (fs::path(dir) / (name + ".input.npy")).string();
    for (int threads : thread_counts) {
      Row row{name, threads, {}, {}, 0, 0};
      int runs = 0;  // set by the first strata child, then the same for every process
      for (int r = 0; r < rounds; ++r) {
        std::istringstream s(run_capture(
            shell_quote(self) + " --child " + shell_quote(model) + " " + shell_quote(input) + " " +
            std::to_string(threads) + " " + std::to_string(warmup) + " " + std::to_string(runs) +
            " " + std::to_string(seconds) + " " + shell_quote(tmp + ".strata")));
        double before, peak, cpu;
        s >> before >> peak >> cpu >> runs;
        row.strata.cpu.push_back(cpu);
        for (double t; s >> t;)
          row.strata.seconds.push_back(t);
        row.strata.rss_before = before;
        row.strata.peak = std::max(row.strata.peak, peak);
        const std::string line = run_capture(
            shell_quote(node) + " " + shell_quote(script) + " " + shell_quote(model) + " " +
            shell_quote(input) + " " + std::to_string(threads) + " " + std::to_string(warmup) +
            " " + std::to_string(runs) + " " + shell_quote(tmp + ".ort"));
        for (double t : json_numbers(line, "seconds"))
          row.ort.seconds.push_back(t);
        row.ort.rss_before = json_numbers(line, "rss_before").at(0);
        row.ort.peak = std::max(row.ort.peak, json_numbers(line, "peak_rss").at(0));
        row.ort.cpu.push_back(json_numbers(line, "cpu_per_run").at(0));
        ort_version = json_string(line, "version");
      }
      const std::vector<float> a = read_floats(tmp + ".strata"), b = read_floats(tmp + ".ort");
      if (a.size() != b.size())
        throw strata::Error(name + ": strata's output has " + std::to_string(a.size()) +
                            " values, ONNX Runtime's " + std::to_string(b.size()));
      for (size_t i = 0; i < a.size(); ++i) {
        row.max_diff = std::max(row.max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
        row.max_ref = std::max(row.max_ref, static_cast<double>(std::fabs(b[i])));
      }
      std::fprintf(stderr, "%s, %d thread%s: strata %s, ONNX Runtime %s\n", name.c_str(), threads,
                   threads == 1 ? "" : "s", format_time(median(row.strata.seconds)).c_str(),
                   format_time(median(row.ort.seconds)).c_str());
      rows.push_back(row);
    }
  }
  std::remove((tmp + ".strata").c_str());
  std::remove((tmp + ".ort").c_str());

  std::printf(
      "\n### strata against ONNX Runtime %s (medians of %d rounds; load average %s before, "
      "%s after)\n\n",
      ort_version.c_str(), rounds, load_before.c_str(), load_average().c_str());
  std::printf(
      "| model | threads | strata | ONNX Runtime | ORT/strata | CPU per run: strata, ORT | CPU "
      "ratio | peak RSS strata | peak RSS ORT (node alone) | max |diff| (max |y|) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const Row& r : rows) {
    const double s = median(r.strata.seconds), o = median(r.ort.seconds);
    const double cs = median(r.strata.cpu), co = median(r.ort.cpu);
    std::printf("| %s | %d | %s | %s | %.2fx | %s, %s | %.2fx | %s | %s (%s) | %.2g (%.3g) |\n",
                r.model.c_str(), r.threads, format_time(s).c_str(), format_time(o).c_str(), o / s,
                format_time(cs).c_str(), format_time(co).c_str(), co / cs,
                mb(r.strata.peak).c_str(), mb(r.ort.peak).c_str(), mb(r.ort.rss_before).c_str(),
                r.max_diff, r.max_ref);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ort_compare: %s\n", e.what());
  return 1;
}
