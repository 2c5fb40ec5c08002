// PoolingLayer: a function of each window, per channel, over 1, 2 or 3
// spatial dimensions (torch.nn.functional.max_pool*d / avg_pool*d).
//   Max:   the largest input in the window; padding is ignored. The gradient
//          goes to the first maximum in window order (as PyTorch).
//   Mean:  the window's sum divided by the full window size, padding counted
//          as zeros (PyTorch's count_include_pad=True).
//   Total: the window's sum, padding counted as zeros.
// Input: [C, s1, …]; Output: [C, o1, …] with
//   o_d = floor((s_d + before_d + after_d − Dilation_d·(KernelSize_d − 1) − 1)
//               / Stride_d) + 1
// (Rounding "Floor", the default). Rounding "Ceiling" rounds up instead and
// then drops a last window that would start past the input (PyTorch's
// ceil_mode=True): that last window may stick out past the padding, and Mean
// divides it by its positions inside the padded input. Dilation spaces the
// window's positions (PyTorch's max_pool dilation; every function takes it).
// The padding on each side must be smaller than the kernel, and every window
// must hold an input (with Dilation one can step over a small input).
//
//   PoolingLayer({2, 2}).stride(2).function(PoolingFunction::Mean)
//   PoolingLayer(3).stride(2).rounding(PoolingRounding::Ceiling)
#pragma once

#include <optional>
#include <string>

#include "layers/layer.hpp"
#include "layers/spatial.hpp"

namespace strata {

enum class PoolingFunction { Max, Mean, Total };
// How the number of windows along a dimension is rounded.
enum class PoolingRounding { Floor, Ceiling };

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
  PoolingLayer& dilation(SpatialSizes value);        // default 1
  PoolingLayer& rounding(PoolingRounding value);     // default Floor
  PoolingLayer& rounding(const std::string& value);  // "Floor" or "Ceiling"

  const std::optional<SpatialSizes>& kernel_size() const { return kernel_size_; }
  const SpatialSizes& stride() const { return stride_; }
  const PaddingSize& padding_size() const { return padding_; }
  PoolingFunction function() const { return function_; }
  const SpatialSizes& dilation() const { return dilation_; }
  PoolingRounding rounding() const { return rounding_; }

  std::string type() const override { return "PoolingLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // Every option; KernelSize is null while not set (set_option accepts null).
  // Dilation and Rounding appear in options() only when not at their
  // defaults (so nets that do not use them read as before).
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
  SpatialSizes dilation_ = 1;
  PoolingRounding rounding_ = PoolingRounding::Floor;
};

}  // namespace strata
