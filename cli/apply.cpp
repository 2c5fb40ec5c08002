// strata apply NET INPUT -o OUTPUT: the net applied to a batch of examples in
// inference mode; tensors from and to .npy or JSON files.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/error.hpp"
#include "serialization/net_json.hpp"
#include "serialization/tensor_json.hpp"

namespace strata::cli {

namespace {

struct ApplyArgs {
  std::string net;
  std::string input;
  std::string output;
  std::vector<std::string> inputs;   // NAME=FILE
  std::vector<std::string> outputs;  // NAME=FILE
};

std::string port_names(const std::vector<Port>& ports) {
  std::string s;
  for (const auto& p : ports)
    s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

// The file for each port, from the positional file (single-port nets only)
// and the NAME=FILE options. Unnamed ports get an empty file name.
std::vector<std::string> files_by_port(const Layer& net, bool inputs, const std::string& single,
                                       const std::vector<std::string>& named,
                                       const std::string& net_file) {
  const auto& ports = inputs ? net.inputs() : net.outputs();
  const std::string what = inputs ? "input" : "output";
  const std::string option = inputs ? "--input" : "--output";
  std::vector<std::string> files(ports.size());
  if (!single.empty()) {
    if (!named.empty())
      throw Error("give the " + what + " either as " + (inputs ? "INPUT" : "-o FILE") +
                  " or with " + option + " NAME=FILE, not both");
    if (ports.size() != 1)
      throw Error("the net has " + std::to_string(ports.size()) + " " + what + "s (" +
                  port_names(ports) + "): name each with " + option + " NAME=FILE")
          .add_context(net_file);
    files[0] = single;
  }
  for (const auto& text : named) {
    // A bare FILE is fine where there is only one port.
    if (text.find('=') == std::string::npos && ports.size() == 1) {
      if (!files[0].empty()) throw Error(option + " " + ports[0].name + ": given twice");
      files[0] = text;
      continue;
    }
    const auto [name, file] = split_assignment(text, option);
    size_t i;
    try {
      i = inputs ? net.input_index(name) : net.output_index(name);
    } catch (Error& e) {
      throw e.add_context(net_file);
    }
    if (!files[i].empty()) throw Error(option + " " + name + ": given twice");
    files[i] = file;
  }
  return files;
}

// Reads the batch for input port i and checks it against the port's shape.
Tensor read_input(const Layer& net, size_t i, const std::string& file) {
  Tensor t = read_tensor_file(file);
  const Port& port = net.inputs()[i];
  const std::string port_text =
      "the net's input port \"" + port.name + "\" " + port.shape.to_string();
  if (port.shape.rank_known() && t.rank() != port.shape.rank() + 1) {
    std::string hint;
    if (t.rank() == port.shape.rank())
      hint = " (a single example needs a leading batch dimension of 1)";
    throw Error("a tensor of shape " + to_string(t.shape()) + " is not a batch of examples for " +
                port_text + ": expected rank " + std::to_string(port.shape.rank() + 1) +
                ", batch first" + hint)
        .add_context(file);
  }
  if (t.rank() == 0)
    throw Error("a scalar is not a batch of examples (the first dimension is the batch)")
        .add_context(file);
  const Dims example(t.shape().begin() + 1, t.shape().end());
  if (!fits(example, port.shape))
    throw Error("examples of shape " + to_string(example) + " do not fit " + port_text)
        .add_context(file);
  if (t.dim(0) == 0) throw Error("no examples (the batch dimension is 0)").add_context(file);
  return t;
}

void run_apply(const ApplyArgs& args) {
  auto net = load_net_file(args.net);
  const auto in_files = files_by_port(*net, true, args.input, args.inputs, args.net);
  const auto out_files = files_by_port(*net, false, args.output, args.outputs, args.net);
  for (size_t i = 0; i < in_files.size(); ++i)
    if (in_files[i].empty())
      throw Error(net->inputs().size() == 1
                      ? "no INPUT file given"
                      : "input port \"" + net->inputs()[i].name + "\" has no file (give --input " +
                            net->inputs()[i].name + "=FILE)")
          .add_context(args.net);
  bool any_output = false;
  for (const auto& f : out_files)
    if (!f.empty()) {
      check_tensor_output(f);
      any_output = true;
    }
  const bool to_stdout = !any_output && net->outputs().size() == 1;
  if (!any_output && !to_stdout)
    throw Error("the net has " + std::to_string(net->outputs().size()) + " outputs (" +
                port_names(net->outputs()) + "): name at least one with --output NAME=FILE")
        .add_context(args.net);
  require_initialized(*net, args.net);

  std::vector<Tensor> inputs;
  for (size_t i = 0; i < in_files.size(); ++i) {
    inputs.push_back(read_input(*net, i, in_files[i]));
    if (inputs[i].dim(0) != inputs[0].dim(0))
      throw Error(std::to_string(inputs[i].dim(0)) + " examples, but " + in_files[0] + " has " +
                  std::to_string(inputs[0].dim(0)))
          .add_context(in_files[i]);
    // What the net does not know yet of its input shape comes from the data;
    // a conflict found by inference is the data's fault.
    try {
      net->constrain_input(i, Shape(Dims(inputs[i].shape().begin() + 1, inputs[i].shape().end())));
      net->infer_shapes();
    } catch (Error& e) {
      throw e.add_context(in_files[i]);
    }
  }

  std::vector<Tensor> outputs(net->outputs().size());
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
  for (auto& t : inputs)
    in.push_back(&t);
  for (auto& t : outputs)
    out.push_back(&t);
  try {
    auto workspace = net->make_workspace();
    net->forward(in, out, workspace.get(), RunContext{});
  } catch (Error& e) {
    throw e.add_context(args.net);
  }

  if (to_stdout) {
    std::cout << tensor_to_json_text(outputs[0]) << "\n";
    return;
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!out_files[i].empty()) {
      write_tensor_file(out_files[i], outputs[i]);
      std::cout << "wrote " << out_files[i] << " (" << net->outputs()[i].name << ", shape "
                << to_string(outputs[i].shape()) << ")\n";
    }
}

}  // namespace

void add_apply_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("apply", "Apply a net to a batch of examples");
  auto args = std::make_shared<ApplyArgs>();
  cmd->add_option("NET", args->net, "The net file (JSON), with every array set")
      ->required()
      ->type_name("FILE");
  cmd->add_option("INPUT", args->input,
                  "The batch of inputs (.npy or .json), for a net with one input")
      ->type_name("FILE");
  cmd->add_option("-o", args->output,
                  "Where to write the outputs (.npy or .json), for a net with one output")
      ->type_name("FILE");
  cmd->add_option("--input", args->inputs,
                  "The batch for the net's input port NAME (repeat for each input; "
                  "a plain FILE for a net with one input)")
      ->type_name("NAME=FILE")
      ->allow_extra_args(false);
  cmd->add_option("--output", args->outputs,
                  "Where to write the net's output port NAME (repeat as needed; "
                  "outputs not named are not written; a plain FILE for a net with one output)")
      ->type_name("NAME=FILE")
      ->allow_extra_args(false);
  cmd->footer(
      "Inference mode: DropoutLayer is off, BatchNormalizationLayer uses its moving\n"
      "statistics. Tensors are .npy files (float32 or float64, C order) or JSON files\n"
      "{\"shape\": [...], \"data\": [...]}, chosen by the suffix, with the batch as the\n"
      "first dimension (a single example is a batch of 1). Without -o or --output the\n"
      "output is printed as JSON.\n\n"
      "Examples:\n"
      "  strata apply net.json images.npy -o probabilities.npy\n"
      "  strata apply net.json x.json                  (prints the output as JSON)\n"
      "  strata apply graph.json --input Image=img.npy --input Mask=mask.npy \\\n"
      "      --output Scores=scores.npy --output Features=features.json");
  cmd->callback([args] { run_apply(*args); });
}

}  // namespace strata::cli
