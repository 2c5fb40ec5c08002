// Whole nets against PyTorch: a residual block, a catenate branch and chains
// in 1, 2 and 3 spatial dimensions, loaded from net files, forward and all
// gradients; and their gradients against finite differences.
#include <doctest/doctest.h>

#include "graph/extract.hpp"
#include "serialization/net_json.hpp"
#include "support/gradcheck.hpp"
#include "support/reference.hpp"

using namespace strata;
using strata::testing::compare_tensors;
using strata::testing::tensor_from_json;

TEST_CASE("nets match PyTorch: residual block, catenate branch, 1-D/2-D/3-D chains") {
  const auto file = strata::testing::load_test_data("nets.json");
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    auto net = net_from_json(c.at("net"));
    for (const auto& [path, t] : c.at("arrays").items())
      NetReplaceArray(*net, path, tensor_from_json(t));
    REQUIRE(net->missing_arrays().empty());

    const Tensor x = tensor_from_json(c.at("input"));
    Tensor y;
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    auto ws = net->make_workspace();
    net->forward(in, out, ws.get(), {});
    CHECK(compare_tensors(y, tensor_from_json(c.at("output")), 1e-4, 1e-5) <= 1.0);

    const Tensor gy = tensor_from_json(c.at("output_grad"));
    const auto refs = net->all_arrays();
    std::vector<Tensor> grads(refs.size());
    std::vector<Tensor*> gptr;
    for (auto& g : grads)
      gptr.push_back(&g);
    Tensor gx;
    const Tensor* outs[] = {&y};
    const Tensor* gouts[] = {&gy};
    Tensor* gins[] = {&gx};
    net->backward(in, outs, gouts, ws.get(), gins, gptr);
    CHECK(compare_tensors(gx, tensor_from_json(c.at("input_grad")), 1e-3, 1e-5) <= 1.0);
    for (size_t i = 0; i < refs.size(); ++i) {
      CAPTURE(refs[i].path);
      CHECK(compare_tensors(grads[i], tensor_from_json(c.at("array_grads").at(refs[i].path)), 1e-3,
                            1e-5) <= 1.0);
    }

    auto report = strata::testing::check_gradients(*net, {x}, {.step = 1e-3, .max_elements = 24});
    // (a small step: a larger one moves some values across the Ramp's kink)
    CAPTURE(report.worst);
    CHECK(report.max_error <= 1.0);
  }
}
