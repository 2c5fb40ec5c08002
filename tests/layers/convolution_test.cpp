#include "layers/convolution.hpp"

#include <doctest/doctest.h>

#include "support/reference.hpp"

TEST_CASE("ConvolutionLayer matches PyTorch's conv1d/conv2d/conv3d (forward and backward)") {
  strata::testing::check_reference_file("convolution.json");
}
