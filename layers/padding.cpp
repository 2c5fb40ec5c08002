#include "layers/padding.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "kernels/pad.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

struct PaddingWorkspace : Workspace {
  kernels::PadPlan plan;  // for the batch shape `shape`
  Dims shape;
  std::vector<float> scratch;
};

// PaddingSize: a list of [before, after] pairs of non-negative integers.
struct PairList {
  PaddingPairs read(const nlohmann::json& value, const std::string& key) const {
    const std::string expected =
        ": expected a list of [before, after] pairs, one per dimension of an example, got ";
    if (!value.is_array() || value.empty()) throw Error(key + expected + value.dump());
    PaddingPairs pairs;
    for (const auto& p : value) {
      if (!p.is_array() || p.size() != 2) throw Error(key + expected + value.dump());
      pairs.emplace_back(option_integer(p[0], key, 0), option_integer(p[1], key, 0));
    }
    check(pairs, key);
    return pairs;
  }
  void check(const PaddingPairs& value, const std::string& key) const {
    if (value.empty())
      throw Error(key +
                  ": expected a [before, after] pair for every dimension of an example, "
                  "got none");
    for (const auto& [b, a] : value)
      if (b < 0 || a < 0 || b > kMaxSpatialSize || a > kMaxSpatialSize)
        throw Error(key + ": expected integers from 0 to " + std::to_string(kMaxSpatialSize) +
                    ", got " + write(value).dump());
  }
  nlohmann::json write(const PaddingPairs& value) const {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [b, a] : value)
      j.push_back({b, a});
    return j;
  }
};

const Choice<PaddingMode> kModes{
    {PaddingMode::Fixed, PaddingMode::Reflected, PaddingMode::Periodic},
    {"Fixed", "Reflected", "Periodic"},
    "a number, \"Fixed\", \"Reflected\" or \"Periodic\""};

// Padding: a number (Constant) or the name of a mode.
struct FillKind {
  PaddingFill read(const nlohmann::json& value, const std::string& key) const {
    if (value.is_number()) return {PaddingMode::Constant, option_number(value, key)};
    if (!value.is_string())
      throw Error(key + ": expected " + kModes.expected + ", got " + value.dump());
    return {kModes.read(value, key), 0};
  }
  void check(const PaddingFill& value, const std::string& key) const {
    if (value.mode == PaddingMode::Constant && !std::isfinite(value.value))
      throw Error(key + ": expected a finite number, got " + std::to_string(value.value));
  }
  nlohmann::json write(const PaddingFill& value) const {
    if (value.mode == PaddingMode::Constant) return value.value;
    return kModes.write(value.mode);
  }
};

kernels::PadMode kernel_mode(PaddingMode m) {
  switch (m) {
    case PaddingMode::Constant:
      return kernels::PadMode::Constant;
    case PaddingMode::Fixed:
      return kernels::PadMode::Fixed;
    case PaddingMode::Reflected:
      return kernels::PadMode::Reflected;
    case PaddingMode::Periodic:
      return kernels::PadMode::Periodic;
  }
  return kernels::PadMode::Constant;
}

std::string pair_text(const std::pair<int64_t, int64_t>& p) {
  return "[" + std::to_string(p.first) + ", " + std::to_string(p.second) + "]";
}

}  // namespace

PaddingLayer::PaddingLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

PaddingLayer::PaddingLayer(PaddingPairs padding_size) : PaddingLayer() {
  this->padding_size(std::move(padding_size));
}

const OptionTable& PaddingLayer::option_table() const {
  using L = PaddingLayer;
  static const OptionTable table = OptionsOf<L>()
                                       .add("PaddingSize", &L::padding_size_, Required{PairList{}})
                                       .add("Padding", &L::fill_, FillKind{}, Affects::Nothing);
  return table;
}

PaddingLayer& PaddingLayer::padding_size(PaddingPairs value) {
  return assign_option(*this, "PaddingSize", std::optional<PaddingPairs>(std::move(value)));
}

PaddingLayer& PaddingLayer::padding(double value) {
  return assign_option(*this, "Padding", PaddingFill{PaddingMode::Constant, value});
}

PaddingLayer& PaddingLayer::padding(PaddingMode mode) {
  return assign_option(*this, "Padding", PaddingFill{mode, 0});
}

PaddingLayer& PaddingLayer::padding(const std::string& mode) {
  return padding(kModes.parse(mode, "Padding"));
}

std::unique_ptr<Layer> PaddingLayer::clone() const {
  return std::make_unique<PaddingLayer>(*this);
}

// ---- Shape inference

void PaddingLayer::check_fits(std::span<const int64_t> in, const Dims* batch) const {
  const PaddingPairs& pairs = *padding_size_;
  for (size_t d = 0; d < in.size() && d < pairs.size(); ++d) {
    const int64_t n = in[d];
    const auto [b, a] = pairs[d];
    if (n < 0 || b + a == 0) continue;
    const char* rule = nullptr;
    switch (fill_.mode) {
      case PaddingMode::Constant:
        break;
      case PaddingMode::Fixed:
        if (n == 0) rule = "Fixed padding needs an element to repeat";
        break;
      case PaddingMode::Reflected:
        if (b >= n || a >= n) rule = "Reflected padding must be smaller than the dimension it pads";
        break;
      case PaddingMode::Periodic:
        if (b > n || a > n) rule = "Periodic padding may not exceed the dimension it pads";
        break;
    }
    if (!rule) continue;
    const std::string of = batch ? "Input (a batch " + to_string(*batch) + ")"
                                 : "Input " + Shape(Dims(in.begin(), in.end())).to_string();
    throw Error("PaddingSize: " + std::string(rule) + ", but dimension " + std::to_string(d + 1) +
                " of " + of + " has size " + std::to_string(n) + " and is padded by " +
                pair_text(pairs[d]));
  }
}

void PaddingLayer::infer() {
  if (!padding_size_) throw Error("PaddingSize: required option is missing");
  const PaddingPairs& pairs = *padding_size_;
  const size_t r = pairs.size();
  const std::string why =
      std::to_string(r) + " dimension" + (r == 1 ? "" : "s") + ", one per PaddingSize pair";
  constrain_input(0, Shape::of_rank(r), why);
  constrain_output(0, Shape::of_rank(r), why);
  const Shape& in = inputs_[0].shape;
  const Shape& have_out = outputs_[0].shape;
  Shape out = Shape::of_rank(r), back = Shape::of_rank(r);
  for (size_t d = 0; d < r; ++d) {
    const auto [b, a] = pairs[d];
    if (in.dim_known(d)) out[d] = in[d] + b + a;
    if (have_out.dim_known(d)) {
      if (have_out[d] < b + a)
        throw Error("Output: size " + std::to_string(have_out[d]) + " in dimension " +
                    std::to_string(d + 1) + " is smaller than its PaddingSize " +
                    pair_text(pairs[d]));
      back[d] = have_out[d] - b - a;
    }
  }
  constrain_output(0, out, "Input plus PaddingSize");
  constrain_input(0, back, "Output minus PaddingSize");
  if (in.rank_known()) check_fits(in.dims(), nullptr);
}

// ---- Execution

std::unique_ptr<Workspace> PaddingLayer::make_workspace() const {
  return std::make_unique<PaddingWorkspace>();
}

namespace {

// The plan for batch x, from the workspace when it has one for x's shape.
const kernels::PadPlan& plan_for(const Tensor& x, const PaddingPairs& pairs, PaddingMode mode,
                                 PaddingWorkspace& work) {
  bool same = work.shape == x.shape() && work.plan.mode == kernel_mode(mode);
  for (size_t d = 0; same && d < pairs.size(); ++d)
    same = work.plan.before[d + 1] == pairs[d].first &&
           work.plan.out[d + 1] == x.dim(d + 1) + pairs[d].first + pairs[d].second;
  if (same) return work.plan;
  std::vector<std::pair<int64_t, int64_t>> pads{{0, 0}};
  pads.insert(pads.end(), pairs.begin(), pairs.end());
  work.plan = kernels::plan_pad(x.shape(), pads, kernel_mode(mode));
  work.shape = x.shape();
  return work.plan;
}

}  // namespace

void PaddingLayer::forward(Inputs in, Outputs out, Workspace* ws, const RunContext& /*ctx*/) const {
  if (!padding_size_) throw Error("PaddingSize: required option is missing");
  const Tensor& x = *in[0];
  const size_t r = padding_size_->size();
  if (x.rank() != r + 1)
    throw Error("Input: expected a batch of rank " + std::to_string(r + 1) +
                " (batch, then one dimension per PaddingSize pair), got " + to_string(x.shape()));
  check_fits(std::span<const int64_t>(x.shape()).subspan(1), &x.shape());
  PaddingWorkspace local;
  auto& work = ws ? *static_cast<PaddingWorkspace*>(ws) : local;
  const kernels::PadPlan& plan = plan_for(x, *padding_size_, fill_.mode, work);
  Tensor& y = *out[0];
  y.resize(plan.out);
  kernels::pad(plan, static_cast<float>(fill_.value), x.data(), y.data());
}

void PaddingLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  if (!padding_size_) throw Error("PaddingSize: required option is missing");
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  if (x.rank() != padding_size_->size() + 1)
    throw Error("Input: expected a batch of rank " + std::to_string(padding_size_->size() + 1) +
                ", got " + to_string(x.shape()));
  PaddingWorkspace local;
  auto& work = ws ? *static_cast<PaddingWorkspace*>(ws) : local;
  const kernels::PadPlan& plan = plan_for(x, *padding_size_, fill_.mode, work);
  if (dy.shape() != plan.out)
    throw Error("Output gradient: expected shape " + to_string(plan.out) + ", got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  work.scratch.resize(static_cast<size_t>(plan.scratch_size));
  kernels::pad_grad(plan, dy.data(), dx->data(), work.scratch.data());
}

}  // namespace strata
