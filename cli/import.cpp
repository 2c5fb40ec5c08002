// strata import MODEL.onnx -o NET.json: an ONNX model as a strata net file.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/error.hpp"
#include "graph/summary.hpp"
#include "serialization/net_json.hpp"
#ifdef STRATA_HAS_ONNX
#include "onnx_io/import.hpp"
#endif

namespace strata::cli {

namespace {

struct ImportArgs {
  std::string model;
  std::string output;
  std::vector<std::string> input_shapes;  // NAME=d1,d2,…
};

// "x=3,224,224" -> {"x", {3, 224, 224}}.
std::pair<std::string, Dims> parse_input_shape(const std::string& text) {
  const auto [name, dims_text] = split_assignment(text, "--input-shape");
  Dims dims;
  size_t start = 0;
  while (start <= dims_text.size()) {
    const size_t comma = std::min(dims_text.find(',', start), dims_text.size());
    const std::string part = dims_text.substr(start, comma - start);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || v < 1)
      throw Error("--input-shape " + text + ": expected NAME=d1,d2,… with positive integers");
    dims.push_back(v);
    start = comma + 1;
  }
  return {name, dims};
}

void run_import(const ImportArgs& args) {
#ifdef STRATA_HAS_ONNX
  OnnxImportOptions options;
  for (const auto& s : args.input_shapes) {
    auto [name, dims] = parse_input_shape(s);
    options.input_shapes[name] = dims;
  }
  check_distinct_files({{"MODEL", args.model}}, {{"-o", args.output}});
  check_writable(args.output);
  const auto net = import_onnx(args.model, options);
  save_net(args.output, *net);
  std::cout << "imported " << args.model << ": " << net->type() << " of " << net->children().size()
            << " layers, " << net->all_arrays().size() << " arrays\nwrote " << args.output << "\n";
#else
  throw Error(args.model + ": strata was built without ONNX support (-DSTRATA_ONNX=OFF)");
#endif
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Convert an ONNX model (from PyTorch) to a net file");
  auto args = std::make_shared<ImportArgs>();
  cmd->add_option("MODEL", args->model, "The ONNX model (.onnx)")->required()->type_name("FILE");
  cmd->add_option("-o,--output", args->output, "Where to write the net (JSON)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--input-shape", args->input_shapes,
                  "Fix the dynamic dimensions of an input besides the batch: NAME=d1,d2,…")
      ->type_name("NAME=DIMS");
  cmd->footer(
      "The net keeps the model's weights; its layers are named after the ONNX nodes\n"
      "and its ports after the graph's inputs and outputs ('.', '/' and '#' become\n"
      "'_'). The first dimension of every input is the batch and stays free. Shape\n"
      "computations (Shape, Gather, Concat, … as PyTorch exports them) are folded\n"
      "into the layers' options. A node that cannot be imported is one line naming\n"
      "it, its op and opset, and what is supported; docs/onnx.md lists the ops.\n"
      "`strata info`, `apply`, `train` and `evaluate` also read MODEL.onnx directly.\n\n"
      "Examples:\n"
      "  strata import resnet.onnx -o resnet.json\n"
      "  strata import model.onnx -o net.json --input-shape input=3,224,224\n"
      "  strata apply model.onnx x.npy -o y.npy");
  cmd->callback([args] { run_import(*args); });
}

}  // namespace strata::cli
