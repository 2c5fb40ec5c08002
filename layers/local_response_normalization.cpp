#include "layers/local_response_normalization.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "kernels/local_response.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

struct LocalResponseWorkspace : Workspace {
  std::vector<float> base, denom;  // B and D = B^Beta, as the input
  Dims shape;                      // of the training forward that filled them
  bool kept = false;
};

const Number kFinite{[](double) { return true; }, "a finite number"};

void check_batch(const Tensor& x) {
  if (x.rank() < 3)
    throw Error(
        "Input: expected a batch of rank 3 or more (batch, channels, spatial dimensions), "
        "got " +
        to_string(x.shape()));
}

}  // namespace

LocalResponseNormalizationLayer::LocalResponseNormalizationLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

const OptionTable& LocalResponseNormalizationLayer::option_table() const {
  using L = LocalResponseNormalizationLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("ChannelWindowSize", &L::channel_window_size_, Integer{.min = 0}, Affects::Nothing)
          .add("Alpha", &L::alpha_, kFinite, Affects::Nothing)
          .add("Beta", &L::beta_, kFinite, Affects::Nothing)
          .add("Bias", &L::bias_, kFinite, Affects::Nothing);
  return table;
}

LocalResponseNormalizationLayer& LocalResponseNormalizationLayer::channel_window_size(
    int64_t value) {
  return assign_option(*this, "ChannelWindowSize", value);
}
LocalResponseNormalizationLayer& LocalResponseNormalizationLayer::alpha(double value) {
  return assign_option(*this, "Alpha", value);
}
LocalResponseNormalizationLayer& LocalResponseNormalizationLayer::beta(double value) {
  return assign_option(*this, "Beta", value);
}
LocalResponseNormalizationLayer& LocalResponseNormalizationLayer::bias(double value) {
  return assign_option(*this, "Bias", value);
}

std::unique_ptr<Layer> LocalResponseNormalizationLayer::clone() const {
  return std::make_unique<LocalResponseNormalizationLayer>(*this);
}

void LocalResponseNormalizationLayer::infer() {
  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && p->shape.rank() < 2)
      throw Error(p->name + ": expected rank 2 or more (channels, then spatial dimensions), got " +
                  p->shape.to_string());
  constrain_output(0, inputs_[0].shape, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
}

std::unique_ptr<Workspace> LocalResponseNormalizationLayer::make_workspace() const {
  return std::make_unique<LocalResponseWorkspace>();
}

void LocalResponseNormalizationLayer::forward(Inputs in, Outputs out, Workspace* ws,
                                              const RunContext& ctx) const {
  const Tensor& x = *in[0];
  check_batch(x);
  Tensor& y = *out[0];
  y.resize(x.shape());
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t n = x.size() / std::max<int64_t>(1, batch * channels);
  auto* work = static_cast<LocalResponseWorkspace*>(ws);
  const bool keep = work && ctx.mode == Mode::Training;
  if (work) work->kept = false;
  if (keep) {
    work->base.resize(static_cast<size_t>(x.size()));
    work->denom.resize(static_cast<size_t>(x.size()));
    work->shape = x.shape();
  }
  if (x.size() == 0) return;
  kernels::local_response_forward(
      x.data(), batch, channels, n, {channel_window_size_, alpha_, beta_, bias_}, y.data(),
      keep ? work->base.data() : nullptr, keep ? work->denom.data() : nullptr);
  if (keep) work->kept = true;
}

void LocalResponseNormalizationLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad,
                                               Workspace* ws, Outputs in_grad,
                                               Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  check_batch(x);
  if (dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t n = x.size() / std::max<int64_t>(1, batch * channels);
  const kernels::LocalResponseParams params{channel_window_size_, alpha_, beta_, bias_};
  LocalResponseWorkspace local;
  auto* work = ws ? static_cast<LocalResponseWorkspace*>(ws) : &local;
  dx->resize(x.shape());
  if (x.size() == 0) return;
  if (!work->kept || work->shape != x.shape()) {
    // No training forward kept B and D for this input: compute them again
    // (into dx, which is overwritten below, for the output nobody reads).
    work->base.resize(static_cast<size_t>(x.size()));
    work->denom.resize(static_cast<size_t>(x.size()));
    kernels::local_response_forward(x.data(), batch, channels, n, params, dx->data(),
                                    work->base.data(), work->denom.data());
    work->shape = x.shape();
    work->kept = true;
  }
  kernels::local_response_backward(x.data(), dy.data(), work->base.data(), work->denom.data(),
                                   batch, channels, n, params, dx->data());
}

}  // namespace strata
