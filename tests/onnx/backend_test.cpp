// The ONNX backend test suite Debian ships (libonnx-testdata): every node test
// of an op in the import table, its parameter inputs (weights, pads, shapes)
// bound as constants. Each test either imports and gives the expected outputs
// (1e-4 abs + 1e-3 rel), or is refused with one line naming the node; never a
// crash or a wrong answer. The list of outcomes is written to
// build/tests/onnx_backend_results.txt (docs/onnx.md's table comes from it).
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "onnx_io/converter.hpp"
#include "onnx_io/import.hpp"
#include "onnx_io/tensor_proto.hpp"
#include "support/reference.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const fs::path kSuite = "/usr/share/libonnx-testdata/data/node";

// Inputs that are data (computed); the others are parameters, bound as constants.
std::set<int> data_inputs(const std::string& op, int count) {
  static const std::set<std::string> all_data = {"Add", "Sum", "Sub", "Mul",    "Div",
                                                 "Pow", "Max", "Min", "Concat", "Mean"};
  if (all_data.count(op)) {
    std::set<int> s;
    for (int i = 0; i < count; ++i)
      s.insert(i);
    return s;
  }
  return {0};
}

template <class M>
bool read_proto(const fs::path& p, M& m) {
  std::ifstream in(p, std::ios::binary);
  return in && m.ParseFromIstream(&in);
}

Tensor to_tensor(const onnx::TensorProto& t) {
  return onnx_io::decode_tensor(t, {}, 0, t.name()).to_tensor();
}

struct Outcome {
  std::string op, test, result, detail;  // result: passed, refused, failed
};

Outcome run_one(const fs::path& dir) {
  Outcome o;
  o.test = dir.filename().string();
  onnx::ModelProto model;
  if (!read_proto(dir / "model.onnx", model) || model.graph().node_size() == 0) return o;
  o.op = model.graph().node(0).op_type();
  if (!onnx_io::op_table().count(o.op) || model.graph().node_size() != 1) {
    o.op.clear();  // not an op of the table (or not a one-node test)
    return o;
  }
  const fs::path data = dir / "test_data_set_0";
  auto* g = model.mutable_graph();
  const auto data_in = data_inputs(o.op, g->input_size());
  std::vector<Tensor> inputs;
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> kept;
  for (int i = 0; i < g->input_size(); ++i) {
    onnx::TensorProto t;
    if (!read_proto(data / ("input_" + std::to_string(i) + ".pb"), t)) {
      o.result = "refused";
      o.detail = "input data missing";
      return o;
    }
    if (data_in.count(i) &&
        g->input(i).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT) {
      kept.Add()->CopyFrom(g->input(i));
      inputs.push_back(to_tensor(t));
    } else {
      t.set_name(g->input(i).name());
      g->add_initializer()->CopyFrom(t);
    }
  }
  g->mutable_input()->Swap(&kept);
  std::string bytes;
  model.SerializeToString(&bytes);
  std::unique_ptr<Layer> net;
  try {
    net = import_onnx_bytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, o.test,
                            {});
  } catch (const Error& e) {
    o.result = "refused";
    o.detail = e.what();
    if (o.detail.find('\n') != std::string::npos) o.result = "failed";
    return o;
  }
  try {
    std::vector<Tensor> outputs(net->outputs().size());
    std::vector<const Tensor*> in;
    std::vector<Tensor*> out;
    for (auto& x : inputs)
      in.push_back(&x);
    for (auto& y : outputs)
      out.push_back(&y);
    if (in.size() != net->inputs().size()) throw Error("inputs differ in number");
    auto ws = net->make_workspace();
    net->forward(in, out, ws.get(), RunContext{});
    for (size_t k = 0; k < outputs.size(); ++k) {
      onnx::TensorProto t;
      if (!read_proto(data / ("output_" + std::to_string(k) + ".pb"), t))
        throw Error("output data missing");
      const Tensor want = to_tensor(t);
      if (outputs[k].shape() != want.shape())
        throw Error("output shape " + to_string(outputs[k].shape()) + ", expected " +
                    to_string(want.shape()));
      const double err = testing::compare_tensors(outputs[k], want, 1e-3, 1e-4);
      if (!(err <= 1.0)) throw Error("outputs differ (" + std::to_string(err) + " of tolerance)");
    }
    o.result = "passed";
  } catch (const Error& e) {
    o.result = "failed";
    o.detail = e.what();
  }
  return o;
}

}  // namespace

TEST_CASE("the ONNX backend node tests of every op of the table pass or are refused cleanly") {
  if (!fs::is_directory(kSuite)) {
    FAIL("the ONNX backend test data is missing: install libonnx-testdata");
    return;
  }
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(kSuite))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  std::ofstream log("onnx_backend_results.txt");
  int passed = 0, refused = 0;
  for (const auto& d : dirs) {
    const Outcome o = run_one(d);
    if (o.op.empty()) continue;
    log << o.op << '\t' << o.test << '\t' << o.result << '\t' << o.detail << '\n';
    CAPTURE(o.test);
    CAPTURE(o.detail);
    CHECK(o.result != "failed");
    // A refusal is one line that starts with the model it refuses.
    if (o.result == "refused") CHECK(o.detail.rfind(o.test + ": ", 0) == 0);
    passed += o.result == "passed";
    refused += o.result == "refused";
  }
  MESSAGE(passed << " passed, " << refused << " refused");
  CHECK(passed >= 95);
}
