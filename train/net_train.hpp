// NetTrain: trains a net on a dataset with minibatches, an optimizer, an
// optional validation set, progress reported to an observer and a history.
//
//   NetChain net(...);
//   SGD sgd(0.1);
//   sgd.momentum(0.9);
//   TrainResult r = NetTrain(net, train, {.rounds = 20, .validation = test}, sgd);
//
// The net is trained in place (as a PyTorch module is); arrays still
// Automatic are initialized first, with the seed. Semantics follow PyTorch:
// the loss of a batch is the mean over its examples, one update per batch,
// the last partial batch is used, BatchNormalizationLayer uses batch
// statistics and updates its moving statistics, DropoutLayer is active.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/communicator.hpp"
#include "core/tensor.hpp"
#include "layers/layer.hpp"
#include "train/learning_rate_multipliers.hpp"
#include "train/loss.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"

namespace strata {

// Examples batch-first: inputs [N, …] with the net's input shape per example,
// targets [N] (class indices) or [N, …] (values).
struct Dataset {
  Tensor inputs;
  Tensor targets;
  int64_t size() const { return inputs.rank() ? inputs.dim(0) : 0; }
};

// The examples at the given indices, in that order.
Dataset subset(const Dataset& data, const std::vector<int64_t>& indices);

// 16 hexadecimal digits: a 64-bit hash of the shapes and the values of the
// inputs and targets, to tell whether two datasets are the same (a resumed
// training's).
std::string data_fingerprint(const Dataset& data);

struct RoundRecord {
  int round = 0;    // 1-based
  double loss = 0;  // mean training loss over the round's examples
  std::optional<double> validation_loss;
  std::optional<double> validation_accuracy;  // classifiers (CrossEntropy) only
  double learning_rate = 0;                   // the rate used in this round
  double seconds = 0;                         // wall time of the round (training only)
  double examples_per_second = 0;
};

// Where training is: the round (1-based) and the batch within it (0-based)
// that come next.
struct TrainPosition {
  int round = 1;
  int64_t batch = 0;
  bool operator==(const TrainPosition&) const = default;
};

// What a round stopped in its middle had trained: the sum of its batches'
// losses (each times its examples), its examples and its seconds. Resuming
// with it (TrainOptions::start_partial) makes the round's record the same as
// if it had never stopped.
struct PartialRound {
  double loss_sum = 0;
  int64_t examples = 0;
  double seconds = 0;
  bool operator==(const PartialRound&) const = default;
};

struct TrainResult {
  std::vector<double> batch_losses;  // every batch, in order
  std::vector<RoundRecord> rounds;
  LossFunction loss = LossFunction::MeanSquared;
  double seconds = 0;              // the whole training, validation included
  double examples_per_second = 0;  // training examples / training time
  // Stopped early (by TrainOptions::stop, on_round or the observer), and
  // where to resume. A round stopped in its middle has no record in `rounds`
  // (nor a round_ended): what it trained is in `partial`, for resuming.
  bool stopped = false;
  TrainPosition next;
  PartialRound partial;
  // The first round whose loss diverged (see loss_diverged), 0 when none
  // did: the training ran, but its net is likely useless.
  int diverged_round = 0;
  // Data-parallel training only: why a collective failed (another process
  // died, or stopped answering after SIGTERM), empty when none did. Training
  // then stopped (`stopped`); the net and the optimizer are as they were
  // after the last batch completed, and `next` is where to resume.
  std::string communication_error;
};

// A round's mean loss has diverged when it is more than 10 times the loss of
// the first batch trained (the net as it was given): so far above its start
// that the learning rate is almost surely too large. (A NaN or infinite loss
// is an Error instead.) 10 leaves room for the noise of small batches and
// for a first round that overshoots before it settles.
constexpr double kDivergenceFactor = 10;
bool loss_diverged(double start_loss, double round_loss);
// The one-line warning for such a round, as TerminalProgress writes it:
//   warning: round 2: loss 58.2244 is 52.9 times the first batch's (1.1008);
//   the learning rate is likely too large: try a smaller one (--learning-rate)
std::string divergence_warning(const RoundRecord& round, double start_loss);

class TrainObserver;  // train/observer.hpp

// The learning rate of each round, for TrainOptions::schedule: a
// LearningRateSchedule as it is (its round 0 is NetTrain's round 1), or any
// function of the round (1-based) and the optimizer's initial rate.
//   .schedule = LearningRateSchedule::cosine(0.05, 20)
//   .schedule = [](int round, double rate) { return rate / round; }
class RoundSchedule {
 public:
  RoundSchedule() = default;
  RoundSchedule(const LearningRateSchedule& s)  // NOLINT: implicit by design
      : f_([s](int round, double) { return s.rate(round - 1); }) {}
  template <typename F>
  requires std::is_invocable_r_v<double, F, int, double> RoundSchedule(F f)
      : f_(std::move(f)) {}  // NOLINT: implicit by design

  explicit operator bool() const { return static_cast<bool>(f_); }
  double operator()(int round, double initial_rate) const { return f_(round, initial_rate); }

 private:
  std::function<double(int, double)> f_;
};

// In the order users set them, so that designated initializers read
// naturally: sizes, the seed, the learning rate, the loss and validation,
// then how training reports and where it starts.
//   NetTrain(net, data, {.batch_size = 16, .rounds = 20, .seed = 1,
//                        .schedule = LearningRateSchedule::cosine(0.05, 20),
//                        .validation = test, .quiet = true}, sgd);
struct TrainOptions {
  int64_t batch_size = 64;
  int rounds = 10;
  // Seeds initialization of Automatic arrays, shuffling, dropout and the
  // validation split: the same seed and data give a bit-identical net.
  uint64_t seed = 0;
  // Reshuffle the examples every round (seeded).
  bool shuffle = true;
  // The learning rate of each round (see RoundSchedule); unset keeps the
  // optimizer's rate.
  RoundSchedule schedule{};
  // Learning-rate multipliers by path, first match wins, the rest 1
  // (Wolfram's LearningRateMultipliers; train/learning_rate_multipliers.hpp):
  // {{"conv*", 0}, {"head", 2}} or {{"head", 1}, {"_", 0}}. 0 freezes: the
  // arrays stay bit-identical (no weight decay, no momentum), their
  // gradients are not computed, and no backward runs through the layers
  // before the first one that trains; a frozen BatchNormalizationLayer keeps
  // its moving statistics (it still normalizes by batch statistics while
  // training, as a PyTorch module with requires_grad off does). A pattern
  // that matches no array is an Error naming it.
  LearningRateMultipliers learning_rate_multipliers{};
  // The loss; unset: CrossEntropy for a net ending in SoftmaxLayer, else
  // MeanSquared (the Wolfram default).
  std::optional<LossFunction> loss{};
  // A separate validation set, or a fraction (0 < f < 1) of the data held out
  // (a seeded random choice of examples).
  std::optional<Dataset> validation{};
  double validation_split = 0;
  // No progress: without an observer, NetTrain writes one line per round
  // through spdlog and a progress bar on a terminal (TerminalProgress).
  bool quiet = false;
  // Told of every batch and round, and may stop the training
  // (train/observer.hpp); replaces the default TerminalProgress. Not owned.
  TrainObserver* observer = nullptr;
  // Called after every round (for checkpoints); return false to stop.
  std::function<bool(const RoundRecord&)> on_round{};
  // Checked after every batch: when it becomes true, training stops after
  // that batch (for SIGINT). The result says where to resume.
  const std::atomic<bool>* stop = nullptr;
  // Where to start: resuming from a checkpoint. Each round's order and each
  // batch's dropout masks depend only on the seed, the round and the batch,
  // so a resumed training (with the net and optimizer state saved at that
  // point) reaches the same net as one that was never interrupted.
  TrainPosition start{};
  // Data-parallel training across the processes of this communicator (an
  // MpiCommunicator, train/mpi_communicator.hpp); not owned. Every process
  // calls NetTrain with the same data, options and optimizer state. The net's
  // arrays are broadcast from rank 0, and so are each round's order and the
  // validation results (rank 0 validates). Each global batch of batch_size
  // examples is split into one shard per process by example index (the
  // first batch_size % size processes take one more; a last partial batch is
  // shared as evenly as it goes), each process computes its shard's
  // gradients, one reduction a step sums them and every process applies the
  // same update: the result is that of one process up to the order of float
  // additions, dropout and BatchNormalizationLayer included (masks by global
  // example index, statistics over the global batch). Only rank 0 shows the
  // default progress; observers and on_round are called on every process,
  // and a stop (stop, on_round, request_stop) on any process stops all of
  // them at the same batch. Null, or one process: training as without it.
  Communicator* communicator = nullptr;
  // With a start in the middle of a round: what that round had trained
  // before (TrainResult::partial of the stopped training).
  PartialRound start_partial{};
};

// Trains `net` with `optimizer` (whose state carries over between calls).
// Throws an Error for data that does not fit the net, and stops with an
// Error naming the round and batch when the loss or an array becomes NaN or
// infinite; the net then keeps its arrays from before that batch.
TrainResult NetTrain(Layer& net, const Dataset& data, const TrainOptions& options,
                     Optimizer& optimizer);
// The same with an optimizer made for this training alone:
//   NetTrain(net, data, {.rounds = 5}, Adam(0.02));
TrainResult NetTrain(Layer& net, const Dataset& data, const TrainOptions& options,
                     Optimizer&& optimizer);
// The same with Adam at its defaults.
TrainResult NetTrain(Layer& net, const Dataset& data, const TrainOptions& options = {});

// Whether the net's (single) output comes from a SoftmaxLayer.
bool ends_in_softmax(const Layer& net);
// The loss NetTrain uses for this net when none is given.
LossFunction default_loss(const Layer& net);

struct Evaluation {
  double loss = 0;
  std::optional<double> accuracy;               // classifiers only
  std::vector<std::vector<int64_t>> confusion;  // [target][predicted], classifiers only
  int64_t examples = 0;
  // Examples whose output holds NaN or infinity (which make the loss NaN or
  // infinite), and the index of the first (from 0; -1 for none).
  int64_t non_finite = 0;
  int64_t first_non_finite = -1;
};

// Applies the net in inference mode to the whole dataset (in batches) and
// scores it; classification metrics when the loss is CrossEntropy.
Evaluation evaluate(const Layer& net, const Dataset& data, LossFunction loss,
                    int64_t batch_size = 256);

}  // namespace strata
