#include "layers/deconvolution.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

#include "core/error.hpp"
#include "kernels/transposed_conv.hpp"
#include "kernels/transposed_conv_grad.hpp"
#include "layers/convolution_options.hpp"

namespace strata {

namespace {

struct DeconvWorkspace : Workspace {
  kernels::ConvScratch scratch;
};

std::string dimension_text(size_t d) {
  return "spatial dimension " + std::to_string(d + 1);
}

}  // namespace

// ---- Options

DeconvolutionLayer::DeconvolutionLayer()
    : Layer(
          {{"Input", Shape()}}, {{"Output", Shape()}},
          {ArraySlot::parameter("Weights", Shape(), Initializer::weights(Initializer::Fans::InOut)),
           ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros())}) {}

DeconvolutionLayer::DeconvolutionLayer(int64_t output_channels, SpatialSizes kernel_size)
    : DeconvolutionLayer() {
  this->output_channels(output_channels);
  this->kernel_size(std::move(kernel_size));
}

const OptionTable& DeconvolutionLayer::option_table() const {
  using L = DeconvolutionLayer;
  static const OptionTable table = ConvolutionOptions::table<L>([](OptionsOf<L>&& options) {
    return std::move(options).add("OutputPadding", &L::output_padding_, Spatial{0});
  });
  return table;
}

DeconvolutionLayer& DeconvolutionLayer::output_channels(int64_t value) {
  return assign_option(*this, "OutputChannels", std::optional<int64_t>(value));
}

DeconvolutionLayer& DeconvolutionLayer::kernel_size(SpatialSizes value) {
  return assign_option(*this, "KernelSize", std::optional<SpatialSizes>(std::move(value)));
}

DeconvolutionLayer& DeconvolutionLayer::stride(SpatialSizes value) {
  return assign_option(*this, "Stride", std::move(value));
}

DeconvolutionLayer& DeconvolutionLayer::padding_size(PaddingSize value) {
  return assign_option(*this, "PaddingSize", std::move(value));
}

DeconvolutionLayer& DeconvolutionLayer::output_padding(SpatialSizes value) {
  return assign_option(*this, "OutputPadding", std::move(value));
}

DeconvolutionLayer& DeconvolutionLayer::dilation(SpatialSizes value) {
  return assign_option(*this, "Dilation", std::move(value));
}

DeconvolutionLayer& DeconvolutionLayer::channel_groups(int64_t value) {
  return assign_option(*this, "ChannelGroups", value);
}

DeconvolutionLayer& DeconvolutionLayer::biases(bool value) {
  return assign_option(*this, "Biases", value);
}

std::unique_ptr<Layer> DeconvolutionLayer::clone() const {
  return std::make_unique<DeconvolutionLayer>(*this);
}

// ---- Shape inference

std::optional<size_t> DeconvolutionLayer::spatial_rank() const {
  return options_spatial_rank({{"KernelSize", kernel_size_ ? kernel_size_->rank() : std::nullopt},
                               {"Stride", stride_.rank()},
                               {"PaddingSize", padding_.rank()},
                               {"OutputPadding", output_padding_.rank()},
                               {"Dilation", dilation_.rank()}});
}

void DeconvolutionLayer::check_output_padding(size_t rank) const {
  for (size_t d = 0; d < rank; ++d) {
    const int64_t op = output_padding_[d], s = stride_[d], dil = dilation_[d];
    if (op >= s && op >= dil)
      throw Error("OutputPadding: expected less than Stride (" + std::to_string(s) +
                  ") or Dilation (" + std::to_string(dil) + ") in " + dimension_text(d) + ", got " +
                  std::to_string(op));
  }
}

int64_t DeconvolutionLayer::output_size(size_t d, int64_t in) const {
  const int64_t k = (*kernel_size_)[d], s = stride_[d], dil = dilation_[d];
  const int64_t b = padding_.before(d), a = padding_.after(d), op = output_padding_[d];
  // Every option is below 2^31 and in below 2^40: only the first product can
  // overflow.
  if (in > 1 && s > kMaxElements / (in - 1))
    throw Error("Output: size in " + dimension_text(d) + " is too large");
  const int64_t uncropped = (in - 1) * s + dil * (k - 1) + 1;
  const int64_t out = uncropped - b - a + op;
  if (out > kMaxElements) throw Error("Output: size in " + dimension_text(d) + " is too large");
  if (out < 1)
    throw Error("PaddingSize: crops " + std::to_string(b) + " before and " + std::to_string(a) +
                " after from " + std::to_string(uncropped + op) + " output positions in " +
                dimension_text(d) + " (Input size " + std::to_string(in) + "), which leaves none");
  return out;
}

void DeconvolutionLayer::infer() {
  const std::optional<size_t> rank =
      ConvolutionOptions::infer_spatial_rank(*this, "[in, out / groups, kernel…]");
  check_output_padding(rank.value_or(1));  // without a rank every option is one number
  if (!rank) return;
  const size_t r = *rank;
  ConvolutionOptions::constrain_ports(*this, r);
  const int64_t out_channels = *output_channels_;
  const std::string groups_text = ConvolutionOptions::groups_text(groups_);

  // Weights hold all the input channels.
  const Shape& in = inputs_[0].shape;
  Shape w = Shape::of_rank(r + 2);
  w[0] = in.dim_known(0) ? in[0] : kUnknownDim;
  w[1] = out_channels / groups_;
  for (size_t d = 0; d < r; ++d)
    w[2 + d] = (*kernel_size_)[d];
  constrain_array(kWeights, w, "[input channels, OutputChannels / ChannelGroups, KernelSize…]");
  if (arrays_[kWeights].shape.dim_known(0)) {
    const int64_t w_in = arrays_[kWeights].shape[0];
    if (w_in % groups_ != 0)
      throw Error("Weights: expected a first dimension (input channels) divisible by " +
                  groups_text + ", got " + std::to_string(w_in));
    constrain_input(0, channels_and_spatial(w_in, r), "channels fixed by Weights");
  }
  if (biases()) constrain_array(kBiases, Shape{out_channels}, "one per output channel");

  // Output sizes from the input; input sizes from the output, where one
  // gives it (every stride makes the map one-to-one).
  Shape out = channels_and_spatial(out_channels, r);
  Shape back = Shape::of_rank(r + 1);
  const Shape& have_out = outputs_[0].shape;
  for (size_t d = 0; d < r; ++d) {
    if (in.dim_known(d + 1)) {
      out[d + 1] = output_size(d, in[d + 1]);
    } else if (have_out.dim_known(d + 1)) {
      const int64_t k = (*kernel_size_)[d], s = stride_[d], dil = dilation_[d];
      const int64_t crop = padding_.before(d) + padding_.after(d) - output_padding_[d];
      const int64_t o = have_out[d + 1];
      // The output of a size-1 input; each more input position adds Stride.
      const int64_t first = dil * (k - 1) + 1 - crop;
      if (o < first || (o - first) % s != 0) {
        const int64_t smallest = first >= 1 ? first : first + (1 - first + s - 1) / s * s;
        std::string sizes = std::to_string(smallest);
        for (int i = 1; i < (s == 1 ? 2 : 3); ++i)
          sizes += ", " + std::to_string(smallest + i * s);
        throw Error("Output: size " + std::to_string(o) + " in " + dimension_text(d) +
                    " cannot come from any input (the sizes that can are " + sizes + ", …)");
      }
      back[d + 1] = (o - first) / s + 1;
    }
  }
  constrain_output(0, out, "from Input and the options");
  constrain_input(0, back, "from Output and the options");
}

// ---- Execution

std::unique_ptr<Workspace> DeconvolutionLayer::make_workspace() const {
  return std::make_unique<DeconvWorkspace>();
}

void DeconvolutionLayer::check_runnable(const Tensor& x) const {
  ConvolutionOptions::check_required(*this);
  ConvolutionOptions::check_batch_rank(x);
  ConvolutionOptions::check_batch_spatial_rank(x, spatial_rank());
  const size_t r = x.rank() - 2;
  check_output_padding(r);
  ConvolutionOptions::check_initialized(*this);
  const Tensor& w = array_value(kWeights);
  bool fits = w.rank() == r + 2 && w.dim(0) == x.dim(1) && x.dim(1) % groups_ == 0 &&
              w.dim(1) * groups_ == *output_channels_;
  for (size_t d = 0; fits && d < r; ++d)
    fits = w.dim(2 + d) == (*kernel_size_)[d];
  if (!fits)
    throw Error("Input: " + to_string(x.shape()) + " does not fit Weights " + to_string(w.shape()) +
                " with ChannelGroups " + std::to_string(groups_));
}

namespace {

// The kernel's geometry (3 dimensions, leading ones of size 1) and the
// output's shape, on the stack.
struct Plan {
  kernels::TransposedConvGeometry t;
  std::array<int64_t, 5> dims{};
  size_t rank = 0;
  std::span<const int64_t> output_dims() const { return {dims.data(), rank}; }
};

// The plan for a batch x that check_runnable accepted; `output_size(d, in)`
// is the layer's size rule.
template <typename OutputSize>
Plan plan_of(const Tensor& x, const DeconvolutionLayer& l, OutputSize output_size) {
  const size_t r = x.rank() - 2;
  Plan p;
  p.t.batch = x.dim(0);
  p.t.in_channels = x.dim(1);
  p.t.out_channels = *l.output_channels();
  p.t.groups = l.channel_groups();
  p.dims[p.rank++] = p.t.batch;
  p.dims[p.rank++] = p.t.out_channels;
  for (size_t d = 0; d < r; ++d) {
    const size_t e = kMaxSpatialRank - r + d;
    p.t.in[e] = x.dim(2 + d);
    p.t.out[e] = output_size(d, p.t.in[e]);
    p.t.kernel[e] = (*l.kernel_size())[d];
    p.t.stride[e] = l.stride()[d];
    p.t.dilation[e] = l.dilation()[d];
    // Cropped before; the after side and OutputPadding are in the size.
    p.t.padding[e] = l.padding_size().before(d);
    p.dims[p.rank++] = p.t.out[e];
  }
  return p;
}

}  // namespace

void DeconvolutionLayer::forward(Inputs in, Outputs out, Workspace* ws,
                                 const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Plan p = plan_of(x, *this, [this](size_t d, int64_t n) { return output_size(d, n); });
  Tensor& y = *out[0];
  y.resize(p.output_dims());
  DeconvWorkspace local;
  kernels::ConvScratch& work = (ws ? static_cast<DeconvWorkspace*>(ws) : &local)->scratch;
  const float* bias = biases() ? array_value(kBiases).data() : nullptr;
  kernels::transposed_convolution(p.t, x.data(), array_value(kWeights).data(), bias, y.data(),
                                  work);
}

void DeconvolutionLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                  Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& dy = *out_grad[0];
  const Tensor& weights = array_value(kWeights);
  const Plan p = plan_of(x, *this, [this](size_t d, int64_t n) { return output_size(d, n); });
  ConvolutionOptions::check_output_grad(p.output_dims(), dy);
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  Tensor* dw = array_grad.size() > kWeights ? array_grad[kWeights] : nullptr;
  Tensor* db = biases() && array_grad.size() > kBiases ? array_grad[kBiases] : nullptr;

  DeconvWorkspace local;
  kernels::ConvScratch& work = (ws ? static_cast<DeconvWorkspace*>(ws) : &local)->scratch;
  if (dx) {
    dx->resize(x.shape());
    kernels::transposed_conv_input_grad(p.t, dy.data(), weights.data(), dx->data(), work);
  }
  if (dw) {
    dw->resize(weights.shape());
    kernels::transposed_conv_weights_grad(p.t, x.data(), dy.data(), dw->data(), work);
  }
  if (db) {
    db->resize({p.t.out_channels});
    kernels::transposed_conv_bias_grad(p.t, dy.data(), db->data());
  }
}

}  // namespace strata
