// strata export NET.json -o MODEL.onnx [--opset 13..17]: a net as an ONNX model.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/error.hpp"
#ifdef STRATA_HAS_ONNX
#include "onnx_io/export.hpp"
#endif

namespace strata::cli {

namespace {

struct ExportArgs {
  std::string net;
  std::string output;
  int opset = 17;
};

void run_export(const ExportArgs& args) {
#ifdef STRATA_HAS_ONNX
  check_distinct_files({{"NET", args.net}}, {{"-o", args.output}});
  check_writable(args.output);
  const auto net = load_net_file(args.net);
  try {
    export_onnx(*net, args.output, {.opset = args.opset});
  } catch (Error& e) {
    e.add_context(args.net);
    throw;
  }
  std::cout << "exported " << args.net << " (" << net->type() << ", opset " << args.opset
            << ")\nwrote " << args.output << "\n";
#else
  throw Error(args.net + ": strata was built without ONNX support (-DSTRATA_ONNX=OFF)");
#endif
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Write a net as an ONNX model (for ONNX Runtime)");
  auto args = std::make_shared<ExportArgs>();
  cmd->add_option("NET", args->net, "The net (JSON or .onnx)")->required()->type_name("FILE");
  cmd->add_option("-o,--output", args->output, "Where to write the model (.onnx)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--opset", args->opset, "The ONNX opset (default 17)")
      ->check(CLI::Range(13, 17))
      ->type_name("13..17");
  cmd->footer(
      "The model's inputs and outputs are named after the net's ports, with a free\n"
      "batch dimension N; nodes are named after layer paths and initializers after\n"
      "array paths (conv1/Weights). Dropout is exported as an Identity and\n"
      "BatchNormalization with its moving statistics. A net with Automatic arrays\n"
      "(run strata init first) or a layer ONNX cannot express is refused with one\n"
      "line naming the layer; nothing is written then. docs/onnx.md has the table.\n\n"
      "Examples:\n"
      "  strata export net.json -o model.onnx\n"
      "  strata export net.json -o model.onnx --opset 13");
  cmd->callback([args] { run_export(*args); });
}

}  // namespace strata::cli
