// strata extract NET PATH [-o OUT]: an array, an option's value or a layer of
// a net, by path (NetExtract).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/error.hpp"
#include "graph/extract.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/net_json.hpp"
#include "serialization/tensor_json.hpp"

namespace strata::cli {

namespace {

struct ExtractArgs {
  std::string net;
  std::string path;
  std::string output;
};

// An option's value or a layer is JSON; refuse a file name that says otherwise.
void check_json_output(const std::string& file, const std::string& what) {
  std::string suffix = std::filesystem::path(file).extension().string();
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (suffix == ".npy")
    throw Error("cannot write " + what + " as .npy; it is written as JSON (use a .json name)")
        .add_context(file);
  check_writable(file);
}

void run_extract(const ExtractArgs& args) {
  check_distinct_files({{"NET", args.net}}, {{"-o", args.output}});
  const auto net = load_net_file(args.net);
  NetPathKind kind;
  try {
    kind = net_path_kind(*net, args.path);
  } catch (Error& e) {
    throw e.add_context(args.net);
  }
  switch (kind) {
    case NetPathKind::Array: {
      if (!args.output.empty()) check_tensor_output(args.output);
      for (const auto& ref : net->all_arrays())
        if (ref.path == args.path && !ref.layer->arrays()[ref.index].value)
          throw Error(args.path + " is Automatic (not created yet): run `strata init " + args.net +
                      " -o OUT.json` first")
              .add_context(args.net);
      Tensor value;
      try {
        value = NetExtract(*net, args.path);
      } catch (Error& e) {
        throw e.add_context(args.net);
      }
      if (args.output.empty()) {
        std::cout << tensor_to_json_text(value) << "\n";
      } else {
        write_tensor_file(args.output, value);
        std::cout << "wrote " << args.output << " (" << args.path << ", shape "
                  << to_string(value.shape()) << ")\n";
      }
      return;
    }
    case NetPathKind::Option: {
      if (!args.output.empty()) check_json_output(args.output, "an option's value");
      const std::string text = NetExtractOption(*net, args.path).dump() + "\n";
      if (args.output.empty()) {
        std::cout << text;
      } else {
        write_file_atomically(args.output, text);
        std::cout << "wrote " << args.output << " (" << args.path << ")\n";
      }
      return;
    }
    case NetPathKind::Port: {
      if (!args.output.empty()) check_json_output(args.output, "a port's shape");
      const std::string text = NetExtractPortShape(*net, args.path).to_string() + "\n";
      if (args.output.empty()) {
        std::cout << text;
      } else {
        write_file_atomically(args.output, text);
        std::cout << "wrote " << args.output << " (" << args.path << ")\n";
      }
      return;
    }
    case NetPathKind::Layer: {
      if (!args.output.empty()) check_json_output(args.output, "a layer");
      const Layer& layer = NetExtractLayer(*net, args.path);
      if (args.output.empty()) {
        std::cout << net_to_json(layer).dump(1) << "\n";
      } else {
        save_net(args.output, layer);
        std::cout << "wrote " << args.output << " (" << args.path << ", a " << layer.type()
                  << " net file)\n";
      }
      return;
    }
  }
}

}  // namespace

void add_extract_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("extract", "Extract an array, an option or a layer by path");
  auto args = std::make_shared<ExtractArgs>();
  cmd->add_option("NET", args->net, "The net file (JSON)")->required()->type_name("FILE");
  cmd->add_option("PATH", args->path, "The path of an array, option or layer")->required();
  cmd->add_option("-o,--output", args->output,
                  "Where to write it (an array: .npy or .json; an option or layer: .json); "
                  "without it, JSON on standard output")
      ->type_name("FILE");
  cmd->footer(
      "A path is names joined by '/', layers also by their 1-based position:\n"
      "\"conv1/Weights\", \"2/Gamma\", \"block1/norm/Epsilon\", \"conv1/Output\" (a port's\n"
      "shape, printed as [16, 8, 8]), \"conv1\". An array is\n"
      "written as .npy or .json by the suffix of -o, or printed as JSON; an option's\n"
      "value is printed (or written) as JSON; a layer is written as a net file of its\n"
      "own. A path that does not exist is an error listing what there is.\n\n"
      "Examples:\n"
      "  strata extract trained.json conv1/Weights -o weights.npy\n"
      "  strata extract trained.json norm1/Gamma            (prints {\"shape\": ..., \"data\": "
      "...})\n"
      "  strata extract net.json norm1/Epsilon              (prints 1e-05)\n"
      "  strata extract net.json conv1/Output               (prints [16, 8, 8])\n"
      "  strata extract trained.json conv1 -o conv1.json    (a net file holding the layer)");
  cmd->callback([args] { run_extract(*args); });
}

}  // namespace strata::cli
