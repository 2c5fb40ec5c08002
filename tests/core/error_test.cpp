#include "core/error.hpp"

#include <doctest/doctest.h>

using namespace strata;

TEST_CASE("an Error's message is one line, its context outermost first") {
  Error e("Input: expects 3 channels, got 4");
  e.add_context("conv1 (ConvolutionLayer)").add_context("net.json");
  CHECK(std::string(e.what()) ==
        "net.json: conv1 (ConvolutionLayer): Input: expects 3 channels, got 4");
  CHECK(e.message() == "Input: expects 3 channels, got 4");
  // Control characters, say from a key in a hostile file, are shown escaped.
  Error hostile("unknown key \"a\nb\tc\r\x01\x7f\"");
  hostile.add_context("bad\nfile.json");
  CHECK(std::string(hostile.what()) == "bad\\nfile.json: unknown key \"a\\nb\\tc\\r\\x01\\x7f\"");
  CHECK(hostile.message() == "unknown key \"a\\nb\\tc\\r\\x01\\x7f\"");
  // A context ending with the name the message starts with says it once.
  CHECK(std::string(Error("Gamma: expected [2]").add_context("layers[0].Gamma").what()) ==
        "layers[0].Gamma: expected [2]");
  CHECK(std::string(Error("Gamma: expected [2]").add_context("norm1/Gamma").what()) ==
        "norm1/Gamma: expected [2]");
  CHECK(std::string(Error("Gamma: expected [2]").add_context("Gamma").what()) ==
        "Gamma: expected [2]");
  // Only a whole name: "OmegaGamma" is another one.
  CHECK(std::string(Error("Gamma: expected [2]").add_context("OmegaGamma").what()) ==
        "OmegaGamma: Gamma: expected [2]");
  // Text beyond ASCII is kept as it is (UTF-8 names).
  CHECK(std::string(Error("Größe: µ").what()) == "Größe: µ");
}
