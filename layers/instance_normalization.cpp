#include "layers/instance_normalization.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace strata {

namespace {

struct InstanceNormWorkspace : Workspace {
  std::vector<double> mean;    // per (example, channel)
  std::vector<float> inv_std;  // 1 / sqrt(v + Epsilon)
  std::vector<double> sum_dy, sum_dy_xhat;
};

}  // namespace

InstanceNormalizationLayer::InstanceNormalizationLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {{"Gamma", Shape::of_rank(1), std::nullopt, true},
             {"Beta", Shape::of_rank(1), std::nullopt, true}}) {}

InstanceNormalizationLayer& InstanceNormalizationLayer::epsilon(double value) {
  if (!(value > 0) || !std::isfinite(value))
    throw Error("Epsilon: expected a positive number, got " + std::to_string(value));
  epsilon_ = value;
  return *this;
}

std::unique_ptr<Layer> InstanceNormalizationLayer::clone() const {
  return std::make_unique<InstanceNormalizationLayer>(*this);
}

nlohmann::json InstanceNormalizationLayer::options() const {
  return {{"Epsilon", epsilon_}};
}

void InstanceNormalizationLayer::set_option(const std::string& key, const nlohmann::json& value) {
  if (key == "Epsilon") {
    epsilon(option_number(value, key));
  } else {
    throw_unknown_option(*this, key, {"Epsilon"});
  }
}

void InstanceNormalizationLayer::infer() {
  Shape& in = inputs_[0].shape;
  if (in.rank_known() && in.rank() < 2)
    throw Error("Input: expected rank 2 or more (channels, then spatial dimensions), got " +
                in.to_string());
  // Output and Input have the same shape.
  constrain_output(0, in, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
  // One Gamma and one Beta per channel; either may fix the channel count.
  for (size_t a : {kGamma, kBeta}) {
    if (in.rank_known()) constrain_array(a, Shape{in[0]}, "one per Input channel");
    if (arrays_[a].shape.dim_known(0) && in.rank_known()) {
      Shape want = Shape::of_rank(in.rank());
      want[0] = arrays_[a].shape[0];
      constrain_input(0, want, "channels fixed by " + arrays_[a].name);
      constrain_output(0, inputs_[0].shape, "same as Input");
    }
  }
  constrain_array(kGamma, arrays_[kBeta].shape, "same as Beta");
  constrain_array(kBeta, arrays_[kGamma].shape, "same as Gamma");
}

std::unique_ptr<Workspace> InstanceNormalizationLayer::make_workspace() const {
  return std::make_unique<InstanceNormWorkspace>();
}

void InstanceNormalizationLayer::forward(Inputs in, Outputs out, Workspace* ws,
                                         const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  if (x.rank() < 3)
    throw Error("Input: expected a batch of rank 3 or more, got " + to_string(x.shape()));
  const Tensor& gamma = array_value(kGamma);
  const Tensor& beta = array_value(kBeta);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  if (channels != gamma.size())
    throw Error("Input has " + std::to_string(channels) + " channels, but Gamma has " +
                std::to_string(gamma.size()));
  const int64_t n = x.size() / std::max<int64_t>(1, batch * channels);
  Tensor& y = *out[0];
  y.resize(x.shape());

  auto* work = static_cast<InstanceNormWorkspace*>(ws);
  if (work) {
    work->mean.resize(static_cast<size_t>(batch * channels));
    work->inv_std.resize(static_cast<size_t>(batch * channels));
  }
  const float* xd = x.data();
  float* yd = y.data();
  const double eps = epsilon_;
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < batch * channels; ++plane) {
    const float* xp = xd + plane * n;
    float* yp = yd + plane * n;
    // Two passes in double: exact enough for inputs with a large mean.
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
      sum += xp[i];
    const double mean = sum / static_cast<double>(n);
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = xp[i] - mean;
      sq += d * d;
    }
    const double inv_std = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
    const int64_t c = plane % channels;
    const float scale = static_cast<float>(gamma[c] * inv_std);
    // x − m in float loses nothing when m is split in a float part m_hi, which
    // cancels exactly against x, and the small rest, folded into the shift.
    const float mean_hi = static_cast<float>(mean);
    const float shift = static_cast<float>(beta[c] - (mean - mean_hi) * gamma[c] * inv_std);
    for (int64_t i = 0; i < n; ++i)
      yp[i] = (xp[i] - mean_hi) * scale + shift;
    if (work) {
      work->mean[plane] = mean;
      work->inv_std[plane] = static_cast<float>(inv_std);
    }
  }
}

void InstanceNormalizationLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                          Outputs in_grad, Outputs array_grad) const {
  auto* work = static_cast<InstanceNormWorkspace*>(ws);
  if (!work || work->mean.empty()) throw Error("backward called without a forward");
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const Tensor& gamma = array_value(kGamma);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  work->sum_dy.resize(static_cast<size_t>(planes));
  work->sum_dy_xhat.resize(static_cast<size_t>(planes));
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (dx) dx->resize(x.shape());

  const float* xd = x.data();
  const float* dyd = dy.data();
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = xd + plane * n;
    const float* gp = dyd + plane * n;
    const float inv_std = work->inv_std[plane];
    // x̂ = (x − m_hi)·inv_std − lo, as in forward.
    const float mean_hi = static_cast<float>(work->mean[plane]);
    const float lo = static_cast<float>((work->mean[plane] - mean_hi) * inv_std);
    double s = 0, sx = 0;
    for (int64_t i = 0; i < n; ++i) {
      s += gp[i];
      sx += static_cast<double>(gp[i]) * ((xp[i] - mean_hi) * inv_std - lo);
    }
    work->sum_dy[plane] = s;
    work->sum_dy_xhat[plane] = sx;
    if (dx) {
      // dx = Gamma·inv_std·(dy − mean(dy) − x̂·mean(dy·x̂))
      const float g = gamma[plane % channels] * inv_std;
      const float mean_dy = static_cast<float>(s / static_cast<double>(n));
      const float mean_dyx = static_cast<float>(sx / static_cast<double>(n));
      float* dxp = dx->data() + plane * n;
      for (int64_t i = 0; i < n; ++i)
        dxp[i] = g * (gp[i] - mean_dy - ((xp[i] - mean_hi) * inv_std - lo) * mean_dyx);
    }
  }
  // Reduce over the batch in a fixed order: the same result for any thread count.
  Tensor* dgamma = array_grad.size() > kGamma ? array_grad[kGamma] : nullptr;
  Tensor* dbeta = array_grad.size() > kBeta ? array_grad[kBeta] : nullptr;
  if (dgamma) dgamma->resize({channels});
  if (dbeta) dbeta->resize({channels});
  for (int64_t c = 0; c < channels; ++c) {
    double g = 0, b = 0;
    for (int64_t e = 0; e < batch; ++e) {
      g += work->sum_dy_xhat[e * channels + c];
      b += work->sum_dy[e * channels + c];
    }
    if (dgamma) (*dgamma)[c] = static_cast<float>(g);
    if (dbeta) (*dbeta)[c] = static_cast<float>(b);
  }
}

}  // namespace strata
