#include "layers/pooling.hpp"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>

#include "core/error.hpp"
#include "kernels/pooling.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

struct PoolingWorkspace : Workspace {
  // Max: for each output element, the index of its maximum within the
  // input plane (the same example and channel).
  // Filled by a Training forward only (an inference forward does not pay
  // for it); a backward after an Inference forward finds the maxima again.
  std::vector<int32_t> argmax;
  bool has_argmax = false;
  std::vector<float> scratch;  // the outputs of that second search
  Dims input_shape;            // of the last forward
};

// The number of windows along one dimension: window_count's, or rounded up
// with PyTorch's rule that the last window starts inside the input or the
// padding before it. 0 when the padded input is shorter than the window.
int64_t pooled_count(int64_t in, int64_t k, int64_t s, int64_t dil, int64_t b, int64_t a,
                     PoolingRounding r) {
  const int64_t span = in + b + a - dil * (k - 1) - 1;
  if (span < 0) return 0;
  if (r == PoolingRounding::Floor) return span / s + 1;
  int64_t n = (span + s - 1) / s + 1;
  if ((n - 1) * s >= in + b) --n;
  return n;
}

// Throws unless each of the `out` windows along a dimension holds an input
// (one of its positions o·s − b + i·dil, i < k, lies in [0, in)).
void check_windows_hold_inputs(size_t d, int64_t in, int64_t out, int64_t k, int64_t s, int64_t dil,
                               int64_t b) {
  if (dil == 1) return;  // with padding < kernel, a window always holds one
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * s - b;
    const int64_t first = start < 0 ? start + (-start + dil - 1) / dil * dil : start;
    if (first >= in || first > start + (k - 1) * dil)
      throw Error("Dilation: window " + std::to_string(o + 1) + " in spatial dimension " +
                  std::to_string(d + 1) + " holds no input (its positions step over the " +
                  std::to_string(in) + " inputs into the padding), with Dilation " +
                  std::to_string(dil) + " and KernelSize " + std::to_string(k));
  }
}

}  // namespace

std::string to_string(PoolingFunction f) {
  switch (f) {
    case PoolingFunction::Max:
      return "Max";
    case PoolingFunction::Mean:
      return "Mean";
    case PoolingFunction::Total:
      return "Total";
  }
  return "?";
}

// ---- Options

PoolingLayer::PoolingLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

PoolingLayer::PoolingLayer(SpatialSizes kernel_size) : PoolingLayer() {
  this->kernel_size(std::move(kernel_size));
}

namespace {

const Choice<PoolingFunction> kFunctions{
    {PoolingFunction::Max, PoolingFunction::Mean, PoolingFunction::Total},
    {"Max", "Mean", "Total"},
    "\"Max\", \"Mean\" or \"Total\""};

const Choice<PoolingRounding> kRoundings{{PoolingRounding::Floor, PoolingRounding::Ceiling},
                                         {"Floor", "Ceiling"},
                                         "\"Floor\" or \"Ceiling\""};

}  // namespace

const OptionTable& PoolingLayer::option_table() const {
  using L = PoolingLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("KernelSize", &L::kernel_size_, Required{Spatial{1}})
          .add("Stride", &L::stride_, Spatial{1})
          .add("PaddingSize", &L::padding_, Padding{})
          .add("Function", &L::function_, kFunctions, Affects::Nothing)
          .add("Dilation", &L::dilation_, Spatial{1})
          .shown_when([](const L& l) { return l.dilation_ != SpatialSizes(1); })
          .add("Rounding", &L::rounding_, kRoundings)
          .shown_when([](const L& l) { return l.rounding_ != PoolingRounding::Floor; });
  return table;
}

PoolingLayer& PoolingLayer::kernel_size(SpatialSizes value) {
  return assign_option(*this, "KernelSize", std::optional<SpatialSizes>(std::move(value)));
}

PoolingLayer& PoolingLayer::stride(SpatialSizes value) {
  return assign_option(*this, "Stride", std::move(value));
}

PoolingLayer& PoolingLayer::padding_size(PaddingSize value) {
  return assign_option(*this, "PaddingSize", std::move(value));
}

PoolingLayer& PoolingLayer::function(PoolingFunction value) {
  return assign_option(*this, "Function", value);
}

PoolingLayer& PoolingLayer::function(const std::string& value) {
  return function(kFunctions.parse(value, "Function"));
}

PoolingLayer& PoolingLayer::dilation(SpatialSizes value) {
  return assign_option(*this, "Dilation", std::move(value));
}

PoolingLayer& PoolingLayer::rounding(PoolingRounding value) {
  return assign_option(*this, "Rounding", value);
}

PoolingLayer& PoolingLayer::rounding(const std::string& value) {
  return rounding(kRoundings.parse(value, "Rounding"));
}

LayerTraits PoolingLayer::traits() const {
  LayerTraits t;
  t.transparent_to_activation = true;
  return t;
}

std::unique_ptr<Layer> PoolingLayer::clone() const {
  return std::make_unique<PoolingLayer>(*this);
}

// ---- Shape inference

std::optional<size_t> PoolingLayer::spatial_rank() const {
  return options_spatial_rank({{"KernelSize", kernel_size_ ? kernel_size_->rank() : std::nullopt},
                               {"Stride", stride_.rank()},
                               {"PaddingSize", padding_.rank()},
                               {"Dilation", dilation_.rank()}});
}

void PoolingLayer::infer() {
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
  std::optional<size_t> rank = spatial_rank();
  if (!rank && inputs_[0].shape.rank_known()) rank = inputs_[0].shape.rank() - 1;
  if (!rank && outputs_[0].shape.rank_known()) rank = outputs_[0].shape.rank() - 1;
  if (!rank) return;
  const size_t r = *rank;
  for (size_t d = 0; d < r; ++d)
    if (padding_.before(d) >= (*kernel_size_)[d] || padding_.after(d) >= (*kernel_size_)[d])
      throw Error("PaddingSize: expected less than KernelSize " + kernel_size_->to_json().dump() +
                  " on each side (else a window can lie entirely in the padding), got " +
                  padding_.to_json().dump());
  const std::string spatial_why =
      "channels and " + std::to_string(r) + " spatial dimension" + (r == 1 ? "" : "s");
  constrain_input(0, Shape::of_rank(r + 1), spatial_why);
  constrain_output(0, Shape::of_rank(r + 1), spatial_why);

  const Shape& in = inputs_[0].shape;
  const Shape& have_out = outputs_[0].shape;
  Shape out = channels_and_spatial(in[0], r);
  Shape back = channels_and_spatial(have_out[0], r);
  for (size_t d = 0; d < r; ++d) {
    const int64_t k = (*kernel_size_)[d], s = stride_[d], dil = dilation_[d];
    const int64_t b = padding_.before(d), a = padding_.after(d);
    if (in.dim_known(d + 1)) {
      out[d + 1] = pooled_count(in[d + 1], k, s, dil, b, a, rounding_);
      if (out[d + 1] < 1) throw Error(too_small_message(d, in[d + 1], k, dil, b, a));
      check_windows_hold_inputs(d, in[d + 1], out[d + 1], k, s, dil, b);
    } else if (s == 1 && have_out.dim_known(d + 1)) {
      // Both roundings agree at stride 1; padding < kernel makes this at least 1.
      back[d + 1] = have_out[d + 1] + dil * (k - 1) - b - a;
    }
  }
  constrain_output(0, out, "from Input and the options");
  constrain_input(0, back, "from Output and the options");
}

// ---- Execution

std::unique_ptr<Workspace> PoolingLayer::make_workspace() const {
  return std::make_unique<PoolingWorkspace>();
}

WindowGeometry PoolingLayer::geometry_for(const Tensor& x) const {
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  if (x.rank() < 3 || x.rank() > 5)
    throw Error(
        "Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial dimensions), "
        "got " +
        to_string(x.shape()));
  const size_t r = x.rank() - 2;
  if (const auto rank = spatial_rank(); rank && *rank != r)
    throw Error("Input: expected a batch with " + std::to_string(*rank) +
                " spatial dimensions (as KernelSize etc.), got " + to_string(x.shape()));
  for (size_t d = 0; d < r; ++d)
    if (padding_.before(d) >= (*kernel_size_)[d] || padding_.after(d) >= (*kernel_size_)[d])
      throw Error("PaddingSize: expected less than KernelSize on each side, got " +
                  padding_.to_json().dump());
  const std::span<const int64_t> spatial = std::span<const int64_t>(x.shape()).subspan(2);
  WindowGeometry g = window_geometry(spatial, *kernel_size_, stride_, dilation_, padding_);
  const size_t shift = kMaxSpatialRank - r;
  for (size_t d = 0; d < r; ++d) {
    const size_t e = d + shift;
    g.out[e] = pooled_count(g.in[e], g.kernel[e], g.stride[e], g.dilation[e], g.before[e],
                            g.after[e], rounding_);
    check_windows_hold_inputs(d, g.in[e], g.out[e], g.kernel[e], g.stride[e], g.dilation[e],
                              g.before[e]);
  }
  if (g.in_size() > std::numeric_limits<int32_t>::max())
    throw Error("Input: spatial size " + std::to_string(g.in_size()) +
                " is too large for pooling (at most 2^31 − 1 positions per channel)");
  return g;
}

void PoolingLayer::forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const {
  const Tensor& x = *in[0];
  const WindowGeometry g = geometry_for(x);
  std::array<int64_t, 5> out_dims{x.dim(0), x.dim(1)};
  size_t rank = 2;
  for (size_t i = kMaxSpatialRank - (x.rank() - 2); i < kMaxSpatialRank; ++i)
    out_dims[rank++] = g.out[i];
  Tensor& y = *out[0];
  y.resize(std::span<const int64_t>(out_dims.data(), rank));

  const int64_t planes = x.dim(0) * x.dim(1);
  if (function_ == PoolingFunction::Max) {
    auto* work = static_cast<PoolingWorkspace*>(ws);
    int32_t* argmax = nullptr;
    if (work) {
      work->input_shape = x.shape();
      work->has_argmax = ctx.mode == Mode::Training;
      if (work->has_argmax) {
        work->argmax.resize(static_cast<size_t>(planes * g.out_size()));
        argmax = work->argmax.data();
      }
    }
    kernels::max_pool(g, planes, x.data(), y.data(), argmax);
    return;
  }
  kernels::sum_pool(g, planes, x.data(), function_ == PoolingFunction::Mean, y.data());
}

void PoolingLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const WindowGeometry g = geometry_for(x);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t out_size = g.out_size();
  if (dy.size() != planes * out_size)
    throw Error("Output gradient: expected " + std::to_string(planes * out_size) +
                " elements, got " + to_string(dy.shape()));
  dx->resize(x.shape());

  if (function_ == PoolingFunction::Max) {
    auto* work = static_cast<PoolingWorkspace*>(ws);
    if (!work || work->input_shape != x.shape())
      throw Error("backward called without a matching forward");
    if (!work->has_argmax) {
      work->argmax.resize(static_cast<size_t>(planes * out_size));
      work->scratch.resize(static_cast<size_t>(planes * out_size));
      kernels::max_pool(g, planes, x.data(), work->scratch.data(), work->argmax.data());
      work->has_argmax = true;
    }
    kernels::max_pool_grad(g, planes, dy.data(), work->argmax.data(), dx->data());
    return;
  }
  kernels::sum_pool_grad(g, planes, dy.data(), function_ == PoolingFunction::Mean, dx->data());
}

}  // namespace strata
