// Learning-rate multipliers by path, as Wolfram's LearningRateMultipliers:
// a rule list, first match wins, every array not matched gets 1.
//
//   TrainOptions options{.learning_rate_multipliers = {{"head", 2}, {"_", 0}}};
//
// A pattern is matched against an array's path, segment by segment
// ("block1/norm/Gamma"):
//   "conv1"        a layer, and everything in it
//   "block1/norm"  a nested path; "conv1/Weights" one array
//   "3"            a position (1-based), also when the layer has a name;
//                  positions and names mix ("block1/2")
//   "block*"       a last segment ending in '*': every layer (or array) whose
//                  name starts with "block"
//   "_" or "*"     everything (Wolfram's _ -> r): a default for the rest
// A multiplier r ≥ 0 scales the learning rate of the arrays it matches; 0
// freezes them (see NetTrain and TrainingStep for what that means).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layers/layer.hpp"

namespace strata {

using LearningRateMultipliers = std::vector<std::pair<std::string, double>>;

// Whether `pattern` matches the array with these path segments: its layers'
// names and 1-based positions, then the array's name.
struct ArrayPathSegment {
  std::string name;
  std::string position;  // empty for the array's own name
};
bool pattern_matches(std::string_view pattern, const std::vector<ArrayPathSegment>& path);

// The multiplier of every array of `net`, in all_arrays() order. Throws an
// Error naming the pattern for one that matches no array of the net (the
// defaults "_" and "*" excepted), and for a negative or non-finite value.
std::vector<double> resolve_learning_rate_multipliers(const Layer& net,
                                                      const LearningRateMultipliers& rules);

// The command line's form: "conv*=0,fc=2" (whitespace around items allowed).
// Throws an Error naming the item that is not PATTERN=NUMBER.
LearningRateMultipliers parse_learning_rate_multipliers(std::string_view text);

}  // namespace strata
