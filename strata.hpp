// The whole public API of strata in one include.
#pragma once

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "layers/batch_normalization.hpp"
#include "layers/catenate.hpp"
#include "layers/dropout.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/layer.hpp"
#include "layers/linear.hpp"
#include "layers/registry.hpp"
#include "layers/reshape.hpp"
#include "layers/softmax.hpp"
#include "layers/total.hpp"
