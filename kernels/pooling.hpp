// Pooling over `planes` contiguous planes (one per example and channel): x
// [planes, in_d, in_h, in_w] to y [planes, out…] for window geometry g.
// Windows leave the padding out: a window covers the inputs
// o·stride − before + i·dilation, i in [0, kernel), that lie in the input.
// Every window must hold at least one input (PoolingLayer checks).
//
// Max: the largest input of the window, scanned in window order (depth,
// height, width); the first of equal maxima wins, and a NaN wins over any
// number, as in PyTorch. Sum: the window's inputs, each row summed in order
// and the rows then in order; Mean then multiplies by 1 / the number of the
// window's positions inside the padded input [−before, in + after) (the
// kernel size, unless g.out counts a last window that sticks out past the
// padding, as PyTorch's ceil_mode does), Total by 1. Specialized paths (2×2
// windows, windows inside the input) keep these orders, so every path gives
// the same bits.
#pragma once

#include <cstdint>

#include "layers/spatial.hpp"

namespace strata::kernels {

// argmax, unless null, receives for each output the index of its maximum
// within its input plane. Needs g.in_size() < 2^31.
void max_pool(const WindowGeometry& g, int64_t planes, const float* x, float* y, int32_t* argmax);

// dx = each output gradient added to its maximum's input (dx is overwritten).
void max_pool_grad(const WindowGeometry& g, int64_t planes, const float* dy, const int32_t* argmax,
                   float* dx);

// Mean when `mean`, else Total.
void sum_pool(const WindowGeometry& g, int64_t planes, const float* x, bool mean, float* y);

// dx = each output gradient × the window's scale added to every input of its
// window.
void sum_pool_grad(const WindowGeometry& g, int64_t planes, const float* dy, bool mean, float* dx);

}  // namespace strata::kernels
