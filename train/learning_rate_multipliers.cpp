#include "train/learning_rate_multipliers.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "core/error.hpp"

namespace strata {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool is_default(std::string_view pattern) {
  return pattern == "_" || pattern == "*";
}

// Every array's path segments, in all_arrays() order: a layer with children
// holds its children's arrays, any other its own.
void collect(const Layer& layer, std::vector<ArrayPathSegment>& prefix,
             std::vector<std::vector<ArrayPathSegment>>& out) {
  const auto children = layer.children();
  if (children.empty()) {
    for (const auto& slot : layer.arrays()) {
      prefix.push_back({slot.name, {}});
      out.push_back(prefix);
      prefix.pop_back();
    }
    return;
  }
  for (size_t i = 0; i < children.size(); ++i) {
    prefix.push_back({children[i].first, std::to_string(i + 1)});
    collect(*children[i].second, prefix, out);
    prefix.pop_back();
  }
}

}  // namespace

bool pattern_matches(std::string_view pattern, const std::vector<ArrayPathSegment>& path) {
  if (pattern == "_") return true;
  const auto parts = split(pattern, '/');
  if (parts.size() > path.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view p = parts[i];
    const ArrayPathSegment& s = path[i];
    if (i + 1 == parts.size() && !p.empty() && p.back() == '*') {
      if (!s.name.starts_with(p.substr(0, p.size() - 1))) return false;
    } else if (p != s.name && (s.position.empty() || p != s.position)) {
      return false;
    }
  }
  return true;
}

std::vector<double> resolve_learning_rate_multipliers(const Layer& net,
                                                      const LearningRateMultipliers& rules) {
  for (const auto& [pattern, value] : rules)
    if (!(value >= 0) || !std::isfinite(value))
      throw Error("LearningRateMultipliers: \"" + pattern +
                  "\": expected a multiplier of at least 0, got " + std::to_string(value));
  std::vector<std::vector<ArrayPathSegment>> paths;
  std::vector<ArrayPathSegment> prefix;
  collect(net, prefix, paths);
  if (paths.size() != net.all_arrays().size())
    throw Error("internal: the net's array paths do not follow all_arrays()");
  std::vector<double> multipliers(paths.size(), 1.0);
  std::vector<char> decided(paths.size(), 0);
  for (const auto& [pattern, value] : rules) {
    bool matched = false;
    for (size_t i = 0; i < paths.size(); ++i) {
      if (!pattern_matches(pattern, paths[i])) continue;
      matched = true;
      if (decided[i]) continue;  // the first match wins
      decided[i] = 1;
      multipliers[i] = value;
    }
    if (!matched && !is_default(pattern))
      throw Error("LearningRateMultipliers: \"" + pattern +
                  "\" matches no array of the net (a layer name, a path such as block1/norm, "
                  "a 1-based position, or a prefix ending in *)");
  }
  return multipliers;
}

LearningRateMultipliers parse_learning_rate_multipliers(std::string_view text) {
  LearningRateMultipliers rules;
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    const size_t eq = item.rfind('=');
    const std::string_view pattern = trim(item.substr(0, eq == std::string_view::npos ? 0 : eq));
    const std::string number(trim(eq == std::string_view::npos ? "" : item.substr(eq + 1)));
    char* end = nullptr;
    const double value = number.empty() ? 0 : std::strtod(number.c_str(), &end);
    if (pattern.empty() || number.empty() || *end != '\0')
      throw Error("\"" + std::string(item) + "\": expected PATTERN=NUMBER, as in conv*=0");
    rules.emplace_back(std::string(pattern), value);
  }
  return rules;
}

}  // namespace strata
