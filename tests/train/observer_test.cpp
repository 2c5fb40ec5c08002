#include "train/observer.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "graph/net_chain.hpp"
#include "layers/linear.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

// Writes down every event as a short line, and stops when told to.
class Recorder : public TrainObserver {
 public:
  std::vector<std::string> events;
  std::vector<double> batch_losses, rates;
  std::vector<RoundRecord> rounds;
  TrainPlan plan;
  std::optional<TrainResult> result;
  std::function<bool(const BatchReport&)> stop_after_batch;
  std::function<bool(const RoundRecord&)> stop_after_round;

  void training_started(const TrainPlan& p) override {
    plan = p;
    events.push_back("started");
  }
  void batch_ended(const BatchReport& b) override {
    events.push_back("batch " + std::to_string(b.round) + "." + std::to_string(b.batch) + " " +
                     std::to_string(b.examples_done) + "/" + std::to_string(b.examples));
    batch_losses.push_back(b.loss);
    rates.push_back(b.learning_rate);
    CHECK(b.rounds == plan.rounds);
    CHECK(b.batches == plan.batches);
    if (stop_after_batch && stop_after_batch(b)) request_stop();
  }
  void validation_done(const RoundRecord& r) override {
    events.push_back("validation " + std::to_string(r.round));
    CHECK(r.validation_loss.has_value());
  }
  void round_ended(const RoundRecord& r) override {
    events.push_back("round " + std::to_string(r.round));
    rounds.push_back(r);
    if (stop_after_round && stop_after_round(r)) request_stop();
  }
  void training_ended(const TrainResult& r) override {
    events.push_back(r.stopped ? "stopped" : "ended");
    result = r;
  }
};

struct Setup {
  NetChain net{{LinearLayer(2)}, Input({3})};
  Dataset data{random_tensor({10, 3}, 1), random_tensor({10, 2}, 2)};
  TrainOptions options{.batch_size = 4, .rounds = 2, .seed = 3};
  Setup() {
    options.validation = Dataset{random_tensor({5, 3}, 4), random_tensor({5, 2}, 5)};
    options.schedule = [](int round, double rate) { return rate / round; };
  }
};

}  // namespace

TEST_CASE("an observer sees every batch, validation and round, in order") {
  Setup s;
  Recorder rec;
  s.options.observer = &rec;
  SGD sgd(0.1);
  const TrainResult r = NetTrain(s.net, s.data, s.options, sgd);
  CHECK(rec.events ==
        std::vector<std::string>{"started", "batch 1.0 4/10", "batch 1.1 8/10", "batch 1.2 10/10",
                                 "validation 1", "round 1", "batch 2.0 4/10", "batch 2.1 8/10",
                                 "batch 2.2 10/10", "validation 2", "round 2", "ended"});
  CHECK(rec.plan.rounds == 2);
  CHECK(rec.plan.examples == 10);
  CHECK(rec.plan.batches == 3);
  CHECK(rec.plan.validation_examples == 5);
  CHECK(rec.plan.loss == LossFunction::MeanSquared);
  CHECK(rec.batch_losses == r.batch_losses);
  CHECK(rec.rates == std::vector<double>{0.1, 0.1, 0.1, 0.05, 0.05, 0.05});
  REQUIRE(rec.rounds.size() == 2);
  CHECK(rec.rounds[1].loss == r.rounds[1].loss);
  CHECK(rec.rounds[1].validation_loss == r.rounds[1].validation_loss);
  REQUIRE(rec.result);
  CHECK_FALSE(rec.result->stopped);
  CHECK(rec.result->next == TrainPosition{3, 0});
}

TEST_CASE("an observer that requests a stop ends training after that batch") {
  // The round stopped in its middle does not end: a resumed training
  // completes it, so that it is recorded once.
  Setup s;
  Recorder rec;
  rec.stop_after_batch = [](const BatchReport& b) { return b.round == 2 && b.batch == 0; };
  s.options.observer = &rec;
  const TrainResult r = NetTrain(s.net, s.data, s.options);
  CHECK(r.stopped);
  CHECK(r.next == TrainPosition{2, 1});
  CHECK(r.rounds.size() == 1);
  CHECK(r.batch_losses.size() == 4);
  CHECK(r.partial.examples == 4);
  CHECK(r.partial.loss_sum == r.batch_losses[3] * 4);
  CHECK(rec.events == std::vector<std::string>{"started", "batch 1.0 4/10", "batch 1.1 8/10",
                                               "batch 1.2 10/10", "validation 1", "round 1",
                                               "batch 2.0 4/10", "stopped"});
  REQUIRE(rec.result);
  CHECK(rec.result->next == TrainPosition{2, 1});
}

TEST_CASE("a stop requested in a round's last batch or at its end resumes at the next round") {
  for (bool in_batch : {true, false}) {
    CAPTURE(in_batch);
    Setup s;
    s.options.rounds = 4;
    Recorder rec;
    if (in_batch) {
      rec.stop_after_batch = [](const BatchReport& b) { return b.round == 2 && b.batch == 2; };
    } else {
      // An early-stopping rule on the validation loss.
      rec.stop_after_round = [](const RoundRecord& r) { return r.round == 2; };
    }
    s.options.observer = &rec;
    const TrainResult r = NetTrain(s.net, s.data, s.options);
    CHECK(r.stopped);
    CHECK(r.next == TrainPosition{3, 0});
    CHECK(r.rounds.size() == 2);
    CHECK(rec.events[rec.events.size() - 3] == "validation 2");
    CHECK(rec.events[rec.events.size() - 2] == "round 2");
    CHECK(rec.events.back() == "stopped");
  }
}

TEST_CASE("a stop requested before training is forgotten, and on_round and stop still work") {
  Setup s;
  Recorder rec;
  rec.request_stop();
  s.options.observer = &rec;
  CHECK_FALSE(NetTrain(s.net, s.data, s.options).stopped);
  CHECK(rec.events.back() == "ended");

  // on_round alongside an observer.
  Recorder other;
  s.options.observer = &other;
  s.options.on_round = [](const RoundRecord& r) { return r.round < 1; };
  const TrainResult by_on_round = NetTrain(s.net, s.data, s.options);
  CHECK(by_on_round.stopped);
  CHECK(by_on_round.next == TrainPosition{2, 0});
  CHECK(other.events.back() == "stopped");

  // TrainOptions::stop, set by the observer from the first batch on.
  std::atomic<bool> stop{false};
  Recorder third;
  third.stop_after_batch = [&](const BatchReport&) {
    stop = true;
    return false;
  };
  s.options.observer = &third;
  s.options.on_round = nullptr;
  s.options.stop = &stop;
  const TrainResult by_flag = NetTrain(s.net, s.data, s.options);
  CHECK(by_flag.stopped);
  CHECK(by_flag.next == TrainPosition{1, 1});
}
