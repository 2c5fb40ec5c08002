#include "layers/catenate.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/threads.hpp"

namespace strata {

namespace {

// Outputs smaller than this are copied on the calling thread.
constexpr int64_t kParallelElements = int64_t{1} << 15;

// The example shape of a batch tensor.
Dims example_of(const Tensor& t) {
  return Dims(t.shape().begin() + 1, t.shape().end());
}

}  // namespace

CatenateLayer::CatenateLayer() : CatenateLayer(2) {}

CatenateLayer::CatenateLayer(size_t inputs) : Layer({}, {{"Output", Shape()}}) {
  set_input_count(inputs);
}

std::unique_ptr<Layer> CatenateLayer::clone() const {
  return std::make_unique<CatenateLayer>(*this);
}

void CatenateLayer::set_input_count(size_t n) {
  if (n < 1) throw Error("CatenateLayer needs at least 1 input, got 0");
  inputs_.resize(n);
  for (size_t i = 0; i < n; ++i)
    inputs_[i].name = "Input" + std::to_string(i + 1);
}

void CatenateLayer::infer() {
  // The rank: whichever port knows it fixes it for all.
  const Port* ranked = nullptr;
  for (const auto& p : inputs_)
    if (!ranked && p.shape.rank_known()) ranked = &p;
  if (!ranked && outputs_[0].shape.rank_known()) ranked = &outputs_[0];
  if (!ranked) return;
  const size_t rank = ranked->shape.rank();
  if (rank < 1)
    throw Error(ranked->name + ": expected rank 1 or more (channels first), got " +
                ranked->shape.to_string());
  const std::string same_rank = "the rank of " + ranked->name;
  for (size_t i = 0; i < inputs_.size(); ++i)
    constrain_input(i, Shape::of_rank(rank), same_rank);
  constrain_output(0, Shape::of_rank(rank), same_rank);

  // The dimensions after the first are shared: gather, then give to all.
  Shape rest = Shape::of_rank(rank);
  auto share = [&](const Shape& port, auto&& constrain) {
    Shape want = rest;
    want[0] = port[0];
    constrain(want);
    for (size_t d = 1; d < rank; ++d)
      rest[d] = port[d];
  };
  const char* why = "the dimensions after the channels as in the other ports";
  for (int pass = 0; pass < 2; ++pass) {
    share(outputs_[0].shape, [&](const Shape& s) { constrain_output(0, s, why); });
    for (size_t i = 0; i < inputs_.size(); ++i)
      share(inputs_[i].shape, [&](const Shape& s) { constrain_input(i, s, why); });
  }

  // Channels: the output's is the sum of the inputs'.
  int64_t known_sum = 0;
  int unknown = 0;
  size_t unknown_at = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].shape.dim_known(0)) {
      known_sum += inputs_[i].shape[0];
    } else {
      ++unknown;
      unknown_at = i;
    }
  }
  const Shape& out = outputs_[0].shape;
  if (unknown == 0) {
    Shape want = out;
    want[0] = known_sum;
    constrain_output(0, want, "channels: the sum of the inputs' channels");
  } else if (unknown == 1 && out.dim_known(0)) {
    const int64_t left = out[0] - known_sum;
    if (left < 1)
      throw Error(inputs_[unknown_at].name + ": Output has " + std::to_string(out[0]) +
                  " channels, but the other inputs already have " + std::to_string(known_sum) +
                  ", leaving none");
    Shape want = inputs_[unknown_at].shape;
    want[0] = left;
    constrain_input(unknown_at, want, "channels: Output's minus the other inputs'");
  }
}

void CatenateLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                            const RunContext& /*ctx*/) const {
  if (in.size() != inputs_.size())
    throw Error("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                std::to_string(in.size()));
  const Tensor& first = *in[0];
  if (first.rank() < 2)
    throw Error("Input1: expected a batch of rank 2 or more, got " + to_string(first.shape()));
  int64_t channels = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const Tensor& x = *in[k];
    bool same = x.rank() == first.rank() && x.dim(0) == first.dim(0);
    for (size_t d = 2; same && d < x.rank(); ++d)
      same = x.dim(d) == first.dim(d);
    if (!same) {
      // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on "[" + string.
      std::string want = "[";
      want += std::to_string(first.dim(0));
      want += ", ?";
      for (size_t d = 2; d < first.rank(); ++d)
        want += ", " + std::to_string(first.dim(d));
      throw Error(inputs_[k].name + ": expected a batch of shape " + want +
                  "] (as Input1 but for the channels), got " + to_string(x.shape()));
    }
    channels += x.dim(1);
  }
  Dims shape = first.shape();
  shape[1] = channels;
  Tensor& y = *out[0];
  y.resize(shape);
  const int64_t batch = first.dim(0);
  const int64_t n = first.dim(1) == 0 ? 0 : checked_num_elements(example_of(first)) / first.dim(1);
  const int64_t parts = static_cast<int64_t>(in.size());
  float* yd = y.data();
  const int64_t pieces = batch * parts;
  parallel_for(
      pieces,
      [&](int64_t t) {
        const int64_t b = t / parts, k = t % parts;
        int64_t offset = 0;
        for (int64_t j = 0; j < k; ++j)
          offset += in[j]->dim(1);
        const int64_t len = in[k]->dim(1) * n;
        const float* src = in[k]->data() + b * len;
        std::copy(src, src + len, yd + (b * channels + offset) * n);
      },
      y.size() >= kParallelElements ? 1 : pieces);
}

void CatenateLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* /*ws*/,
                             Outputs in_grad, Outputs /*array_grad*/) const {
  const Tensor& dy = *out_grad[0];
  const Tensor& first = *in[0];
  const int64_t batch = first.dim(0), channels = dy.rank() > 1 ? dy.dim(1) : 0;
  const int64_t n = first.dim(1) == 0 ? 0 : checked_num_elements(example_of(first)) / first.dim(1);
  int64_t total = 0;
  for (const Tensor* x : in)
    total += x->dim(1);
  if (dy.rank() != first.rank() || dy.dim(0) != batch || channels != total ||
      dy.size() != batch * total * n)
    throw Error("Output gradient: expected a batch with " + std::to_string(total) +
                " channels, got " + to_string(dy.shape()));
  for (size_t k = 0; k < in_grad.size() && k < in.size(); ++k)
    if (in_grad[k]) in_grad[k]->resize(in[k]->shape());
  const int64_t parts = static_cast<int64_t>(std::min(in.size(), in_grad.size()));
  const float* gd = dy.data();
  const int64_t pieces = batch * parts;
  parallel_for(
      pieces,
      [&](int64_t t) {
        const int64_t b = t / parts, k = t % parts;
        if (!in_grad[k]) return;
        int64_t offset = 0;
        for (int64_t j = 0; j < k; ++j)
          offset += in[j]->dim(1);
        const int64_t len = in[k]->dim(1) * n;
        const float* src = gd + (b * channels + offset) * n;
        std::copy(src, src + len, in_grad[k]->data() + b * len);
      },
      dy.size() >= kParallelElements ? 1 : pieces);
}

}  // namespace strata
