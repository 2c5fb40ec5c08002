#include "train/training_step.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "train/net_train.hpp"

namespace strata {

namespace {

bool all_finite(const Tensor& t) {
  for (float v : t.values())
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

TrainingStep::TrainingStep(Layer& net, Optimizer& optimizer, LossFunction loss,
                           std::vector<double> rate_multipliers)
    : net_(net),
      optimizer_(optimizer),
      loss_(loss),
      scores_(ends_in_softmax(net) ? ClassScores::Probabilities : ClassScores::Logits) {
  if (net.inputs().size() != 1 || net.outputs().size() != 1)
    throw Error("training needs a net with one input and one output; this one has " +
                std::to_string(net.inputs().size()) + " and " +
                std::to_string(net.outputs().size()));
  if (const auto missing = net.missing_arrays(); !missing.empty())
    throw Error(missing.front() + " is not initialized (call NetInitialize first)");
  std::vector<ArrayRef> refs = net.all_arrays();
  if (!rate_multipliers.empty() && rate_multipliers.size() != refs.size())
    throw Error("the net has " + std::to_string(refs.size()) + " arrays but " +
                std::to_string(rate_multipliers.size()) + " learning-rate multipliers were given");
  grads_.resize(refs.size());
  grad_ptrs_.assign(refs.size(), nullptr);
  for (size_t i = 0; i < refs.size(); ++i) {
    const double r = rate_multipliers.empty() ? 1.0 : rate_multipliers[i];
    Tensor* array = refs[i].layer->mutable_array(refs[i].index);
    if (!refs[i].layer->arrays()[refs[i].index].trainable) {
      if (r == 0) frozen_state_.push_back(array);
      continue;
    }
    // A null gradient is not computed: Net::backward skips what only a
    // frozen array would need.
    if (r == 0) continue;
    grad_ptrs_[i] = &grads_[i];
    params_.push_back(array);
    grad_views_.push_back(&grads_[i]);
    multipliers_.push_back(static_cast<float>(r));
  }
  snapshot_.resize(params_.size());
  frozen_values_.resize(frozen_state_.size());
  workspace_ = net.make_workspace();
}

double TrainingStep::operator()(const Tensor& inputs, const Tensor& targets, Rng& rng) {
  const Tensor* in[] = {&inputs};
  Tensor* out[] = {&output_};
  net_.forward(in, out, workspace_.get(), RunContext{Mode::Training, &rng});
  const double loss = compute_loss(loss_, output_, targets, scores_, &output_grad_);
  if (!std::isfinite(loss))
    throw Error(std::string("the loss is ") +
                (std::isnan(loss) ? "nan"
                 : loss > 0       ? "inf"
                                  : "-inf") +
                "; training stopped, the net keeps its arrays from before this batch");
  const Tensor* outs[] = {&output_};
  const Tensor* gouts[] = {&output_grad_};
  Tensor* gins[] = {nullptr};
  net_.backward(in, outs, gouts, workspace_.get(), gins, grad_ptrs_);
  for (size_t i = 0; i < params_.size(); ++i)
    snapshot_[i] = *params_[i];  // same shapes every step: no allocation
  optimizer_.step(params_, grad_views_, multipliers_);
  for (const Tensor* p : params_)
    if (!all_finite(*p)) {
      for (size_t j = 0; j < params_.size(); ++j)
        *params_[j] = snapshot_[j];
      throw Error(
          "an update made arrays NaN or infinite (is the learning rate too large?); training "
          "stopped, the net keeps its arrays from before this batch");
    }
  for (size_t i = 0; i < frozen_state_.size(); ++i)
    frozen_values_[i] = *frozen_state_[i];
  net_.update_state(workspace_.get());
  // A frozen layer's moving statistics stay as they were.
  for (size_t i = 0; i < frozen_state_.size(); ++i)
    *frozen_state_[i] = frozen_values_[i];
  return loss;
}

}  // namespace strata
