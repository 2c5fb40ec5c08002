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

TrainingStep::TrainingStep(Layer& net, Optimizer& optimizer, LossFunction loss)
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
  grads_.resize(refs.size());
  grad_ptrs_.assign(refs.size(), nullptr);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i].layer->arrays()[refs[i].index].trainable) continue;
    grad_ptrs_[i] = &grads_[i];
    params_.push_back(refs[i].layer->mutable_array(refs[i].index));
    grad_views_.push_back(&grads_[i]);
  }
  snapshot_.resize(params_.size());
  workspace_ = net.make_workspace();
}

double TrainingStep::operator()(const Tensor& inputs, const Tensor& targets, Rng& rng) {
  const Tensor* in[] = {&inputs};
  Tensor* out[] = {&output_};
  net_.forward(in, out, workspace_.get(), RunContext{Mode::Training, &rng});
  const double loss = compute_loss(loss_, output_, targets, scores_, &output_grad_);
  if (!std::isfinite(loss))
    throw Error("the loss is " + std::to_string(loss) +
                "; training stopped, the net keeps its arrays from before this batch");
  const Tensor* outs[] = {&output_};
  const Tensor* gouts[] = {&output_grad_};
  Tensor* gins[] = {nullptr};
  net_.backward(in, outs, gouts, workspace_.get(), gins, grad_ptrs_);
  for (size_t i = 0; i < params_.size(); ++i)
    snapshot_[i] = *params_[i];  // same shapes every step: no allocation
  optimizer_.step(params_, grad_views_);
  for (const Tensor* p : params_)
    if (!all_finite(*p)) {
      for (size_t j = 0; j < params_.size(); ++j)
        *params_[j] = snapshot_[j];
      throw Error(
          "an update made arrays NaN or infinite (is the learning rate too large?); training "
          "stopped, the net keeps its arrays from before this batch");
    }
  net_.update_state(workspace_.get());
  return loss;
}

}  // namespace strata
