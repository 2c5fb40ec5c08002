// im2col: one example's input windows as the columns of a matrix, and col2im,
// its adjoint. For a convolution of geometry g over `channels` input planes
// (contiguous, [channels, in_d, in_h, in_w]), the im2col matrix has a row per
// (channel, kd, kh, kw) and a column per output position p = (od, oh, ow):
//   col[(c, kd, kh, kw), p] = x[c, od·sd + kd·dd − bd, oh·sh + …, ow·sw + …],
// zero where that falls in the padding. Matrices are row-major with rows `ld`
// floats apart; "columns p0..p1" are output positions [p0, p1) in order.
//
// Three ways to make the columns, for the same numbers:
//   im2col / col2im_add    walk the windows (any geometry);
//   gather / scatter       through a precomputed index map (small images);
//   pad_rows + padded_*    from a zero-padded copy of the input, where every
//                          im2col row is plain copies of output rows (2-D or
//                          1-D, stride 1).
#pragma once

#include <cstdint>
#include <vector>

#include "layers/spatial.hpp"

namespace strata::kernels {

// The im2col columns p0..p1 of x (one example's `channels` planes) into col.
void im2col(const float* x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
            float* col, int64_t ld);

// x += the columns p0..p1 of col scattered back to where im2col took them.
void col2im_add(const float* col, int64_t ld, int64_t channels, const WindowGeometry& g, int64_t p0,
                int64_t p1, float* x);

// ---- Through an index map

// Where each entry of an example's im2col matrix [channels · kernel, out
// positions] comes from (an offset into its `channels` planes), or −1 for
// padding. im2col and col2im are then a plain gather and scatter, with no
// per-run bookkeeping (which dominates for small images).
struct ColumnMap {
  WindowGeometry geo;
  int64_t channels = -1;
  std::vector<int32_t> index;

  bool matches(const WindowGeometry& g, int64_t c) const {
    return c == channels && g.in == geo.in && g.out == geo.out && g.kernel == geo.kernel &&
           g.stride == geo.stride && g.dilation == geo.dilation && g.before == geo.before;
  }
};

// Builds the map for geometry g and `channels` planes (every position), unless
// the map is that one already. Needs channels · g.in_size() < 2^24.
void build_map(ColumnMap& map, const WindowGeometry& g, int64_t channels);

// col[r, p] for rows [0, rows) and columns [0, positions) = x at map[r, p], 0
// for padding. `xz` is x with a zero in front (xz[0] = 0, xz[i + 1] = x[i]),
// so that the gather has no branch and vectorizes.
void gather_columns(const ColumnMap& map, int64_t rows, int64_t positions, const float* xz,
                    float* col, int64_t ld);

// The adjoint: xz at map[r, p] + 1 += col[r, p] (xz[0] collects the padding).
// Stride 2 in both spatial dimensions of a 2-D geometry, dilation 1: the
// columns are read from the input rows directly, 16 positions at a time (the
// even columns of two vectors), instead of through the map. row_columns also
// does stride 1, but there, for the small images the map serves (rows of
// fewer than 16), the masked loads and stores of part-vectors cost more than
// the map's gathers (ResNet's 8×8 block: 45% of the time against 24%).
bool row_columns_apply(const WindowGeometry& g);
// The same columns as gather_columns makes from the map, for all positions
// of one example (x: its `channels` planes), rows `ld` apart; the same
// values (copies of x, or 0), so the same results.
void row_columns(const float* x, int64_t channels, const WindowGeometry& g, float* col, int64_t ld);

void scatter_columns(const ColumnMap& map, int64_t rows, int64_t positions, const float* col,
                     int64_t ld, float* xz);

// Planes of at most 16 values and at most 16 output positions (4×4 images):
// each row of columns is then one permutation of its channel's plane (a
// vector), with zeros for padding, made without the copy with a zero in front
// and without a gather.
bool plane_columns_apply(const WindowGeometry& g);
// The columns gather_columns makes, for all positions of one example (x: its
// `channels` planes), rows `ld` apart; the same values, so the same results.
void plane_columns(const ColumnMap& map, const float* x, int64_t channels, const WindowGeometry& g,
                   float* col, int64_t ld);

// ---- From a zero-padded copy (2-D or 1-D: g.in[0] = g.kernel[0] = 1)

// A padded copy of the input: per channel hp rows of wp floats, x's element
// (h, w) at row before_h + h, column before_w + w, zeros elsewhere.
struct PaddedShape {
  int64_t hp, wp;  // padded height and width (rows read by the windows)
  int64_t size(int64_t channels) const { return channels * hp * wp; }
};

// The padded shape that every window of g reads inside of.
PaddedShape padded_shape(const WindowGeometry& g);

// The padded rows that output rows [oh0, oh1) read: [oh0, last).
inline int64_t last_padded_row(const WindowGeometry& g, int64_t oh1) {
  return oh1 + (g.kernel[1] - 1) * g.dilation[1];
}

// Padded rows [r0, r1) of every channel: x's rows behind zeros.
void pad_rows(const float* x, int64_t channels, const WindowGeometry& g, PaddedShape s, int64_t r0,
              int64_t r1, float* xp);

// Stride 1 only. The columns of output rows [oh0, oh1) from the padded input.
void padded_im2col(const float* xp, int64_t channels, const WindowGeometry& g, PaddedShape s,
                   int64_t oh0, int64_t oh1, float* col, int64_t ld);

// Stride 1 only. Their gradients added back into a padded gradient dxp.
void padded_col2im_add(const float* col, int64_t ld, int64_t channels, const WindowGeometry& g,
                       PaddedShape s, int64_t oh0, int64_t oh1, float* dxp);

// dx += the padded gradient's rows [r0, r1) that hold input rows.
void unpad_add_rows(const float* dxp, int64_t channels, const WindowGeometry& g, PaddedShape s,
                    int64_t r0, int64_t r1, float* dx);

}  // namespace strata::kernels
