// The loss of a training per round as an SVG chart (the idea of Wolfram's
// LossEvolutionPlot): the training loss and, when there was a validation set,
// the validation loss, one point per round joined by a line, with axes, tick
// labels and a legend. The loss axis is logarithmic when the losses span more
// than two decades (largest / smallest > 100, all positive), linear otherwise.
//
//   TrainResult r = NetTrain(net, data, {.rounds = 20, .validation_split = 0.1});
//   write_loss_plot("loss.svg", r);
//
// The result is a standalone SVG 1.1 document that browsers show as it is.
// Each series is one <polyline> with id "training-loss" or "validation-loss"
// holding one point per round; a non-finite loss (which NetTrain never
// records, but a hand-made history may hold) has no point.
#pragma once

#include <filesystem>
#include <string>

#include "train/net_train.hpp"

namespace strata {

// The chart as SVG text. Throws an Error when the history has no rounds.
std::string loss_plot_svg(const TrainResult& result);

// Writes loss_plot_svg(result) to `path` atomically (errors name the path).
void write_loss_plot(const std::filesystem::path& path, const TrainResult& result);

}  // namespace strata
