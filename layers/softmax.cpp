#include "layers/softmax.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/threads.hpp"

namespace strata {

namespace {

// Spatial positions handled together: the channel loops then run over
// contiguous memory, with per-position accumulators on the stack.
constexpr int64_t kChunk = 256;

// A batch seen as [batch, channels, positions].
struct Layout {
  int64_t batch, channels, positions, chunks;
};

Layout layout_of(const Tensor& x) {
  if (x.rank() < 2)
    throw Error("Input: expected a batch of rank 2 or more, got " + to_string(x.shape()));
  Layout l{x.dim(0), x.dim(1), 0, 0};
  l.positions = l.batch * l.channels == 0 ? 0 : x.size() / (l.batch * l.channels);
  l.chunks = (l.positions + kChunk - 1) / kChunk;
  return l;
}

// Pieces (t) per thread at least: below about 4096 elements, threads cost
// more than they save.
int64_t grain(const Layout& l) {
  return std::max<int64_t>(1,
                           4096 / std::max<int64_t>(1, l.channels * std::min(kChunk, l.positions)));
}

}  // namespace

SoftmaxLayer::SoftmaxLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

std::unique_ptr<Layer> SoftmaxLayer::clone() const {
  return std::make_unique<SoftmaxLayer>(*this);
}

void SoftmaxLayer::infer() {
  const Shape& in = inputs_[0].shape;
  if (in.rank_known() && in.rank() < 1)
    throw Error(
        "Input: expected rank 1 or more (the values to normalize, or channels then "
        "spatial dimensions), got " +
        in.to_string());
  constrain_output(0, in, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
}

void SoftmaxLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                           const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  const Layout l = layout_of(x);
  Tensor& y = *out[0];
  y.resize(x.shape());
  const float* xd = x.data();
  float* yd = y.data();
  const int64_t n = l.positions, channels = l.channels;
  parallel_for(
      l.batch * l.chunks,
      [&](int64_t t) {
        const int64_t b = t / l.chunks, i0 = (t % l.chunks) * kChunk;
        const int64_t len = std::min(kChunk, n - i0);
        const float* xb = xd + b * channels * n + i0;
        float* yb = yd + b * channels * n + i0;
        float top[kChunk], sum[kChunk];
        for (int64_t i = 0; i < len; ++i) {
          top[i] = xb[i];
          sum[i] = 0;
        }
        for (int64_t c = 1; c < channels; ++c)
          for (int64_t i = 0; i < len; ++i)
            top[i] = std::max(top[i], xb[c * n + i]);
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t i = 0; i < len; ++i) {
            const float e = std::exp(xb[c * n + i] - top[i]);
            yb[c * n + i] = e;
            sum[i] += e;
          }
        for (int64_t i = 0; i < len; ++i)
          sum[i] = 1.0f / sum[i];
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t i = 0; i < len; ++i)
            yb[c * n + i] *= sum[i];
      },
      grain(l));
}

void SoftmaxLayer::backward(Inputs /*in*/, Inputs out, Inputs out_grad, Workspace* /*ws*/,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& y = *out[0];
  const Tensor& dy = *out_grad[0];
  if (dy.shape() != y.shape())
    throw Error("Output gradient: expected shape " + to_string(y.shape()) + ", got " +
                to_string(dy.shape()));
  const Layout l = layout_of(y);
  dx->resize(y.shape());
  const float *yd = y.data(), *gd = dy.data();
  float* dxd = dx->data();
  const int64_t n = l.positions, channels = l.channels;
  parallel_for(
      l.batch * l.chunks,
      [&](int64_t t) {
        const int64_t b = t / l.chunks, i0 = (t % l.chunks) * kChunk;
        const int64_t len = std::min(kChunk, n - i0);
        const int64_t offset = b * channels * n + i0;
        float dot[kChunk];
        for (int64_t i = 0; i < len; ++i)
          dot[i] = 0;
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t i = 0; i < len; ++i)
            dot[i] += gd[offset + c * n + i] * yd[offset + c * n + i];
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t i = 0; i < len; ++i) {
            const int64_t k = offset + c * n + i;
            dxd[k] = yd[k] * (gd[k] - dot[i]);
          }
      },
      grain(l));
}

}  // namespace strata
