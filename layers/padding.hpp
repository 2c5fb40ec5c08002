// PaddingLayer: pads every dimension of an example, channels included, by
// PaddingSize's [before, after] pair for that dimension (PyTorch's F.pad,
// ONNX Pad). Output size per dimension: in + before + after. Padding says
// what the border holds:
//   a number  that value everywhere in the border (default 0)
//   Fixed     the nearest edge value (PyTorch "replicate", ONNX "edge")
//   Reflected mirrored about the edge, the edge not repeated (PyTorch
//             "reflect"): each pad must be smaller than its dimension
//   Periodic  wrapped around (PyTorch "circular"): each pad at most its
//             dimension, as in PyTorch (larger pads, which would wrap more
//             than once, are an error)
// Input: any rank ≥ 1, [d1, d2, …] with one pair per dimension; Output: the
// padded shape. No arrays. The gradient of Fixed, Reflected and Periodic
// padding adds the border's gradient into the elements it copies.
//
//   PaddingLayer({{0, 0}, {1, 1}, {1, 1}}).padding(PaddingMode::Reflected)
//   PaddingLayer({{0, 0}, {2, 0}}).padding(-1.5)   // a number: Constant
#pragma once

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "layers/layer.hpp"

namespace strata {

// One [before, after] pair per dimension of an example.
using PaddingPairs = std::vector<std::pair<int64_t, int64_t>>;

enum class PaddingMode { Constant, Fixed, Reflected, Periodic };

// The Padding option: a mode, with the fill value of Constant.
struct PaddingFill {
  PaddingMode mode = PaddingMode::Constant;
  double value = 0;  // Constant only
  bool operator==(const PaddingFill&) const = default;
};

class PaddingLayer : public Layer {
 public:
  // PaddingSize unset: shape inference reports it missing.
  PaddingLayer();
  explicit PaddingLayer(PaddingPairs padding_size);

  // Required: non-negative pairs, one per dimension of an example.
  PaddingLayer& padding_size(PaddingPairs value);
  // A number pads with that number (mode Constant); a finite value.
  PaddingLayer& padding(double value);
  // Fixed, Reflected or Periodic (Constant: with the value 0).
  PaddingLayer& padding(PaddingMode mode);
  // "Fixed", "Reflected" or "Periodic".
  PaddingLayer& padding(const std::string& mode);

  const std::optional<PaddingPairs>& padding_size() const { return padding_size_; }
  const PaddingFill& padding() const { return fill_; }

  std::string type() const override { return "PaddingLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // PaddingSize: [[b, a], …] or null while unset; Padding: a number or a name.
  const OptionTable& option_table() const override;

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Output = Input + before + after per dimension, and back where the output
  // is known; the mode's limits are checked once Input's sizes are known.
  void infer() override;

 private:
  // Throws an Error naming PaddingSize when `in` (an example's dims, unknown
  // ones −1) is too small for the mode; `batch`, if given, is the batch shape
  // `in` comes from (for the message).
  void check_fits(std::span<const int64_t> in, const Dims* batch) const;

  std::optional<PaddingPairs> padding_size_;
  PaddingFill fill_;
};

}  // namespace strata
