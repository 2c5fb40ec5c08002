// Training checkpoints: everything needed to resume a NetTrain run and reach
// the same result as if it had never stopped — the net (arrays and moving
// statistics), the optimizer's options and state, the position (round and
// batch), the seed, and the rounds recorded so far.
//
//   {"format": "strata-checkpoint", "version": 1, "net": {…net file…},
//    "optimizer": {"method": "SGD", "options": {…}, "steps": 120,
//                  "tensors": {"0.Velocity": {"shape", "data"}, …}},
//    "position": {"round": 3, "batch": 0}, "seed": 1, "history": [{…}, …],
//    "settings": {…}}
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "layers/layer.hpp"
#include "train/net_train.hpp"
#include "train/optimizer.hpp"

namespace strata {

struct Checkpoint {
  std::unique_ptr<Layer> net;
  std::unique_ptr<Optimizer> optimizer;  // with its options and state restored
  TrainPosition position;                // what comes next
  uint64_t seed = 0;
  std::vector<RoundRecord> history;  // the rounds completed before
  nlohmann::json settings;           // the caller's own (the CLI's options)
};

// Writes a checkpoint atomically: a failure leaves an older checkpoint intact.
void save_checkpoint(const std::filesystem::path& path, const Layer& net,
                     const Optimizer& optimizer, TrainPosition position, uint64_t seed,
                     const std::vector<RoundRecord>& history,
                     const nlohmann::json& settings = nlohmann::json::object());

// Reads a checkpoint; errors name the file and the JSON path.
Checkpoint load_checkpoint(const std::filesystem::path& path);

}  // namespace strata
