// Winograd convolution F(2×2, 3×3) (Lavin and Gray 2016) for 3×3 kernels
// with stride 1 and dilation 1 in 2-D: each 2×2 tile of output positions
// comes from a 4×4 tile of the input in 16 products per input and output
// channel instead of 36 (2.25× fewer multiplications than the direct kernel).
//
// With V = Bᵀ d B (a 4×4 input tile d), U = G g Gᵀ (a 3×3 kernel g) and
// Y = Aᵀ M A:
//   M[ξ][o][t] = Σ_c U[ξ][c][o] · V[ξ][c][t]   (ξ the 16 positions of a 4×4 tile)
// the 16 products being matrix products over the channels for a block of
// tiles. The transforms' entries are 0, ±1 and ±½, so the rounding error stays
// within a small multiple of the direct kernel's (measured against float64 in
// tests/kernels/winograd_test.cpp; see docs/performance.md).
//
// y[n, o, i, j] = bias[o] + Σ_c,a,b w[o, c, a, b] · x[n, c, i + a − before_h, j + b − before_w]
// (x zero outside), with the output size given by the geometry (the padding
// after is whatever that leaves). Work is split by example and band of tile
// rows, by the sizes alone, and every output is summed in the same order
// whichever thread computes it: results are identical for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/common.hpp"
#include "layers/spatial.hpp"

namespace strata::kernels {

// Output rows at least this long. Below 16 most of a vector of tiles would
// be empty and the direct or GEMM kernels are faster. At 16 (8 tiles, half a
// vector) Winograd is still about 1.2× faster than the direct kernel, but
// its different rounding takes the style net's PyTorch parity test
// (tests/graph/style_transfer_test.cpp, 16×16 images) past its absolute
// tolerance on conv1's Biases gradient, which is pure rounding noise (zero
// in exact arithmetic: an instance normalization follows); so 16-wide rows
// stay with the direct kernel.
inline constexpr int64_t kWinogradMinRow = 24;

// The Weights gradient by Winograd sums, per ξ, products of the transformed
// gradient and input over the tiles. With the tiles in the vector lanes (4 × 4
// channels at a time, ~10 loads per 16 multiply-adds from the second-level
// cache, a fold of the lanes per item) it beats im2col + GEMM on large images
// only: from rows of kWinogradMinGradRow (1.5× at 128×128, 2× at 256×256,
// 0.9× at 32×32, batch 32). With ci · co of kWinogradGemmChannels or more the
// sums are matrix products instead (Eigen, per item), which beat im2col + GEMM
// from the forward's rows of kWinogradMinGemmGradRow: 16 → 32 channels at
// [32,16,32,32], 6.8 → 5.4–5.8 ms forward + backward (medians of 7 and 9
// alternated runs, 1 thread). With fewer channels the products are small for
// Eigen's kernel (8 or 16 rows); at 16 → 16 (128×128) and 16 → 8 (256×256)
// one alternated series measured them 19% and 30% slower than the lanes,
// another no different, so the lanes stay there.
inline constexpr int64_t kWinogradMinGradRow = 64;
inline constexpr int64_t kWinogradMinGemmGradRow = 24;
inline constexpr int64_t kWinogradGemmChannels = 512;

// Whether the Winograd kernel applies: 2-D (or 1 × n × m), a 3×3 kernel,
// stride 1, dilation 1, one group, rows of kWinogradMinRow or more.
bool winograd_applies(const WindowGeometry& g, int64_t groups);
// Whether the Weights gradient goes by Winograd (see above), and whether its
// tile sums are matrix products (ci · co ≥ kWinogradGemmChannels).
bool winograd_grad_applies(const WindowGeometry& g, int64_t groups, int64_t ci, int64_t co);
bool winograd_grad_by_gemm(int64_t ci, int64_t co);

// Per-call scratch: the transformed weights, per-thread transformed input
// tiles, products and row buffers. Only grows; a warm call allocates nothing.
struct WinogradScratch {
  std::vector<float> u;
  ThreadBuffers v, m, rows, part;
  std::vector<double> du;  // the weights gradient: per chunk of work, [16][co][ci]
};

// U [16][ci][co] from Weights w [co][ci][3][3] (G g Gᵀ, in double, rounded
// once). With `adjoint`, w is the Weights [ci][co][3][3] of the convolution
// from co channels to ci, flipped in both spatial dimensions and transposed:
// the kernel of that convolution's input gradient.
void winograd_filter(const float* w, int64_t ci, int64_t co, bool adjoint, float* u);

// y [batch, co, out…] from x [batch, ci, in…] and U from winograd_filter
// (bias [co] or null).
void winograd_convolution(const WindowGeometry& g, int64_t batch, const float* x, int64_t ci,
                          const float* u, int64_t co, const float* bias, float* y,
                          WinogradScratch& scratch);

// dw [co][ci][3][3] = the Weights gradient of the convolution above for input
// x and output gradient dy [batch, co, out…] (overwritten): the adjoint of
// the same factorization, dw = Gᵀ (Σ_tiles (Bᵀ d B) ⊙ (A dy Aᵀ)) G, the sum
// over tiles a matrix product per ξ. Tiles are summed per item in float (a
// GEMM, or vector lanes), items per fixed chunk in double, chunks in order:
// identical for any thread count.
void winograd_weights_grad(const WindowGeometry& g, int64_t batch, const float* x, int64_t ci,
                           const float* dy, int64_t co, float* dw, WinogradScratch& scratch);

}  // namespace strata::kernels
