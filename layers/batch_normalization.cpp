#include "layers/batch_normalization.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/communicator.hpp"
#include "core/error.hpp"
#include "core/threads.hpp"
#include "kernels/channel_stats.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

struct BatchNormWorkspace : Workspace {
  bool has_forward = false;
  bool training = false;                    // the mode of the last forward
  bool pending_update = false;              // batch statistics not yet committed
  int64_t count = 0;                        // values per channel (batch × spatial positions)
  Communicator* communicator = nullptr;     // synchronized: the statistics are global
  std::vector<double> mean;                 // per channel: the mean used by the last forward
  std::vector<float> inv_std;               // per channel: 1 / sqrt(v + Epsilon)
  std::vector<double> var;                  // per channel: the batch variance
  std::vector<double> unbiased_var;         // per channel, training only
  std::vector<double> sum_dy, sum_dy_xhat;  // per channel, backward
  kernels::StatsScratch scratch;
};

}  // namespace

BatchNormalizationLayer::BatchNormalizationLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter("Gamma", Shape::of_rank(1), Initializer::ones()),
             ArraySlot::parameter("Beta", Shape::of_rank(1), Initializer::zeros()),
             ArraySlot::state("MovingMean", Shape::of_rank(1), Initializer::zeros()),
             ArraySlot::state("MovingVariance", Shape::of_rank(1), Initializer::ones())}) {}

const OptionTable& BatchNormalizationLayer::option_table() const {
  using L = BatchNormalizationLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("Epsilon", &L::epsilon_, positive_number(), Affects::Nothing)
          .add("Momentum", &L::momentum_,
               Number{[](double m) { return m >= 0 && m <= 1; }, "a number between 0 and 1"},
               Affects::Nothing);
  return table;
}

BatchNormalizationLayer& BatchNormalizationLayer::epsilon(double value) {
  return assign_option(*this, "Epsilon", value);
}

BatchNormalizationLayer& BatchNormalizationLayer::momentum(double value) {
  return assign_option(*this, "Momentum", value);
}

std::unique_ptr<Layer> BatchNormalizationLayer::clone() const {
  return std::make_unique<BatchNormalizationLayer>(*this);
}

void BatchNormalizationLayer::infer() {
  Shape& in = inputs_[0].shape;
  if (in.rank_known() && in.rank() < 1)
    throw Error("Input: expected rank 1 or more (channels, then any spatial dimensions), got " +
                in.to_string());
  constrain_output(0, in, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
  // One value of each array per channel; any of them may fix the channel count.
  // Present arrays first, so that a conflict names the array that was given.
  std::vector<size_t> order;
  for (bool present : {true, false})
    for (size_t a : {kGamma, kBeta, kMovingMean, kMovingVariance})
      if (arrays_[a].value.has_value() == present) order.push_back(a);
  for (size_t a : order) {
    if (in.rank_known()) constrain_array(a, Shape{in[0]}, "one per Input channel");
    if (arrays_[a].shape.dim_known(0) && in.rank_known()) {
      Shape want = Shape::of_rank(in.rank());
      want[0] = arrays_[a].shape[0];
      constrain_input(0, want, "channels fixed by " + arrays_[a].name);
      constrain_output(0, inputs_[0].shape, "same as Input");
    }
  }
  for (size_t a : {kBeta, kMovingMean, kMovingVariance})
    constrain_array(kGamma, arrays_[a].shape, "same as " + arrays_[a].name);
  for (size_t a : {kBeta, kMovingMean, kMovingVariance})
    constrain_array(a, arrays_[kGamma].shape, "same as Gamma");
}

void BatchNormalizationLayer::check_array_values(size_t i, const Tensor& value) const {
  if (i != kMovingVariance) return;
  for (int64_t k = 0; k < value.size(); ++k)
    if (value[k] < 0) {
      std::ostringstream v;
      v << value[k];
      throw Error("MovingVariance: a variance cannot be negative, but element " +
                  std::to_string(k) + " (channel " + std::to_string(k + 1) + ") is " + v.str());
    }
}

std::unique_ptr<Workspace> BatchNormalizationLayer::make_workspace() const {
  return std::make_unique<BatchNormWorkspace>();
}

void BatchNormalizationLayer::forward(Inputs in, Outputs out, Workspace* ws,
                                      const RunContext& ctx) const {
  const Tensor& x = *in[0];
  if (x.rank() < 2)
    throw Error("Input: expected a batch of rank 2 or more, got " + to_string(x.shape()));
  const Tensor& gamma = array_value(kGamma);
  const Tensor& beta = array_value(kBeta);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  if (channels != gamma.size())
    throw Error("Input has " + std::to_string(channels) + " channels, but Gamma has " +
                std::to_string(gamma.size()));
  const int64_t planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);  // spatial positions
  int64_t count = batch * n;
  const bool training = ctx.mode == Mode::Training;
  // Data-parallel training: the statistics of the global batch.
  Communicator* comm = training && is_distributed(ctx.communicator) ? ctx.communicator : nullptr;

  // Without a workspace (a plain forward) the statistics go to a local one.
  BatchNormWorkspace local;
  auto* work = ws ? static_cast<BatchNormWorkspace*>(ws) : &local;
  work->has_forward = true;
  work->training = training;
  work->pending_update = training;
  work->communicator = comm;
  work->mean.resize(static_cast<size_t>(channels));
  work->inv_std.resize(static_cast<size_t>(channels));
  const float* xd = x.data();

  if (training) {
    work->var.resize(static_cast<size_t>(channels));
    count = kernels::channel_moments(xd, batch, channels, n, work->mean.data(), work->var.data(),
                                     work->scratch, comm);
    if (count < 2) {
      work->pending_update = false;
      throw Error(
          "Input: training needs more than one value per channel (batch size × spatial "
          "positions), got " +
          std::to_string(count));
    }
    work->unbiased_var.resize(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      const double var = work->var[c];
      work->inv_std[c] = static_cast<float>(1.0 / std::sqrt(var + epsilon_));
      work->unbiased_var[c] = var * static_cast<double>(count) / static_cast<double>(count - 1);
    }
  }
  work->count = count;
  if (!training) {
    const Tensor& mm = array_value(kMovingMean);
    const Tensor& mv = array_value(kMovingVariance);
    for (int64_t c = 0; c < channels; ++c) {
      work->mean[c] = mm[c];
      work->inv_std[c] = static_cast<float>(1.0 / std::sqrt(double(mv[c]) + epsilon_));
    }
  }

  Tensor& y = *out[0];
  y.resize(x.shape());
  float* yd = y.data();
  parallel_for(planes, [&](int64_t p) {
    const int64_t c = p % channels;
    kernels::normalize_run(xd + p * n, yd + p * n, n, work->mean[c], work->inv_std[c], gamma[c],
                           beta[c]);
  });
}

void BatchNormalizationLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                       Outputs in_grad, Outputs array_grad) const {
  auto* work = static_cast<BatchNormWorkspace*>(ws);
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
  work->sum_dy.resize(static_cast<size_t>(channels));
  work->sum_dy_xhat.resize(static_cast<size_t>(channels));
  const float* xd = x.data();
  const float* dyd = dy.data();
  // Per channel: Σ dy and Σ dy·x̂, with x̂ as in forward.
  kernels::channel_grad_sums(xd, dyd, batch, channels, n, work->mean.data(), work->inv_std.data(),
                             work->sum_dy.data(), work->sum_dy_xhat.data(), work->scratch);
  const std::vector<double>& sum_dy = work->sum_dy;
  const std::vector<double>& sum_dy_xhat = work->sum_dy_xhat;

  Tensor* dgamma = array_grad.size() > kGamma ? array_grad[kGamma] : nullptr;
  Tensor* dbeta = array_grad.size() > kBeta ? array_grad[kBeta] : nullptr;
  if (dgamma) dgamma->resize({channels});
  if (dbeta) dbeta->resize({channels});
  for (int64_t c = 0; c < channels; ++c) {
    if (dgamma) (*dgamma)[c] = static_cast<float>(sum_dy_xhat[c]);
    if (dbeta) (*dbeta)[c] = static_cast<float>(sum_dy[c]);
  }
  // The moving statistics are state, not parameters: no gradient.
  for (size_t a : {kMovingMean, kMovingVariance})
    if (array_grad.size() > a && array_grad[a]) {
      array_grad[a]->resize({channels});
      array_grad[a]->fill(0.0f);
    }

  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  if (work->communicator) {
    // Synchronized: dx needs the sums over the global batch (Gamma's and
    // Beta's gradients above stay this shard's, for the gradient reduction).
    std::vector<double>& buf = work->scratch.shared;
    buf.resize(static_cast<size_t>(2 * channels));
    std::copy(sum_dy.begin(), sum_dy.end(), buf.begin());
    std::copy(sum_dy_xhat.begin(), sum_dy_xhat.end(), buf.begin() + channels);
    work->communicator->allreduce_sum(buf.data(), 2 * channels);
    std::copy_n(buf.begin(), channels, work->sum_dy.begin());
    std::copy_n(buf.begin() + channels, channels, work->sum_dy_xhat.begin());
  }
  dx->resize(x.shape());
  float* dxd = dx->data();
  // Training: dx = Gamma·inv_std·(dy − mean(dy) − x̂·mean(dy·x̂)), the means over
  // the batch and spatial positions (the statistics depend on x).
  // Inference: the statistics are constants, dx = Gamma·inv_std·dy.
  const bool training = work->training;
  const double count = static_cast<double>(work->count);
  parallel_for(planes, [&](int64_t p) {
    const int64_t c = p % channels;
    const float* xp = xd + p * n;
    const float* gp = dyd + p * n;
    float* dxp = dxd + p * n;
    const float inv_std = work->inv_std[c];
    const float g = gamma[c] * inv_std;
    if (training) {
      kernels::normalize_grad_run(xp, gp, dxp, n, kernels::Xhat(work->mean[c], inv_std), g,
                                  static_cast<float>(sum_dy[c] / count),
                                  static_cast<float>(sum_dy_xhat[c] / count));
    } else {
      for (int64_t i = 0; i < n; ++i)
        dxp[i] = g * gp[i];
    }
  });
}

void BatchNormalizationLayer::update_state(Workspace* ws) {
  auto* work = static_cast<BatchNormWorkspace*>(ws);
  if (!work || !work->pending_update) return;
  for (size_t a : {kMovingMean, kMovingVariance})
    if (!arrays_[a].value)
      throw Error(arrays_[a].name +
                  ": not initialized, nothing to update (call NetInitialize first)");
  Tensor& mm = *arrays_[kMovingMean].value;
  Tensor& mv = *arrays_[kMovingVariance].value;
  const int64_t channels = static_cast<int64_t>(work->mean.size());
  for (const Tensor* t : {&mm, &mv})
    if (t->size() != channels)
      throw Error((t == &mm ? "MovingMean" : "MovingVariance") + std::string(": expected ") +
                  std::to_string(channels) + " values (the channels of the last forward), got " +
                  std::to_string(t->size()));
  for (int64_t c = 0; c < channels; ++c) {
    mm[c] = static_cast<float>(momentum_ * mm[c] + (1 - momentum_) * work->mean[c]);
    mv[c] = static_cast<float>(momentum_ * mv[c] + (1 - momentum_) * work->unbiased_var[c]);
  }
  work->pending_update = false;
}

}  // namespace strata
