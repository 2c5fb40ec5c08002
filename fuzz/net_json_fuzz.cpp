// Fuzzes the net loader: JSON text -> parse_net (parsing, layer options and
// arrays, NetChain/NetGraph construction, shape inference). A net that loads
// must also
//   - round-trip: net_to_json, parsed again, gives the same document, and
//   - when its shapes are fully known and small, initialize and run forward
//     on a batch of two without an error (inference said it fits).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "serialization/net_json.hpp"
#include "train/initialize.hpp"

namespace {

constexpr int64_t kMaxElements = 4096;  // per port or array, to run forward quickly

[[noreturn]] void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "net_json_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Elements of a fully known shape, or -1 when unknown or over the limit.
int64_t small_size(const strata::Shape& shape) {
  if (!shape.fully_known()) return -1;
  try {
    const int64_t n = strata::checked_num_elements(shape.dims(), kMaxElements);
    return n;
  } catch (const strata::Error&) {
    return -1;
  }
}

// Every port and array of the layer and of the layers in it fully known and small.
bool small_and_known(const strata::Layer& layer) {
  for (const auto* ports : {&layer.inputs(), &layer.outputs()})
    for (const auto& p : *ports)
      if (small_size(p.shape) < 0) return false;
  for (const auto& a : layer.arrays())
    if (small_size(a.shape) < 0) return false;
  for (const auto& [name, child] : layer.children())
    if (!small_and_known(*child)) return false;
  return true;
}

void run_forward(strata::Layer& net) {
  strata::NetInitialize(net, {.method = strata::InitMethod::Random, .scale = 0.5, .seed = 1});
  std::vector<strata::Tensor> inputs, outputs(net.outputs().size());
  for (const auto& port : net.inputs()) {
    strata::Dims dims{2};
    dims.insert(dims.end(), port.shape.dims().begin(), port.shape.dims().end());
    strata::Tensor x(dims);
    for (int64_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>((i * 7919) % 23) / 11.0f - 1.0f;
    inputs.push_back(std::move(x));
  }
  std::vector<const strata::Tensor*> in;
  std::vector<strata::Tensor*> out;
  for (const auto& x : inputs)
    in.push_back(&x);
  for (auto& y : outputs)
    out.push_back(&y);
  auto ws = net.make_workspace();
  net.forward(in, out, ws.get(), strata::RunContext{});
  for (size_t i = 0; i < outputs.size(); ++i) {
    strata::Dims expected{2};
    const auto& d = net.outputs()[i].shape.dims();
    expected.insert(expected.end(), d.begin(), d.end());
    if (outputs[i].shape() != expected)
      finding("forward's output shape differs from the inferred one",
              strata::to_string(outputs[i].shape()) + " vs " + strata::to_string(expected));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<strata::Layer> net;
  try {
    net = strata::parse_net(text, "fuzz.json");
  } catch (const strata::Error& e) {
    if (std::strchr(e.what(), '\n')) std::abort();  // messages are one line
    return 0;
  }

  const nlohmann::json document = strata::net_to_json(*net);
  try {
    auto again = strata::parse_net(document.dump(), "again.json");
    if (strata::net_to_json(*again) != document)
      finding("the round trip changed the net", document.dump());
  } catch (const strata::Error& e) {
    finding("a loaded net does not load again", std::string(e.what()) + " in " + document.dump());
  }

  if (!small_and_known(*net)) return 0;
  try {
    run_forward(*net);
  } catch (const strata::Error& e) {
    finding("forward failed on a net whose shapes were inferred", e.what());
  }
  return 0;
}
