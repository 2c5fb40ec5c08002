// Resize and Upsample -> ResizeLayer, for the mappings ResizeLayer has:
//   linear   with half_pixel (or pytorch_half_pixel where no output size is 1);
//   nearest  as floor(i / s) ("asymmetric" + "floor", what F.interpolate
//            exports), or any other nearest mapping that picks the same input
//            indices for the model's sizes (checked index by index).
// Scales or sizes come from constants (or Upsample's attribute); the batch
// and channel dimensions must stay.
#include <algorithm>
#include <cmath>
#include <optional>

#include "layers/resize.hpp"
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {
namespace {

// The input index ONNX's nearest mode picks for output i.
int64_t onnx_nearest(const std::string& coord, const std::string& rounding, int64_t i, double s,
                     int64_t in, int64_t out) {
  double x = 0;
  if (coord == "half_pixel")
    x = (static_cast<double>(i) + 0.5) / s - 0.5;
  else if (coord == "pytorch_half_pixel")
    x = out > 1 ? (static_cast<double>(i) + 0.5) / s - 0.5 : 0;
  else if (coord == "align_corners")
    x = out > 1
            ? static_cast<double>(i) * static_cast<double>(in - 1) / static_cast<double>(out - 1)
            : 0;
  else  // asymmetric
    x = static_cast<double>(i) / s;
  double r = 0;
  if (rounding == "floor")
    r = std::floor(x);
  else if (rounding == "ceil")
    r = std::ceil(x);
  else if (rounding == "round_prefer_ceil")
    r = std::floor(x + 0.5);
  else  // round_prefer_floor
    r = x == std::floor(x) + 0.5 ? std::floor(x) : std::round(x);
  return static_cast<int64_t>(std::clamp(r, 0.0, static_cast<double>(in - 1)));
}

// Output sizes beyond this are refused before any arithmetic on them.
constexpr double kMaxOutputSize = double(int64_t{1} << 30);

// floor(in · s), refused when it is empty or too large.
int64_t scaled_size(const Context& ctx, int64_t in, double s) {
  const double out = std::floor(static_cast<double>(in) * s);
  if (!(out >= 1 && out <= kMaxOutputSize))
    ctx.fail("an output size of " + std::to_string(out) +
             " is not supported (supported: 1 to 2^30)");
  return static_cast<int64_t>(out);
}

struct Request {
  std::string mode = "nearest";
  std::string coord = "asymmetric";
  std::string rounding = "floor";
  std::optional<std::vector<double>> scales;  // spatial only
  std::optional<Dims> sizes;                  // spatial only
};

void convert(Context& ctx, const Computed& x, const Request& r) {
  if (r.mode != "linear" && r.mode != "nearest")
    ctx.fail("mode \"" + r.mode + "\" is not supported (supported: linear, nearest)");
  const size_t n = x.shape.rank() - 1;
  if (n < 1 || n > 3) ctx.fail("1 to 3 spatial dimensions are supported");
  // Nothing resized: the input itself.
  if (r.scales) {
    bool ones = true;
    for (double s : *r.scales)
      ones = ones && s == 1;
    if (ones) return ctx.set_output(0, x);
  }
  if (r.mode == "linear") {
    if (r.coord != "half_pixel" && r.coord != "pytorch_half_pixel")
      ctx.fail("linear with coordinate_transformation_mode \"" + r.coord +
               "\" is not supported (supported: half_pixel, pytorch_half_pixel)");
    if (r.coord == "pytorch_half_pixel") {
      const Dims dims = known_dims(ctx, x, "pytorch_half_pixel");
      for (size_t d = 0; d < n; ++d) {
        const int64_t out = r.sizes ? (*r.sizes)[d] : scaled_size(ctx, dims[d + 1], (*r.scales)[d]);
        if (out == 1)
          ctx.fail(
              "pytorch_half_pixel with an output size of 1 is not supported (supported: "
              "half_pixel)");
      }
    }
  } else if (r.coord != "asymmetric" || r.rounding != "floor") {
    if (r.coord == "tf_half_pixel_for_nn" || r.coord == "tf_crop_and_resize")
      ctx.fail("coordinate_transformation_mode \"" + r.coord +
               "\" is not supported (supported: half_pixel, pytorch_half_pixel, asymmetric, "
               "align_corners)");
    const Dims dims =
        known_dims(ctx, x, "nearest with \"" + r.coord + "\" and \"" + r.rounding + "\"");
    for (size_t d = 0; d < n; ++d) {
      const int64_t in = dims[d + 1];
      const double s0 = r.scales ? (*r.scales)[d] : 0;
      const int64_t out = r.sizes ? (*r.sizes)[d] : scaled_size(ctx, in, s0);
      if (out > (int64_t{1} << 20))
        ctx.fail("nearest with \"" + r.coord + "\" and \"" + r.rounding +
                 "\" to an output size above 2^20 is not supported (supported: asymmetric with "
                 "floor)");
      const double s = r.sizes ? static_cast<double>(out) / static_cast<double>(in) : s0;
      for (int64_t i = 0; i < out; ++i) {
        const auto strata_index = static_cast<int64_t>(
            std::min(std::floor(static_cast<double>(i) / s), static_cast<double>(in - 1)));
        if (onnx_nearest(r.coord, r.rounding, i, s, in, out) != strata_index)
          ctx.fail("nearest with coordinate_transformation_mode \"" + r.coord +
                   "\" and nearest_mode \"" + r.rounding +
                   "\" picks other elements than floor(i / scale) here (supported: asymmetric "
                   "with floor, or a mapping that agrees with it)");
      }
    }
  }
  ResizeLayer layer;
  layer.resampling(r.mode == "linear" ? Resampling::Linear : Resampling::Nearest);
  if (r.sizes)
    layer.dimensions(*r.sizes);
  else
    layer.scale(ResizeScale(*r.scales));
  ctx.set_output(0, ctx.add(layer, {x}));
}

// Scales over every ONNX dimension: the batch's and the channels' must be 1.
std::vector<double> spatial_scales(const Context& ctx, const std::vector<double>& all,
                                   const Computed& x) {
  if (all.size() != x.shape.rank() + 1)
    ctx.fail("scales has " + std::to_string(all.size()) + " values for an input of rank " +
             std::to_string(x.shape.rank() + 1));
  if (all.size() < 2 || all[0] != 1 || all[1] != 1)
    ctx.fail("scaling the batch or channel dimension is not supported (supported: scales 1 there)");
  for (double s : all)
    if (!(s > 0) || !(s <= kMaxOutputSize)) ctx.fail("scales must be positive and at most 2^30");
  return std::vector<double>(all.begin() + 2, all.end());
}

std::vector<double> constant_scales(const Context& ctx, size_t i, const Computed& x) {
  const Constant& c = ctx.constant(i, "scales");
  if (!c.all_known()) ctx.fail("scales are not known at import");
  return spatial_scales(ctx, c.values, x);
}

void resize(Context& ctx) {
  const Computed& x = ctx.computed(0);
  Request r;
  r.mode = ctx.attr_string("mode", "nearest");
  if (ctx.opset() < 11) {
    // Opset 10: X and scales; the mapping is Upsample's (asymmetric, floor).
    r.scales = constant_scales(ctx, 1, x);
    r.coord = "asymmetric";
    if (r.mode == "linear")
      ctx.fail(
          "linear at opset 10 (asymmetric coordinates) is not supported (supported: opset "
          "11 and later with half_pixel)");
    return convert(ctx, x, r);
  }
  r.coord = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
  r.rounding = ctx.attr_string("nearest_mode", "round_prefer_floor");
  if (r.mode != "cubic") {
    ctx.ignore_attr("cubic_coeff_a");
    if (ctx.attr_int("exclude_outside", 0) != 0 && r.mode == "linear")
      ctx.fail("exclude_outside 1 is not supported");
  }
  if (r.coord != "tf_crop_and_resize") ctx.ignore_attr("extrapolation_value");
  if (r.mode == "cubic") ctx.fail("mode \"cubic\" is not supported (supported: linear, nearest)");
  const bool has_scales = ctx.has_input(2) && ctx.constant(2, "scales").size() > 0;
  const bool has_sizes = ctx.has_input(3) && ctx.constant(3, "sizes").size() > 0;
  if (has_scales == has_sizes) ctx.fail("exactly one of scales and sizes must be given");
  if (has_scales) {
    r.scales = constant_scales(ctx, 2, x);
  } else {
    const Constant& c = ctx.constant(3, "sizes");
    if (c.size() != static_cast<int64_t>(x.shape.rank()) + 1)
      ctx.fail("sizes has " + std::to_string(c.size()) + " values for an input of rank " +
               std::to_string(x.shape.rank() + 1));
    const auto batch = ctx.static_batch();
    if (!(c.tag(0) == Constant::Batch ||
          (c.tag(0) == Constant::Known && batch && static_cast<int64_t>(c.values[0]) == *batch)))
      ctx.fail("sizes must keep the batch size");
    if (c.tag(1) != Constant::Known || static_cast<int64_t>(c.values[1]) != x.shape.dims()[0])
      ctx.fail("sizes must keep the channels");
    Constant spatial = c;
    spatial.values.erase(spatial.values.begin(), spatial.values.begin() + 2);
    if (!spatial.tags.empty()) spatial.tags.erase(spatial.tags.begin(), spatial.tags.begin() + 2);
    const auto v = to_ints(ctx, spatial, "sizes");
    for (int64_t e : v)
      if (e < 1 || static_cast<double>(e) > kMaxOutputSize)
        ctx.fail("sizes must be between 1 and 2^30");
    r.sizes = Dims(v.begin(), v.end());
  }
  convert(ctx, x, r);
}

// Upsample (opsets 7 to 9): nearest is floor(i / s); linear is asymmetric.
void upsample(Context& ctx) {
  const Computed& x = ctx.computed(0);
  Request r;
  r.mode = ctx.attr_string("mode", "nearest");
  if (ctx.opset() < 9) {
    const auto s = ctx.attr_floats("scales");
    if (!s) ctx.fail("scales is required");
    r.scales = spatial_scales(ctx, *s, x);
  } else {
    r.scales = constant_scales(ctx, 1, x);
  }
  if (r.mode == "linear" || r.mode == "bilinear") {
    bool ones = true;
    for (double s : *r.scales)
      ones = ones && s == 1;
    if (!ones)
      ctx.fail("mode \"" + r.mode +
               "\" (asymmetric coordinates) is not supported (supported: nearest; Resize at "
               "opset 11 for half-pixel linear)");
    r.mode = "linear";
  }
  convert(ctx, x, r);
}

}  // namespace

void add_resize_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["Resize"] = resize;
  t["Upsample"] = upsample;
}

}  // namespace strata::onnx_io
