#include "serialization/checkpoint.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "core/error.hpp"
#include "graph/extract.hpp"
#include "graph/net_chain.hpp"
#include "layers/batch_normalization.hpp"
#include "layers/dropout.hpp"
#include "layers/elementwise.hpp"
#include "layers/linear.hpp"
#include "layers/softmax.hpp"
#include "serialization/atomic_file.hpp"
#include "support/gradcheck.hpp"

using namespace strata;
using strata::testing::random_tensor;

namespace {

NetChain make_net() {
  return NetChain({LinearLayer(8), BatchNormalizationLayer(), ElementwiseLayer("Tanh"),
                   DropoutLayer(), LinearLayer(3), SoftmaxLayer()},
                  Input({4}));
}

Dataset make_data() {
  Dataset d{random_tensor({50, 4}, 1), Tensor({50})};
  for (int64_t i = 0; i < 50; ++i)
    d.targets[i] = static_cast<float>(i % 3);
  return d;
}

}  // namespace

TEST_CASE("a training stopped mid-round and resumed from a checkpoint ends as if never stopped") {
  const auto dir = std::filesystem::temp_directory_path() / "strata_checkpoint_test";
  std::filesystem::create_directories(dir);
  const Dataset data = make_data();
  TrainOptions options{.batch_size = 8, .rounds = 4, .seed = 9, .quiet = true};

  NetChain straight = make_net();
  SGD sgd(0.1);
  sgd.momentum(0.9);
  const TrainResult full = NetTrain(straight, data, options, sgd);

  // Stop after 10 batches (in round 2 of 7-batch rounds), save, reload, resume.
  NetChain first = make_net();
  SGD sgd1(0.1);
  sgd1.momentum(0.9);
  std::atomic<bool> stop{false};
  TrainOptions stopping = options;
  stopping.stop = &stop;
  // NetTrain checks the flag after each batch; the schedule runs as a round starts.
  stopping.schedule = [&](int round, double rate) {
    if (round == 2) stop = true;  // set while round 2 starts: stops after its first batch
    return rate;
  };
  const TrainResult part = NetTrain(first, data, stopping, sgd1);
  CHECK(part.stopped);
  CHECK(part.batch_losses.size() == 8);
  CHECK(part.next == TrainPosition{2, 1});
  // Round 2 is not complete: no record of it yet, its first batch in `partial`.
  REQUIRE(part.rounds.size() == 1);
  CHECK(part.partial.examples == 8);
  CHECK(part.partial.loss_sum == part.batch_losses.back() * 8);
  save_checkpoint(dir / "ck.json", first, sgd1, part.next, 9, part.rounds, {}, part.partial);

  Checkpoint ck = load_checkpoint(dir / "ck.json");
  CHECK(ck.position == TrainPosition{2, 1});
  CHECK(ck.seed == 9);
  CHECK(ck.history.size() == part.rounds.size());
  CHECK(ck.optimizer->steps() == 8);
  CHECK(ck.partial == part.partial);
  TrainOptions resumed = options;
  resumed.start = ck.position;
  resumed.start_partial = ck.partial;
  const TrainResult rest = NetTrain(*ck.net, data, resumed, *ck.optimizer);
  CHECK(rest.batch_losses.size() == full.batch_losses.size() - 8);
  CHECK(rest.batch_losses.back() == full.batch_losses.back());
  CHECK(NetExtractArrays(*ck.net) == NetExtractArrays(straight));
  // The history too: each round once, with the loss of the whole round.
  std::vector<RoundRecord> history = ck.history;
  history.insert(history.end(), rest.rounds.begin(), rest.rounds.end());
  REQUIRE(history.size() == full.rounds.size());
  for (size_t i = 0; i < history.size(); ++i) {
    CHECK(history[i].round == full.rounds[i].round);
    CHECK(history[i].loss == full.rounds[i].loss);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("bad checkpoints are refused with the file named") {
  const auto dir = std::filesystem::temp_directory_path() / "strata_checkpoint_bad";
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "a.json", "{\"format\": \"strata-net\"}");
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "a.json"),
                       doctest::Contains("a.json: not a strata checkpoint"), Error);
  write_file_atomically(dir / "b.json", "{\"format\": \"strata-checkpoint\", \"version\": 1}");
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "b.json"), doctest::Contains("missing \"net\""),
                       Error);
  write_file_atomically(dir / "c.json", "{oops");
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "c.json"), doctest::Contains("c.json: malformed JSON"),
                       Error);
  std::filesystem::remove_all(dir);
}

namespace {

struct Trained {
  NetChain net = make_net();
  SGD sgd{0.1};
  Trained() {
    NetTrain(net, make_data(), {.batch_size = 8, .rounds = 1, .seed = 2, .quiet = true}, sgd);
  }
};

std::string text_of(const std::filesystem::path& p) {
  return read_file(p);
}

RoundRecord round_number(int r) {
  RoundRecord rec;
  rec.round = r;
  rec.loss = 1.0 / r;
  return rec;
}

}  // namespace

TEST_CASE("CheckpointWriter: a checkpoint per round costs the same whatever the round") {
  const auto dir = std::filesystem::temp_directory_path() / "strata_checkpoint_writer";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Trained t;
  // A stale history file of an earlier training at the same path.
  write_file_atomically(dir / "ck.json.history-old", "{}\n");
  std::vector<RoundRecord> before = {round_number(1), round_number(2)};
  size_t size_at_3 = 0;
  {
    CheckpointWriter writer(dir / "ck.json", before);
    for (int r = 3; r <= 200; ++r) {
      writer.save_round(t.net, t.sgd, round_number(r), 5, {{"k", 1}});
      if (r == 3) size_at_3 = std::filesystem::file_size(dir / "ck.json");
    }
  }
  // The checkpoint does not grow with the rounds (the digits of the counts aside).
  CHECK(std::filesystem::file_size(dir / "ck.json") <= size_at_3 + 4);
  CHECK(!std::filesystem::exists(dir / "ck.json.history-old"));
  Checkpoint ck = load_checkpoint(dir / "ck.json");
  REQUIRE(ck.history.size() == 200);
  CHECK(ck.history[0].loss == 1.0);
  CHECK(ck.history[199].loss == 1.0 / 200);
  CHECK(ck.position == TrainPosition{201, 0});
  CHECK(ck.settings == nlohmann::json{{"k", 1}});

  // Killed after appending a round (or half of one) but before the checkpoint:
  // lines past the checkpoint's count are not its own.
  std::filesystem::path history;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().starts_with("ck.json.history-")) history = e.path();
  REQUIRE(!history.empty());
  const std::string lines = text_of(history);
  write_file_atomically(history, lines + "{\"round\": 201, \"lo");
  CHECK(load_checkpoint(dir / "ck.json").history.size() == 200);
  // Cut short, it is refused by name.
  write_file_atomically(history, lines.substr(0, lines.size() / 2));
  CHECK_THROWS_WITH_AS(
      load_checkpoint(dir / "ck.json"),
      doctest::Contains(("ck.json: history: " + history.string() + " holds ").c_str()), Error);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "ck.json"),
                       doctest::Contains("complete rounds, but the checkpoint counts 200"), Error);
  std::filesystem::remove(history);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir / "ck.json"),
                       doctest::Contains((history.string() + ": cannot open").c_str()), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("edited checkpoints are refused, naming the file and the field") {
  const auto dir = std::filesystem::temp_directory_path() / "strata_checkpoint_edited";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Trained t;
  save_checkpoint(dir / "ck.json", t.net, t.sgd, {2, 0}, 5, {round_number(1)});
  const nlohmann::json good = nlohmann::json::parse(text_of(dir / "ck.json"));
  auto error_of = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json doc = good;
    edit(doc);
    write_file_atomically(dir / "edited.json", doc.dump());
    try {
      load_checkpoint(dir / "edited.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string file = (dir / "edited.json").string() + ": ";
  CHECK(error_of([](auto&) {}) == "no error");
  CHECK(error_of([](auto& d) { d["position"]["round"] = 1e20; }) ==
        file + "position.round: expected an integer from 1 to 2147483646, got 1e+20");
  CHECK(error_of([](auto& d) { d["position"]["round"] = 2147483647; }) ==
        file + "position.round: expected an integer from 1 to 2147483646, got 2147483647");
  CHECK(error_of([](auto& d) { d["position"]["batch"] = -1; }) ==
        file + "position.batch: expected an integer from 0 to 2147483647, got -1");
  CHECK(error_of([](auto& d) { d["position"]["round"] = 5; }) ==
        file + "history: 1 rounds, but position.round 5 needs the 4 before it");
  CHECK(error_of([](auto& d) { d["history"][0]["round"] = 7; }) ==
        file +
            "history[0].round: expected round 1, got 7 (the history must hold every round in "
            "order)");
  CHECK(error_of([](auto& d) { d["history"][0]["loss"] = "x"; }) ==
        file + "history[0].loss: expected a finite number, got \"x\"");
  CHECK(error_of([](auto& d) { d["seed"] = -3; }) ==
        file + "seed: expected an integer from 0 to 2^64 - 1, got -3");
  CHECK(error_of([](auto& d) { d["optimizer"]["steps"] = 1.5; }) ==
        file + "optimizer.steps: expected an integer from 0 to 9223372036854775807, got 1.5");
  CHECK(error_of([](auto& d) { d["net"]["layers"][0].erase("Weights"); }) ==
        file + "net: arrays missing: 1/Weights (a checkpoint's net has every array)");
  CHECK(error_of([](auto& d) {
          d["position"] = {{"round", 2}, {"batch", 1}, {"partial", {{"loss_sum", -1}}}};
        }) == file + "position.partial.loss_sum: expected a finite number of 0 or more, got -1");
  std::filesystem::remove_all(dir);
}
