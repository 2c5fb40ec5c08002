// The whole public API of strata in one include.
#pragma once

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/layer.hpp"
#include "layers/registry.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/csv.hpp"
#include "serialization/npy.hpp"
#include "serialization/tensor_json.hpp"
