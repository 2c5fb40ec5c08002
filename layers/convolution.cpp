#include "layers/convolution.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

#include "core/error.hpp"
#include "kernels/conv.hpp"
#include "kernels/transposed_conv.hpp"
#include "layers/convolution_options.hpp"

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
  static const OptionTable table = ConvolutionOptions::table<ConvolutionLayer>();
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
  const std::optional<size_t> rank =
      ConvolutionOptions::infer_spatial_rank(*this, "[out, in / groups, kernel…]");
  if (!rank) return;
  const size_t r = *rank;
  ConvolutionOptions::constrain_ports(*this, r);
  const int64_t out_channels = *output_channels_;
  const std::string groups_text = ConvolutionOptions::groups_text(groups_);

  // Weights hold input channels / groups.
  const Shape& in = inputs_[0].shape;
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
  ConvolutionOptions::check_batch_rank(x);
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

}  // namespace

void ConvolutionLayer::check_runnable(const Tensor& x) const {
  ConvolutionOptions::check_required(*this);
  ConvolutionOptions::check_batch_spatial_rank(x, spatial_rank());
  ConvolutionOptions::check_initialized(*this);
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
  ConvolutionOptions::check_output_grad(output_dims(p, x.rank() - 2).span(), dy);
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
    kernels::convolution_weights_grad(p, x.data(), dy.data(), dw->data(), work);
  }
  if (db) {
    db->resize({p.out_channels});
    kernels::conv_bias_grad(p, dy.data(), db->data());
  }
}

}  // namespace strata
