#include "train/schedule.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/reference.hpp"

using namespace strata;

TEST_CASE("learning-rate schedules match torch.optim.lr_scheduler stepped once per round") {
  const auto file = strata::testing::load_test_data("schedules.json");
  REQUIRE(file.at("cases").size() >= 6);
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    const ScheduleKind kind = parse_schedule_kind(c.at("kind").get<std::string>());
    const double rate = c.at("rate");
    const auto schedule =
        kind == ScheduleKind::Step
            ? LearningRateSchedule::step(rate, c.at("step_size"), c.at("gamma"))
            : LearningRateSchedule::cosine(rate, c.at("total_rounds"), c.at("minimum_rate"));
    CHECK(schedule.kind() == kind);
    const auto& rates = c.at("rates");
    for (size_t r = 0; r < rates.size(); ++r) {
      CAPTURE(r);
      const double want = rates[r];
      CHECK(std::abs(schedule(static_cast<int64_t>(r)) - want) <= 1e-15 + 1e-12 * want);
    }
  }
}

TEST_CASE("a constant schedule, and the first round of every schedule, use the initial rate") {
  const auto constant = LearningRateSchedule::constant(0.05);
  for (int64_t r : {0, 1, 7, 1000000})
    CHECK(constant(r) == 0.05);
  CHECK(LearningRateSchedule::step(0.05, 2, 0.1)(0) == 0.05);
  CHECK(LearningRateSchedule::cosine(0.05, 10)(0) == 0.05);
  const auto cosine = LearningRateSchedule::cosine(0.2, 4, 0.01);
  CHECK(cosine.total_rounds() == 4);
  CHECK(cosine.minimum_rate() == 0.01);
  CHECK(cosine(2) == doctest::Approx(0.105));
  CHECK(cosine(4) == doctest::Approx(0.01));
}

TEST_CASE("schedule names parse, and bad parameters are errors naming them") {
  CHECK(parse_schedule_kind("Cosine") == ScheduleKind::Cosine);
  CHECK(schedule_kind_name(ScheduleKind::Step) == "Step");
  CHECK_THROWS_WITH_AS(parse_schedule_kind("cosine"),
                       "unknown learning-rate schedule \"cosine\" (schedules: Constant, Step, "
                       "Cosine)",
                       Error);
  CHECK_THROWS_WITH_AS(LearningRateSchedule::constant(-0.1),
                       "LearningRate: expected a non-negative number, got -0.1", Error);
  CHECK_THROWS_WITH_AS(LearningRateSchedule::step(0.1, 0, 0.5),
                       "StepSize: expected a number of rounds of at least 1, got 0", Error);
  CHECK_THROWS_WITH_AS(LearningRateSchedule::step(0.1, 2, 0),
                       "Gamma: expected a positive number, got 0", Error);
  CHECK_THROWS_WITH_AS(LearningRateSchedule::cosine(0.1, 0),
                       "TotalRounds: expected at least 1, got 0", Error);
  CHECK_THROWS_WITH_AS(LearningRateSchedule::cosine(0.1, 10, 0.2),
                       "MinimumRate: expected a number from 0 to the initial rate 0.1, got 0.2",
                       Error);
  CHECK_THROWS_WITH_AS(LearningRateSchedule::constant(0.1)(-1),
                       "round: expected 0 or more (rounds count from 0), got -1", Error);
}
