// TrainObserver: what NetTrain reports while it trains — for a progress bar,
// a log file, a GUI or an early-stopping rule. NetTrain calls it on the
// thread it trains on, in this order:
//
//   training_started
//   for each round: batch_ended for each batch, validation_done (with a
//                   validation set), round_ended
//   training_ended
//
// Any of them, or another thread (a GUI's Stop button), may request_stop():
// training then stops after the batch in progress, as with TrainOptions::stop.
// A round stopped in its middle does not end (no validation_done, no
// round_ended, no record: a resumed training completes it, so that each
// round is recorded once); training_ended follows, and the result says
// where to resume and what the round had trained (TrainResult::partial).
#pragma once

#include <atomic>
#include <cstdint>

#include "train/net_train.hpp"

namespace strata {

// What the training will do, told before it starts.
struct TrainPlan {
  int rounds = 0;        // TrainOptions::rounds
  int64_t examples = 0;  // per round (the validation set held out)
  int64_t batches = 0;   // per round
  int64_t validation_examples = 0;
  LossFunction loss = LossFunction::MeanSquared;
  TrainPosition start;  // TrainOptions::start
};

// Where training is after a batch, and how that batch went.
struct BatchReport {
  int round = 0;              // 1-based
  int rounds = 0;             // TrainOptions::rounds
  int64_t batch = 0;          // 0-based, within the round
  int64_t batches = 0;        // per round
  int64_t examples_done = 0;  // of this round's examples, this batch included
  int64_t examples = 0;       // per round
  double loss = 0;            // mean over the batch's examples
  double learning_rate = 0;   // the rate of this round
  double round_seconds = 0;   // since the round began
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;

  virtual void training_started(const TrainPlan& /*plan*/) {}
  virtual void batch_ended(const BatchReport& /*batch*/) {}
  // The round's record with its validation loss (and accuracy) filled in.
  virtual void validation_done(const RoundRecord& /*record*/) {}
  // The round's record, as it goes into TrainResult::rounds.
  virtual void round_ended(const RoundRecord& /*record*/) {}
  // The whole result; `stopped` when a stop was requested. Not called when
  // training throws (a NaN loss, data that does not fit).
  virtual void training_ended(const TrainResult& /*result*/) {}

  // Asks NetTrain to stop (from any thread). NetTrain clears the request
  // when it starts.
  void request_stop() { stop_ = true; }
  bool stop_requested() const { return stop_; }
  void clear_stop() { stop_ = false; }

 private:
  std::atomic<bool> stop_{false};
};

}  // namespace strata
