#include "serialization/checkpoint.hpp"

#include <doctest/doctest.h>

#include <filesystem>

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
  save_checkpoint(dir / "ck.json", first, sgd1, part.next, 9, part.rounds);

  Checkpoint ck = load_checkpoint(dir / "ck.json");
  CHECK(ck.position == TrainPosition{2, 1});
  CHECK(ck.seed == 9);
  CHECK(ck.history.size() == part.rounds.size());
  CHECK(ck.optimizer->steps() == 8);
  TrainOptions resumed = options;
  resumed.start = ck.position;
  const TrainResult rest = NetTrain(*ck.net, data, resumed, *ck.optimizer);
  CHECK(rest.batch_losses.size() == full.batch_losses.size() - 8);
  CHECK(rest.batch_losses.back() == full.batch_losses.back());
  CHECK(NetExtractArrays(*ck.net) == NetExtractArrays(straight));
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
