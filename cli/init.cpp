// strata init NET -o OUT: creates the net's Automatic arrays (NetInitialize).
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "cli/validators.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "serialization/net_json.hpp"
#include "serialization/tensor_json.hpp"
#include "train/initialize.hpp"

namespace strata::cli {

namespace {

struct InitArgs {
  std::string net;
  std::string output;
  uint64_t seed = 0;
  std::string method = "Automatic";
  double scale = 0.01;
  bool reinitialize = false;
};

// The number of values in the arrays at the given paths (a set: comparing
// every array with every path made init quadratic in the layers).
int64_t values_in(const Layer& net, const std::vector<std::string>& paths) {
  const std::unordered_set<std::string> wanted(paths.begin(), paths.end());
  int64_t n = 0;
  for (const auto& ref : net.all_arrays())
    if (wanted.count(ref.path)) n += ref.layer->arrays()[ref.index].value->size();
  return n;
}

void run_init(const InitArgs& args, bool scale_given) {
  InitOptions options;
  try {
    options.method = parse_init_method(args.method);
  } catch (Error& e) {
    throw e.add_context("--method");
  }
  if (scale_given && options.method != InitMethod::Random)
    throw Error("--scale: applies to --method Random only");
  // At most 1e37: weights are float32, and a normal sample reaches ~8.5 sigma.
  if (!(args.scale > 0) || !(args.scale <= 1e37)) {
    std::ostringstream given;
    given << args.scale;
    throw Error("--scale " + given.str() +
                ": expected a positive number of at most 1e+37 (the weights are float32)");
  }
  options.scale = args.scale;
  options.seed = args.seed;
  options.reinitialize_all = args.reinitialize;
  check_distinct_files({{"NET", args.net}}, {{"-o", args.output}});
  check_writable(args.output);

  auto net = load_net_file(args.net);
  std::vector<std::string> paths;
  if (args.reinitialize) {
    for (const auto& ref : net->all_arrays())
      paths.push_back(ref.path);
  } else {
    paths = net->missing_arrays();
  }
  // The arrays must fit in memory (NetInitialize checks), and so must the net
  // file's JSON, which is built before it is written: both before any work.
  uint64_t values = 0, largest = 0;
  std::string largest_text;
  for (const auto& ref : net->all_arrays())
    if (const Shape& shape = ref.layer->arrays()[ref.index].shape; shape.fully_known()) {
      const auto n = static_cast<uint64_t>(shape.num_elements());
      values += n;
      if (n > largest) {
        largest = n;
        largest_text = ref.path + " " + shape.to_string() + " (" + ref.layer->type() + ")";
      }
    }
  try {
    check_allocation(json_bytes_for(values) + values * sizeof(float),
                     "the initialized net, " + std::to_string(values) +
                         " values (the largest array " + largest_text +
                         "), built as JSON to be written,");
    NetInitialize(*net, options);
  } catch (Error& e) {
    throw e.add_context(args.net);
  }
  save_net(args.output, *net);
  if (paths.empty())
    std::cout << "every array of " << args.net
              << " was already set; nothing initialized (--reinitialize replaces them)\n";
  else
    std::cout << "initialized " << paths.size() << (paths.size() == 1 ? " array" : " arrays")
              << " (" << values_in(*net, paths) << " values) with " << to_string(options.method)
              << ", seed " << options.seed << "\n";
  std::cout << "wrote " << args.output << "\n";
}

}  // namespace

void add_init_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("init", "Create a net's Automatic arrays (NetInitialize)");
  auto args = std::make_shared<InitArgs>();
  cmd->add_option("NET", args->net, "The net file (JSON)")->required()->type_name("FILE");
  cmd->add_option("-o,--output", args->output, "Where to write the initialized net (JSON)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--seed", args->seed, "Random seed")
      ->capture_default_str()
      ->check(non_negative_integer());
  cmd->add_option("--method", args->method,
                  "Automatic (Kaiming for weights that feed a Ramp, else Xavier), Kaiming, "
                  "Xavier or Random (normal with standard deviation --scale)")
      ->capture_default_str();
  auto* scale = cmd->add_option("--scale", args->scale, "Standard deviation for --method Random")
                    ->capture_default_str();
  cmd->add_flag("--reinitialize", args->reinitialize,
                "Replace every array, also those already set");
  cmd->footer(
      "Weights are drawn by the method; Biases, Beta and MovingMean start at 0, Gamma\n"
      "and MovingVariance at 1. The same seed gives bit-identical arrays on every\n"
      "machine. Arrays already set are kept unless --reinitialize.\n\n"
      "Examples:\n"
      "  strata init net.json -o initialized.json\n"
      "  strata init net.json -o initialized.json --seed 7 --method Xavier\n"
      "  strata init trained.json -o fresh.json --reinitialize --method Random --scale 0.05");
  cmd->callback([args, scale] { run_init(*args, scale->count() > 0); });
}

}  // namespace strata::cli
