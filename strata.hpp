// The whole public API of strata in one include.
#pragma once

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "layers/instance_normalization.hpp"
#include "layers/layer.hpp"
#include "layers/registry.hpp"
#include "train/loss.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"
