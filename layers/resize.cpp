#include "layers/resize.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "kernels/resize.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

// The shortest text of a number: "0.2", "-1.0".
std::string number_text(double v) {
  return nlohmann::json(v).dump();
}

// Dimensions: 1 to 3 positive sizes.
struct SizeList {
  Dims read(const nlohmann::json& value, const std::string& key) const {
    if (!value.is_array() || value.empty() || value.size() > kMaxSpatialRank)
      throw Error(key +
                  ": expected a list of 1 to 3 positive integers (the output's spatial "
                  "sizes), got " +
                  value.dump());
    Dims dims;
    for (const auto& v : value)
      dims.push_back(option_integer(v, key, 0));
    check(dims, key);
    return dims;
  }
  void check(const Dims& value, const std::string& key) const {
    if (value.empty() || value.size() > kMaxSpatialRank)
      throw Error(key + ": expected 1 to 3 sizes (one per spatial dimension), got " +
                  std::to_string(value.size()));
    for (int64_t d : value)
      if (d < 1 || d > kMaxSpatialSize)
        throw Error(key + ": expected sizes from 1 to " + std::to_string(kMaxSpatialSize) +
                    (d < 1 ? " (a resize to size 0 is empty)" : "") + ", got " +
                    nlohmann::json(value).dump());
  }
  nlohmann::json write(const Dims& value) const { return value; }
};

// Scale: a positive finite number, or a list of 1 to 3 of them.
struct ScaleKind {
  ResizeScale read(const nlohmann::json& value, const std::string& key) const {
    const std::string expected =
        ": expected a positive number or a list of 1 to 3 (one per spatial dimension), got ";
    ResizeScale s = 1.0;
    if (value.is_number()) {
      s = ResizeScale(value.get<double>());
    } else if (value.is_array() && !value.empty() && value.size() <= kMaxSpatialRank) {
      std::vector<double> v;
      for (const auto& x : value) {
        if (!x.is_number()) throw Error(key + expected + value.dump());
        v.push_back(x.get<double>());
      }
      s = ResizeScale(std::move(v));
    } else {
      throw Error(key + expected + value.dump());
    }
    check(s, key);
    return s;
  }
  void check(const ResizeScale& value, const std::string& key) const {
    if (value.values().empty() || value.values().size() > kMaxSpatialRank)
      throw Error(key + ": expected 1 to 3 factors (one per spatial dimension), got " +
                  std::to_string(value.values().size()));
    for (double v : value.values())
      if (!(v > 0) || !std::isfinite(v))
        throw Error(key + ": expected positive finite factors, got " + write(value).dump());
  }
  nlohmann::json write(const ResizeScale& value) const {
    if (value.uniform()) return value[0];
    return value.values();
  }
};

const Choice<Resampling> kResamplings{
    {Resampling::Linear, Resampling::Nearest}, {"Linear", "Nearest"}, "\"Linear\" or \"Nearest\""};

struct ResizeWorkspace : Workspace {
  kernels::ResizePlan plan;
  // What the plan is for.
  bool valid = false;
  size_t rank = 0;
  std::array<int64_t, 3> in{}, out{};
  std::array<double, 3> scales{};
  bool by_scale = false;
  Resampling method = Resampling::Linear;
  std::vector<float> scratch;
};

}  // namespace

std::optional<size_t> ResizeScale::rank() const {
  if (uniform_) return std::nullopt;
  return values_.size();
}

ResizeLayer::ResizeLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

const OptionTable& ResizeLayer::option_table() const {
  using L = ResizeLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("Dimensions", &L::dimensions_, Required{SizeList{}})
          .add("Scale", &L::scale_, Required{ScaleKind{}})
          .add("Resampling", &L::resampling_, kResamplings, Affects::Nothing);
  return table;
}

ResizeLayer& ResizeLayer::dimensions(Dims value) {
  return assign_option(*this, "Dimensions", std::optional<Dims>(std::move(value)));
}

ResizeLayer& ResizeLayer::scale(ResizeScale value) {
  return assign_option(*this, "Scale", std::optional<ResizeScale>(std::move(value)));
}

ResizeLayer& ResizeLayer::resampling(Resampling value) {
  return assign_option(*this, "Resampling", value);
}

ResizeLayer& ResizeLayer::resampling(const std::string& value) {
  return resampling(kResamplings.parse(value, "Resampling"));
}

std::unique_ptr<Layer> ResizeLayer::clone() const {
  return std::make_unique<ResizeLayer>(*this);
}

// ---- Shape inference

std::optional<size_t> ResizeLayer::options_rank() const {
  if (dimensions_.has_value() == scale_.has_value())
    throw Error(std::string("Dimensions, Scale: expected exactly one of them (the output's sizes "
                            "or the factors), got ") +
                (dimensions_ ? "both" : "neither"));
  if (dimensions_) return dimensions_->size();
  return scale_->rank();
}

int64_t ResizeLayer::output_size(size_t d, int64_t in) const {
  if (dimensions_) return (*dimensions_)[d];
  const double s = (*scale_)[d];
  const double n = std::floor(static_cast<double>(in) * s);
  const std::string what = "Scale: " + number_text(s) + " makes spatial dimension " +
                           std::to_string(d + 1) + " of size " + std::to_string(in);
  if (n < 1)
    throw Error(what + " empty (floor(" + std::to_string(in) + " · " + number_text(s) + ") = 0)");
  if (n > static_cast<double>(kMaxSpatialSize))
    throw Error(what + " larger than " + std::to_string(kMaxSpatialSize));
  return static_cast<int64_t>(n);
}

void ResizeLayer::infer() {
  const std::optional<size_t> fixed = options_rank();
  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
  std::optional<size_t> rank = fixed;
  if (!rank && inputs_[0].shape.rank_known()) rank = inputs_[0].shape.rank() - 1;
  if (!rank && outputs_[0].shape.rank_known()) rank = outputs_[0].shape.rank() - 1;
  if (!rank) return;
  const size_t r = *rank;
  const std::string option = dimensions_ ? "Dimensions" : "Scale";
  const std::string why = "channels and " + std::to_string(r) + " spatial dimension" +
                          (r == 1 ? "" : "s") + (fixed ? ", as " + option : "");
  constrain_input(0, Shape::of_rank(r + 1), why);
  constrain_output(0, Shape::of_rank(r + 1), why);

  const Shape& in = inputs_[0].shape;
  Shape out = channels_and_spatial(in[0], r);
  for (size_t d = 0; d < r; ++d)
    if (dimensions_ || in.dim_known(d + 1))
      out[d + 1] = output_size(d, in.dim_known(d + 1) ? in[d + 1] : 0);
  constrain_output(0, out, "from Input and " + option);
  constrain_input(0, channels_and_spatial(outputs_[0].shape[0], r), "channels of Output");
}

// ---- Execution

std::unique_ptr<Workspace> ResizeLayer::make_workspace() const {
  return std::make_unique<ResizeWorkspace>();
}

std::array<int64_t, 5> ResizeLayer::prepare(const Tensor& x, Workspace& ws) const {
  auto& work = static_cast<ResizeWorkspace&>(ws);
  const std::optional<size_t> fixed = options_rank();
  if (x.rank() < 3 || x.rank() > 5)
    throw Error(
        "Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial dimensions), "
        "got " +
        to_string(x.shape()));
  const size_t r = x.rank() - 2;
  if (fixed && *fixed != r)
    throw Error("Input: expected a batch with " + std::to_string(*fixed) +
                " spatial dimensions (as " + (dimensions_ ? "Dimensions" : "Scale") + "), got " +
                to_string(x.shape()));
  std::array<int64_t, 5> dims{x.dim(0), x.dim(1)};
  std::array<int64_t, 3> in_sizes{}, out_sizes{};
  std::array<double, 3> scales{};
  for (size_t d = 0; d < r; ++d) {
    in_sizes[d] = x.dim(d + 2);
    out_sizes[d] = dims[d + 2] = output_size(d, in_sizes[d]);
    if (scale_) scales[d] = (*scale_)[d];
  }
  if (work.valid && work.rank == r && work.in == in_sizes && work.out == out_sizes &&
      work.scales == scales && work.by_scale == scale_.has_value() && work.method == resampling_)
    return dims;
  work.plan = kernels::plan_resize(
      resampling_ == Resampling::Linear ? kernels::ResizeMethod::Linear
                                        : kernels::ResizeMethod::Nearest,
      std::span<const int64_t>(in_sizes.data(), r), std::span<const int64_t>(out_sizes.data(), r),
      scale_ ? std::span<const double>(scales.data(), r) : std::span<const double>());
  work.valid = true;
  work.rank = r;
  work.in = in_sizes;
  work.out = out_sizes;
  work.scales = scales;
  work.by_scale = scale_.has_value();
  work.method = resampling_;
  return dims;
}

void ResizeLayer::forward(Inputs in, Outputs out, Workspace* ws, const RunContext& /*ctx*/) const {
  ResizeWorkspace local;
  auto& work = ws ? *static_cast<ResizeWorkspace*>(ws) : local;
  const Tensor& x = *in[0];
  const std::array<int64_t, 5> dims = prepare(x, work);
  Tensor& y = *out[0];
  y.resize(std::span<const int64_t>(dims.data(), x.rank()));
  kernels::resize(work.plan, x.dim(0) * x.dim(1), x.data(), y.data(), work.scratch);
}

void ResizeLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                           Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  ResizeWorkspace local;
  auto& work = ws ? *static_cast<ResizeWorkspace*>(ws) : local;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const std::array<int64_t, 5> dims = prepare(x, work);
  if (!std::equal(dims.begin(), dims.begin() + x.rank(), dy.shape().begin(), dy.shape().end()))
    throw Error("Output gradient: expected shape " +
                to_string(Dims(dims.begin(), dims.begin() + x.rank())) + ", got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  kernels::resize_grad(work.plan, x.dim(0) * x.dim(1), dy.data(), dx->data(), work.scratch);
}

}  // namespace strata
