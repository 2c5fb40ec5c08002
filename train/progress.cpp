#include "train/progress.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "train/net_train.hpp"

namespace strata {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  static auto log = [] {
    auto l = spdlog::stderr_color_mt("strata.train");
    l->set_pattern("%v");
    return l;
  }();
  return log;
}

void progress_bar(int round, int rounds, int64_t done, int64_t total, double elapsed) {
  const int width = 30;
  const double f = total ? static_cast<double>(done) / total : 1.0;
  const int filled = static_cast<int>(f * width);
  const double eta = f > 0 ? elapsed / f - elapsed : 0;
  std::fprintf(stderr, "\rround %d/%d [%s%s] %3.0f%%  ETA %.1fs ", round, rounds,
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), 100 * f,
               eta);
  std::fflush(stderr);
}

}  // namespace

TerminalProgress::TerminalProgress() : bar_(isatty(STDERR_FILENO)) {}

void TerminalProgress::training_started(const TrainPlan& plan) {
  rounds_ = plan.rounds;
  started_ = warned_ = false;
}

void TerminalProgress::batch_ended(const BatchReport& b) {
  if (!started_) {
    start_loss_ = b.loss;
    started_ = true;
  }
  if (bar_) progress_bar(b.round, b.rounds, b.examples_done, b.examples, b.round_seconds);
}

void TerminalProgress::round_ended(const RoundRecord& record) {
  if (bar_) std::fprintf(stderr, "\r%*s\r", 70, "");
  std::string line = fmt::format("round {:>3}/{}  loss {:.5f}", record.round, rounds_, record.loss);
  if (record.validation_loss)
    line += fmt::format("  validation loss {:.5f}", *record.validation_loss);
  if (record.validation_accuracy)
    line += fmt::format("  accuracy {:.2f}%", 100 * *record.validation_accuracy);
  line += fmt::format("  {:.0f} examples/s", record.examples_per_second);
  logger()->info(line);
  if (!warned_ && started_ && loss_diverged(start_loss_, record.loss)) {
    logger()->warn(divergence_warning(record, start_loss_));
    warned_ = true;
  }
}

}  // namespace strata
