// Net surgery, as Wolfram's NetTake, NetDrop, NetAppend, NetPrepend and
// NetReplacePart: new nets made from the layers of an old one, with shape
// inference run again on the result.
//
//   NetChain body = NetDrop(trained, -2);                    // all but the last two
//   NetChain tuned = NetAppend(body, {{"head", LinearLayer(5)}, SoftmaxLayer()});
//   auto wider = NetReplacePart(tuned, "head", LinearLayer(7), &notes);
//   tuned = NetSetOption(tuned, "head/Size", 7, &notes);    // the same, by option
//
// Every layer is rebuilt from its type and options, so its port shapes are
// inferred afresh, and then given its arrays back. An array that no longer
// fits (the layer after a replaced one now gets more channels) is left
// Automatic, for NetInitialize or NetTrain to create, and a note says so:
// "fc/Weights: [10, 64] no longer fits (expected [5, 64]); made Automatic".
// Notes go to `notes` when it is given (nothing is logged). Layers that do
// not fit together at all are an Error naming both ends, as when a chain is
// built. Layers named by their position ("3") are numbered again. A nested
// net is kept as it is, arrays and all. The net's class labels stay while
// its Output still has one class per label; otherwise they are dropped, with
// a note ("ClassLabels: 10 labels, but the net's Output [5] has 5 classes …").
//
// Positions are 1-based; negative ones count from the end (-1 is the last).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "graph/net_chain.hpp"

namespace strata {

using SurgeryNotes = std::vector<std::string>;

// Layers start..end (inclusive) of a chain.
NetChain NetTake(const NetChain& net, int64_t start, int64_t end, SurgeryNotes* notes = nullptr);
// The chain without its first n layers, or without its last -n for n < 0.
NetChain NetDrop(const NetChain& net, int64_t n, SurgeryNotes* notes = nullptr);
// The chain with layers added at the end, or at the start (the Input shape
// is then that of the first new layer: unknown until inferred).
NetChain NetAppend(const NetChain& net, std::vector<LayerEntry> layers,
                   SurgeryNotes* notes = nullptr);
NetChain NetPrepend(const NetChain& net, std::vector<LayerEntry> layers,
                    SurgeryNotes* notes = nullptr);

// The net (NetChain or NetGraph) with the layer at `path` (a name or position,
// nested as "block1/conv") replaced by `layer`, which keeps the name.
std::unique_ptr<Layer> NetReplacePart(const Layer& net, std::string_view path, const Layer& layer,
                                      SurgeryNotes* notes = nullptr);
// The net with the array at `path` ("fc/Weights") replaced by `value`, whose
// shape may differ from the old one's as long as the layer's options allow
// it; arrays elsewhere that no longer fit are made Automatic, with a note.
// An array that does not fit its own layer is an Error naming the path.
std::unique_ptr<Layer> NetReplacePart(const Layer& net, std::string_view path, Tensor value,
                                      SurgeryNotes* notes = nullptr);

// The net with the option at `path` ("l1/Size", "block1/norm/Epsilon") set
// to `value`: the layer is rebuilt with it, as NetReplacePart does, so shapes
// are inferred again and arrays that no longer fit are made Automatic, with a
// note. This is how an option of a layer inside a net changes: NetExtractLayer
// gives a const layer, since setting an option on a layer in place would
// leave the rest of the net with the shapes of the old one. A bad value is an
// Error naming the path.
std::unique_ptr<Layer> NetSetOption(const Layer& net, std::string_view path,
                                    const nlohmann::json& value, SurgeryNotes* notes = nullptr);
NetChain NetSetOption(const NetChain& net, std::string_view path, const nlohmann::json& value,
                      SurgeryNotes* notes = nullptr);

}  // namespace strata
