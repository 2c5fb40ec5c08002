// Training checkpoints: everything needed to resume a NetTrain run and reach
// the same result as if it had never stopped — the net (arrays and moving
// statistics), the optimizer's options and state, the position (round and
// batch, and what a round stopped in its middle had trained), the seed, and
// the rounds recorded so far.
//
//   {"format": "strata-checkpoint", "version": 1, "net": {…net file…},
//    "optimizer": {"method": "SGD", "options": {…}, "steps": 120,
//                  "tensors": {"0.Velocity": {"shape", "data"}, …}},
//    "position": {"round": 3, "batch": 0}, "seed": 1, "history": [{…}, …],
//    "settings": {…}}
//
// "history" is either the rounds themselves, or {"file": NAME, "rounds": K}:
// the first K lines (one JSON round each) of NAME, a file beside the
// checkpoint that CheckpointWriter appends to, so that a checkpoint after
// every round costs the same in round 20,000 as in round 1.
// docs/net-format.md describes every field.
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
  std::unique_ptr<Layer> net;            // with every array set
  std::unique_ptr<Optimizer> optimizer;  // with its options and state restored
  TrainPosition position;                // what comes next
  PartialRound partial;                  // of position.round, when position.batch > 0
  uint64_t seed = 0;
  std::vector<RoundRecord> history;  // rounds 1 … position.round − 1
  nlohmann::json settings;           // the caller's own (the CLI's options)
};

// Writes a checkpoint, its history inline, atomically: a failure (or a kill)
// leaves an older checkpoint intact.
void save_checkpoint(const std::filesystem::path& path, const Layer& net,
                     const Optimizer& optimizer, TrainPosition position, uint64_t seed,
                     const std::vector<RoundRecord>& history,
                     const nlohmann::json& settings = nlohmann::json::object(),
                     const PartialRound& partial = {});

// Reads a checkpoint and checks every field: the net complete, the position
// a round from 1 to 2^31 − 2 and a batch of 0 or more, the history exactly
// the rounds before the position, each a finite loss, and the optimizer's
// state the shapes of the net's trainable arrays. Every error names the file
// and the field ("ck.json: position.round: expected an integer from 1 to
// 2147483646, got 1e+20").
Checkpoint load_checkpoint(const std::filesystem::path& path);

// Checkpoints after every round at a cost that does not grow with the
// rounds: each round's record is appended (and flushed to disk) to a history
// file beside the checkpoint, PATH.history-XXXXXXXX (a name of its own for
// each training, so that starting one never damages the checkpoint it will
// replace), then the checkpoint is replaced atomically and refers to the
// file's first K lines. A kill at any point leaves a checkpoint that loads:
// lines past K are ignored. Once the first checkpoint is written, older
// history files of PATH are removed.
class CheckpointWriter {
 public:
  // `history` is what came before (a resumed training's), written once.
  CheckpointWriter(std::filesystem::path path, const std::vector<RoundRecord>& history);
  // Removes the history file if no checkpoint refers to it.
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;
  // After a complete round: appends it, then writes the checkpoint at
  // {round.round + 1, 0}.
  void save_round(const Layer& net, const Optimizer& optimizer, const RoundRecord& round,
                  uint64_t seed, const nlohmann::json& settings);
  // After a stop (in the middle of a round, or after the round saved last):
  // writes the checkpoint at `position`, with the rounds appended so far.
  void save_position(const Layer& net, const Optimizer& optimizer, TrainPosition position,
                     const PartialRound& partial, uint64_t seed, const nlohmann::json& settings);

 private:
  std::filesystem::path path_;
  std::filesystem::path history_;  // beside path_
  int64_t rounds_ = 0;             // lines in history_
  bool cleaned_ = false;           // older history files removed

  void write(const Layer& net, const Optimizer& optimizer, TrainPosition position,
             const PartialRound& partial, uint64_t seed, const nlohmann::json& settings);
};

}  // namespace strata
