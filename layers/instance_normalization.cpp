#include "layers/instance_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "kernels/channel_stats.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

struct InstanceNormWorkspace : Workspace {
  std::vector<double> mean;                         // per (example, channel)
  std::vector<float> inv_std;                       // 1 / sqrt(v + Epsilon)
  std::vector<double> sum_dy, sum_dy_xhat;          // per plane
  std::vector<double> channel_dy, channel_dy_xhat;  // per channel
  kernels::StatsScratch scratch;
  bool has_forward = false;
};

}  // namespace

InstanceNormalizationLayer::InstanceNormalizationLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter("Gamma", Shape::of_rank(1), Initializer::ones()),
             ArraySlot::parameter("Beta", Shape::of_rank(1), Initializer::zeros())}) {}

const OptionTable& InstanceNormalizationLayer::option_table() const {
  static const OptionTable table = OptionsOf<InstanceNormalizationLayer>().add(
      "Epsilon", &InstanceNormalizationLayer::epsilon_, positive_number(), Affects::Nothing);
  return table;
}

InstanceNormalizationLayer& InstanceNormalizationLayer::epsilon(double value) {
  return assign_option(*this, "Epsilon", value);
}

std::unique_ptr<Layer> InstanceNormalizationLayer::clone() const {
  return std::make_unique<InstanceNormalizationLayer>(*this);
}

void InstanceNormalizationLayer::infer() {
  Shape& in = inputs_[0].shape;
  if (in.rank_known() && in.rank() < 2)
    throw Error("Input: expected rank 2 or more (channels, then spatial dimensions), got " +
                in.to_string());
  // Output and Input have the same shape.
  constrain_output(0, in, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
  // One Gamma and one Beta per channel; either may fix the channel count.
  for (size_t a : {kGamma, kBeta}) {
    if (in.rank_known()) constrain_array(a, Shape{in[0]}, "one per Input channel");
    if (arrays_[a].shape.dim_known(0) && in.rank_known()) {
      Shape want = Shape::of_rank(in.rank());
      want[0] = arrays_[a].shape[0];
      constrain_input(0, want, "channels fixed by " + arrays_[a].name);
      constrain_output(0, inputs_[0].shape, "same as Input");
    }
  }
  constrain_array(kGamma, arrays_[kBeta].shape, "same as Beta");
  constrain_array(kBeta, arrays_[kGamma].shape, "same as Gamma");
}

std::unique_ptr<Workspace> InstanceNormalizationLayer::make_workspace() const {
  return std::make_unique<InstanceNormWorkspace>();
}

void InstanceNormalizationLayer::forward(Inputs in, Outputs out, Workspace* ws,
                                         const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  if (x.rank() < 3)
    throw Error("Input: expected a batch of rank 3 or more, got " + to_string(x.shape()));
  const Tensor& gamma = array_value(kGamma);
  const Tensor& beta = array_value(kBeta);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  if (channels != gamma.size())
    throw Error("Input has " + std::to_string(channels) + " channels, but Gamma has " +
                std::to_string(gamma.size()));
  const int64_t planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  Tensor& y = *out[0];
  y.resize(x.shape());

  InstanceNormWorkspace local;
  auto* work = ws ? static_cast<InstanceNormWorkspace*>(ws) : &local;
  work->mean.resize(static_cast<size_t>(planes));
  work->inv_std.resize(static_cast<size_t>(planes));
  // An empty batch (a data-parallel shard may be one): nothing to
  // normalize, and backward gives zero gradients.
  work->has_forward = true;
  if (n == 0) return;
  kernels::plane_normalize(x.data(), planes, channels, n, epsilon_, gamma.data(), beta.data(),
                           work->mean.data(), work->inv_std.data(), y.data(), work->scratch);
  work->has_forward = true;
}

void InstanceNormalizationLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                          Outputs in_grad, Outputs array_grad) const {
  auto* work = static_cast<InstanceNormWorkspace*>(ws);
  if (!work || !work->has_forward) throw Error("backward called without a forward");
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const Tensor& gamma = array_value(kGamma);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  if (dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  if (work->mean.size() != static_cast<size_t>(planes))
    throw Error("backward called without a matching forward");
  work->sum_dy.resize(static_cast<size_t>(planes));
  work->sum_dy_xhat.resize(static_cast<size_t>(planes));
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (dx) dx->resize(x.shape());

  kernels::plane_normalize_grad(x.data(), dy.data(), planes, channels, n, work->mean.data(),
                                work->inv_std.data(), gamma.data(), work->sum_dy.data(),
                                work->sum_dy_xhat.data(), dx ? dx->data() : nullptr, work->scratch);
  // Reduce over the batch in a fixed order: the same result for any thread count.
  Tensor* dgamma = array_grad.size() > kGamma ? array_grad[kGamma] : nullptr;
  Tensor* dbeta = array_grad.size() > kBeta ? array_grad[kBeta] : nullptr;
  if (dgamma) dgamma->resize({channels});
  if (dbeta) dbeta->resize({channels});
  work->channel_dy.resize(static_cast<size_t>(channels));
  work->channel_dy_xhat.resize(static_cast<size_t>(channels));
  kernels::sum_over_batch(work->sum_dy.data(), batch, channels, work->channel_dy.data());
  kernels::sum_over_batch(work->sum_dy_xhat.data(), batch, channels, work->channel_dy_xhat.data());
  for (int64_t c = 0; c < channels; ++c) {
    if (dgamma) (*dgamma)[c] = static_cast<float>(work->channel_dy_xhat[c]);
    if (dbeta) (*dbeta)[c] = static_cast<float>(work->channel_dy[c]);
  }
}

}  // namespace strata
