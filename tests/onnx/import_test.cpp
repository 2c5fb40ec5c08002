// The PyTorch-exported models of tests/data/onnx (make_models.py): imported
// through the C++ API, their outputs equal PyTorch's, and a fine-tuning run
// lowers the loss.
#include "onnx_io/import.hpp"

#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "graph/net_chain.hpp"
#include "graph/net_graph.hpp"
#include "pytorch_models.hpp"
#include "serialization/net_json.hpp"
#include "serialization/npy.hpp"
#include "support/reference.hpp"
#include "train/net_train.hpp"

using namespace strata;

namespace {

const std::string kDir = std::string(STRATA_TEST_DATA_DIR) + "/onnx/";

Tensor apply(const Layer& net, const Tensor& x) {
  return net(x);
}

// A model of x [N, 1, 2, 3] -> Concat along axis 3 of Slice(x, tail_start,
// tail_end), x and Slice(x, 0, 1), as PyTorch writes circular padding.
std::unique_ptr<Layer> periodic_model(int64_t tail_start, int64_t tail_end) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("periodic");
  auto tensor_value = [](onnx::ValueInfoProto* v, const char* name, std::vector<int64_t> dims) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t->mutable_shape()->add_dim()->set_dim_value(d);
  };
  tensor_value(g->add_input(), "x", {1, 1, 2, 3});
  tensor_value(g->add_output(), "y", {1, 1, 2, 5});
  auto ints = [&](const char* name, int64_t v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(1);
    t->add_int64_data(v);
  };
  ints("tail_start", tail_start);
  ints("tail_end", tail_end);
  ints("zero", 0);
  ints("one", 1);
  ints("axis", 3);
  auto node = [&](const char* op, std::vector<const char*> in, const char* out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (const char* i : in)
      n->add_input(i);
    n->add_output(out);
    return n;
  };
  node("Slice", {"x", "tail_start", "tail_end", "axis"}, "tail");
  node("Slice", {"x", "zero", "one", "axis"}, "head");
  auto* cat = node("Concat", {"tail", "x", "head"}, "y");
  auto* a = cat->add_attribute();
  a->set_name("axis");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(3);
  std::string bytes;
  m.SerializeToString(&bytes);
  return import_onnx_bytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                           "periodic.onnx", {});
}

// A model of one binary node `op` of x [N, xdims…] and a constant c (an
// initializer of ONNX dims cdims, float or int64), c first when c_first.
std::unique_ptr<Layer> constant_operand_model(const std::string& op, Dims xdims, Dims cdims,
                                              std::vector<double> c, bool c_first,
                                              bool integer = false) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("constant_operand");
  auto* in = g->add_input();
  in->set_name("x");
  auto* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_param("N");
  for (int64_t d : xdims)
    t->mutable_shape()->add_dim()->set_dim_value(d);
  g->add_output()->set_name("y");
  auto* init = g->add_initializer();
  init->set_name("c");
  init->set_data_type(integer ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
  for (int64_t d : cdims)
    init->add_dims(d);
  for (double v : c) {
    if (integer)
      init->add_int64_data(static_cast<int64_t>(v));
    else
      init->add_float_data(static_cast<float>(v));
  }
  auto* n = g->add_node();
  n->set_op_type(op);
  // std::strings: GCC 12 warns (-Wrestrict) on protobuf's setters inlined
  // with a literal.
  const std::string y = "y", xs = "x", cs = "c";
  n->set_name(y);
  n->add_input(c_first ? cs : xs);
  n->add_input(c_first ? xs : cs);
  n->add_output(y);
  std::string bytes;
  m.SerializeToString(&bytes);
  return import_onnx_bytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "m.onnx",
                           {});
}

// The same bits, or both NaN.
bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) ||
         std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

}  // namespace

TEST_CASE("PyTorch-exported models give PyTorch's outputs") {
  for (const std::string& name : strata::testing::kPyTorchModels) {
    CAPTURE(name);
    const auto net = import_onnx(kDir + name + ".onnx");
    const Tensor x = read_npy(kDir + name + ".input.npy");
    const Tensor want = read_npy(kDir + name + ".output.npy");
    const Tensor y = apply(*net, x);
    REQUIRE(y.shape() == want.shape());
    CHECK(testing::compare_tensors(y, want, 1e-3, 1e-4) <= 1.0);
    // The net file round-trips to the same outputs.
    const auto again = net_from_json(net_to_json(*net));
    CHECK(apply(*again, x) == y);
  }
}

TEST_CASE("Max, Min and Pow with a constant operand import exactly, as a ThreadingLayer") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // x [2, 2, 3]: the batch, then [2, 3].
  const Tensor x({2, 2, 3}, std::vector<float>{-inf, -2.5f, -0.0f, 0.0f, 0.1f, 0.3f, 1.5f, inf, nan,
                                               -1.0f, 2.0f, 0.25f});
  // ONNX's meaning (NumPy's maximum, minimum and power), with c right-aligned
  // against x [N, 2, 3].
  auto reference = [&](const std::string& op, const Dims& cdims, const std::vector<double>& c,
                       bool c_first) {
    Tensor y(x.shape());
    const Dims full = {2, 2, 3};
    for (int64_t e = 0; e < x.size(); ++e) {
      const int64_t idx[3] = {e / 6, (e / 3) % 2, e % 3};
      int64_t off = 0;
      for (size_t k = 0; k < cdims.size(); ++k) {
        const size_t axis = full.size() - cdims.size() + k;
        off = off * cdims[k] + (cdims[k] == 1 ? 0 : idx[axis]);
      }
      const float a = x[e], b = static_cast<float>(c[static_cast<size_t>(off)]);
      const float l = c_first ? b : a, r = c_first ? a : b;
      if (op == "Pow")
        y[e] = std::pow(l, r);
      else if (std::isnan(l) || std::isnan(r))
        y[e] = nan;
      else
        y[e] = op == "Max" ? std::max(l, r) : std::min(l, r);
    }
    return y;
  };
  struct Case {
    std::string op;
    Dims cdims;
    std::vector<double> c;
    bool c_first, integer;
  };
  for (const Case& k : std::vector<Case>{
           {"Max", {2, 1}, {-0.5, 0.25}, false, false},                 // torch.clamp's lower bound
           {"Min", {1, 2, 3}, {0.5, -1, 3, 0.2, 7, -4}, false, false},  // its upper bound
           {"Max", {3}, {-1, 0.2, 1}, true, false},                     // the constant first
           {"Min", {}, {0.3}, true, false},                             // one number
           {"Pow", {3}, {1, 2, 3}, false, true},                        // integer exponents
           {"Pow", {2, 1}, {0.5, -2}, false, false},                    // one per channel
           {"Pow", {}, {2}, true, false},                               // 2 ** x
           {"Pow", {1, 3}, {2, 0.5, 10}, true, false}}) {
    CAPTURE(k.op);
    CAPTURE(to_string(k.cdims));
    const auto net = constant_operand_model(k.op, {2, 3}, k.cdims, k.c, k.c_first, k.integer);
    const Tensor y = apply(*net, x);
    const Tensor want = reference(k.op, k.cdims, k.c, k.c_first);
    REQUIRE(y.shape() == want.shape());
    for (int64_t e = 0; e < y.size(); ++e) {
      CAPTURE(e);
      CHECK(same_float(y[e], want[e]));
    }
    bool threading = false;
    for (const auto& [name, layer] : net->children())
      threading = threading || layer->type() == "ThreadingLayer";
    CHECK(threading);
    const auto again = net_from_json(net_to_json(*net));
    const Tensor y2 = apply(*again, x);
    for (int64_t e = 0; e < y.size(); ++e)
      CHECK(same_float(y2[e], y[e]));
  }
  // Mean of x and a constant: (x + c) / 2, ConstantPlus then ConstantTimes 1/2.
  const auto mean = constant_operand_model("Mean", {2, 3}, {2, 1}, {1.5, -3}, true);
  const Tensor m = apply(*mean, x);
  for (int64_t e = 0; e < x.size(); ++e)
    CHECK(same_float(m[e], (x[e] + ((e / 3) % 2 ? -3.0f : 1.5f)) / 2));
  // An integer base makes an integer tensor (ONNX truncates); a constant that
  // enlarges the computed input would make the output larger than x.
  CHECK_THROWS_WITH_AS(constant_operand_model("Pow", {2, 3}, {}, {2}, true, true),
                       "m.onnx: node 'y' (Pow, opset 13): a constant integer base is not "
                       "supported (the result would be an integer tensor; supported: a float "
                       "base)",
                       Error);
  CHECK_THROWS_WITH_AS(constant_operand_model("Min", {2, 3}, {2, 1}, {1, inf}, false),
                       "m.onnx: node 'y' (Min, opset 13): the constant operand holds NaN or "
                       "infinity (supported: finite numbers, as a layer's array holds)",
                       Error);
  CHECK_THROWS_WITH_AS(constant_operand_model("Max", {2, 1}, {3}, {1, 2, 3}, false),
                       "m.onnx: node 'y' (Max, opset 13): a constant operand of shape [3] "
                       "enlarges the computed input's [N, 2, 1] (supported: a constant that "
                       "broadcasts to the computed input's shape)",
                       Error);
}

TEST_CASE("an imported net is a chain when the graph is one, with the graph's port names") {
  const auto chain = import_onnx(kDir + "mobilenet_opset11.onnx");  // ports Input, Output
  CHECK(chain->type() == "NetChain");
  CHECK(chain->children().front().first == "expand_Conv");       // from "/expand/Conv"
  const auto graph = import_onnx(kDir + "resnet_opset13.onnx");  // a residual: a graph
  CHECK(graph->type() == "NetGraph");
  CHECK(graph->inputs().at(0).name == "input");
  CHECK(graph->outputs().at(0).name == "output");
  CHECK(graph->inputs().at(0).shape == Shape({3, 16, 16}));
  for (const auto& [name, layer] : graph->children())
    CHECK(name.find_first_of("/.#") == std::string::npos);
}

TEST_CASE("GELU, which ONNX writes as Div, Erf, Add, Mul, Mul, imports as one layer") {
  const auto net = import_onnx(kDir + "gelu_opset13.onnx");
  REQUIRE(net->children().size() == 2);
  CHECK(net->children()[1].second->type() == "ElementwiseLayer");
  CHECK(net->children()[1].second->options()["Function"] == "GELU");
}

TEST_CASE(
    "Slice and Concat that pad periodically import as PaddingLayer; other Slices are refused") {
  // The last element (start −1, end past the end, as PyTorch writes them).
  const auto net = periodic_model(-1, std::numeric_limits<int64_t>::max());
  const Tensor x({1, 1, 2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(net->children().size() == 1);
  CHECK(net->children()[0].second->type() == "PaddingLayer");
  CHECK(apply(*net, x) == Tensor({1, 1, 2, 5}, std::vector<float>{3, 1, 2, 3, 1, 6, 4, 5, 6, 4}));
  // [−2, −1): one element, but not the last: not periodic padding.
  CHECK_THROWS_WITH_AS(periodic_model(-2, -1),
                       "periodic.onnx: node 'y' (Concat, opset 13): a Slice of a computed tensor "
                       "is supported only as periodic padding: Concat of the input's last b "
                       "elements, the input and its first a elements, along the sliced axis",
                       Error);
}

TEST_CASE("MaxPool's ceil_mode where ONNX keeps a last window that PyTorch drops is refused") {
  // x [1, 1, 5], kernel 2, stride 2, pads 1: (5 + 2 − 2) / 2 rounded up is 3,
  // so ONNX has 4 windows; the 4th would start in the padding after the input.
  auto model = [](int64_t ceil_mode) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    g->set_name("pool");
    auto declare = [](onnx::ValueInfoProto* v, const char* name) {
      v->set_name(name);
      auto* t = v->mutable_type()->mutable_tensor_type();
      t->set_elem_type(onnx::TensorProto::FLOAT);
      for (int64_t d : {1, 1, 5})
        t->mutable_shape()->add_dim()->set_dim_value(d);
    };
    declare(g->add_input(), "x");
    declare(g->add_output(), "y");
    auto* n = g->add_node();
    const std::string op = "MaxPool", name = "pool", in = "x", out = "y";
    n->set_op_type(op);
    n->set_name(name);
    n->add_input(in);
    n->add_output(out);
    auto ints = [&](const char* name, std::vector<int64_t> v) {
      auto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t e : v)
        a->add_ints(e);
    };
    ints("kernel_shape", {2});
    ints("strides", {2});
    ints("pads", {1, 1});
    auto* a = n->add_attribute();
    a->set_name("ceil_mode");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(ceil_mode);
    std::string bytes;
    m.SerializeToString(&bytes);
    return import_onnx_bytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                             "pool.onnx", {});
  };
  const Tensor x({1, 1, 5}, std::vector<float>{1, 5, 2, 4, 3});
  CHECK(apply(*model(0), x) == Tensor({1, 1, 3}, std::vector<float>{1, 5, 4}));
  CHECK_THROWS_WITH_AS(model(1),
                       "pool.onnx: node 'pool' (MaxPool, opset 13): ceil_mode 1 is not supported "
                       "where the last window would start past the input (ONNX keeps it, "
                       "PyTorch drops it), in spatial dimension 1",
                       Error);
}

TEST_CASE("a dynamic batch axis stays free") {
  const auto net = import_onnx(kDir + "mlp_opset11.onnx");
  const Tensor x = read_npy(kDir + "mlp_opset11.input.npy");  // [3, 3, 4]
  const Tensor want = read_npy(kDir + "mlp_opset11.output.npy");
  const Tensor one = apply(*net, x.reshaped({3, 3, 4}));
  Tensor first({1, 3, 4});
  for (int64_t i = 0; i < 12; ++i)
    first[i] = x[i];
  const Tensor y = apply(*net, first);
  REQUIRE(y.shape() == Dims{1, 5});
  for (int64_t i = 0; i < 5; ++i)
    CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-4));
  CHECK(one.shape() == Dims{3, 5});
}

TEST_CASE("fine-tuning an imported net lowers the loss") {
  auto net = import_onnx(kDir + "resnet_opset13.onnx");
  const Tensor x = read_npy(kDir + "resnet_opset13.input.npy");
  const Tensor y = read_npy(kDir + "resnet_opset13.output.npy");
  Tensor target = y;
  for (int64_t i = 0; i < target.size(); ++i)
    target[i] = y[i] + (i % 2 ? 0.5f : -0.5f);
  Dataset data{x, target};
  TrainOptions options{.batch_size = 2, .rounds = 20, .seed = 1, .quiet = true};
  options.loss = LossFunction::MeanSquared;
  const TrainResult r = NetTrain(*net, data, options);
  REQUIRE(r.batch_losses.size() == 20);
  CHECK(r.batch_losses.back() < 0.5 * r.batch_losses.front());
}

TEST_CASE("fine-tuning a net with Max, Min and Pow of constants lowers the loss") {
  // The constants are arrays (ConstantTimesLayer), trained like any other.
  // The exponent array of y ** c (node '/Pow_1') would get log(y) · y^c, NaN
  // where the base y is negative (as a trainable exponent in PyTorch), so it
  // is frozen; the constants' Power 0 layers pass no NaN back into the conv.
  auto net = import_onnx(kDir + "constants_opset17.onnx");
  const Tensor x = read_npy(kDir + "constants_opset17.input.npy");
  const Tensor y = read_npy(kDir + "constants_opset17.output.npy");
  Tensor target = y;
  for (int64_t i = 0; i < target.size(); ++i)
    target[i] = y[i] + 0.3f;  // a shift the conv's biases can learn
  Dataset data{x, target};
  TrainOptions options{.batch_size = 2, .rounds = 20, .seed = 1, .quiet = true};
  options.loss = LossFunction::MeanSquared;
  options.learning_rate_multipliers = {{"Pow_1_2", 0}};
  const TrainResult r = NetTrain(*net, data, options, Adam(0.01));
  REQUIRE(r.batch_losses.size() == 20);
  CHECK(r.batch_losses.back() < 0.5 * r.batch_losses.front());
}

TEST_CASE("what cannot be imported is one line naming the node") {
  CHECK_THROWS_WITH_AS(import_onnx(kDir + "missing.onnx"), doctest::Contains("no such file"),
                       Error);
  CHECK_THROWS_WITH_AS(import_onnx(kDir), doctest::Contains("not a regular file"), Error);
  OnnxImportOptions small;
  small.max_file_bytes = 100;
  CHECK_THROWS_WITH_AS(import_onnx(kDir + "resnet_opset13.onnx", small),
                       doctest::Contains("over the limit"), Error);
  OnnxImportOptions wrong;
  wrong.input_shapes["input"] = {3, 8, 8};
  CHECK_THROWS_WITH_AS(import_onnx(kDir + "resnet_opset13.onnx", wrong),
                       doctest::Contains("dimension 2 is 16 in the model"), Error);
}
