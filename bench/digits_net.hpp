// The digits net of the main job (`make run`), from the example's
// examples/digits/digits_net.hpp, and a check that examples/digits/net.json
// describes the same net. The main job's training options are in cases.hpp.
#pragma once

#include <filesystem>
#include <string>

#include "examples/digits/digits_net.hpp"
#include "strata.hpp"

namespace bench {

using digits::digits_net;  // examples/digits/digits_net.hpp

// Throws an Error unless the net file (the main job's net.json) describes
// exactly digits_net(): the same layers, names, options and input shape.
inline void check_digits_net_file(const std::filesystem::path& file) {
  const nlohmann::json built = strata::net_to_json(digits_net());
  const nlohmann::json loaded = strata::net_to_json(*strata::load_net(file));
  if (built != loaded)
    throw strata::Error(file.string() + ": the net differs from bench::digits_net(): expected " +
                        built.dump() + ", got " + loaded.dump());
}

}  // namespace bench
