// ConvolutionLayer: cross-correlation over 1, 2 or 3 spatial dimensions, as
// torch.nn.functional.conv1d/conv2d/conv3d. For output channel o of group g
// and output position p:
//   y[o, p] = Biases[o] + Σ_{c in g} Σ_k Weights[o, c − g·in/groups, k]
//                           · x_padded[c, p·Stride + k·Dilation − before].
// Input: [in, s1, …]; Output: [OutputChannels, o1, …] with
//   o_d = floor((s_d + before_d + after_d − Dilation_d·(KernelSize_d − 1) − 1) / Stride_d) + 1.
// Arrays: Weights [OutputChannels, in / ChannelGroups, k1, …], and Biases
// [OutputChannels] unless the Biases option is false (then there is no such
// array at all).
//
// The C++ form mirrors the net file:
//   ConvolutionLayer(16, {3, 3}).padding_size(1).stride(2)
//   ConvolutionLayer(8, 3).padding_size({{1, 0}, {0, 1}}).channel_groups(2).biases(false)
#pragma once

#include <optional>

#include "layers/layer.hpp"
#include "layers/spatial.hpp"

namespace strata {

struct ConvolutionOptions;

class ConvolutionLayer : public Layer {
 public:
  // Required options unset: shape inference reports them missing.
  ConvolutionLayer();
  ConvolutionLayer(int64_t output_channels, SpatialSizes kernel_size);

  // Setters validate their value and throw an Error naming the option.
  // Options are meant to be set before shape inference; changing one forgets
  // the output and array shapes inferred so far (not the arrays' values).
  ConvolutionLayer& output_channels(int64_t value);
  ConvolutionLayer& kernel_size(SpatialSizes value);
  ConvolutionLayer& stride(SpatialSizes value);  // default 1
  // One number, {per dimension}, or {{before, after}, …}; default 0.
  ConvolutionLayer& padding_size(PaddingSize value);
  ConvolutionLayer& dilation(SpatialSizes value);  // default 1
  // Splits input and output channels into this many independent groups.
  ConvolutionLayer& channel_groups(int64_t value);  // default 1
  // false: no Biases array.
  ConvolutionLayer& biases(bool value);  // default true

  std::optional<int64_t> output_channels() const { return output_channels_; }
  const std::optional<SpatialSizes>& kernel_size() const { return kernel_size_; }
  const SpatialSizes& stride() const { return stride_; }
  const PaddingSize& padding_size() const { return padding_; }
  const SpatialSizes& dilation() const { return dilation_; }
  int64_t channel_groups() const { return groups_; }
  bool biases() const { return arrays_.size() > kBiases; }

  std::string type() const override { return "ConvolutionLayer"; }
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
  friend struct ConvolutionOptions;  // the options and checks it shares with DeconvolutionLayer

  // Throws unless the options and arrays are complete and fit the batch x.
  void check_runnable(const Tensor& x) const;
  std::optional<size_t> spatial_rank() const;

  std::optional<int64_t> output_channels_;
  std::optional<SpatialSizes> kernel_size_;
  SpatialSizes stride_ = 1;
  PaddingSize padding_ = 0;
  SpatialSizes dilation_ = 1;
  int64_t groups_ = 1;
};

}  // namespace strata
