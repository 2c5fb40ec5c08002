// Padding of a row-major tensor in every dimension: y has the size
// in[d] + before[d] + after[d] in dimension d, the input in the middle and
// the border filled as the mode says (PyTorch's F.pad modes):
//   Constant   with `value`
//   Fixed      the nearest edge element (PyTorch replicate, ONNX edge)
//   Reflected  mirrored about the edge, the edge not repeated (PyTorch
//              reflect): needs before, after < in[d] where padded
//   Periodic   wrapped around (PyTorch circular): needs before, after ≤ in[d]
// The caller checks those preconditions (PadPlan does not). The gradient
// adds each output gradient into the input element it was copied from, the
// border of Constant padding included in none.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace strata::kernels {

enum class PadMode { Constant, Fixed, Reflected, Periodic };

// The input index that output position o of a dimension of size n copies,
// or −1 for a Constant fill.
int64_t pad_source(PadMode mode, int64_t o, int64_t before, int64_t n);

// Everything the kernels need for one input shape, computed once.
struct PadPlan {
  PadMode mode = PadMode::Constant;
  std::vector<int64_t> in, out, before;
  std::vector<int64_t> in_stride, out_stride;  // row-major strides
  // Per dimension, out[d] source indices (pad_source).
  std::vector<std::vector<int64_t>> source;
  // Floats of scratch that pad_grad needs.
  int64_t scratch_size = 0;
};

// `pads` holds a (before, after) pair per dimension of `in` (both ≥ 0).
PadPlan plan_pad(std::span<const int64_t> in, std::span<const std::pair<int64_t, int64_t>> pads,
                 PadMode mode);

// y (plan.out) from x (plan.in).
void pad(const PadPlan& plan, float value, const float* x, float* y);

// dx (plan.in) from dy (plan.out), overwriting dx. `scratch` holds at least
// plan.scratch_size floats. Each input element's sum runs in a fixed order,
// whatever the thread count.
void pad_grad(const PadPlan& plan, const float* dy, float* dx, float* scratch);

}  // namespace strata::kernels
