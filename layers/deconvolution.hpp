// DeconvolutionLayer: the transposed convolution over 1, 2 or 3 spatial
// dimensions, as torch.nn.functional.conv_transpose1d/2d/3d (and ONNX's
// ConvTranspose): the input gradient of a ConvolutionLayer. Every input
// element spreads over a window of the output; for input channel c of group g
// (in / ChannelGroups channels each) and output channel g·out/groups + o:
//   y[g·out/groups + o, j] = Biases[g·out/groups + o]
//       + Σ_{c in g} Σ_{i, k : i·Stride + k·Dilation − before = j} x[c, i] · Weights[c, o, k].
// Input: [in, s1, …]; Output: [OutputChannels, o1, …] with
//   o_d = (s_d − 1)·Stride_d + Dilation_d·(KernelSize_d − 1) + 1 − before_d − after_d
//         + OutputPadding_d,
// PaddingSize being cropped from the output (before and after independently,
// so [before, after] pairs work too) and OutputPadding added at the end of
// each dimension; OutputPadding must be less than Stride or Dilation in each
// dimension, as in PyTorch.
// Arrays: Weights [in, OutputChannels / ChannelGroups, k1, …], and Biases
// [OutputChannels] unless the Biases option is false (then there is no such
// array at all). NetInitialize reads the fans of Weights as [in, out, k…]
// (Initializer::Fans::InOut).
//
// The C++ form mirrors the net file:
//   DeconvolutionLayer(16, {4, 4}).stride(2).padding_size(1)
//   DeconvolutionLayer(8, 3).stride(2).padding_size(1).output_padding(1).biases(false)
#pragma once

#include <optional>

#include "layers/layer.hpp"
#include "layers/spatial.hpp"

namespace strata {

struct ConvolutionOptions;

class DeconvolutionLayer : public Layer {
 public:
  // Required options unset: shape inference reports them missing.
  DeconvolutionLayer();
  DeconvolutionLayer(int64_t output_channels, SpatialSizes kernel_size);

  // Setters validate their value and throw an Error naming the option.
  // Options are meant to be set before shape inference; changing one forgets
  // the output and array shapes inferred so far (not the arrays' values).
  DeconvolutionLayer& output_channels(int64_t value);
  DeconvolutionLayer& kernel_size(SpatialSizes value);
  DeconvolutionLayer& stride(SpatialSizes value);  // default 1
  // Cropped from the output: one number, {per dimension}, or {{before,
  // after}, …}; default 0.
  DeconvolutionLayer& padding_size(PaddingSize value);
  // Added at the end of each spatial dimension; default 0.
  DeconvolutionLayer& output_padding(SpatialSizes value);
  DeconvolutionLayer& dilation(SpatialSizes value);  // default 1
  // Splits input and output channels into this many independent groups.
  DeconvolutionLayer& channel_groups(int64_t value);  // default 1
  // false: no Biases array.
  DeconvolutionLayer& biases(bool value);  // default true

  std::optional<int64_t> output_channels() const { return output_channels_; }
  const std::optional<SpatialSizes>& kernel_size() const { return kernel_size_; }
  const SpatialSizes& stride() const { return stride_; }
  const PaddingSize& padding_size() const { return padding_; }
  const SpatialSizes& output_padding() const { return output_padding_; }
  const SpatialSizes& dilation() const { return dilation_; }
  int64_t channel_groups() const { return groups_; }
  bool biases() const { return arrays_.size() > kBiases; }

  std::string type() const override { return "DeconvolutionLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // Every option; a required option not yet set is null (and set_option
  // accepts null for it, meaning "not set").
  const OptionTable& option_table() const override;

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

  static constexpr size_t kWeights = 0;
  static constexpr size_t kBiases = 1;  // present only while biases() is true

 protected:
  void infer() override;

 private:
  friend struct ConvolutionOptions;  // the options and checks it shares with ConvolutionLayer

  // Throws unless the options and arrays are complete and fit the batch x.
  void check_runnable(const Tensor& x) const;
  // Throws unless OutputPadding < Stride or < Dilation in each of `rank`
  // dimensions.
  void check_output_padding(size_t rank) const;
  // The output size in spatial dimension d for input size `in`; throws an
  // Error when the cropping leaves nothing or the size is too large.
  int64_t output_size(size_t d, int64_t in) const;
  std::optional<size_t> spatial_rank() const;

  std::optional<int64_t> output_channels_;
  std::optional<SpatialSizes> kernel_size_;
  SpatialSizes stride_ = 1;
  PaddingSize padding_ = 0;
  SpatialSizes output_padding_ = 0;
  SpatialSizes dilation_ = 1;
  int64_t groups_ = 1;
};

}  // namespace strata
