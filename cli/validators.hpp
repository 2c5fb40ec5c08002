// CLI11 validators whose messages read like the rest of strata's
// ("--rounds: expected a positive integer, got \"0\"").
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

namespace strata::cli {

// An integer of at least 1.
inline CLI::Validator positive_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || used == 0 || value < 1)
          return "expected a positive integer, got \"" + text + "\"";
        return {};
      },
      "POSITIVE");
}

// An integer of 0 or more (CLI11 would wrap "-1" around to 2^64 - 1 for an
// unsigned option).
inline CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        bool ok = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        try {
          if (ok) std::stoull(text);
        } catch (const std::exception&) {
          ok = false;  // beyond 2^64 - 1
        }
        if (!ok) return "expected an integer from 0 to 2^64 - 1, got \"" + text + "\"";
        return {};
      },
      "NON-NEGATIVE");
}

// A finite number greater than 0.
inline CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        double value = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || used == 0 || !(value > 0) || !std::isfinite(value))
          return "expected a positive number, got \"" + text + "\"";
        return {};
      },
      "POSITIVE");
}

}  // namespace strata::cli
