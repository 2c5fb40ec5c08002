// Net files: nets as JSON documents, as the net format (docs/net-format.md)
// describes: {"format": "strata-net", "version": 1, "type": …}.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "layers/layer.hpp"

namespace strata {

inline constexpr int kNetFormatVersion = 1;

// Builds a net (NetChain, NetGraph or a single layer) from a parsed document
// and infers its shapes. Errors name the JSON path ("layers[3].KernelSize")
// and what was expected.
std::unique_ptr<Layer> net_from_json(const nlohmann::json& document);

// Parses and builds; `source` names the text in errors ("net.json"). A
// malformed document's error gives the line and column.
std::unique_ptr<Layer> parse_net(std::string_view text, std::string_view source);

// The document for a net. Automatic arrays are left out, and so are options
// at their default unless `include_defaults`. Floats are written so that
// loading gives bit-identical arrays.
nlohmann::json net_to_json(const Layer& net, bool include_defaults = false);

// Reads a net file; every error starts with the file's name.
std::unique_ptr<Layer> load_net(const std::filesystem::path& path);
// Writes a net file atomically.
void save_net(const std::filesystem::path& path, const Layer& net);

}  // namespace strata
