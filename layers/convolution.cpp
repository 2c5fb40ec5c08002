#include "layers/convolution.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

#include "core/error.hpp"
#include "kernels/conv.hpp"
#include "kernels/transposed_conv.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

using kernels::ConvPlan;

struct ConvWorkspace : Workspace {
  kernels::ConvScratch scratch;
};

}  // namespace

// ---- Options

ConvolutionLayer::ConvolutionLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter("Weights", Shape(), Initializer::weights()),
             ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros())}) {}

ConvolutionLayer::ConvolutionLayer(int64_t output_channels, SpatialSizes kernel_size)
    : ConvolutionLayer() {
  this->output_channels(output_channels);
  this->kernel_size(std::move(kernel_size));
}

const OptionTable& ConvolutionLayer::option_table() const {
  using L = ConvolutionLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("OutputChannels", &L::output_channels_, Required{Integer{1}})
          .add("KernelSize", &L::kernel_size_, Required{Spatial{1}})
          .add("Stride", &L::stride_, Spatial{1})
          .add("PaddingSize", &L::padding_, Padding{})
          .add("Dilation", &L::dilation_, Spatial{1})
          .add("ChannelGroups", &L::groups_, Integer{1, kMaxSpatialSize})
          // false: no Biases array at all.
          .add(
              "Biases", [](const L& l) { return l.biases(); },
              [](L& l, bool on) {
                if (!on) {
                  l.arrays_.resize(kBiases);
                } else if (l.arrays_.size() == kBiases) {
                  l.arrays_.push_back(
                      ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros()));
                }
              },
              Boolean{});
  return table;
}

ConvolutionLayer& ConvolutionLayer::output_channels(int64_t value) {
  return assign_option(*this, "OutputChannels", std::optional<int64_t>(value));
}

ConvolutionLayer& ConvolutionLayer::kernel_size(SpatialSizes value) {
  return assign_option(*this, "KernelSize", std::optional<SpatialSizes>(std::move(value)));
}

ConvolutionLayer& ConvolutionLayer::stride(SpatialSizes value) {
  return assign_option(*this, "Stride", std::move(value));
}

ConvolutionLayer& ConvolutionLayer::padding_size(PaddingSize value) {
  return assign_option(*this, "PaddingSize", std::move(value));
}

ConvolutionLayer& ConvolutionLayer::dilation(SpatialSizes value) {
  return assign_option(*this, "Dilation", std::move(value));
}

ConvolutionLayer& ConvolutionLayer::channel_groups(int64_t value) {
  return assign_option(*this, "ChannelGroups", value);
}

ConvolutionLayer& ConvolutionLayer::biases(bool value) {
  return assign_option(*this, "Biases", value);
}

std::unique_ptr<Layer> ConvolutionLayer::clone() const {
  return std::make_unique<ConvolutionLayer>(*this);
}

// ---- Shape inference

std::optional<size_t> ConvolutionLayer::spatial_rank() const {
  return options_spatial_rank({{"KernelSize", kernel_size_ ? kernel_size_->rank() : std::nullopt},
                               {"Stride", stride_.rank()},
                               {"PaddingSize", padding_.rank()},
                               {"Dilation", dilation_.rank()}});
}

void ConvolutionLayer::infer() {
  if (!output_channels_) throw Error("OutputChannels: required option is missing");
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  const int64_t out_channels = *output_channels_;
  const std::string groups_text = "ChannelGroups (" + std::to_string(groups_) + ")";
  if (out_channels % groups_ != 0)
    throw Error("OutputChannels: expected a multiple of " + groups_text + ", got " +
                std::to_string(out_channels));

  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
  const Shape& weights = arrays_[kWeights].shape;
  if (weights.rank_known() && (weights.rank() < 3 || weights.rank() > 5))
    throw Error("Weights: expected rank 3 to 5 ([out, in / groups, kernel…]), got " +
                weights.to_string());

  // The spatial rank: from the options' lists, else from a port or Weights.
  std::optional<size_t> rank = spatial_rank();
  if (!rank && inputs_[0].shape.rank_known()) rank = inputs_[0].shape.rank() - 1;
  if (!rank && outputs_[0].shape.rank_known()) rank = outputs_[0].shape.rank() - 1;
  if (!rank && weights.rank_known()) rank = weights.rank() - 2;
  if (!rank) return;
  const size_t r = *rank;
  const std::string spatial_why =
      "channels and " + std::to_string(r) + " spatial dimension" + (r == 1 ? "" : "s");
  constrain_input(0, Shape::of_rank(r + 1), spatial_why);
  constrain_output(0, Shape::of_rank(r + 1), spatial_why);

  // Input channels: divisible by the groups; Weights hold in / groups.
  const Shape& in = inputs_[0].shape;
  if (in.dim_known(0) && in[0] % groups_ != 0)
    throw Error("Input: expected a channel count divisible by " + groups_text + ", got " +
                std::to_string(in[0]));
  Shape w = Shape::of_rank(r + 2);
  w[0] = out_channels;
  w[1] = in.dim_known(0) ? in[0] / groups_ : kUnknownDim;
  for (size_t d = 0; d < r; ++d)
    w[2 + d] = (*kernel_size_)[d];
  constrain_array(kWeights, w, "[OutputChannels, input channels / ChannelGroups, KernelSize…]");
  if (arrays_[kWeights].shape.dim_known(1)) {
    const int64_t per_group = arrays_[kWeights].shape[1];
    if (per_group > kMaxElements / groups_)
      throw Error("Weights: " + std::to_string(per_group) + " input channels per group times " +
                  groups_text + " is too many channels");
    constrain_input(0, channels_and_spatial(per_group * groups_, r),
                    "channels fixed by Weights and ChannelGroups");
  }
  if (biases()) constrain_array(kBiases, Shape{out_channels}, "one per output channel");

  // Output sizes from the input; input sizes from the output where stride 1
  // makes the map invertible.
  Shape out = channels_and_spatial(out_channels, r);
  Shape back = Shape::of_rank(r + 1);
  const Shape& have_out = outputs_[0].shape;
  for (size_t d = 0; d < r; ++d) {
    const int64_t k = (*kernel_size_)[d], s = stride_[d], dil = dilation_[d];
    const int64_t b = padding_.before(d), a = padding_.after(d);
    if (in.dim_known(d + 1)) {
      out[d + 1] = window_count(in[d + 1], k, s, dil, b, a);
      if (out[d + 1] < 1) throw Error(too_small_message(d, in[d + 1], k, dil, b, a));
    } else if (s == 1 && have_out.dim_known(d + 1)) {
      back[d + 1] = have_out[d + 1] + dil * (k - 1) - b - a;
      if (back[d + 1] < 1)
        throw Error("Output: size " + std::to_string(have_out[d + 1]) + " in spatial dimension " +
                    std::to_string(d + 1) + " cannot come from any input (the padding alone " +
                    "gives more)");
    }
  }
  constrain_output(0, out, "from Input and the options");
  constrain_input(0, back, "from Output and the options");
}

// ---- Execution

std::unique_ptr<Workspace> ConvolutionLayer::make_workspace() const {
  return std::make_unique<ConvWorkspace>();
}

namespace {

// Checks that x fits the Weights; the plan of the convolution.
ConvPlan make_plan(const Tensor& x, const Tensor& weights, const SpatialSizes& kernel,
                   const SpatialSizes& stride, const SpatialSizes& dilation,
                   const PaddingSize& padding, int64_t groups) {
  if (x.rank() < 3 || x.rank() > 5)
    throw Error("Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial " +
                std::string("dimensions), got ") + to_string(x.shape()));
  const size_t r = x.rank() - 2;
  const int64_t in_channels = x.dim(1);
  const int64_t in_per_group = weights.rank() > 1 ? weights.dim(1) : 0;
  bool fits =
      weights.rank() == r + 2 && in_channels % groups == 0 && in_per_group == in_channels / groups;
  for (size_t d = 0; fits && d < r; ++d)
    fits = weights.dim(2 + d) == kernel[d];
  if (!fits)
    throw Error("Input: " + to_string(x.shape()) + " does not fit Weights " +
                to_string(weights.shape()) + " with ChannelGroups " + std::to_string(groups));
  const WindowGeometry geo = window_geometry(std::span<const int64_t>(x.shape()).subspan(2), kernel,
                                             stride, dilation, padding);
  return kernels::plan_convolution(geo, x.dim(0), in_channels, weights.dim(0), groups);
}

// The output's shape, on the stack.
struct OutputDims {
  std::array<int64_t, 5> dims{};
  size_t rank = 0;
  std::span<const int64_t> span() const { return {dims.data(), rank}; }
};

OutputDims output_dims(const ConvPlan& p, size_t spatial_rank) {
  OutputDims d;
  d.dims[d.rank++] = p.batch;
  d.dims[d.rank++] = p.out_channels;
  for (size_t i = kMaxSpatialRank - spatial_rank; i < kMaxSpatialRank; ++i)
    d.dims[d.rank++] = p.geo.out[i];
  return d;
}

bool same_dims(std::span<const int64_t> a, const Dims& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

void ConvolutionLayer::check_runnable(const Tensor& x) const {
  if (!output_channels_) throw Error("OutputChannels: required option is missing");
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  const auto rank = spatial_rank();
  if (rank && x.rank() != *rank + 2)
    throw Error("Input: expected a batch with " + std::to_string(*rank) +
                " spatial dimensions (as KernelSize etc.), got " + to_string(x.shape()));
  if (!arrays_[kWeights].value || (biases() && !arrays_[kBiases].value))
    throw Error("arrays not initialized (call NetInitialize first)");
}

void ConvolutionLayer::forward(Inputs in, Outputs out, Workspace* ws,
                               const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& weights = array_value(kWeights);
  const ConvPlan p = make_plan(x, weights, *kernel_size_, stride_, dilation_, padding_, groups_);
  Tensor& y = *out[0];
  y.resize(output_dims(p, x.rank() - 2).span());

  ConvWorkspace local;
  kernels::ConvScratch& work = (ws ? static_cast<ConvWorkspace*>(ws) : &local)->scratch;
  const float* bias = biases() ? array_value(kBiases).data() : nullptr;
  kernels::convolution_forward(p, x.data(), weights.data(), bias, y.data(), work);
}

void ConvolutionLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& dy = *out_grad[0];
  const Tensor& weights = array_value(kWeights);
  const ConvPlan p = make_plan(x, weights, *kernel_size_, stride_, dilation_, padding_, groups_);
  const OutputDims want = output_dims(p, x.rank() - 2);
  if (!same_dims(want.span(), dy.shape()))
    throw Error("Output gradient: expected " +
                to_string(Dims(want.span().begin(), want.span().end())) + ", got " +
                to_string(dy.shape()));
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  Tensor* dw = array_grad.size() > kWeights ? array_grad[kWeights] : nullptr;
  Tensor* db = biases() && array_grad.size() > kBiases ? array_grad[kBiases] : nullptr;

  ConvWorkspace local;
  kernels::ConvScratch& work = (ws ? static_cast<ConvWorkspace*>(ws) : &local)->scratch;
  // The input gradient is the transposed convolution of dy by the Weights.
  if (dx) {
    dx->resize(x.shape());
    kernels::transposed_convolution(kernels::transposed_of(p), dy.data(), weights.data(), nullptr,
                                    dx->data(), work);
  }
  if (dw) {
    dw->resize(weights.shape());
    kernels::gemm_conv_weights_grad(p, x.data(), dy.data(), dw->data(), work);
  }
  if (db) {
    db->resize({p.out_channels});
    kernels::conv_bias_grad(p, dy.data(), db->data());
  }
}

}  // namespace strata
