// Learning-rate schedules: the rate for each training round (epoch), as
// PyTorch's schedulers give it when stepped once per epoch. Rounds count from
// 0: round 0 trains with the initial rate, round r with rate(r). The rate is
// constant within a round; NetTrain sets it on the optimizer
// (Optimizer::set_learning_rate) at the start of each round.
//
//   Constant: rate(r) = η
//   Step:     rate(r) = η · γ^⌊r / k⌋                       (torch StepLR(k, γ))
//   Cosine:   rate(r) = η_min + (η − η_min) · (1 + cos(π r / T)) / 2
//             with T the total number of rounds             (torch CosineAnnealingLR(T, η_min))
//
// The last round of a cosine schedule, r = T − 1, still has a rate above
// η_min, as in PyTorch. Past T the cosine rises again, also as in PyTorch
// (its schedule is periodic); a training of T rounds never gets there.
#pragma once

#include <cstdint>
#include <string_view>

namespace strata {

enum class ScheduleKind { Constant, Step, Cosine };

// "Constant", "Step" or "Cosine"; any other name is an Error listing them.
ScheduleKind parse_schedule_kind(std::string_view name);
std::string_view schedule_kind_name(ScheduleKind kind);

class LearningRateSchedule {
 public:
  // The rate η ≥ 0 in every round.
  static LearningRateSchedule constant(double rate);
  // η, multiplied by γ > 0 every `step_size` ≥ 1 rounds.
  static LearningRateSchedule step(double rate, int64_t step_size, double gamma);
  // From η down to `minimum_rate` (0 ≤ η_min ≤ η) over `total_rounds` ≥ 1.
  static LearningRateSchedule cosine(double rate, int64_t total_rounds, double minimum_rate = 0);

  // The rate of round `round` (≥ 0, counting from 0).
  double rate(int64_t round) const;
  double operator()(int64_t round) const { return rate(round); }

  ScheduleKind kind() const { return kind_; }
  double initial_rate() const { return rate_; }
  int64_t step_size() const { return step_size_; }        // Step
  double gamma() const { return gamma_; }                 // Step
  int64_t total_rounds() const { return total_rounds_; }  // Cosine
  double minimum_rate() const { return minimum_rate_; }   // Cosine

 private:
  LearningRateSchedule(ScheduleKind kind, double rate);

  ScheduleKind kind_;
  double rate_;
  int64_t step_size_ = 1;
  double gamma_ = 1;
  int64_t total_rounds_ = 1;
  double minimum_rate_ = 0;
};

}  // namespace strata
