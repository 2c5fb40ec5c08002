// Finite-difference gradient checks for layers and nets.
//
// The scalar checked is L = Σ w ⊙ y over every output, with fixed random
// weights w, so that each output element contributes a different amount and a
// wrong sign, a swapped index or a missing term shows up.
#pragma once

#include <string>
#include <vector>

#include "layers/layer.hpp"

namespace strata::testing {

struct GradCheckReport {
  double max_error = 0;  // max over checked elements of |num − ana| / (atol + rtol·|num|)
  std::string worst;     // which element, with both values
  int checked = 0;
};

struct GradCheckOptions {
  double step = 1e-2;     // central-difference step (relative to max(1, |x|))
  double atol = 2e-3;     // absolute tolerance
  double rtol = 2e-2;     // relative tolerance
  int max_elements = 64;  // per tensor; a seeded sample beyond that
  bool check_inputs = true;
  bool check_arrays = true;
  Mode mode = Mode::Inference;
  uint64_t seed = 7;
};

// Compares backward() with central finite differences of L for every input
// and every trainable array. `max_error` <= 1 means every element was within
// tolerance. The layer's arrays must be present.
GradCheckReport check_gradients(const Layer& layer, const std::vector<Tensor>& inputs,
                                const GradCheckOptions& options = {});

// A tensor of the given shape with values uniform in [lo, hi), seeded.
Tensor random_tensor(const Dims& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace strata::testing
