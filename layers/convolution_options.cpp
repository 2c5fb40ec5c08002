#include "layers/convolution_options.hpp"

#include <algorithm>

namespace strata {

std::string ConvolutionOptions::groups_text(int64_t groups) {
  return "ChannelGroups (" + std::to_string(groups) + ")";
}

void ConvolutionOptions::check_port_ranks(const Port& input, const Port& output) {
  for (const Port* p : {&input, &output})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
}

void ConvolutionOptions::check_weights_rank(const Shape& weights, std::string_view layout) {
  if (weights.rank_known() && (weights.rank() < 3 || weights.rank() > 5))
    throw Error("Weights: expected rank 3 to 5 (" + std::string(layout) + "), got " +
                weights.to_string());
}

void ConvolutionOptions::check_batch_rank(const Tensor& x) {
  if (x.rank() < 3 || x.rank() > 5)
    throw Error("Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial " +
                std::string("dimensions), got ") + to_string(x.shape()));
}

void ConvolutionOptions::check_batch_spatial_rank(const Tensor& x, std::optional<size_t> rank) {
  if (rank && x.rank() != *rank + 2)
    throw Error("Input: expected a batch with " + std::to_string(*rank) +
                " spatial dimensions (as KernelSize etc.), got " + to_string(x.shape()));
}

void ConvolutionOptions::check_output_grad(std::span<const int64_t> want, const Tensor& dy) {
  if (!std::equal(want.begin(), want.end(), dy.shape().begin(), dy.shape().end()))
    throw Error("Output gradient: expected " + to_string(Dims(want.begin(), want.end())) +
                ", got " + to_string(dy.shape()));
}

}  // namespace strata
