// TerminalProgress: NetTrain's default observer (unless TrainOptions::quiet).
// A progress bar with the time left on stderr while a round runs (when stderr
// is a terminal), and one line per round through spdlog:
//   round   3/20  loss 0.41230  validation loss 0.45511  accuracy 86.67%  52311 examples/s
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
};

}  // namespace strata
