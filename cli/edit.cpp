// strata edit NET -o OUT [--take A:B] [--drop N] [--append SPEC] [--prepend SPEC]
//   [--replace PATH=SPEC] [--replace-array PATH=FILE] [--class-labels L]: net surgery
// (graph/surgery.hpp), the steps applied in the order given.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/error.hpp"
#include "graph/class_labels.hpp"
#include "graph/net_chain.hpp"
#include "graph/surgery.hpp"
#include "layers/registry.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/net_json.hpp"
#include "serialization/tensor_json.hpp"

namespace strata::cli {

namespace {

struct EditArgs {
  std::string net;
  std::string output;
  std::vector<std::string> take, drop, append, prepend, replace, replace_array, class_labels;
};

// "cat,dog,bird", or "@labels.txt" with one label a line; "" for none.
std::vector<std::string> parse_labels(const std::string& text) {
  std::vector<std::string> labels;
  if (text.empty()) return labels;
  const bool from_file = text.front() == '@';
  const std::string list = from_file ? read_file(text.substr(1)) : text;
  const char separator = from_file ? '\n' : ',';
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(separator, start), list.size());
    std::string label = list.substr(start, end - start);
    if (from_file && !label.empty() && label.back() == '\r') label.pop_back();
    // A file's last line may end in a newline.
    if (!(from_file && label.empty() && end == list.size())) labels.push_back(label);
    start = end + 1;
  }
  return labels;
}

// "LinearLayer Size=5 name=head": a type, then options as KEY=VALUE (VALUE as
// JSON when it parses, else a string: Function=Ramp, KernelSize=[3,3]), and
// the layer's name as name=NAME. Or the net file's layer object as JSON.
LayerEntry parse_layer(const std::string& spec) {
  nlohmann::json object;
  if (!spec.empty() && spec.front() == '{') {
    object = nlohmann::json::parse(spec, nullptr, false);
    if (!object.is_object()) throw Error("\"" + spec + "\": not a JSON object");
  } else {
    std::istringstream words(spec);
    std::string word;
    while (words >> word) {
      if (!object.contains("type")) {
        object["type"] = word;
        continue;
      }
      const size_t eq = word.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error("\"" + word + "\" in \"" + spec + "\": expected KEY=VALUE");
      const std::string text = word.substr(eq + 1);
      auto value = nlohmann::json::parse(text, nullptr, false);
      object[word.substr(0, eq)] = value.is_discarded() ? nlohmann::json(text) : value;
    }
  }
  if (!object.contains("type") || !object["type"].is_string())
    throw Error("\"" + spec + "\": expected a layer type, as in 'LinearLayer Size=5'");
  auto layer = make_layer(object["type"].get<std::string>());
  std::string name;
  for (const auto& [key, value] : object.items()) {
    if (key == "type") continue;
    if (key == "name") {
      if (!value.is_string()) throw Error("\"" + spec + "\": name: expected a string");
      name = value.get<std::string>();
      continue;
    }
    layer->set_option(key, value);
  }
  return {name, std::move(layer)};
}

const NetChain& chain(const Layer& net, const std::string& option) {
  const auto* c = dynamic_cast<const NetChain*>(&net);
  if (!c) throw Error(option + ": takes a NetChain; this net is a " + net.type());
  return *c;
}

int64_t integer(const std::string& text) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw Error("expected an integer, got \"" + text + "\"");
  return v;
}

void run_edit(const EditArgs& args, const CLI::App& cmd) {
  std::vector<FileRole> inputs{{"NET", args.net}};
  for (const auto& text : args.replace_array)
    if (const size_t eq = text.find('='); eq != std::string::npos)
      inputs.push_back({"--replace-array", text.substr(eq + 1)});
  for (const auto& labels : args.class_labels)
    if (!labels.empty() && labels.front() == '@')
      inputs.push_back({"--class-labels", labels.substr(1)});
  check_distinct_files(inputs, {{"-o", args.output}});
  std::unique_ptr<Layer> net = load_net(args.net);
  check_writable(args.output);
  SurgeryNotes notes;
  // The labels are for the net that comes out: dropping a head and appending
  // one of the same size keeps them, although the net between has another
  // Output. So they are set aside and given back at the end.
  std::vector<std::string> labels = class_labels(*net);
  if (!labels.empty()) dynamic_cast<Net&>(*net).set_class_labels({});
  bool labels_given = false;
  // The steps in command-line order: CLI11 records the order options came in.
  std::map<std::string, size_t> next;
  for (const CLI::Option* o : cmd.parse_order()) {
    const std::string option = o->get_name();
    const size_t i = next[option]++;
    try {
      if (option == "--take") {
        const std::string& range = args.take.at(i);
        const size_t colon = range.find(':');
        if (colon == std::string::npos)
          throw Error("expected START:END (1-based, negative from the end), got \"" + range + "\"");
        net =
            std::make_unique<NetChain>(NetTake(chain(*net, option), integer(range.substr(0, colon)),
                                               integer(range.substr(colon + 1)), &notes));
      } else if (option == "--drop") {
        net = std::make_unique<NetChain>(
            NetDrop(chain(*net, option), integer(args.drop.at(i)), &notes));
      } else if (option == "--append") {
        net = std::make_unique<NetChain>(
            NetAppend(chain(*net, option), {parse_layer(args.append.at(i))}, &notes));
      } else if (option == "--prepend") {
        net = std::make_unique<NetChain>(
            NetPrepend(chain(*net, option), {parse_layer(args.prepend.at(i))}, &notes));
      } else if (option == "--replace") {
        const auto [path, spec] = split_assignment(args.replace.at(i), option);
        LayerEntry entry = parse_layer(spec);
        if (!entry.name().empty()) throw Error("the replacement keeps the name of " + path);
        net = NetReplacePart(*net, path, *entry.release(), &notes);
      } else if (option == "--replace-array") {
        const auto [path, file] = split_assignment(args.replace_array.at(i), option);
        net = NetReplacePart(*net, path, read_tensor_file(file), &notes);
      } else if (option == "--class-labels") {
        auto* n = dynamic_cast<Net*>(net.get());
        if (!n) throw Error("a lone " + net->type() + " carries no class labels");
        n->set_class_labels(parse_labels(args.class_labels.at(i)));
        labels_given = true;
      }
    } catch (Error& e) {
      throw e.add_context(option).add_context(args.net);
    }
  }
  if (!labels_given && !labels.empty()) {
    try {
      dynamic_cast<Net&>(*net).set_class_labels(labels);
    } catch (const Error& e) {
      notes.push_back(e.message() + "; dropped the labels");
    }
  }
  save_net(args.output, *net);
  for (const auto& n : notes)
    std::cout << "note: " << n << "\n";
  const auto missing = net->missing_arrays();
  std::cout << "wrote " << args.output;
  if (const auto* n = dynamic_cast<const Net*>(net.get()))
    std::cout << " (" << n->size() << " layers, Output " << net->outputs()[0].shape.to_string()
              << ")";
  std::cout << "\n";
  if (!missing.empty()) {
    std::cout << "Automatic (created by strata init or strata train):";
    for (const auto& m : missing)
      std::cout << " " << m;
    std::cout << "\n";
  }
}

}  // namespace

void add_edit_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("edit", "Take, drop, append or replace layers and arrays");
  auto args = std::make_shared<EditArgs>();
  cmd->add_option("NET", args->net, "The net file (JSON)")->required()->type_name("FILE");
  cmd->add_option("-o,--output", args->output, "Where to write the edited net (JSON)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--take", args->take, "Keep layers START:END of a chain (1-based, inclusive)")
      ->type_name("START:END");
  cmd->add_option("--drop", args->drop,
                  "Drop the first N layers of a chain, or the last -N for N < 0")
      ->type_name("N")
      ->allow_extra_args(false);
  cmd->add_option("--append", args->append,
                  "Add a layer at the end of a chain: 'TYPE KEY=VALUE ... [name=NAME]'")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  cmd->add_option("--prepend", args->prepend, "Add a layer at the start of a chain (as --append)")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  cmd->add_option("--replace", args->replace,
                  "Replace the layer at PATH (a name, a position, block1/conv): PATH='SPEC'")
      ->type_name("PATH=SPEC")
      ->allow_extra_args(false);
  cmd->add_option("--replace-array", args->replace_array,
                  "Replace an array with a tensor file (.npy or .json): PATH=FILE")
      ->type_name("PATH=FILE")
      ->allow_extra_args(false);
  cmd->add_option("--class-labels", args->class_labels,
                  "Set the net's class labels, one per class of its Output: 'cat,dog,bird', "
                  "or @FILE with one label a line; '' removes them")
      ->type_name("LABELS")
      ->allow_extra_args(false);
  cmd->footer(
      "The steps run in the order given, each on the result of the one before; shapes\n"
      "are inferred again after each. An array that no longer fits (the layer after a\n"
      "replaced one gets more channels) is made Automatic, with a note on standard\n"
      "output; strata init or strata train creates it. A layer SPEC is a type and its\n"
      "options as KEY=VALUE (VALUE is JSON, or else a string), with name=NAME for its\n"
      "name, or the net file's JSON object for a layer. The class labels stay when the\n"
      "edited net's Output has as many classes (else a note says they were dropped).\n\n"
      "Examples:\n"
      "  strata edit trained.json -o body.json --drop -2\n"
      "  strata edit trained.json -o five.json --drop -2 --append 'LinearLayer Size=5 "
      "name=head' \\\n"
      "      --append SoftmaxLayer\n"
      "  strata edit net.json -o wider.json --replace 'conv1=ConvolutionLayer OutputChannels=32 "
      "KernelSize=3'\n"
      "  strata edit net.json -o part.json --take 1:4\n"
      "  strata edit net.json -o set.json --replace-array fc/Weights=w.npy\n"
      "  strata edit five.json -o labelled.json --class-labels five,six,seven,eight,nine");
  cmd->callback([args, cmd] { run_edit(*args, *cmd); });
}

}  // namespace strata::cli
