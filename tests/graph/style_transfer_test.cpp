// The fast style-transfer network (Johnson et al., with Ulyanov et al.'s
// instance normalization) loaded from a net file with its arrays, against
// PyTorch: the output, the input gradient and every array's gradient
// (tests/data/make_style_net.py writes the net file and the references).
#include <doctest/doctest.h>

#include <set>

#include "serialization/net_json.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::compare_tensors;
using strata::testing::tensor_from_json;

TEST_CASE("style transfer net from a net file matches PyTorch: output and every gradient") {
  const auto ref = strata::testing::load_test_data("style_transfer.json");
  auto net = load_net(std::string(STRATA_TEST_DATA_DIR) + "/" + ref.at("net").get<std::string>());
  REQUIRE(net->missing_arrays().empty());
  const auto refs = net->all_arrays();
  // Every array of the net has a reference gradient, and no other.
  std::set<std::string> paths;
  for (const auto& r : refs)
    paths.insert(r.path);
  std::set<std::string> want;
  for (const auto& [path, t] : ref.at("array_grads").items())
    want.insert(path);
  CHECK(paths == want);
  CHECK(refs.size() == 30);  // 8 convolutions and 7 normalizations, two arrays each

  const Tensor x = tensor_from_json(ref.at("input"));
  Tensor y;
  const Tensor* in[] = {&x};
  Tensor* out[] = {&y};
  auto ws = net->make_workspace();
  net->forward(in, out, ws.get(), {});
  CHECK(compare_tensors(y, tensor_from_json(ref.at("output")), 1e-4, 1e-5) <= 1.0);

  const Tensor gy = tensor_from_json(ref.at("output_grad"));
  std::vector<Tensor> grads(refs.size());
  std::vector<Tensor*> gptr;
  for (auto& g : grads)
    gptr.push_back(&g);
  Tensor gx;
  const Tensor* outs[] = {&y};
  const Tensor* gouts[] = {&gy};
  Tensor* gins[] = {&gx};
  net->backward(in, outs, gouts, ws.get(), gins, gptr);
  CHECK(compare_tensors(gx, tensor_from_json(ref.at("input_grad")), 1e-3, 1e-5) <= 1.0);
  for (size_t i = 0; i < refs.size(); ++i) {
    CAPTURE(refs[i].path);
    // (A convolution's Biases before an instance normalization have a zero
    // gradient up to rounding: the absolute tolerance covers it.)
    CHECK(compare_tensors(grads[i], tensor_from_json(ref.at("array_grads").at(refs[i].path)), 1e-3,
                          1e-5) <= 1.0);
  }
}
