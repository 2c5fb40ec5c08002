#include "train/schedule.hpp"

#include <charconv>
#include <cmath>
#include <numbers>
#include <string>

#include "core/error.hpp"

namespace strata {

namespace {

std::string number(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

}  // namespace

ScheduleKind parse_schedule_kind(std::string_view name) {
  if (name == "Constant") return ScheduleKind::Constant;
  if (name == "Step") return ScheduleKind::Step;
  if (name == "Cosine") return ScheduleKind::Cosine;
  throw Error("unknown learning-rate schedule \"" + std::string(name) +
              "\" (schedules: Constant, Step, Cosine)");
}

std::string_view schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant:
      return "Constant";
    case ScheduleKind::Step:
      return "Step";
    case ScheduleKind::Cosine:
      return "Cosine";
  }
  return "?";
}

LearningRateSchedule::LearningRateSchedule(ScheduleKind kind, double rate)
    : kind_(kind), rate_(rate) {
  if (!(rate >= 0) || !std::isfinite(rate))
    throw Error("LearningRate: expected a non-negative number, got " + number(rate));
}

LearningRateSchedule LearningRateSchedule::constant(double rate) {
  return {ScheduleKind::Constant, rate};
}

LearningRateSchedule LearningRateSchedule::step(double rate, int64_t step_size, double gamma) {
  LearningRateSchedule s(ScheduleKind::Step, rate);
  if (step_size < 1)
    throw Error("StepSize: expected a number of rounds of at least 1, got " +
                std::to_string(step_size));
  if (!(gamma > 0) || !std::isfinite(gamma))
    throw Error("Gamma: expected a positive number, got " + number(gamma));
  s.step_size_ = step_size;
  s.gamma_ = gamma;
  return s;
}

LearningRateSchedule LearningRateSchedule::cosine(double rate, int64_t total_rounds,
                                                  double minimum_rate) {
  LearningRateSchedule s(ScheduleKind::Cosine, rate);
  if (total_rounds < 1)
    throw Error("TotalRounds: expected at least 1, got " + std::to_string(total_rounds));
  if (!(minimum_rate >= 0 && minimum_rate <= rate))
    throw Error("MinimumRate: expected a number from 0 to the initial rate " + number(rate) +
                ", got " + number(minimum_rate));
  s.total_rounds_ = total_rounds;
  s.minimum_rate_ = minimum_rate;
  return s;
}

double LearningRateSchedule::rate(int64_t round) const {
  if (round < 0)
    throw Error("round: expected 0 or more (rounds count from 0), got " + std::to_string(round));
  switch (kind_) {
    case ScheduleKind::Constant:
      return rate_;
    case ScheduleKind::Step:
      return rate_ * std::pow(gamma_, static_cast<double>(round / step_size_));
    case ScheduleKind::Cosine: {
      // PyTorch updates the rate recursively each epoch; this closed form is
      // the same function (its documentation gives it), without the drift.
      const double angle =
          std::numbers::pi * static_cast<double>(round) / static_cast<double>(total_rounds_);
      return minimum_rate_ + (rate_ - minimum_rate_) * (1 + std::cos(angle)) / 2;
    }
  }
  return rate_;
}

}  // namespace strata
