// JSON text parsed for the readers of net and tensor files, with every
// failure a strata::Error: "malformed JSON: parse error at line 3, column 10:
// ...", a NUL byte anywhere (nlohmann would stop reading there and ignore
// the rest), a number beyond double's range, a duplicate key in an object
// ("layers[2]: duplicate key \"type\""; nlohmann would silently keep the
// last), or nesting deeper than kMaxJsonDepth. The depth is checked by a scan before parsing:
// nlohmann::json copies, compares and prints documents recursively, so a hostile file of 100000
// nested arrays would otherwise exhaust the stack.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace strata {

// Far more than any strata file needs (a net nested 64 deep is ~130 levels).
inline constexpr int kMaxJsonDepth = 256;

nlohmann::json parse_json_document(std::string_view text);

}  // namespace strata
