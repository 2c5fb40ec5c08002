// Resizing planes over 1 to 3 spatial dimensions (PyTorch's F.interpolate
// with mode linear/bilinear/trilinear and align_corners=False, or nearest),
// one axis at a time: width, then height, then depth, which gives the same
// sums in the same order as PyTorch's direct bilinear and trilinear loops.
//
// Along one axis of input size `in` and output size `out`, with s the scale
// (given, or out / in):
//   Linear:  output j reads the source coordinate c = max((j + 0.5) / s − 0.5, 0),
//            lo = min(floor(c), in − 1), hi = min(lo + 1, in − 1),
//            λ = c − lo; y_j = (1 − λ)·x_lo + λ·x_hi (IEEE: a weight of 0
//            times an infinite neighbour is NaN, as in PyTorch)
//   Nearest: y_j = x_lo with lo = min(floor(j / s), in − 1), computed
//            exactly (an integer division when s = out / in)
// An axis whose mapping is the identity is skipped (copied).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace strata::kernels {

enum class ResizeMethod { Linear, Nearest };

// One axis's table: output j = w_lo[j]·x[lo[j]] + w_hi[j]·x[hi[j]]
// (Linear) or x[lo[j]] (Nearest).
struct ResizeAxis {
  int64_t in = 1, out = 1;
  std::vector<int64_t> lo, hi;
  std::vector<float> w_lo, w_hi;
  bool identity = true;  // output j is input j
};

// `scale` unset: s = out / in.
ResizeAxis linear_axis(int64_t in, int64_t out, std::optional<double> scale);
ResizeAxis nearest_axis(int64_t in, int64_t out, std::optional<double> scale);

// Everything one shape needs, computed once.
struct ResizePlan {
  ResizeMethod method = ResizeMethod::Linear;
  // Depth, height, width; size-1 identity axes in front for 1-D and 2-D.
  std::array<ResizeAxis, 3> axes;
  int64_t in_size = 1, out_size = 1;  // elements per plane
  int64_t scratch_per_plane = 0;      // floats one thread needs
};

// `in` and `out` are the spatial sizes (1 to 3 of them); `scales` is empty
// (s = out / in) or has one scale per spatial dimension.
ResizePlan plan_resize(ResizeMethod method, std::span<const int64_t> in,
                       std::span<const int64_t> out, std::span<const double> scales);

// y [planes, out…] from x [planes, in…], planes in parallel. `scratch` grows
// as needed (one buffer per thread) and is best kept from call to call.
void resize(const ResizePlan& plan, int64_t planes, const float* x, float* y,
            std::vector<float>& scratch);

// The adjoint: dx [planes, in…] (overwritten) receives each output
// gradient times its weights. Each plane is summed in a fixed order by one
// thread, so the result does not depend on the thread count.
void resize_grad(const ResizePlan& plan, int64_t planes, const float* dy, float* dx,
                 std::vector<float>& scratch);

}  // namespace strata::kernels
