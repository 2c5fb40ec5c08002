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

#include "core/communicator.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "layers/layer.hpp"
#include "train/loss.hpp"
#include "train/optimizer.hpp"

namespace strata {

// Data-parallel training: this process's part of a global batch.
struct Shard {
  int64_t first_example = 0;  // the index of this shard's first example in the global batch
  int64_t global_batch = 0;   // the examples of the global batch, every shard together
  bool stop = false;          // in: this process asks to stop; out: some process did
};

class TrainingStep {
 public:
  // `net` (one input, one output, every array initialized) and `optimizer`
  // are used in place and must outlive the step. `rate_multipliers` has one
  // learning-rate multiplier per array of net.all_arrays() (or is empty: all
  // 1; see train/learning_rate_multipliers.hpp). An array with multiplier 0
  // is frozen: the optimizer never sees it (no update, no weight decay, no
  // momentum: it stays bit-identical), its gradient is not computed, and a
  // state array (MovingMean) keeps its value.
  //
  // With a `communicator` of more than one process, every process trains the
  // same net on its shard of each global batch (the overload with a Shard):
  // the gradients (and the loss, and the stop requests) are summed across
  // processes in one reduction of a single buffer, and every process applies
  // the same update. The net's arrays must be the same on every process to
  // begin with (NetTrain broadcasts them). Not owned.
  TrainingStep(Layer& net, Optimizer& optimizer, LossFunction loss,
               std::vector<double> rate_multipliers = {}, Communicator* communicator = nullptr);

  // Trains on one batch (inputs [N, …], targets as the loss wants them);
  // returns the batch's loss, computed before the update. `rng` drives
  // DropoutLayer. Throws an Error when the data does not fit the net, when the
  // loss is NaN or infinite (nothing is changed), or when the update makes an
  // array NaN or infinite (the arrays are put back as they were).
  double operator()(const Tensor& inputs, const Tensor& targets, Rng& rng);
  // Data-parallel: trains on this process's shard (which may be empty) of a
  // global batch of shard.global_batch examples; returns the global batch's
  // loss, the same on every process. Each shard's loss and gradients are
  // taken as its part of the global batch's mean, so that their sum, over
  // any split, is the mean gradient one process would compute. Every
  // process must call it for every global batch, with the same `rng` state.
  // A CommunicationError leaves the arrays as they were.
  double operator()(const Tensor& inputs, const Tensor& targets, Rng& rng, Shard& shard);

  // The net's output for the last batch (before the update).
  const Tensor& output() const { return output_; }

 private:
  // Forward, loss and backward; the loss (a part of the global one in a
  // shard, with mean_over).
  double gradients(const Tensor& inputs, const Tensor& targets, const RunContext& ctx,
                   int64_t mean_over);
  // The optimizer update and the state changes after it.
  void update();

  Layer& net_;
  Optimizer& optimizer_;
  Communicator* communicator_;
  std::vector<float> fused_;  // every gradient, then the loss and the stop flag
  LossFunction loss_;
  ClassScores scores_;
  std::unique_ptr<Workspace> workspace_;
  std::vector<Tensor> grads_;              // per array of all_arrays()
  std::vector<Tensor*> grad_ptrs_;         // null for arrays that are not trained
  std::vector<Tensor*> params_;            // the trainable arrays
  std::vector<const Tensor*> grad_views_;  // their gradients
  std::vector<Tensor*> trained_grads_;     // the same, to write the reduced sums
  std::vector<float> multipliers_;         // their learning-rate multipliers
  std::vector<Tensor*> frozen_state_;      // state arrays kept as they are
  std::vector<Tensor> frozen_values_;      // and their values
  std::vector<Tensor> snapshot_;           // the trainable arrays before the update
  Tensor output_, output_grad_;
};

}  // namespace strata
