#include "layers/aggregation.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "kernels/aggregation.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

const Choice<AggregationFunction> kFunctions{
    {AggregationFunction::Max, AggregationFunction::Min, AggregationFunction::Mean,
     AggregationFunction::Total},
    {"Max", "Min", "Mean", "Total"},
    "\"Max\", \"Min\", \"Mean\" or \"Total\""};

struct AggregationWorkspace : Workspace {
  std::vector<int64_t> index;  // Max, Min: per (example, channel), within the plane
  Dims shape;                  // of the forward that filled index
  bool max = true;
};

void check_batch(const Tensor& x) {
  if (x.rank() < 3)
    throw Error(
        "Input: expected a batch of rank 3 or more (batch, channels, dimensions to aggregate), "
        "got " +
        to_string(x.shape()));
}

}  // namespace

std::string to_string(AggregationFunction f) {
  return kFunctions.write(f).get<std::string>();
}

AggregationLayer::AggregationLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape::of_rank(1)}}) {}

AggregationLayer::AggregationLayer(AggregationFunction f) : AggregationLayer() {
  function(f);
}

AggregationLayer::AggregationLayer(std::string_view name) : AggregationLayer() {
  function(name);
}

const OptionTable& AggregationLayer::option_table() const {
  static const OptionTable table = OptionsOf<AggregationLayer>().add(
      "Function", &AggregationLayer::function_, Required{kFunctions}, Affects::Nothing);
  return table;
}

AggregationLayer& AggregationLayer::function(AggregationFunction f) {
  return assign_option(*this, "Function", std::optional<AggregationFunction>(f));
}

AggregationLayer& AggregationLayer::function(std::string_view name) {
  return function(kFunctions.parse(std::string(name), "Function"));
}

std::unique_ptr<Layer> AggregationLayer::clone() const {
  return std::make_unique<AggregationLayer>(*this);
}

AggregationFunction AggregationLayer::required_function() const {
  if (!function_) throw Error("Function: required option is missing");
  return *function_;
}

void AggregationLayer::infer() {
  required_function();
  const Shape& in = inputs_[0].shape;
  if (in.rank_known() && in.rank() < 2)
    throw Error(
        "Input: expected rank 2 or more (channels, then the dimensions to aggregate), got " +
        in.to_string());
  if (!in.rank_known()) return;
  constrain_output(0, Shape{in[0]}, "one value per Input channel");
  if (outputs_[0].shape.dim_known(0)) {
    Shape want = Shape::of_rank(in.rank());
    want[0] = outputs_[0].shape[0];
    constrain_input(0, want, "channels fixed by Output");
  }
}

std::unique_ptr<Workspace> AggregationLayer::make_workspace() const {
  return std::make_unique<AggregationWorkspace>();
}

void AggregationLayer::forward(Inputs in, Outputs out, Workspace* ws,
                               const RunContext& /*ctx*/) const {
  const AggregationFunction f = required_function();
  const Tensor& x = *in[0];
  check_batch(x);
  const int64_t batch = x.dim(0), channels = x.dim(1), planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  Tensor& y = *out[0];
  y.resize({batch, channels});
  if (f == AggregationFunction::Max || f == AggregationFunction::Min) {
    auto* work = static_cast<AggregationWorkspace*>(ws);
    if (work) {
      work->index.resize(static_cast<size_t>(planes));
      work->shape = x.shape();
      work->max = f == AggregationFunction::Max;
    }
    kernels::plane_extremes(x.data(), planes, n, f == AggregationFunction::Max, y.data(),
                            work ? work->index.data() : nullptr);
  } else {
    // Mean of no positions: 0 · (1 / 0) = NaN.
    const double scale = f == AggregationFunction::Mean ? 1.0 / static_cast<double>(n) : 1.0;
    kernels::plane_sums(x.data(), planes, n, scale, y.data());
  }
}

void AggregationLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const AggregationFunction f = required_function();
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  check_batch(x);
  const int64_t batch = x.dim(0), channels = x.dim(1), planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  if (dy.shape() != Dims{batch, channels})
    throw Error("Output gradient: expected shape " + to_string(Dims{batch, channels}) + ", got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  const float* g = dy.data();
  float* d = dx->data();
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(1, n));
  if (f == AggregationFunction::Max || f == AggregationFunction::Min) {
    const bool max = f == AggregationFunction::Max;
    auto* work = static_cast<AggregationWorkspace*>(ws);
    AggregationWorkspace local;
    if (!work || work->shape != x.shape() || work->max != max) {
      // No forward kept the indices for this input: find them again.
      work = &local;
      local.index.resize(static_cast<size_t>(planes));
      std::vector<float> values(static_cast<size_t>(planes));
      kernels::plane_extremes(x.data(), planes, n, max, values.data(), local.index.data());
    }
    const int64_t* index = work->index.data();
    parallel_for(
        planes,
        [&](int64_t p) {
          std::fill_n(d + p * n, n, 0.0f);
          if (index[p] >= 0) d[p * n + index[p]] = g[p];
        },
        grain);
  } else {
    const float scale = f == AggregationFunction::Mean ? 1.0f / static_cast<float>(n) : 1.0f;
    parallel_for(
        planes, [&](int64_t p) { std::fill_n(d + p * n, n, g[p] * scale); }, grain);
  }
}

}  // namespace strata
