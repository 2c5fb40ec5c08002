// What ConvolutionLayer and DeconvolutionLayer share, said once: their
// options (OutputChannels, KernelSize, Stride, PaddingSize, Dilation,
// ChannelGroups, Biases), the start of their shape inference (required
// options, ranks, the spatial rank) and the checks of a batch before a run.
// Each layer keeps its own Weights layout, its size rule and its plan. Both
// layers befriend ConvolutionOptions; this header is for their sources (it
// includes layers/option.hpp).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/tensor.hpp"
#include "layers/option.hpp"

namespace strata {

struct ConvolutionOptions {
  // The option table of L: OutputChannels, KernelSize, Stride, PaddingSize,
  // what `more(options)` adds (DeconvolutionLayer's OutputPadding), then
  // Dilation, ChannelGroups and Biases (false: no Biases array at all).
  template <typename L, typename More = std::identity>
  static OptionTable table(More more = {}) {
    return more(OptionsOf<L>()
                    .add("OutputChannels", &L::output_channels_, Required{Integer{1}})
                    .add("KernelSize", &L::kernel_size_, Required{Spatial{1}})
                    .add("Stride", &L::stride_, Spatial{1})
                    .add("PaddingSize", &L::padding_, Padding{}))
        .add("Dilation", &L::dilation_, Spatial{1})
        .add("ChannelGroups", &L::groups_, Integer{1, kMaxSpatialSize})
        .add(
            "Biases", [](const L& l) { return l.biases(); },
            [](L& l, bool on) {
              if (!on) {
                l.arrays_.resize(L::kBiases);
              } else if (l.arrays_.size() == L::kBiases) {
                l.arrays_.push_back(
                    ArraySlot::parameter("Biases", Shape::of_rank(1), Initializer::zeros()));
              }
            },
            Boolean{});
  }

  // Throws unless OutputChannels and KernelSize are set.
  template <typename L>
  static void check_required(const L& l) {
    if (!l.output_channels_) throw Error("OutputChannels: required option is missing");
    if (!l.kernel_size_) throw Error("KernelSize: required option is missing");
  }

  // The start of L's shape inference: checks the required options, that
  // OutputChannels is a multiple of ChannelGroups and the ranks of the ports
  // and of Weights (`weights_layout` names its dimensions in the message).
  // The spatial rank: from the options' lists, else from a port or Weights;
  // nullopt when none fixes it yet.
  template <typename L>
  static std::optional<size_t> infer_spatial_rank(const L& l, std::string_view weights_layout) {
    check_required(l);
    if (*l.output_channels_ % l.groups_ != 0)
      throw Error("OutputChannels: expected a multiple of " + groups_text(l.groups_) + ", got " +
                  std::to_string(*l.output_channels_));
    check_port_ranks(l.inputs_[0], l.outputs_[0]);
    const Shape& weights = l.arrays_[L::kWeights].shape;
    check_weights_rank(weights, weights_layout);
    std::optional<size_t> rank = l.spatial_rank();
    if (!rank && l.inputs_[0].shape.rank_known()) rank = l.inputs_[0].shape.rank() - 1;
    if (!rank && l.outputs_[0].shape.rank_known()) rank = l.outputs_[0].shape.rank() - 1;
    if (!rank && weights.rank_known()) rank = weights.rank() - 2;
    return rank;
  }

  // Input and Output get channels and r spatial dimensions; throws unless the
  // Input's channel count (where known) is divisible by ChannelGroups.
  template <typename L>
  static void constrain_ports(L& l, size_t r) {
    const std::string spatial_why =
        "channels and " + std::to_string(r) + " spatial dimension" + (r == 1 ? "" : "s");
    l.constrain_input(0, Shape::of_rank(r + 1), spatial_why);
    l.constrain_output(0, Shape::of_rank(r + 1), spatial_why);
    const Shape& in = l.inputs_[0].shape;
    if (in.dim_known(0) && in[0] % l.groups_ != 0)
      throw Error("Input: expected a channel count divisible by " + groups_text(l.groups_) +
                  ", got " + std::to_string(in[0]));
  }

  // Throws unless L's arrays have values.
  template <typename L>
  static void check_initialized(const L& l) {
    if (!l.arrays_[L::kWeights].value || (l.biases() && !l.arrays_[L::kBiases].value))
      throw Error("arrays not initialized (call NetInitialize first)");
  }

  // "ChannelGroups (<groups>)", for messages.
  static std::string groups_text(int64_t groups);
  // Throws unless a port's known rank is 2 to 4.
  static void check_port_ranks(const Port& input, const Port& output);
  // Throws unless a known Weights rank is 3 to 5.
  static void check_weights_rank(const Shape& weights, std::string_view layout);
  // Throws unless the batch x has rank 3 to 5.
  static void check_batch_rank(const Tensor& x);
  // Throws unless the batch x has `rank` spatial dimensions, where the
  // options fix a rank.
  static void check_batch_spatial_rank(const Tensor& x, std::optional<size_t> rank);
  // Throws unless the output gradient dy has the dimensions `want`.
  static void check_output_grad(std::span<const int64_t> want, const Tensor& dy);
};

}  // namespace strata
