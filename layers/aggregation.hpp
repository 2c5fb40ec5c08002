// AggregationLayer: reduces every spatial dimension of each channel (Wolfram's
// AggregationLayer at its default levels 2;;All; PyTorch's global pooling,
// x.amax / amin / mean / sum over the dimensions after the channels).
//   Max, Min:  the largest (smallest) value of the channel. The gradient goes
//              to the first extreme in memory order (as max pooling); a NaN
//              wins, so a channel containing NaN gives NaN, its gradient going
//              to the first NaN. (PyTorch's amax splits the gradient evenly
//              among ties.)
//   Mean:      the sum divided by the number of positions.
//   Total:     the sum.
// Input: [C, d1, …] (rank 2 or more); Output: [C]. No arrays.
//
//   AggregationLayer(AggregationFunction::Mean)   // global average pooling
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "layers/layer.hpp"

namespace strata {

enum class AggregationFunction { Max, Min, Mean, Total };

// "Max", "Min", "Mean", "Total": the net-file spelling.
std::string to_string(AggregationFunction f);

class AggregationLayer : public Layer {
 public:
  // Function unset: shape inference reports it missing.
  AggregationLayer();
  explicit AggregationLayer(AggregationFunction f);
  // By name: AggregationLayer("Mean").
  explicit AggregationLayer(std::string_view name);

  AggregationLayer& function(AggregationFunction f);
  // "Max", "Min", "Mean" or "Total"; otherwise an Error naming Function.
  AggregationLayer& function(std::string_view name);
  std::optional<AggregationFunction> function() const { return function_; }

  std::string type() const override { return "AggregationLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // {"Function": name}, null while unset.
  const OptionTable& option_table() const override;

  // Max and Min keep the index of each channel's extreme for backward.
  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  void infer() override;

 private:
  AggregationFunction required_function() const;

  std::optional<AggregationFunction> function_;
};

}  // namespace strata
