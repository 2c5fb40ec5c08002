// ResizeLayer: resizes the spatial dimensions (1 to 3) of each channel, as
// PyTorch's F.interpolate (align_corners=False) and ONNX Resize
// (half_pixel / asymmetric-floor). Exactly one of:
//   Dimensions  the output's spatial sizes; the mapping uses s = out / in
//   Scale       a factor s (one, or one per spatial dimension): each output
//               size is floor(in · s) and the mapping uses s itself
// Resampling:
//   Linear   (linear, bilinear, trilinear; default) half-pixel centres: the
//            source coordinate of output i is (i + 0.5) / s − 0.5, clamped
//            at 0; its two neighbours are weighted by distance
//   Nearest  input index min(floor(i / s), in − 1)
// Input: [C, d1, …]; Output: [C, o1, …]. No arrays. See kernels/resize.hpp
// for the arithmetic.
//
//   ResizeLayer().dimensions({32, 32})
//   ResizeLayer().scale(2).resampling(Resampling::Nearest)
//   ResizeLayer().scale({0.5, 1.5})
#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "layers/layer.hpp"

namespace strata {

enum class Resampling { Linear, Nearest };

// Scale: one factor for every spatial dimension, or a list of 1 to 3 (which
// fixes the spatial rank). Factors must be positive and finite.
class ResizeScale {
 public:
  ResizeScale(double all) : values_{all}, uniform_(true) {}  // NOLINT: implicit on purpose
  ResizeScale(std::initializer_list<double> per_dim) : values_(per_dim) {}
  explicit ResizeScale(std::vector<double> per_dim) : values_(std::move(per_dim)) {}

  bool uniform() const { return uniform_; }
  std::optional<size_t> rank() const;
  double operator[](size_t d) const { return uniform_ ? values_[0] : values_.at(d); }
  const std::vector<double>& values() const { return values_; }
  bool operator==(const ResizeScale&) const = default;

 private:
  std::vector<double> values_;
  bool uniform_ = false;
};

class ResizeLayer : public Layer {
 public:
  // Neither Dimensions nor Scale: shape inference asks for one of them.
  ResizeLayer();

  // Setters check their value and throw an Error naming the option. Giving
  // both Dimensions and Scale is an error at shape inference (the JSON
  // reader sees the same): set one.
  // The output's spatial sizes: 1 to 3 positive integers.
  ResizeLayer& dimensions(Dims value);
  ResizeLayer& scale(ResizeScale value);
  ResizeLayer& resampling(Resampling value);  // default Linear
  // "Linear" or "Nearest".
  ResizeLayer& resampling(const std::string& value);

  const std::optional<Dims>& dimensions() const { return dimensions_; }
  const std::optional<ResizeScale>& scale() const { return scale_; }
  Resampling resampling() const { return resampling_; }

  std::string type() const override { return "ResizeLayer"; }
  std::unique_ptr<Layer> clone() const override;
  // Dimensions and Scale read null while unset (set_option accepts null).
  const OptionTable& option_table() const override;

  std::unique_ptr<Workspace> make_workspace() const override;
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;

 protected:
  // Channels both ways; the spatial rank from the options or either port;
  // the output sizes from Dimensions, or from Input and Scale. (Input sizes
  // do not follow from the output: many inputs give one output size.)
  void infer() override;

 private:
  // Checks that exactly one of Dimensions and Scale is given; returns the
  // spatial rank the options fix, if any.
  std::optional<size_t> options_rank() const;
  // The output size of spatial dimension d of input size `in`; throws an
  // Error naming Scale for an empty or too large output.
  int64_t output_size(size_t d, int64_t in) const;
  // Checks batch x against the options, plans the kernel for its shape in
  // `ws` (a ResizeWorkspace; kept while the shape and options stay) and
  // returns the output's shape (its first x.rank() entries).
  std::array<int64_t, 5> prepare(const Tensor& x, Workspace& ws) const;

  std::optional<Dims> dimensions_;
  std::optional<ResizeScale> scale_;
  Resampling resampling_ = Resampling::Linear;
};

}  // namespace strata
