#include "layers/dropout.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

struct DropoutWorkspace : Workspace {
  bool has_forward = false;
  bool training = false;
  std::vector<float> mask;  // 0 or 1 / (1 − p) per element, training only
};

// Elements per independently seeded block of an example's mask. Fixed, so
// that the mask does not depend on the number of threads.
constexpr int64_t kBlock = 4096;

}  // namespace

DropoutLayer::DropoutLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

DropoutLayer::DropoutLayer(double probability) : DropoutLayer() {
  dropout_probability(probability);
}

const OptionTable& DropoutLayer::option_table() const {
  static const OptionTable table = OptionsOf<DropoutLayer>().add(
      "DropoutProbability", &DropoutLayer::probability_,
      Number{[](double p) { return p >= 0 && p < 1; }, "a number in [0, 1)"}, Affects::Nothing);
  return table;
}

DropoutLayer& DropoutLayer::dropout_probability(double value) {
  return assign_option(*this, "DropoutProbability", value);
}

std::unique_ptr<Layer> DropoutLayer::clone() const {
  return std::make_unique<DropoutLayer>(*this);
}

void DropoutLayer::infer() {
  constrain_output(0, inputs_[0].shape, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
}

std::unique_ptr<Workspace> DropoutLayer::make_workspace() const {
  return std::make_unique<DropoutWorkspace>();
}

void DropoutLayer::forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const {
  const Tensor& x = *in[0];
  Tensor& y = *out[0];
  y.resize(x.shape());
  auto* work = static_cast<DropoutWorkspace*>(ws);
  const bool training = ctx.mode == Mode::Training;
  if (work) {
    work->has_forward = true;
    work->training = training;
  }
  if (!training) {
    std::copy(x.values().begin(), x.values().end(), y.values().begin());
    return;
  }
  if (!ctx.rng)
    throw Error(
        "training mode needs RunContext.rng (the source of the dropout mask), but it "
        "is null");
  // One draw per forward; example e's mask from (that draw, its index in the
  // global batch, block), so that a shard of a batch gets the masks the
  // same examples get in the whole batch.
  const Rng base(ctx.rng->next());
  const int64_t n = x.size();
  if (work) work->mask.resize(static_cast<size_t>(n));
  float* mask = work ? work->mask.data() : nullptr;
  const float* xd = x.data();
  float* yd = y.data();
  const double p = probability_;
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  const int64_t batch = x.rank() ? x.dim(0) : 1;
  const int64_t row = batch ? n / batch : 0;
  const int64_t blocks = (row + kBlock - 1) / kBlock;  // per example
  parallel_for(batch * blocks, [&](int64_t unit) {
    const int64_t e = unit / blocks, blk = unit % blocks;
    Rng rng = base.derive(static_cast<uint64_t>(ctx.first_example + e))
                  .derive(static_cast<uint64_t>(blk));
    const int64_t begin = e * row + blk * kBlock;
    const int64_t end = e * row + std::min(row, (blk + 1) * kBlock);
    for (int64_t i = begin; i < end; ++i) {
      const float m = rng.uniform() >= p ? scale : 0.0f;
      yd[i] = xd[i] * m;
      if (mask) mask[i] = m;
    }
  });
}

void DropoutLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  auto* work = static_cast<DropoutWorkspace*>(ws);
  if (!work || !work->has_forward) throw Error("backward called without a forward");
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  if (dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  if (!work->training) {
    std::copy(dy.values().begin(), dy.values().end(), dx->values().begin());
    return;
  }
  if (static_cast<int64_t>(work->mask.size()) != x.size())
    throw Error("backward: the mask of the last forward has " + std::to_string(work->mask.size()) +
                " elements, but Input has " + std::to_string(x.size()));
  const float* g = dy.data();
  const float* m = work->mask.data();
  float* d = dx->data();
  const int64_t n = x.size();
  parallel_for(
      n, [&](int64_t i) { d[i] = g[i] * m[i]; }, int64_t{1} << 15);
}

}  // namespace strata
