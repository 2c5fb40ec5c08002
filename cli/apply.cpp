// strata apply NET INPUT -o OUTPUT: the net applied to a batch of examples in
// inference mode; tensors from and to .npy or JSON files.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "cli/validators.hpp"
#include "core/error.hpp"
#include "graph/class_labels.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/net_json.hpp"
#include "serialization/npy.hpp"
#include "serialization/tensor_json.hpp"

namespace strata::cli {

namespace {

struct ApplyArgs {
  std::string net;
  std::string input;
  std::string output;
  std::vector<std::string> inputs;   // NAME=FILE
  std::vector<std::string> outputs;  // NAME=FILE
  bool decode = false;               // the top class's label per example
  int64_t top = 0;                   // the top classes with probabilities (0: none)
  int64_t batch_size = 256;          // examples per forward pass
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
// One example without the batch dimension (rank one less than a batch, as
// net(x) takes it in C++) is made a batch of one, and `one_example` set.
Tensor read_input(const Layer& net, size_t i, const std::string& file, bool& one_example) {
  Tensor t = read_tensor_file(file);
  const Port& port = net.inputs()[i];
  const std::string port_text =
      "the net's input port \"" + port.name + "\" " + port.shape.to_string();
  one_example = port.shape.rank_known() && t.rank() == port.shape.rank() && t.rank() > 0;
  if (one_example) {
    if (!fits(t.shape(), port.shape))
      throw Error("an example of shape " + to_string(t.shape()) + " does not fit " + port_text)
          .add_context(file);
    Dims batch = t.shape();
    batch.insert(batch.begin(), 1);
    return t.reshaped(batch);
  }
  if (port.shape.rank_known() && t.rank() != port.shape.rank() + 1)
    throw Error("a tensor of shape " + to_string(t.shape()) + " is not an example nor a batch of " +
                "examples for " + port_text + ": expected rank " +
                std::to_string(port.shape.rank()) + " (one example) or " +
                std::to_string(port.shape.rank() + 1) + " (a batch, batch first)")
        .add_context(file);
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

// A probability as the decision lines show it: 6 significant digits.
std::string probability_text(float p) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", static_cast<double>(p));
  return buffer;
}

// --decode: one label a line; --top K: one JSON object a line, the K most
// likely labels with their probabilities, most likely first.
std::string decision_text(const Tensor& output, const std::vector<std::string>& labels,
                          int64_t top) {
  std::string text;
  if (top == 0) {
    for (const auto& label : decode_class(output, labels))
      text += label + "\n";
    return text;
  }
  for (const auto& classes : decode_top_classes(output, labels, top)) {
    text += "{";
    for (size_t r = 0; r < classes.size(); ++r)
      text += (r ? ", " : "") + nlohmann::json(classes[r].label).dump() + ": " +
              probability_text(classes[r].probability);
    text += "}\n";
  }
  return text;
}

// Which examples of an output hold NaN or infinity: how many, and the first.
struct NonFinite {
  int64_t count = 0;
  int64_t first = -1;  // from 0

  void scan(const Tensor& y, int64_t examples, int64_t offset) {
    const int64_t row = examples ? y.size() / examples : 0;
    for (int64_t e = 0; e < examples; ++e) {
      const float* v = y.data() + e * row;
      if (std::all_of(v, v + row, [](float x) { return std::isfinite(x); })) continue;
      if (count++ == 0) first = offset + e;
    }
  }
  // "example 3 of 5 gives NaN or infinity in the output "Output" (2 in all)",
  // counting from 1 as the other messages do.
  std::string describe(int64_t examples, const std::string& port) const {
    return "example " + std::to_string(first + 1) + " of " + std::to_string(examples) +
           " gives NaN or infinity in the output \"" + port + "\"" +
           (count > 1 ? " (" + std::to_string(count) + " examples in all)" : std::string());
  }
};

bool is_npy(const std::string& file) {
  std::string suffix = std::filesystem::path(file).extension().string();
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return suffix == ".npy";
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
  const bool decide = args.decode || args.top > 0;
  if (args.decode && args.top > 0) throw Error("--decode and --top: give one of them");
  if (decide && net->outputs().size() != 1)
    throw Error(std::string(args.decode ? "--decode" : "--top") + ": the net has " +
                std::to_string(net->outputs().size()) + " outputs (" + port_names(net->outputs()) +
                "); class decisions need a net with one")
        .add_context(args.net);
  {
    std::vector<FileRole> in{{"NET", args.net}}, out;
    const bool one_in = net->inputs().size() == 1, one_out = net->outputs().size() == 1;
    for (size_t i = 0; i < in_files.size(); ++i)
      in.push_back({one_in ? "INPUT" : "--input " + net->inputs()[i].name, in_files[i]});
    for (size_t i = 0; i < out_files.size(); ++i)
      out.push_back({one_out ? "-o" : "--output " + net->outputs()[i].name, out_files[i]});
    check_distinct_files(in, out);
  }
  bool any_output = false;
  for (const auto& f : out_files)
    if (!f.empty()) {
      if (decide) {
        if (std::filesystem::path(f).extension() == ".npy")
          throw Error("the labels of --decode and --top are text: not a .npy file").add_context(f);
        check_writable(f);
      } else {
        check_tensor_output(f);
      }
      any_output = true;
    }
  const bool to_stdout = !any_output && net->outputs().size() == 1;
  if (!any_output && !to_stdout)
    throw Error("the net has " + std::to_string(net->outputs().size()) + " outputs (" +
                port_names(net->outputs()) + "): name at least one with --output NAME=FILE")
        .add_context(args.net);
  require_initialized(*net, args.net);

  std::vector<Tensor> inputs;
  bool one_example = false;
  for (size_t i = 0; i < in_files.size(); ++i) {
    bool one = false;
    inputs.push_back(read_input(*net, i, in_files[i], one));
    if (i > 0 && one != one_example)
      throw Error(std::string(one ? "one example without the batch dimension" : "a batch") +
                  ", but " + in_files[0] + " is " +
                  (one_example ? "one example without it" : "a batch") + ": give both alike")
          .add_context(in_files[i]);
    one_example = one;
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

  // In batches, each output written as it comes (the header first: the count
  // is known), so that memory does not grow with the examples beyond the
  // inputs and the outputs' text: 200000 digits once took 8.3 GB.
  const int64_t n = inputs[0].dim(0);
  const size_t ports = net->outputs().size();
  std::vector<std::unique_ptr<AtomicFileWriter>> writers(ports);
  std::vector<std::string> text(ports);  // JSON or decision lines not yet written
  std::vector<NonFinite> bad(ports);
  std::vector<Dims> shapes(ports);
  std::vector<Tensor> batch_in(inputs.size()), batch_out(ports);
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
  for (auto& t : batch_in)
    in.push_back(&t);
  for (auto& t : batch_out)
    out.push_back(&t);
  const auto labels = decide ? class_labels(*net) : std::vector<std::string>{};
  auto workspace = net->make_workspace();
  for (int64_t start = 0; start < n; start += args.batch_size) {
    const int64_t count = std::min(args.batch_size, n - start);
    for (size_t i = 0; i < inputs.size(); ++i) {
      Dims shape = inputs[i].shape();
      const int64_t row = inputs[i].size() / n;
      shape[0] = count;
      batch_in[i].resize(shape);
      std::copy_n(inputs[i].data() + start * row, count * row, batch_in[i].data());
    }
    try {
      net->forward(in, out, workspace.get(), RunContext{});
    } catch (Error& e) {
      throw e.add_context(args.net);
    }
    for (size_t k = 0; k < ports; ++k) {
      const Tensor& y = batch_out[k];
      if (start == 0) {
        shapes[k] = y.shape();
        shapes[k][0] = n;
        if (one_example) shapes[k].erase(shapes[k].begin());
      }
      if (out_files[k].empty() && !to_stdout) continue;
      const bool npy = !decide && !to_stdout && is_npy(out_files[k]);
      if (start == 0) {
        if (!to_stdout) writers[k] = std::make_unique<AtomicFileWriter>(out_files[k]);
        if (npy) writers[k]->write(npy_header(shapes[k]));
        if (!decide && !npy) text[k] = json_tensor_prefix(shapes[k]);
      }
      const int64_t row = y.size() / count;
      bad[k].scan(y, count, start);
      if (npy) {
        // .npy rows are little-endian float32, as npy_header says.
        if constexpr (std::endian::native == std::endian::little) {
          writers[k]->write(std::string_view(reinterpret_cast<const char*>(y.data()),
                                             static_cast<size_t>(y.size()) * sizeof(float)));
        } else {
          std::string bytes(static_cast<size_t>(y.size()) * sizeof(float), '\0');
          for (int64_t i = 0; i < y.size(); ++i)
            for (int b = 0; b < 4; ++b)
              bytes[4 * i + b] =
                  static_cast<char>((std::bit_cast<uint32_t>(y[i]) >> (8 * b)) & 0xff);
          writers[k]->write(bytes);
        }
      } else if (decide) {
        text[k] += decision_text(y, labels, args.top);
      } else if (bad[k].count == 0) {
        if (start > 0) text[k] += ',';
        append_json_numbers(text[k], y.values(), "", start * row);
      }
      // Text is written as it grows, not kept; standard output is printed at
      // the end, so that a failure prints nothing.
      if (!npy && !to_stdout && (decide || bad[k].count == 0) &&
          text[k].size() > (size_t{1} << 20)) {
        writers[k]->write(text[k]);
        text[k].clear();
      }
    }
  }

  // Never silent about NaN or infinity: JSON cannot hold them (an error,
  // nothing written); .npy files and class decisions are written, with a
  // warning. Both name the input file and the first such example.
  std::string inputs_named = in_files[0];
  for (size_t i = 1; i < in_files.size(); ++i)
    inputs_named += " and " + in_files[i];
  for (size_t k = 0; k < ports; ++k) {
    if (bad[k].count == 0 || (out_files[k].empty() && !to_stdout)) continue;
    const std::string what = bad[k].describe(n, net->outputs()[k].name);
    if (!decide && (to_stdout || !is_npy(out_files[k])))
      throw Error(what + ", which JSON cannot hold (write a .npy file to keep them)")
          .add_context(inputs_named);
    std::cerr << "warning: " << inputs_named << ": " << what
              << (decide ? "; its classes are meaningless"
                         : "; written to " + out_files[k] + " as they are")
              << "\n";
  }

  if (one_example) {
    // Said on stderr, so that stdout holds the output alone.
    std::string shape_list;
    for (size_t k = 0; k < ports; ++k)
      shape_list += std::string(k ? ", " : "") + (ports > 1 ? net->outputs()[k].name + " " : "") +
                    to_string(shapes[k]);
    std::cerr << "one example of shape "
              << to_string(Dims(inputs[0].shape().begin() + 1, inputs[0].shape().end()))
              << ": output " << shape_list << " (no batch dimension)\n";
  }
  for (size_t k = 0; k < ports; ++k) {
    if (out_files[k].empty() && !to_stdout) continue;
    const bool npy = !decide && !to_stdout && is_npy(out_files[k]);
    if (!decide && !npy) text[k] += "]}";
    if (to_stdout) {
      std::cout << text[k] << (decide ? "" : "\n");
      continue;
    }
    if (!npy) writers[k]->write(decide ? text[k] : text[k] + "\n");
    writers[k]->commit();
    if (decide)
      std::cout << "wrote " << out_files[k] << " ("
                << (args.decode ? "the decision"
                                : "the top " + std::to_string(args.top) + " classes")
                << " for " << (one_example ? 1 : n)
                << (one_example || n == 1 ? " example" : " examples") << ")\n";
    else
      std::cout << "wrote " << out_files[k] << " (" << net->outputs()[k].name << ", shape "
                << to_string(shapes[k]) << ")\n";
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
  cmd->add_option("--batch-size", args->batch_size,
                  "Examples per forward pass (the output does not depend on it)")
      ->capture_default_str()
      ->check(positive_integer());
  cmd->add_flag("--decode", args->decode,
                "Print (or write with -o) the most likely class of each example: its label "
                "from the net's ClassLabels, else its index");
  cmd->add_option("--top", args->top,
                  "Print (or write with -o) the K most likely classes of each example with "
                  "their probabilities, one JSON object a line")
      ->type_name("K")
      ->check(positive_integer());
  cmd->footer(
      "Inference mode: DropoutLayer is off, BatchNormalizationLayer uses its moving\n"
      "statistics. Tensors are .npy files (float32 or float64, C order) or JSON files\n"
      "{\"shape\": [...], \"data\": [...]}, chosen by the suffix, with the batch as the\n"
      "first dimension; one example may also come without it (the output then has\n"
      "none either, and a line on stderr says so). Without -o or --output the output\n"
      "is printed as JSON. --decode and --top give classes instead of probabilities:\n"
      "labels from the net's ClassLabels, else class indices.\n\n"
      "Examples:\n"
      "  strata apply net.json images.npy -o probabilities.npy\n"
      "  strata apply net.json x.json                  (prints the output as JSON)\n"
      "  strata apply classifier.json images.npy --decode\n"
      "  strata apply classifier.json image.npy --top 3\n"
      "  strata apply graph.json --input Image=img.npy --input Mask=mask.npy \\\n"
      "      --output Scores=scores.npy --output Features=features.json");
  cmd->callback([args] { run_apply(*args); });
}

}  // namespace strata::cli
