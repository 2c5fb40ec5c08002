// A net's summary for the terminal (the idea of Wolfram's NetInformation and
// of a Keras summary): per layer its name, type, input and output shapes,
// arrays and parameter count, then the totals.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "layers/layer.hpp"

namespace strata {

// The number of array elements (trainable or not) once shapes are known;
// unknown shapes count as 0.
int64_t parameter_count(const Layer& net);

std::string NetSummary(const Layer& net);

// The summary, for std::cout << net.
std::ostream& operator<<(std::ostream& os, const Layer& net);

}  // namespace strata
