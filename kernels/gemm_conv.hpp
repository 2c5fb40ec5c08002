// Convolution as matrix products (im2col + GEMM), forward and gradients, over
// a batch x [batch, in_channels, in…] (contiguous), Weights w [out_channels,
// in_channels / groups, kernel…] and output y [batch, out_channels, out…]:
//   y[n, o, p] = bias[o] + Σ_{c in o's group} Σ_k w[o, c, k] · x[n, c, p·stride + k·dilation −
//   before].
// Per group, y = W · columns(x) with W [out / groups, rows] and the im2col
// matrix [rows, positions] (rows = in / groups · kernel positions).
//
// A plan fixes how a batch is cut into GEMMs. Results depend on the plan,
// which depends on the sizes alone, never on the thread count: every thread
// count gives bit-identical results.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/common.hpp"
#include "kernels/im2col.hpp"
#include "kernels/winograd.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// About this many floats of im2col columns per GEMM (a few hundred KB: the
// columns stay in cache between im2col and the GEMM).
inline constexpr int64_t kColumnBudget = int64_t{1} << 16;
// Small images are put side by side until a GEMM has about this many columns
// (a GEMM with few columns spends its time packing, not multiplying).
inline constexpr int64_t kMinColumns = 256;
// Output rows at least this long are copied row by row from a padded input
// (and, for stride 1, done by the direct kernel); shorter ones are gathered
// through an index map.
inline constexpr int64_t kMinPaddedRow = 16;

// The sizes one application works with, and how it is cut into GEMMs.
struct ConvPlan {
  WindowGeometry geo;
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  int64_t rows = 0;       // im2col rows: in_per_group · kernel positions
  int64_t positions = 0;  // output positions
  // An image's columns fit the budget: `side` examples per GEMM, whole images.
  // Otherwise (`tiled`): one example at a time, `tile` positions per GEMM.
  bool tiled = false;
  int64_t side = 1;
  int64_t tile = 0, tiles = 1;
  // Examples are split into this many chunks; Weights gradients are summed per
  // chunk, then over chunks in order.
  int64_t chunks = 1;
  // How im2col columns are made: the input itself (a 1×1 kernel, stride 1, no
  // padding), from a zero-padded copy (stride 1 in 2-D or 1-D: plain row
  // copies), through an index map (other small images), or by walking the
  // window (the rest).
  enum class Method { Direct, Padded, Mapped, Walk } method = Method::Walk;
  bool direct = false;  // method == Direct
  // Examples [first, last) of chunk c.
  int64_t chunk_first(int64_t c) const { return c * batch / chunks; }
};

// The plan for geometry geo over a batch (channel counts divisible by groups).
ConvPlan plan_convolution(const WindowGeometry& geo, int64_t batch, int64_t in_channels,
                          int64_t out_channels, int64_t groups);

// Examples per GEMM when `count` examples go at most `side` at a time, in as
// few GEMMs as that allows, all of about the same size (16 as 8 + 8, not
// 13 + 3: a GEMM of few columns is slow).
int64_t even_steps(int64_t count, int64_t side);

// Scratch that a convolution (and its transposed convolution) keeps between
// calls; buffers only grow, so a warm step allocates nothing.
struct ConvScratch {
  ColumnMap map;
  ColumnMap map_t;                // of the transposed convolution (input gradients)
  ThreadBuffers padded;           // per thread: an example's input, padded
  ThreadBuffers padded_grad;      // per thread: its gradient, padded
  ThreadBuffers col;              // per thread: im2col columns
  ThreadBuffers dcol;             // per thread: column gradients
  ThreadBuffers out;              // per thread: GEMM result / gathered gradients
  std::vector<float> dw_partial;  // per chunk of examples: a Weights gradient
  std::vector<float> packed;      // Weights repacked for the direct kernel
  std::vector<float> packed_t;    // flipped and transposed, for the input gradient
  WinogradScratch winograd;       // 3×3 stride 1 (forward and input gradient)
};

// y = the convolution of x (bias null: none).
void gemm_conv_forward(const ConvPlan& p, const float* x, const float* w, const float* bias,
                       float* y, ConvScratch& scratch);

// dx = the input gradient for the output gradient dy (the transposed
// convolution of dy), by GEMMs and col2im: any geometry.
void gemm_conv_input_grad(const ConvPlan& p, const float* dy, const float* w, float* dx,
                          ConvScratch& scratch);

// dw = the Weights gradient for input x and output gradient dy (zero for an
// empty batch). Summed per chunk of examples, then over chunks in order.
void gemm_conv_weights_grad(const ConvPlan& p, const float* x, const float* dy, float* dw,
                            ConvScratch& scratch);

// db[o] = Σ over examples and positions of dy[n, o, p].
void conv_bias_grad(const ConvPlan& p, const float* dy, float* db);

}  // namespace strata::kernels
