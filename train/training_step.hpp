// One step of training: the forward pass over a batch, the loss and its
// gradient, the backward pass and an optimizer update. NetTrain runs one per
// batch; a benchmark or a custom loop can run them directly:
//
//   TrainingStep step(net, sgd, LossFunction::CrossEntropy);
//   for (...) loss = step(inputs, targets, rng);
//
// Every buffer (the net's workspace, the gradients, the copy of the arrays to
// fall back on) is kept from step to step, so once a batch size has been
// seen a step allocates nothing.
#pragma once

#include <memory>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "layers/layer.hpp"
#include "train/loss.hpp"
#include "train/optimizer.hpp"

namespace strata {

class TrainingStep {
 public:
  // `net` (one input, one output, every array initialized) and `optimizer`
  // are used in place and must outlive the step. `rate_multipliers` has one
  // learning-rate multiplier per array of net.all_arrays() (or is empty: all
  // 1; see train/learning_rate_multipliers.hpp). An array with multiplier 0
  // is frozen: the optimizer never sees it (no update, no weight decay, no
  // momentum: it stays bit-identical), its gradient is not computed, and a
  // state array (MovingMean) keeps its value.
  TrainingStep(Layer& net, Optimizer& optimizer, LossFunction loss,
               std::vector<double> rate_multipliers = {});

  // Trains on one batch (inputs [N, …], targets as the loss wants them);
  // returns the batch's loss, computed before the update. `rng` drives
  // DropoutLayer. Throws an Error when the data does not fit the net, when the
  // loss is NaN or infinite (nothing is changed), or when the update makes an
  // array NaN or infinite (the arrays are put back as they were).
  double operator()(const Tensor& inputs, const Tensor& targets, Rng& rng);

  // The net's output for the last batch (before the update).
  const Tensor& output() const { return output_; }

 private:
  Layer& net_;
  Optimizer& optimizer_;
  LossFunction loss_;
  ClassScores scores_;
  std::unique_ptr<Workspace> workspace_;
  std::vector<Tensor> grads_;              // per array of all_arrays()
  std::vector<Tensor*> grad_ptrs_;         // null for arrays that are not trained
  std::vector<Tensor*> params_;            // the trainable arrays
  std::vector<const Tensor*> grad_views_;  // their gradients
  std::vector<float> multipliers_;         // their learning-rate multipliers
  std::vector<Tensor*> frozen_state_;      // state arrays kept as they are
  std::vector<Tensor> frozen_values_;      // and their values
  std::vector<Tensor> snapshot_;           // the trainable arrays before the update
  Tensor output_, output_grad_;
};

}  // namespace strata
