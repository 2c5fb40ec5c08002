#include "cli/datasets.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "graph/class_labels.hpp"
#include "serialization/csv.hpp"
#include "serialization/tensor_json.hpp"

namespace strata::cli {

namespace {

std::vector<std::string> g_notes;  // for take_notes()

// "3.5", "10", "-1e-07": no trailing zeros.
std::string number(double v) {
  if (std::isnan(v)) return "nan";  // never "-nan"
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

std::string suffix_of(const std::string& file) {
  std::string s = std::filesystem::path(file).extension().string();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The shape of one example with `features` values, from the net's Input.
Dims example_shape(const Shape& port, int64_t features, const std::string& file) {
  const std::string port_text = "the net's Input " + port.to_string();
  if (!port.rank_known()) return {features};
  if (port.fully_known()) {
    if (port.num_elements() != features)
      throw Error("rows have " + std::to_string(features) + " features (and a target), but " +
                  port_text + " takes " + std::to_string(port.num_elements()))
          .add_context(file);
    return port.dims();
  }
  // One unknown dimension is determined by the feature count.
  int64_t known = 1;
  size_t unknown = 0, at = 0;
  for (size_t i = 0; i < port.rank(); ++i) {
    if (port.dim_known(i)) {
      known *= port[i];
    } else {
      ++unknown;
      at = i;
    }
  }
  if (unknown > 1)
    throw Error("cannot reshape rows of " + std::to_string(features) + " features to " + port_text +
                " (declare the net's \"Input\" shape in full)")
        .add_context(file);
  if (features % known != 0)
    throw Error("rows have " + std::to_string(features) + " features, which " + port_text +
                " cannot take (not a multiple of " + std::to_string(known) + ")")
        .add_context(file);
  Dims dims = port.dims();
  dims[at] = features / known;
  return dims;
}

Dataset read_csv(const Layer& net, const DataFiles& files) {
  if (!files.targets.empty())
    throw Error(files.targets_option + ": only for tensor-file inputs; " + files.data +
                " is a CSV file, whose last column holds the targets");
  CsvDataset csv = read_csv_dataset(files.data, class_labels(net), files.header);
  if (csv.header_line && files.header == CsvHeader::Automatic) {
    // Said, since a header skipped by mistake is an example lost.
    std::string names;
    for (size_t i = 0; i < csv.column_names.size() && i < 3; ++i)
      names += (i ? ", " : "") + csv.column_names[i];
    if (csv.column_names.size() > 3) names += ", ...";
    g_notes.push_back("strata: " + files.data + ": line " + std::to_string(csv.header_line) +
                      " taken as a header (" + names + "); --header or --no-header to say");
  }
  const int64_t n = csv.inputs.dim(0);
  Dims shape = example_shape(net.inputs()[0].shape, csv.inputs.dim(1), files.data);
  shape.insert(shape.begin(), n);
  return {csv.inputs.reshaped(shape), std::move(csv.targets)};
}

Dataset read_tensors(const Layer& net, const DataFiles& files) {
  if (files.targets.empty())
    throw Error("inputs in a tensor file need their targets: give " + files.targets_option +
                " FILE (.npy or .json)")
        .add_context(files.data);
  Dataset data{read_tensor_file(files.data), read_tensor_file(files.targets)};
  const Shape& port = net.inputs()[0].shape;
  const Dims& shape = data.inputs.shape();
  if (data.inputs.rank() == 0 || (port.rank_known() && shape.size() != port.rank() + 1))
    throw Error("a tensor of shape " + to_string(shape) +
                " is not a batch of examples for the net's Input " + port.to_string() +
                " (expected rank " + std::to_string(port.rank() + 1) + ", batch first)")
        .add_context(files.data);
  const Dims example(shape.begin() + 1, shape.end());
  if (!fits(example, port))
    throw Error("examples of shape " + to_string(example) + " do not fit the net's Input " +
                port.to_string())
        .add_context(files.data);
  if (data.targets.rank() == 0 || data.targets.dim(0) != data.inputs.dim(0))
    throw Error((data.targets.rank() ? std::to_string(data.targets.dim(0)) : std::string("no")) +
                " targets, but " + files.data + " has " + std::to_string(data.inputs.dim(0)) +
                " examples")
        .add_context(files.targets);
  return data;
}

// "[2, 0, 3]": the NumPy index of a flat position in a tensor.
std::string index_of(const Dims& shape, int64_t flat) {
  Dims index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return to_string(index);
}

// Where a value of the dataset is, for messages: the CSV's example (its row
// among the data rows) and column, or the tensor file and the element.
std::string where_in(const DataFiles& files, const Tensor& t, bool targets, int64_t flat) {
  const int64_t row = t.dim(0) ? t.size() / t.dim(0) : 1;
  const std::string example = "example " + std::to_string(flat / row + 1);
  if (files.targets.empty())
    return files.data + ": " + example + ", column " +
           std::to_string(targets ? row + 1 : flat % row + 1);
  return (targets ? files.targets + ": targets" : files.data + ": inputs") +
         index_of(t.shape(), flat) + " (" + example + ")";
}

// Training data must be finite: a NaN would only show as a NaN loss, blamed
// on the net.
void check_finite(const DataFiles& files, const Tensor& t, bool targets) {
  const float* v = t.data();
  for (int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(v[i]))
      throw Error(where_in(files, t, targets, i) + " is " + number(v[i]) +
                  "; the data must be finite");
}

}  // namespace

std::vector<std::string> take_notes() {
  return std::exchange(g_notes, {});
}

void add_csv_header_flags(CLI::App& cmd, std::vector<DataFiles*> files) {
  auto set = [files](CsvHeader h) {
    for (DataFiles* f : files)
      f->header = h;
  };
  auto* header = cmd.add_flag_callback(
      "--header", [set] { set(CsvHeader::Present); },
      "The first row of each CSV file is a header (by default it is when none of its cells is "
      "a number)");
  cmd.add_flag_callback(
         "--no-header", [set] { set(CsvHeader::Absent); }, "The first row of each CSV file is data")
      ->excludes(header);
}

Dataset read_dataset(Layer& net, const DataFiles& files, double input_scale) {
  if (net.inputs().size() != 1 || net.outputs().size() != 1)
    throw Error(
        "training and evaluation need a net with one input and one output; this one "
        "has " +
        std::to_string(net.inputs().size()) + " and " + std::to_string(net.outputs().size()));
  const std::string suffix = suffix_of(files.data);
  Dataset data;
  if (suffix == ".csv")
    data = read_csv(net, files);
  else if (suffix == ".npy" || suffix == ".json")
    data = read_tensors(net, files);
  else
    throw Error("unknown data file type " +
                (suffix.empty() ? std::string("(no suffix)") : "\"" + suffix + "\"") +
                "; expected .csv, or .npy/.json inputs with " + files.targets_option)
        .add_context(files.data);
  if (data.size() == 0) throw Error("no examples").add_context(files.data);
  check_finite(files, data.inputs, false);
  check_finite(files, data.targets, true);
  if (!std::isfinite(input_scale)) throw Error("--input-scale: expected a finite number");
  if (input_scale != 1) {
    float* v = data.inputs.data();
    for (int64_t i = 0; i < data.inputs.size(); ++i) {
      const auto scaled = static_cast<float>(v[i] * input_scale);
      if (!std::isfinite(scaled))
        throw Error("--input-scale " + number(input_scale) + ": " +
                    where_in(files, data.inputs, false, i) + " is " + number(v[i]) +
                    ", which this scale makes " + number(scaled) + " (beyond float32's range)");
      v[i] = scaled;
    }
  }
  try {
    const Dims& shape = data.inputs.shape();
    net.constrain_input(0, Shape(Dims(shape.begin() + 1, shape.end())));
    net.infer_shapes();
  } catch (Error& e) {
    throw e.add_context(files.data);
  }
  return data;
}

void check_targets(const Layer& net, const Dataset& data, LossFunction loss,
                   const DataFiles& files) {
  const std::string& file = files.targets.empty() ? files.data : files.targets;
  const Shape& out = net.outputs()[0].shape;
  if (loss == LossFunction::CrossEntropy) {
    if (data.targets.rank() != 1)
      throw Error("targets of shape " + to_string(data.targets.shape()) +
                  ": CrossEntropy takes one class index per example (shape [N])")
          .add_context(file);
    const int64_t classes = out.fully_known() ? out.num_elements() : 0;
    for (int64_t i = 0; i < data.targets.size(); ++i) {
      const float t = data.targets[i];
      if (t != std::floor(t) || t < 0 || (classes && t >= static_cast<float>(classes)))
        throw Error("example " + std::to_string(i + 1) + ": target " + number(t) +
                    " is not a class index " +
                    (classes ? "from 0 to " + std::to_string(classes - 1) + " (the net's Output " +
                                   out.to_string() + ")"
                             : std::string("(an integer of 0 or more)")) +
                    "; use --loss MeanSquared for values")
            .add_context(file);
    }
    return;
  }
  if (!out.fully_known()) return;  // the loss checks it, once the output is known
  const Dims per_example(data.targets.shape().begin() + 1, data.targets.shape().end());
  if (per_example != out.dims() && !(per_example.empty() && out.num_elements() == 1))
    throw Error("targets of shape " + to_string(per_example) +
                " per example do not match the net's Output " + out.to_string() +
                " (MeanSquared compares them element by element)")
        .add_context(file);
}

}  // namespace strata::cli
