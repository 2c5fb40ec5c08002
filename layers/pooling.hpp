// PoolingLayer: a function of each window, per channel, over 1, 2 or 3
// spatial dimensions (torch.nn.functional.max_pool*d / avg_pool*d).
//   Max:   the largest input in the window; padding is ignored. The gradient
//          goes to the first maximum in window order (as PyTorch).
//   Mean:  the window's sum divided by the full window size, padding counted
//          as zeros (PyTorch's count_include_pad=True).
//   Total: the window's sum, padding counted as zeros.
// Input: [C, s1, …]; Output: [C, o1, …] with
//   o_d = floor((s_d + before_d + after_d − KernelSize_d) / Stride_d) + 1.
// The padding on each side must be smaller than the kernel, so no window lies
// entirely in the padding.
//
//   PoolingLayer({2, 2}).stride(2).function(PoolingFunction::Mean)
#pragma once

#include <optional>
#include <string>

#include "layers/layer.hpp"
#include "layers/spatial.hpp"

namespace strata {

enum class PoolingFunction { Max, Mean, Total };

// "Max", "Mean", "Total": the net-file spelling.
std::string to_string(PoolingFunction f);

class PoolingLayer : public Layer {
 public:
  // KernelSize unset: shape inference reports it missing.
  PoolingLayer();
  explicit PoolingLayer(SpatialSizes kernel_size);

  // Setters validate their value and throw an Error naming the option.
  // Options are meant to be set before shape inference; changing one forgets
  // the output shape inferred so far.
  PoolingLayer& kernel_size(SpatialSizes value);
  PoolingLayer& stride(SpatialSizes value);  // default 1
  // One number, {per dimension}, or {{before, after}, …}; default 0.
  PoolingLayer& padding_size(PaddingSize value);
  PoolingLayer& function(PoolingFunction value);  // default Max
  // "Max", "Mean" or "Total".
  PoolingLayer& function(const std::string& value);

  const std::optional<SpatialSizes>& kernel_size() const { return kernel_size_; }
  const SpatialSizes& stride() const { return stride_; }
  const PaddingSize& padding_size() const { return padding_; }
  PoolingFunction function() const { return function_; }

  std::string type() const override { return "PoolingLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // Every option; KernelSize is null while not set (set_option accepts null).
  const OptionTable& option_table() const override;
  // NetInitialize looks through pooling for the activation that follows.
  LayerTraits traits() const override;

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  void infer() override;

 private:
  std::optional<size_t> spatial_rank() const;
  // Checks the options against the batch x; returns its window geometry.
  WindowGeometry geometry_for(const Tensor& x) const;

  std::optional<SpatialSizes> kernel_size_;
  SpatialSizes stride_ = 1;
  PaddingSize padding_ = 0;
  PoolingFunction function_ = PoolingFunction::Max;
};

}  // namespace strata
