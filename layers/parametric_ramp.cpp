#include "layers/parametric_ramp.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "kernels/plane_sums.hpp"

namespace strata {

namespace {

struct ParametricRampWorkspace : Workspace {
  std::vector<double> plane_sums;  // per (example, channel): Σ dy·x where x ≤ 0
};

// Planes handed to a thread at a time: about this many elements.
int64_t grain_for(int64_t n) {
  return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, n));
}

// Σ dy·x over the x ≤ 0 of a plane, in float lanes over blocks and the blocks
// in double: vectorized, in an order fixed by n.
double negative_dot(const float* x, const float* dy, int64_t n) {
  return plane_sums::lane_sum(n, [x, dy](int64_t i) { return x[i] > 0 ? 0.0f : dy[i] * x[i]; });
}

void check_batch(const Tensor& x, int64_t channels) {
  if (x.rank() < 2)
    throw Error("Input: expected a batch of rank 2 or more (batch, channels, …), got " +
                to_string(x.shape()));
  if (x.dim(1) != channels)
    throw Error("Input has " + std::to_string(x.dim(1)) + " channels, but Slope has " +
                std::to_string(channels));
}

}  // namespace

ParametricRampLayer::ParametricRampLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter("Slope", Shape::of_rank(1), Initializer::constant(0.25))}) {}

std::unique_ptr<Layer> ParametricRampLayer::clone() const {
  return std::make_unique<ParametricRampLayer>(*this);
}

void ParametricRampLayer::infer() {
  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && p->shape.rank() < 1)
      throw Error(p->name + ": expected rank 1 or more (channels first), got " +
                  p->shape.to_string());
  constrain_output(0, inputs_[0].shape, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
  const Shape& in = inputs_[0].shape;
  if (!in.rank_known()) return;
  constrain_array(kSlope, Shape{in[0]}, "one per Input channel");
  if (arrays_[kSlope].shape.dim_known(0)) {
    Shape want = Shape::of_rank(in.rank());
    want[0] = arrays_[kSlope].shape[0];
    constrain_input(0, want, "channels fixed by Slope");
    constrain_output(0, inputs_[0].shape, "same as Input");
  }
}

std::unique_ptr<Workspace> ParametricRampLayer::make_workspace() const {
  return std::make_unique<ParametricRampWorkspace>();
}

void ParametricRampLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                                  const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  const Tensor& slope = array_value(kSlope);
  check_batch(x, slope.size());
  const int64_t planes = x.dim(0) * x.dim(1), channels = x.dim(1);
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  Tensor& y = *out[0];
  y.resize(x.shape());
  const float* xd = x.data();
  float* yd = y.data();
  parallel_for(
      planes,
      [&](int64_t p) {
        const float s = slope[p % channels];
        const float* xp = xd + p * n;
        float* yp = yd + p * n;
        for (int64_t i = 0; i < n; ++i)
          yp[i] = xp[i] > 0 ? xp[i] : s * xp[i];
      },
      grain_for(n));
}

void ParametricRampLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                   Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const Tensor& slope = array_value(kSlope);
  check_batch(x, slope.size());
  if (dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  const int64_t batch = x.dim(0), channels = x.dim(1), planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  Tensor* dslope = array_grad.size() > kSlope ? array_grad[kSlope] : nullptr;
  if (dx) dx->resize(x.shape());
  ParametricRampWorkspace local;
  auto* work = ws ? static_cast<ParametricRampWorkspace*>(ws) : &local;
  if (dslope) work->plane_sums.resize(static_cast<size_t>(planes));
  const float* xd = x.data();
  const float* gd = dy.data();
  float* dxd = dx ? dx->data() : nullptr;
  double* sums = work->plane_sums.data();
  parallel_for(
      planes,
      [&](int64_t p) {
        const float* xp = xd + p * n;
        const float* gp = gd + p * n;
        if (dxd) {
          const float s = slope[p % channels];
          float* dp = dxd + p * n;
          for (int64_t i = 0; i < n; ++i)
            dp[i] = xp[i] > 0 ? gp[i] : s * gp[i];
        }
        if (dslope) sums[p] = negative_dot(xp, gp, n);
      },
      grain_for(n));
  if (!dslope) return;
  // Over the batch in a fixed order: the same result for any thread count.
  dslope->resize({channels});
  for (int64_t c = 0; c < channels; ++c) {
    double s = 0;
    for (int64_t e = 0; e < batch; ++e)
      s += sums[e * channels + c];
    (*dslope)[c] = static_cast<float>(s);
  }
}

}  // namespace strata
