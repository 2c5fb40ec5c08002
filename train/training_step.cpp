#include "train/training_step.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
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

[[noreturn]] void throw_loss_error(double loss) {
  // Spelled out: printf would give "-nan" for a NaN with its sign bit set.
  throw Error(std::string("the loss is ") +
              (std::isnan(loss) ? "nan"
               : loss > 0       ? "inf"
                                : "-inf") +
              "; training stopped, the net keeps its arrays from before this batch");
}

}  // namespace

TrainingStep::TrainingStep(Layer& net, Optimizer& optimizer, LossFunction loss,
                           std::vector<double> rate_multipliers, Communicator* communicator)
    : net_(net),
      optimizer_(optimizer),
      communicator_(communicator),
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
    trained_grads_.push_back(&grads_[i]);
    multipliers_.push_back(static_cast<float>(r));
  }
  snapshot_.resize(params_.size());
  frozen_values_.resize(frozen_state_.size());
  workspace_ = net.make_workspace();
}

double TrainingStep::gradients(const Tensor& inputs, const Tensor& targets, const RunContext& ctx,
                               int64_t mean_over) {
  const Tensor* in[] = {&inputs};
  Tensor* out[] = {&output_};
  net_.forward(in, out, workspace_.get(), ctx);
  const double loss = compute_loss(loss_, output_, targets, scores_, &output_grad_, mean_over);
  const Tensor* outs[] = {&output_};
  const Tensor* gouts[] = {&output_grad_};
  Tensor* gins[] = {nullptr};
  net_.backward(in, outs, gouts, workspace_.get(), gins, grad_ptrs_);
  return loss;
}

void TrainingStep::update() {
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
}

double TrainingStep::operator()(const Tensor& inputs, const Tensor& targets, Rng& rng) {
  // The loss is checked before backward: a NaN loss leaves nothing changed.
  const Tensor* in[] = {&inputs};
  Tensor* out[] = {&output_};
  net_.forward(in, out, workspace_.get(), RunContext{Mode::Training, &rng});
  const double loss = compute_loss(loss_, output_, targets, scores_, &output_grad_);
  if (!std::isfinite(loss)) throw_loss_error(loss);
  const Tensor* outs[] = {&output_};
  const Tensor* gouts[] = {&output_grad_};
  Tensor* gins[] = {nullptr};
  net_.backward(in, outs, gouts, workspace_.get(), gins, grad_ptrs_);
  update();
  return loss;
}

double TrainingStep::operator()(const Tensor& inputs, const Tensor& targets, Rng& rng,
                                Shard& shard) {
  if (!is_distributed(communicator_)) {
    // One process: the shard is the batch.
    return (*this)(inputs, targets, rng);
  }
  RunContext ctx{Mode::Training, &rng, communicator_, shard.first_example};
  // An error of this process's shard alone (a bad example) is told to the
  // others through the reduction, so that no process waits for one that
  // has given up: all of them fail the step.
  double part = 0;
  std::optional<Error> failure;
  try {
    part = gradients(inputs, targets, ctx, shard.global_batch);
  } catch (CommunicationError&) {
    throw;
  } catch (Error& e) {
    failure = e;
  }
  // One reduction per step: every gradient, then the loss as two floats
  // (its float and the rest, so that the sum keeps a double's precision),
  // the stop requests, and the processes that failed (how many, and the sum
  // of their ranks + 1, which names the one when there is one).
  // Sized by the arrays, the same on every process whatever a shard gave.
  size_t total = 5;
  for (const Tensor* p : params_)
    total += static_cast<size_t>(p->size());
  fused_.resize(total);
  float* f = fused_.data();
  for (size_t i = 0; i < grad_views_.size(); ++i) {
    const Tensor& g = *grad_views_[i];
    const auto size = static_cast<size_t>(params_[i]->size());
    if (failure || static_cast<size_t>(g.size()) != size) {
      if (!failure)
        failure = Error("the gradient of an array has " + std::to_string(g.size()) +
                        " values, not " + std::to_string(size));
      std::fill_n(f, size, 0.0f);
      f += size;
    } else {
      f = std::copy(g.values().begin(), g.values().end(), f);
    }
  }
  const auto hi = static_cast<float>(part);
  f[0] = hi;
  f[1] = static_cast<float>(part - hi);
  f[2] = shard.stop ? 1.0f : 0.0f;
  f[3] = failure ? 1.0f : 0.0f;
  f[4] = failure ? static_cast<float>(communicator_->rank() + 1) : 0.0f;
  communicator_->allreduce_sum(fused_.data(), static_cast<int64_t>(total));
  f = fused_.data() + (total - 5);
  if (failure) throw failure->add_context("rank " + std::to_string(communicator_->rank()));
  if (f[3] > 0)
    throw Error(f[3] == 1 ? "rank " + std::to_string(static_cast<int>(f[4]) - 1) +
                                " failed in this batch (its message says why)"
                          : std::to_string(static_cast<int>(f[3])) +
                                " processes failed in this batch (their messages say why)");
  f = fused_.data();
  for (Tensor* g : trained_grads_) {
    std::copy_n(f, g->size(), g->data());
    f += g->size();
  }
  const double loss = static_cast<double>(f[0]) + static_cast<double>(f[1]);
  shard.stop = f[2] > 0;
  // Every process has the same loss and gradients, so all decide alike.
  if (!std::isfinite(loss)) throw_loss_error(loss);
  update();
  return loss;
}

}  // namespace strata
