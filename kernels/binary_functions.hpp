// The elementwise functions of two or more operands that broadcast
// (ThreadingLayer, ConstantTimesLayer, ConstantPlusLayer): the output over a
// BroadcastLoop (kernels/broadcast.hpp), and each operand's partial
// derivative times the output's gradient, of the output's size, which
// BroadcastLoop::sum_to_operand then sums to the operand's shape.
//
// Every output element is computed on its own, so any split among threads
// gives the same bits. Rows are cut into pieces of fixed length; along a row
// an operand is read contiguously or repeats one element, and when no operand
// broadcasts the loop is a single flat row (plain vectorizable loops).
//
// Values (IEEE arithmetic, as PyTorch):
//   Plus, Times, Max, Min   fold from the left: ((x0 f x1) f x2) …
//   Subtract, Divide, Power exactly two operands, x0 f x1; x/0 is ±inf (NaN
//                           for 0/0), and a negative base with a non-integer
//                           exponent gives NaN (std::pow)
//   Max, Min                NaN if any operand is NaN (torch.maximum)
// Derivatives:
//   Divide                  ∂/∂x0 = 1/x1, ∂/∂x1 = −y/x1 (PyTorch's formula)
//   Power                   ∂/∂x0 = x1·x0^(x1−1), 0 where x1 = 0;
//                           ∂/∂x1 = y·log(x0), 0 where x0 = 0 and x1 ≥ 0
//                           (PyTorch's), NaN for x0 < 0
//   Max, Min                the whole gradient goes to the first operand
//                           equal to the output (the first holding the extreme
//                           on ties; the first NaN when the output is NaN).
//                           PyTorch splits ties 0.5/0.5 instead.
#pragma once

#include <cstddef>
#include <span>

#include "kernels/broadcast.hpp"

namespace strata::binary {

enum class Function { Plus, Subtract, Times, Divide, Max, Min, Power };

// Whether f takes exactly two operands (Subtract, Divide, Power).
inline bool exactly_two(Function f) {
  return f == Function::Subtract || f == Function::Divide || f == Function::Power;
}

// y = x[0] f x[1] f …, over the output `loop` was planned for with operand k
// read from x[k]. Needs two operands, exactly two when exactly_two(f).
void apply(Function f, const BroadcastLoop& loop, std::span<const float* const> x, float* y);

// t = g · ∂y/∂x[k] for every output element; y from apply, g the output's
// gradient, t of the output's size and apart from x, y and g.
void partial(Function f, size_t k, const BroadcastLoop& loop, std::span<const float* const> x,
             const float* y, const float* g, float* t);

}  // namespace strata::binary
