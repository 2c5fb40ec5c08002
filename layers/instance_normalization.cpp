#include "layers/instance_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "kernels/plane_sums.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

// Planes longer than this are split into chunks, so that a few large planes
// still keep every thread busy. The split depends on the plane size alone, so
// results do not depend on the number of threads.
constexpr int64_t kChunk = 16384;

struct InstanceNormWorkspace : Workspace {
  std::vector<double> mean;                 // per (example, channel)
  std::vector<float> inv_std;               // 1 / sqrt(v + Epsilon)
  std::vector<float> center;                // a first estimate of the mean, per plane
  std::vector<double> part_a, part_b;       // per chunk: partial sums
  std::vector<double> sum_dy, sum_dy_xhat;  // per plane
  bool has_forward = false;
};

// Small planes are handled a group at a time: about this many elements.
constexpr int64_t kGroupElements = 4096;
constexpr int64_t kMaxGroup = 64;

int64_t group_of(int64_t n) {
  return std::clamp<int64_t>(kGroupElements / std::max<int64_t>(1, n), 1, kMaxGroup);
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

struct Split {
  int64_t chunks;  // per plane
  int64_t len;     // elements per chunk (the last one may have fewer)
};

Split split_plane(int64_t n) {
  const int64_t chunks = std::max<int64_t>(1, (n + kChunk - 1) / kChunk);
  const int64_t len = ((n + chunks - 1) / chunks + plane_sums::kLanes - 1) / plane_sums::kLanes *
                      plane_sums::kLanes;
  return {chunks, std::max<int64_t>(len, 1)};
}

using plane_sums::centered_sums;
using plane_sums::first_mean;

// The mean and 1 / sqrt(variance + eps) from the sums about c; false when c
// was too far from the mean for the sums to give the variance exactly.
bool finish_stats(float c, double s1, double s2, int64_t n, double eps, double& mean,
                  float& inv_std) {
  double var;
  const bool exact = plane_sums::variance_from_sums(c, s1, s2, static_cast<double>(n), mean, var);
  inv_std = static_cast<float>(1.0 / std::sqrt(var + eps));
  return exact;
}

// The statistics of a whole run: one pass about a first guess, and a second
// pass about the mean that gives when the guess was poor.
void run_stats(const float* x, int64_t n, float c, double s1, double s2, double eps, double& mean,
               float& inv_std) {
  if (finish_stats(c, s1, s2, n, eps, mean, inv_std)) return;
  c = static_cast<float>(mean);
  centered_sums(x, n, c, s1, s2);
  // Still not exact only for a nearly constant run whose mean falls between
  // two floats: the differences from c are exact, and the tiny variance is
  // taken as it is.
  finish_stats(c, s1, s2, n, eps, mean, inv_std);
}

// y = Gamma·(x − mean)·inv_std + Beta over a run. x − m in float loses
// nothing when m is split in a float part m_hi, which cancels exactly against
// x, and the small rest, folded into the shift.
void normalize(const float* x, float* y, int64_t n, double mean, float inv_std, float gamma,
               float beta) {
  const float mean_hi = static_cast<float>(mean);
  const float scale = gamma * inv_std;
  const float shift = static_cast<float>(beta - (mean - mean_hi) * gamma * inv_std);
  for (int64_t i = 0; i < n; ++i)
    y[i] = (x[i] - mean_hi) * scale + shift;
}

// x̂ = (x − m_hi)·inv_std − lo, as forward normalizes.
struct Xhat {
  float mean_hi, inv_std, lo;
  Xhat(double mean, float inv) : mean_hi(static_cast<float>(mean)), inv_std(inv) {
    lo = static_cast<float>((mean - mean_hi) * inv_std);
  }
  template <typename T>  // float or plane_sums::Vec
  T operator()(T x) const {
    return (x - mean_hi) * inv_std - lo;
  }
};

// Σ dy and Σ dy·x̂ over a run.
void grad_sums(const float* x, const float* dy, int64_t n, Xhat h, double& s, double& sx) {
  plane_sums::sum2(
      n, x, dy, [](auto, auto g) { return g; }, [h](auto v, auto g) { return g * h(v); }, s, sx);
}

// dx = g·(dy − mean(dy) − x̂·mean(dy·x̂)) over a run.
void input_grad(const float* x, const float* dy, float* dx, int64_t n, Xhat h, float g,
                float mean_dy, float mean_dyx) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = g * (dy[i] - mean_dy - h(x[i]) * mean_dyx);
}

}  // namespace

InstanceNormalizationLayer::InstanceNormalizationLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter("Gamma", Shape::of_rank(1), Initializer::ones()),
             ArraySlot::parameter("Beta", Shape::of_rank(1), Initializer::zeros())}) {}

const OptionTable& InstanceNormalizationLayer::option_table() const {
  static const OptionTable table = OptionsOf<InstanceNormalizationLayer>().add(
      "Epsilon", &InstanceNormalizationLayer::epsilon_, positive_number(), Affects::Nothing);
  return table;
}

InstanceNormalizationLayer& InstanceNormalizationLayer::epsilon(double value) {
  return assign_option(*this, "Epsilon", value);
}

std::unique_ptr<Layer> InstanceNormalizationLayer::clone() const {
  return std::make_unique<InstanceNormalizationLayer>(*this);
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
  const int64_t planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  Tensor& y = *out[0];
  y.resize(x.shape());
  if (n == 0) return;

  InstanceNormWorkspace local;
  auto* work = ws ? static_cast<InstanceNormWorkspace*>(ws) : &local;
  const Split split = split_plane(n);
  const int64_t units = planes * split.chunks;
  work->mean.resize(static_cast<size_t>(planes));
  work->inv_std.resize(static_cast<size_t>(planes));
  const float* xd = x.data();
  float* yd = y.data();
  const double eps = epsilon_;
  double* mean = work->mean.data();
  float* inv_std = work->inv_std.data();

  if (split.chunks == 1) {
    // Each plane in one piece, statistics and output while it is in cache;
    // small planes a group at a time, each step for the whole group (the
    // planes' independent sums and divisions then overlap).
    const int64_t group = group_of(n);
    parallel_for(ceil_div(planes, group), [&](int64_t k) {
      const int64_t p0 = k * group, p1 = std::min(planes, p0 + group);
      float c[kMaxGroup];
      double s1[kMaxGroup], s2[kMaxGroup];
      for (int64_t p = p0; p < p1; ++p)
        c[p - p0] = first_mean(xd + p * n, n);
      for (int64_t p = p0; p < p1; ++p)
        centered_sums(xd + p * n, n, c[p - p0], s1[p - p0], s2[p - p0]);
      for (int64_t p = p0; p < p1; ++p)
        run_stats(xd + p * n, n, c[p - p0], s1[p - p0], s2[p - p0], eps, mean[p], inv_std[p]);
      for (int64_t p = p0; p < p1; ++p)
        normalize(xd + p * n, yd + p * n, n, mean[p], inv_std[p], gamma[p % channels],
                  beta[p % channels]);
    });
  } else {
    work->center.resize(static_cast<size_t>(planes));
    work->part_a.resize(static_cast<size_t>(units));
    work->part_b.resize(static_cast<size_t>(units));
    float* center = work->center.data();
    double* part_a = work->part_a.data();
    double* part_b = work->part_b.data();
    const int64_t chunks = split.chunks, len = split.len;
    // Chunk u covers [begin, end) of its plane.
    auto range = [&](int64_t u, int64_t& begin, int64_t& end) {
      begin = std::min(n, (u % chunks) * len);
      end = std::min(n, begin + len);
    };
    parallel_for(planes, [&](int64_t p) { center[p] = first_mean(xd + p * n, n); });
    parallel_for(units, [&](int64_t u) {
      int64_t b, e;
      range(u, b, e);
      centered_sums(xd + (u / chunks) * n + b, e - b, center[u / chunks], part_a[u], part_b[u]);
    });
    parallel_for(planes, [&](int64_t p) {
      double s1 = 0, s2 = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        s1 += part_a[p * chunks + k];
        s2 += part_b[p * chunks + k];
      }
      run_stats(xd + p * n, n, center[p], s1, s2, eps, mean[p], inv_std[p]);
    });
    parallel_for(units, [&](int64_t u) {
      int64_t b, e;
      range(u, b, e);
      const int64_t p = u / chunks;
      normalize(xd + p * n + b, yd + p * n + b, e - b, mean[p], inv_std[p], gamma[p % channels],
                beta[p % channels]);
    });
  }
  work->has_forward = true;
}

void InstanceNormalizationLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                          Outputs in_grad, Outputs array_grad) const {
  auto* work = static_cast<InstanceNormWorkspace*>(ws);
  if (!work || !work->has_forward) throw Error("backward called without a forward");
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const Tensor& gamma = array_value(kGamma);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t planes = batch * channels;
  const int64_t n = x.size() / std::max<int64_t>(1, planes);
  if (dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  if (work->mean.size() != static_cast<size_t>(planes))
    throw Error("backward called without a matching forward");
  work->sum_dy.resize(static_cast<size_t>(planes));
  work->sum_dy_xhat.resize(static_cast<size_t>(planes));
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (dx) dx->resize(x.shape());

  const float* xd = x.data();
  const float* dyd = dy.data();
  float* dxd = dx ? dx->data() : nullptr;
  const double* mean = work->mean.data();
  const float* inv_std = work->inv_std.data();
  double* sum_dy = work->sum_dy.data();
  double* sum_dy_xhat = work->sum_dy_xhat.data();
  const double inv_n = n ? 1.0 / static_cast<double>(n) : 0.0;
  auto dx_plane = [&](int64_t p, int64_t b, int64_t e) {
    input_grad(xd + p * n + b, dyd + p * n + b, dxd + p * n + b, e - b, Xhat(mean[p], inv_std[p]),
               gamma[p % channels] * inv_std[p], static_cast<float>(sum_dy[p] * inv_n),
               static_cast<float>(sum_dy_xhat[p] * inv_n));
  };
  const Split split = split_plane(n);
  if (split.chunks == 1) {
    const int64_t group = group_of(n);
    parallel_for(ceil_div(planes, group), [&](int64_t k) {
      const int64_t p0 = k * group, p1 = std::min(planes, p0 + group);
      for (int64_t p = p0; p < p1; ++p)
        grad_sums(xd + p * n, dyd + p * n, n, Xhat(mean[p], inv_std[p]), sum_dy[p], sum_dy_xhat[p]);
      if (dxd)
        for (int64_t p = p0; p < p1; ++p)
          dx_plane(p, 0, n);
    });
  } else {
    const int64_t chunks = split.chunks, len = split.len, units = planes * chunks;
    work->part_a.resize(static_cast<size_t>(units));
    work->part_b.resize(static_cast<size_t>(units));
    double* part_a = work->part_a.data();
    double* part_b = work->part_b.data();
    auto range = [&](int64_t u, int64_t& begin, int64_t& end) {
      begin = std::min(n, (u % chunks) * len);
      end = std::min(n, begin + len);
    };
    parallel_for(units, [&](int64_t u) {
      int64_t b, e;
      range(u, b, e);
      const int64_t p = u / chunks;
      grad_sums(xd + p * n + b, dyd + p * n + b, e - b, Xhat(mean[p], inv_std[p]), part_a[u],
                part_b[u]);
    });
    parallel_for(planes, [&](int64_t p) {
      double s = 0, sx = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        s += part_a[p * chunks + k];
        sx += part_b[p * chunks + k];
      }
      sum_dy[p] = s;
      sum_dy_xhat[p] = sx;
    });
    if (dxd) {
      parallel_for(units, [&](int64_t u) {
        int64_t b, e;
        range(u, b, e);
        dx_plane(u / chunks, b, e);
      });
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
      g += sum_dy_xhat[e * channels + c];
      b += sum_dy[e * channels + c];
    }
    if (dgamma) (*dgamma)[c] = static_cast<float>(g);
    if (dbeta) (*dbeta)[c] = static_cast<float>(b);
  }
}

}  // namespace strata
