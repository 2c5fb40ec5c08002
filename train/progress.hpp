// TerminalProgress: NetTrain's default observer (unless TrainOptions::quiet).
// A progress bar with the time left on stderr while a round runs (when stderr
// is a terminal), and one line per round through spdlog:
//   round   3/20  loss 0.41230  validation loss 0.45511  accuracy 86.67%  52311 examples/s
// and, once, a warning when a round's loss diverges (loss_diverged in
// train/net_train.hpp: more than 10 times the first batch's loss):
//   warning: round 2: loss 58.2244 is 52.9 times the first batch's (1.1008); ...
#pragma once

#include "train/observer.hpp"

namespace strata {

class TerminalProgress : public TrainObserver {
 public:
  // The bar is drawn when stderr is a terminal.
  TerminalProgress();
  explicit TerminalProgress(bool bar) : bar_(bar) {}

  void training_started(const TrainPlan& plan) override;
  void batch_ended(const BatchReport& batch) override;
  void round_ended(const RoundRecord& record) override;

 private:
  bool bar_;
  int rounds_ = 0;
  double start_loss_ = 0;  // the first batch's
  bool started_ = false;   // start_loss_ is known
  bool warned_ = false;
};

}  // namespace strata
