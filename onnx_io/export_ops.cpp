// One mapping per strata layer type: the ONNX nodes (opset 13 to 17) that
// compute what the layer computes in inference. Options are read from the
// layer's options() (the net-file keys); arrays become initializers named by
// their path. docs/onnx.md has the table.
#include <nlohmann/json.hpp>

#include <cmath>
#include <numeric>

#include "onnx_io/export_ops.hpp"

namespace strata::onnx_io {

namespace {

using Json = nlohmann::json;
using Names = std::vector<std::string>;

Json option(const LayerCall& c, const std::string& key) {
  const Json opts = c.layer.options();
  if (!opts.contains(key)) refuse(c, "option " + key + " is missing");
  return opts.at(key);
}

Json option_or(const LayerCall& c, const std::string& key, Json fallback);

// A SpatialSizes option (a number or a list) for `rank` spatial dimensions.
// PoolingLayer's Dilation, shown only when not 1, defaults to 1.
std::vector<int64_t> spatial(const LayerCall& c, const std::string& key, size_t rank) {
  const Json v = key == "Dilation" ? option_or(c, key, 1) : option(c, key);
  if (v.is_number()) return std::vector<int64_t>(rank, v.get<int64_t>());
  auto list = v.get<std::vector<int64_t>>();
  if (list.size() == 1 && rank > 1) list.assign(rank, list[0]);
  if (list.size() != rank) refuse(c, key + ": expected " + std::to_string(rank) + " values");
  return list;
}

// A PaddingSize option as ONNX pads: all befores, then all afters.
std::vector<int64_t> pads(const LayerCall& c, const std::string& key, size_t rank) {
  const Json v = option(c, key);
  std::vector<int64_t> before(rank), after(rank);
  if (v.is_number()) {
    before.assign(rank, v.get<int64_t>());
    after = before;
  } else {
    if (v.size() != rank) refuse(c, key + ": expected " + std::to_string(rank) + " entries");
    for (size_t d = 0; d < rank; ++d) {
      if (v[d].is_number()) {
        before[d] = after[d] = v[d].get<int64_t>();
      } else {
        before[d] = v[d].at(0).get<int64_t>();
        after[d] = v[d].at(1).get<int64_t>();
      }
    }
  }
  before.insert(before.end(), after.begin(), after.end());
  return before;
}

const Tensor& array(const LayerCall& c, const std::string& name) {
  const Tensor* t = c.layer.array(name);
  if (!t) refuse(c, "array " + name + " is Automatic");
  return *t;
}

std::string array_init(Emitter& e, const LayerCall& c, const std::string& name) {
  return e.initializer(c.path + "/" + name, array(c, name));
}

// A single node of `op` on the layer's inputs, giving its Output.
Names single(Emitter& e, const LayerCall& c, const std::string& op, Names inputs,
             const Attributes& attrs = {}) {
  return {e.node(c.path, op, std::move(inputs), attrs, c.output_name())};
}

// ---- Normalization

Names instance_normalization(Emitter& e, const LayerCall& c) {
  return single(e, c, "InstanceNormalization",
                {c.inputs[0], array_init(e, c, "Gamma"), array_init(e, c, "Beta")},
                {attr("epsilon", option(c, "Epsilon").get<double>())});
}

Names batch_normalization(Emitter& e, const LayerCall& c) {
  return single(e, c, "BatchNormalization",
                {c.inputs[0], array_init(e, c, "Gamma"), array_init(e, c, "Beta"),
                 array_init(e, c, "MovingMean"), array_init(e, c, "MovingVariance")},
                {attr("epsilon", option(c, "Epsilon").get<double>()),
                 attr("momentum", option(c, "Momentum").get<double>())});
}

Names local_response_normalization(Emitter& e, const LayerCall& c) {
  const int64_t n = option(c, "ChannelWindowSize").get<int64_t>();
  const Attributes a{attr("size", 2 * n + 1), attr("alpha", option(c, "Alpha").get<double>()),
                     attr("beta", option(c, "Beta").get<double>()),
                     attr("bias", option(c, "Bias").get<double>())};
  if (c.in_dims().size() == 3) return single(e, c, "LRN", {c.inputs[0]}, a);
  // ONNX Runtime's LRN takes 4-D tensors only: the positions as [N, C, P, 1]
  // (the window runs along the channels at each position).
  const Dims& d = c.in_dims();
  const int64_t positions =
      std::accumulate(d.begin() + 1, d.end(), int64_t{1}, std::multiplies<>());
  const auto flat = e.node(c.path, "Reshape",
                           {c.inputs[0], e.ints(c.path + "/Shape4D", {0, d[0], positions, 1})});
  const auto lrn = e.node(c.path, "LRN", {flat}, a);
  std::vector<int64_t> back{0};
  back.insert(back.end(), d.begin(), d.end());
  return single(e, c, "Reshape", {lrn, e.ints(c.path + "/Shape", back)});
}

// ---- Convolution and pooling

Attributes window_attrs(const LayerCall& c, size_t rank, bool dilation) {
  Attributes a{attr("kernel_shape", spatial(c, "KernelSize", rank)),
               attr("strides", spatial(c, "Stride", rank)),
               attr("pads", pads(c, "PaddingSize", rank))};
  if (dilation) a.push_back(attr("dilations", spatial(c, "Dilation", rank)));
  return a;
}

Names convolution(Emitter& e, const LayerCall& c, const std::string& op) {
  const size_t rank = c.in_dims().size() - 1;
  Attributes a = window_attrs(c, rank, true);
  a.push_back(attr("group", option(c, "ChannelGroups").get<int64_t>()));
  if (op == "ConvTranspose") a.push_back(attr("output_padding", spatial(c, "OutputPadding", rank)));
  Names in{c.inputs[0], array_init(e, c, "Weights")};
  for (const auto& slot : c.layer.arrays())
    if (slot.name == "Biases") in.push_back(array_init(e, c, "Biases"));
  return single(e, c, op, in, a);
}

// An option that a layer shows only away from its default (PoolingLayer's
// Dilation and Rounding), or the default.
Json option_or(const LayerCall& c, const std::string& key, Json fallback) {
  const Json opts = c.layer.options();
  return opts.contains(key) ? opts.at(key) : fallback;
}

// Rounding "Ceiling" in ONNX terms. Per dimension, strata's window count is
// floor's or one more; where it is one more, ONNX's ceil_mode gives the same
// count (PyTorch's rule of dropping a last window that would start past the
// input only ever brings the count back to floor's). So: no dimension gains a
// window: floor (no ceil_mode); some do: ceil_mode 1, unless another dimension
// drops one (ceil_mode would add it back there). `extra` gets, per dimension,
// the padding after that makes floor's count strata's.
bool pooling_ceil_mode(const LayerCall& c, size_t rank, std::vector<int64_t>& extra) {
  extra.assign(rank, 0);
  if (option_or(c, "Rounding", "Floor") != "Ceiling") return false;
  const auto k = spatial(c, "KernelSize", rank), s = spatial(c, "Stride", rank);
  const auto dil = spatial(c, "Dilation", rank), p = pads(c, "PaddingSize", rank);
  bool gains = false, drops = false;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t in = c.in_dims()[d + 1], b = p[d], a = p[d + rank];
    const int64_t span = in + b + a - dil[d] * (k[d] - 1) - 1;
    const int64_t floor = span / s[d] + 1, ceil = (span + s[d] - 1) / s[d] + 1;
    const int64_t n = (ceil - 1) * s[d] >= in + b ? ceil - 1 : ceil;
    gains = gains || n > floor;
    drops = drops || (ceil > floor && n == floor);
    if (n > floor) extra[d] = (n - 1) * s[d] + dil[d] * (k[d] - 1) + 1 - (in + b + a);
  }
  if (gains && drops)
    refuse(c,
           "Rounding Ceiling where one dimension gains a last window and another drops one "
           "is not expressible with ceil_mode");
  return gains;
}

Names pooling(Emitter& e, const LayerCall& c) {
  const size_t rank = c.in_dims().size() - 1;
  const std::string f = option(c, "Function").get<std::string>();
  Attributes a = window_attrs(c, rank, false);
  const auto dilation = spatial(c, "Dilation", rank);
  const bool dilated = dilation != std::vector<int64_t>(rank, 1);
  std::vector<int64_t> extra;
  const bool ceil = pooling_ceil_mode(c, rank, extra);
  if (f == "Max") {
    if (dilated) a.push_back(attr("dilations", dilation));
    if (ceil) a.push_back(attr("ceil_mode", int64_t{1}));
    return single(e, c, "MaxPool", {c.inputs[0]}, a);
  }
  // AveragePool has dilations only from opset 19.
  if (dilated)
    refuse(c, "Dilation with Function " + f + " needs AveragePool's dilations (opset 19)");
  a.push_back(attr("count_include_pad", int64_t{1}));
  if (f == "Mean") {
    // ONNX Runtime divides a last window past the padding by its positions
    // inside the padded input, as strata and PyTorch do.
    if (ceil) a.push_back(attr("ceil_mode", int64_t{1}));
    return single(e, c, "AveragePool", {c.inputs[0]}, a);
  }
  // Total: the mean times the window size. A last window of Rounding
  // Ceiling becomes a whole one with more padding after (which Total sums as
  // zeros). That padding stays smaller than the kernel, as ONNX requires: the
  // last window starts inside the input (and Total has no Dilation here).
  const auto k = spatial(c, "KernelSize", rank);
  if (ceil) {
    auto p = pads(c, "PaddingSize", rank);
    for (size_t d = 0; d < rank; ++d)
      p[d + rank] += extra[d];
    a[2] = attr("pads", p);
  }
  const auto size = std::accumulate(k.begin(), k.end(), int64_t{1}, std::multiplies<>());
  const auto mean = e.node(c.path, "AveragePool", {c.inputs[0]}, a);
  return single(e, c, "Mul", {mean, e.scalar(c.path + "/KernelSize", static_cast<float>(size))});
}

// ---- Linear and shape

Names linear(Emitter& e, const LayerCall& c) {
  std::string x = c.inputs[0];
  if (c.in_dims().size() != 1) x = e.node(c.path, "Flatten", {x}, {attr("axis", int64_t{1})});
  return single(e, c, "Gemm", {x, array_init(e, c, "Weights"), array_init(e, c, "Biases")},
                {attr("transB", int64_t{1})});
}

Names flatten(Emitter& e, const LayerCall& c) {
  return single(e, c, "Flatten", {c.inputs[0]}, {attr("axis", int64_t{1})});
}

Names reshape(Emitter& e, const LayerCall& c) {
  std::vector<int64_t> shape{0};  // 0: the batch, copied
  for (auto d : c.out_dims())
    shape.push_back(d);
  return single(e, c, "Reshape", {c.inputs[0], e.ints(c.path + "/Dimensions", shape)});
}

Names identity(Emitter& e, const LayerCall& c) {
  return single(e, c, "Identity", {c.inputs[0]});
}

Names softmax(Emitter& e, const LayerCall& c) {
  return single(e, c, "Softmax", {c.inputs[0]}, {attr("axis", int64_t{1})});
}

Names catenate(Emitter& e, const LayerCall& c) {
  return single(e, c, "Concat", c.inputs, {attr("axis", int64_t{1})});
}

Names total(Emitter& e, const LayerCall& c) {
  return single(e, c, "Sum", c.inputs);
}

// ---- Padding and resizing

Names padding(Emitter& e, const LayerCall& c) {
  const size_t rank = c.in_dims().size();
  const Json sizes = option(c, "PaddingSize");
  const Json mode = option(c, "Padding");
  std::vector<int64_t> before(rank), after(rank);
  for (size_t d = 0; d < rank; ++d) {
    before[d] = sizes.at(d).at(0).get<int64_t>();
    after[d] = sizes.at(d).at(1).get<int64_t>();
  }
  if (mode.is_string() && mode.get<std::string>() == "Periodic") {
    // Pad's "wrap" mode needs opset 19: each padded dimension is the input's
    // tail, the input and its head, joined by Concat.
    std::string x = c.inputs[0];
    std::vector<size_t> padded;
    for (size_t d = 0; d < rank; ++d)
      if (before[d] || after[d]) padded.push_back(d);
    if (padded.empty()) return identity(e, c);
    for (size_t k = 0; k < padded.size(); ++k) {
      const size_t d = padded[k];
      const int64_t n = c.in_dims()[d];
      const auto axis = e.ints(c.path + "/Axis", {static_cast<int64_t>(d) + 1});
      Names parts;
      if (before[d])
        parts.push_back(e.node(
            c.path, "Slice",
            {x, e.ints(c.path + "/Starts", {n - before[d]}), e.ints(c.path + "/Ends", {n}), axis}));
      parts.push_back(x);
      if (after[d])
        parts.push_back(e.node(
            c.path, "Slice",
            {x, e.ints(c.path + "/Starts", {0}), e.ints(c.path + "/Ends", {after[d]}), axis}));
      const Attributes a{attr("axis", static_cast<int64_t>(d) + 1)};
      x = k + 1 == padded.size() ? single(e, c, "Concat", parts, a)[0]
                                 : e.node(c.path, "Concat", parts, a);
    }
    return {x};
  }
  std::vector<int64_t> p{0};
  p.insert(p.end(), before.begin(), before.end());
  p.push_back(0);
  p.insert(p.end(), after.begin(), after.end());
  Names in{c.inputs[0], e.ints(c.path + "/PaddingSize", p)};
  std::string onnx_mode = "constant";
  if (mode.is_number()) {
    in.push_back(e.scalar(c.path + "/Padding", mode.get<float>()));
  } else if (mode.get<std::string>() == "Fixed") {
    onnx_mode = "edge";
  } else if (mode.get<std::string>() == "Reflected") {
    onnx_mode = "reflect";
  } else {
    refuse(c, "Padding " + mode.dump() + " has no ONNX Pad mode");
  }
  return single(e, c, "Pad", in, {attr("mode", onnx_mode)});
}

Names resize(Emitter& e, const LayerCall& c) {
  const Dims& in = c.in_dims();
  const size_t rank = in.size() - 1;
  const std::string resampling = option(c, "Resampling").get<std::string>();
  Attributes a;
  if (resampling == "Linear") {
    a = {attr("mode", std::string("linear")),
         attr("coordinate_transformation_mode", std::string("half_pixel"))};
  } else {
    a = {attr("mode", std::string("nearest")),
         attr("coordinate_transformation_mode", std::string("asymmetric")),
         attr("nearest_mode", std::string("floor"))};
  }
  const Json scale = option(c, "Scale");
  if (!scale.is_null()) {
    std::vector<float> s{1.0f, 1.0f};
    for (size_t d = 0; d < rank; ++d)
      s.push_back(scale.is_number() ? scale.get<float>()
                                    : scale.at(scale.size() == 1 ? 0 : d).get<float>());
    const auto scales = e.initializer(c.path + "/Scale", {static_cast<int64_t>(s.size())}, s);
    return single(e, c, "Resize", {c.inputs[0], "", scales}, a);
  }
  // Sizes: the batch and channels of the input, then Dimensions.
  const auto shape = e.node(c.path, "Shape", {c.inputs[0]});
  const auto head = e.node(c.path, "Slice",
                           {shape, e.ints(c.path + "/Starts", {0}), e.ints(c.path + "/Ends", {2})});
  std::vector<int64_t> dims(c.out_dims().begin() + 1, c.out_dims().end());
  const auto sizes = e.node(c.path, "Concat", {head, e.ints(c.path + "/Dimensions", dims)},
                            {attr("axis", int64_t{0})});
  return single(e, c, "Resize", {c.inputs[0], "", "", sizes}, a);
}

// ---- Aggregation, threading, constants

Names aggregation(Emitter& e, const LayerCall& c) {
  const std::string f = option(c, "Function").get<std::string>();
  std::vector<int64_t> axes;
  for (size_t d = 1; d < c.in_dims().size(); ++d)
    axes.push_back(static_cast<int64_t>(d) + 1);
  const Attributes keep{attr("keepdims", int64_t{0})};
  if (f == "Total")  // ReduceSum takes its axes as an input from opset 13
    return single(e, c, "ReduceSum", {c.inputs[0], e.ints(c.path + "/Axes", axes)}, keep);
  const std::string op = f == "Max" ? "ReduceMax" : f == "Min" ? "ReduceMin" : "ReduceMean";
  Attributes a = keep;
  a.push_back(attr("axes", axes));  // an attribute up to opset 17
  return single(e, c, op, {c.inputs[0]}, a);
}

Names threading(Emitter& e, const LayerCall& c) {
  const std::string f = option(c, "Function").get<std::string>();
  // Broadcasting aligns at the right, over the examples' dimensions: an input
  // of lower rank gains 1s after the batch.
  const size_t rank = c.out_dims().size();
  Names in;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const size_t r = c.in_dims(i).size();
    if (r == rank) {
      in.push_back(c.inputs[i]);
      continue;
    }
    std::vector<int64_t> axes;
    for (size_t k = 0; k < rank - r; ++k)
      axes.push_back(static_cast<int64_t>(k) + 1);
    in.push_back(e.node(c.path, "Unsqueeze", {c.inputs[i], e.ints(c.path + "/Axes", axes)}));
  }
  if (f == "Plus") return single(e, c, in.size() == 2 ? "Add" : "Sum", in);
  if (f == "Max" || f == "Min") return single(e, c, f, in);
  if (f == "Subtract") return single(e, c, "Sub", in);
  if (f == "Divide") return single(e, c, "Div", in);
  if (f == "Power") return single(e, c, "Pow", in);
  if (f != "Times") refuse(c, "Function " + f + " has no ONNX op");
  std::string x = in[0];  // folded from the left, as the layer does
  for (size_t i = 1; i + 1 < in.size(); ++i)
    x = e.node(c.path, "Mul", {x, in[i]});
  return single(e, c, "Mul", {x, in.back()});
}

Names constant_times(Emitter& e, const LayerCall& c) {
  return single(e, c, "Mul", {c.inputs[0], array_init(e, c, "Scaling")});
}

Names constant_plus(Emitter& e, const LayerCall& c) {
  return single(e, c, "Add", {c.inputs[0], array_init(e, c, "Biases")});
}

Names parametric_ramp(Emitter& e, const LayerCall& c) {
  // Slope [C] as [C, 1, …]: one per channel, broadcast over the positions.
  const Tensor& slope = array(c, "Slope");
  Dims dims{slope.size()};
  dims.resize(c.in_dims().size(), 1);
  const auto s = e.initializer(c.path + "/Slope", dims, slope.values());
  return single(e, c, "PRelu", {c.inputs[0], s});
}

// ---- Elementwise

Names elementwise(Emitter& e, const LayerCall& c) {
  const std::string f = option(c, "Function").get<std::string>();
  const std::string& x = c.inputs[0];
  const auto one = [&](const std::string& op, const Attributes& a = {}) {
    return single(e, c, op, {x}, a);
  };
  const auto clip = [&](float lo, float hi) {
    return single(e, c, "Clip", {x, e.scalar(c.path + "/Min", lo), e.scalar(c.path + "/Max", hi)});
  };
  if (f == "Ramp") return one("Relu");
  if (f == "Tanh" || f == "Softplus" || f == "Abs" || f == "Exp" || f == "Log" || f == "Sqrt" ||
      f == "Sin" || f == "Cos" || f == "Erf" || f == "Softsign")
    return one(f);
  if (f == "LogisticSigmoid") return one("Sigmoid");
  if (f == "ELU") return one("Elu", {attr("alpha", 1.0)});
  if (f == "SELU")
    return one("Selu", {attr("alpha", 1.6732632423543772), attr("gamma", 1.0507009873554805)});
  if (f == "LeakyRamp") return one("LeakyRelu", {attr("alpha", option(c, "Alpha").get<double>())});
  if (f == "Square") return single(e, c, "Mul", {x, x});
  if (f == "HardTanh") return clip(-1.0f, 1.0f);
  if (f == "Clip") {
    const auto range = option(c, "Range");
    return clip(range.at(0).get<float>(), range.at(1).get<float>());
  }
  if (f == "HardSigmoid") return one("HardSigmoid", {attr("alpha", 1.0 / 6), attr("beta", 0.5)});
  if (f == "Power")
    return single(e, c, "Pow",
                  {x, e.scalar(c.path + "/Exponent", option(c, "Exponent").get<float>())});
  if (f == "Swish") return single(e, c, "Mul", {x, e.node(c.path, "Sigmoid", {x})});
  if (f == "Mish")
    return single(e, c, "Mul", {x, e.node(c.path, "Tanh", {e.node(c.path, "Softplus", {x})})});
  if (f == "GELU") {
    // Gelu is an op from opset 20: x · (1 + erf(x / √2)) / 2.
    const auto erf = e.node(
        c.path, "Erf",
        {e.node(c.path, "Div", {x, e.scalar(c.path + "/Sqrt2", static_cast<float>(M_SQRT2))})});
    const auto plus = e.node(c.path, "Add", {erf, e.scalar(c.path + "/One", 1.0f)});
    const auto times = e.node(c.path, "Mul", {x, plus});
    return single(e, c, "Mul", {times, e.scalar(c.path + "/Half", 0.5f)});
  }
  refuse(c, "Function " + f + " has no ONNX mapping");
}

}  // namespace

const std::map<std::string, ExportMapping, std::less<>>& export_table() {
  static const std::map<std::string, ExportMapping, std::less<>> table = {
      {"InstanceNormalizationLayer", instance_normalization},
      {"BatchNormalizationLayer", batch_normalization},
      {"LocalResponseNormalizationLayer", local_response_normalization},
      {"ConvolutionLayer",
       [](Emitter& e, const LayerCall& c) { return convolution(e, c, "Conv"); }},
      {"DeconvolutionLayer",
       [](Emitter& e, const LayerCall& c) { return convolution(e, c, "ConvTranspose"); }},
      {"PoolingLayer", pooling},
      {"LinearLayer", linear},
      {"FlattenLayer", flatten},
      {"ReshapeLayer", reshape},
      {"DropoutLayer", identity},
      {"SoftmaxLayer", softmax},
      {"CatenateLayer", catenate},
      {"TotalLayer", total},
      {"PaddingLayer", padding},
      {"ResizeLayer", resize},
      {"AggregationLayer", aggregation},
      {"ThreadingLayer", threading},
      {"ConstantTimesLayer", constant_times},
      {"ConstantPlusLayer", constant_plus},
      {"ParametricRampLayer", parametric_ramp},
      {"ElementwiseLayer", elementwise},
  };
  return table;
}

}  // namespace strata::onnx_io
