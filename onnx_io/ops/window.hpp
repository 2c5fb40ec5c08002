// What Conv, ConvTranspose and the pooling ops share: kernel, strides, pads,
// dilations and auto_pad, read from a node as per-dimension lists.
#pragma once

#include "layers/spatial.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {

struct Window {
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<std::pair<int64_t, int64_t>> pads;  // before, after
};

// Reads strides, dilations (when `dilations`), pads and auto_pad for a kernel
// of `kernel` over a computed input x. SAME_UPPER/SAME_LOWER need x's spatial
// sizes.
Window read_window(const Context& ctx, const Computed& x, std::vector<int64_t> kernel,
                   bool dilations);

PaddingSize padding_of(const Window& w);

}  // namespace strata::onnx_io
