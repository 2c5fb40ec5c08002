// strata evaluate NET --data DATA: the loss on a dataset and, for a
// classifier, the accuracy and the confusion matrix (evaluate()).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/datasets.hpp"
#include "cli/files.hpp"
#include "cli/validators.hpp"
#include "core/error.hpp"
#include "graph/class_labels.hpp"
#include "serialization/net_json.hpp"
#include "train/net_train.hpp"

namespace strata::cli {

namespace {

// Larger confusion matrices are too wide to read on a terminal.
constexpr size_t kMaxConfusionClasses = 30;

struct EvaluateArgs {
  std::string net;
  DataFiles data;
  std::string loss;
  double input_scale = 1;
  int64_t batch_size = 256;
};

std::string format(const char* pattern, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, v);
  return buffer;
}

// Rows and columns are named by the net's class labels, else by index.
void print_confusion(const std::vector<std::vector<int64_t>>& confusion,
                     const std::vector<std::string>& labels) {
  const size_t k = confusion.size();
  if (k > kMaxConfusionClasses) {
    std::cout << "confusion matrix: not shown for " << k << " classes\n";
    return;
  }
  auto name = [&](size_t c) { return labels.size() == k ? labels[c] : std::to_string(c); };
  size_t width = 0;
  for (size_t c = 0; c < k; ++c)
    width = std::max(width, name(c).size());
  for (const auto& row : confusion)
    for (int64_t v : row)
      width = std::max(width, std::to_string(v).size());
  auto cell = [&](const std::string& s) { return std::string(width + 2 - s.size(), ' ') + s; };
  std::cout << "confusion matrix (rows: target class, columns: predicted class)\n";
  std::cout << std::string(width, ' ');
  for (size_t c = 0; c < k; ++c)
    std::cout << cell(name(c));
  std::cout << "\n";
  for (size_t r = 0; r < k; ++r) {
    const std::string label = name(r);
    std::cout << std::string(width - label.size(), ' ') << label;
    for (int64_t v : confusion[r])
      std::cout << cell(std::to_string(v));
    std::cout << "\n";
  }
}

void run_evaluate(const EvaluateArgs& args) {
  auto net = load_net_file(args.net);
  require_initialized(*net, args.net);
  LossFunction loss = default_loss(*net);
  if (!args.loss.empty()) {
    try {
      loss = parse_loss_function(args.loss);
    } catch (Error& e) {
      throw e.add_context("--loss");
    }
  }
  const Dataset data = read_dataset(*net, args.data, args.input_scale);
  check_targets(*net, data, loss, args.data);
  Evaluation ev;
  try {
    ev = evaluate(*net, data, loss, args.batch_size);
  } catch (Error& e) {
    throw e.add_context(args.net);
  }
  // Never silent: a NaN or infinite output makes the loss so.
  if (ev.non_finite)
    std::cerr << "warning: " << args.data.data << ": example " << ev.first_non_finite + 1 << " of "
              << ev.examples << " gives NaN or infinity in the net's output"
              << (ev.non_finite > 1 ? " (" + std::to_string(ev.non_finite) + " examples in all)"
                                    : std::string())
              << "; the loss and accuracy count them\n";
  std::cout << "examples  " << ev.examples << "\n";
  std::cout << "loss      " << format("%.6g", ev.loss) << " (" << loss_function_name(loss) << ")\n";
  if (ev.accuracy) {
    int64_t correct = 0;
    for (size_t i = 0; i < ev.confusion.size(); ++i)
      correct += ev.confusion[i][i];
    std::cout << "accuracy  " << format("%.2f", 100 * *ev.accuracy) << "% (" << correct << " of "
              << ev.examples << ")\n";
    print_confusion(ev.confusion, class_labels(*net));
  }
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "Score a net on a dataset: loss, accuracy");
  auto args = std::make_shared<EvaluateArgs>();
  cmd->add_option("NET", args->net, "The net file (JSON), with every array set")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--data", args->data.data, "The data: .csv, or .npy/.json inputs")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--targets", args->data.targets,
                  "The targets (.npy or .json, batch first) for tensor-file --data")
      ->type_name("FILE");
  add_csv_header_flags(*cmd, {&args->data});
  cmd->add_option("--loss", args->loss,
                  "CrossEntropy or MeanSquared [CrossEntropy for a net ending in SoftmaxLayer, "
                  "else MeanSquared]");
  cmd->add_option("--input-scale", args->input_scale,
                  "Multiply every input value by this (as in training)")
      ->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Examples per forward pass")
      ->capture_default_str()
      ->check(positive_integer());
  cmd->footer(
      "Inference mode. Prints the mean loss and, for a classifier (CrossEntropy), the\n"
      "accuracy and the confusion matrix. The data is given as for `strata train`; for\n"
      "a net with ClassLabels, CSV targets may be labels, and the matrix is labelled.\n\n"
      "Examples:\n"
      "  strata evaluate trained.json --data test.csv\n"
      "  strata evaluate trained.json --data test.csv --input-scale 0.0625\n"
      "  strata evaluate trained.json --data x.npy --targets y.npy --loss MeanSquared");
  cmd->callback([args] { run_evaluate(*args); });
}

}  // namespace strata::cli
