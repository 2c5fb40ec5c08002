#include "onnx_io/ops/window.hpp"

namespace strata::onnx_io {

Window read_window(const Context& ctx, const Computed& x, std::vector<int64_t> kernel,
                   bool dilations) {
  const size_t n = kernel.size();
  if (n < 1 || n > kMaxSpatialRank)
    ctx.fail(std::to_string(n) + " spatial dimensions are not supported (supported: 1 to 3)");
  if (x.shape.rank() != n + 1)
    ctx.fail("the input has rank " + std::to_string(x.shape.rank() + 1) + ", the kernel " +
             std::to_string(n) + " spatial dimensions");
  Window w;
  w.kernel = std::move(kernel);
  auto list = [&](std::string_view name, int64_t fallback, size_t size) {
    auto v = ctx.attr_ints(name).value_or(std::vector<int64_t>(size, fallback));
    if (v.size() != size)
      ctx.fail(std::string(name) + " has " + std::to_string(v.size()) + " values, expected " +
               std::to_string(size));
    return v;
  };
  w.strides = list("strides", 1, n);
  w.dilations = dilations ? list("dilations", 1, n) : std::vector<int64_t>(n, 1);
  for (size_t d = 0; d < n; ++d)
    if (w.strides[d] < 1 || w.dilations[d] < 1 || w.kernel[d] < 1)
      ctx.fail("kernel, strides and dilations must be positive");
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    const auto pads = list("pads", 0, 2 * n);
    for (size_t d = 0; d < n; ++d) {
      if (pads[d] < 0 || pads[d + n] < 0) ctx.fail("negative pads are not supported");
      w.pads.emplace_back(pads[d], pads[d + n]);
    }
  } else if (auto_pad == "VALID") {
    if (ctx.has_attr("pads")) ctx.fail("pads with auto_pad VALID");
    w.pads.assign(n, {0, 0});
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    if (ctx.has_attr("pads")) ctx.fail("pads with auto_pad " + auto_pad);
    const Dims dims = known_dims(ctx, x, "auto_pad " + auto_pad);
    for (size_t d = 0; d < n; ++d) {
      const int64_t in = dims[d + 1], s = w.strides[d];
      const int64_t out = (in + s - 1) / s;
      const int64_t total =
          std::max<int64_t>(0, (out - 1) * s + (w.kernel[d] - 1) * w.dilations[d] + 1 - in);
      const int64_t small = total / 2, big = total - small;
      w.pads.emplace_back(auto_pad == "SAME_UPPER" ? std::pair{small, big} : std::pair{big, small});
    }
  } else {
    ctx.fail("auto_pad \"" + auto_pad +
             "\" is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)");
  }
  return w;
}

PaddingSize padding_of(const Window& w) {
  return PaddingSize(w.pads);
}

}  // namespace strata::onnx_io
