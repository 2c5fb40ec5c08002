#include "layers/pooling.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

const SpatialSizes kUnitSizes(1);  // pooling has no dilation

struct PoolingWorkspace : Workspace {
  // Max: for each output element, the index of its maximum within the
  // input plane (the same example and channel).
  std::vector<int32_t> argmax;
  Dims input_shape;  // of the forward that filled argmax
};

// The inputs [first, last) of a window along one dimension, padding left out.
struct Span {
  int64_t first, last;
};

Span window_span(int64_t o, const WindowGeometry& g, size_t d) {
  const int64_t start = o * g.stride[d] - g.before[d];
  return {std::max<int64_t>(0, start), std::min(start + g.kernel[d], g.in[d])};
}

// Runs fn(output index, d-span, h-span, w-span) for every output position of
// one plane.
template <typename Fn>
void for_each_window(const WindowGeometry& g, Fn&& fn) {
  int64_t o = 0;
  for (int64_t od = 0; od < g.out[0]; ++od) {
    const Span sd = window_span(od, g, 0);
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const Span sh = window_span(oh, g, 1);
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o)
        fn(o, sd, sh, window_span(ow, g, 2));
    }
  }
}

// Whether every window lies inside the input (no padding to leave out) and
// the windows are 2-D or 1-D: then max pooling needs no per-window spans.
bool plain_2d(const WindowGeometry& g) {
  if (g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1) return false;
  for (size_t d = 1; d < 3; ++d)
    if (g.before[d] != 0 || (g.out[d] - 1) * g.stride[d] + g.kernel[d] > g.in[d]) return false;
  return true;
}

// Max pooling of one plane with windows inside the input: the same scan
// order and tie rules as the general case (the first of equal maxima; a NaN
// wins), branch-free. KH, KW > 0: the kernel size known at compile time.
template <int64_t KH, int64_t KW>
void max_plane_2d(const WindowGeometry& g, const float* x, float* y, int32_t* argmax) {
  const int64_t kh = KH > 0 ? KH : g.kernel[1], kw = KW > 0 ? KW : g.kernel[2];
  const int64_t sh = g.stride[1], sw = g.stride[2], w = g.in[2];
  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
    const float* row = x + oh * sh * w;
    const int64_t base = oh * sh * w;
    float* yr = y + oh * g.out[2];
    int32_t* ar = argmax ? argmax + oh * g.out[2] : nullptr;
    for (int64_t ow = 0; ow < g.out[2]; ++ow) {
      // The first element needs no test: a value > −∞, a NaN, or −∞ itself
      // (which the general case keeps as the first) all end up in m.
      float m = row[ow * sw];
      int64_t best = base + ow * sw;
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = (i == 0 ? 1 : 0); j < kw; ++j) {
          const int64_t k = i * w + ow * sw + j;
          const float v = row[k];
          const bool take = v > m || v != v;
          m = take ? v : m;
          best = take ? base + k : best;
        }
      yr[ow] = m;
      if (ar) ar[ow] = static_cast<int32_t>(best);
    }
  }
}

// Planes per step of the 2×2 kernel below: about this many input elements.
constexpr int64_t kPairBlock = 4096;

// 2×2 windows with stride 2 that exactly tile small planes (at most
// kPairBlock elements) of even height and width: first the larger of each horizontal pair (one flat
// sweep over all the planes, which vectorizes), then the larger of each vertical pair of those.
// Same scan order and tie rules as the general case: a, b on the top row, then c, d below; the
// first of equal maxima, and a NaN wins.
void max_pool_2x2(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  const int64_t ow = w / 2, oh_n = h / 2;
  const int64_t block = std::max<int64_t>(1, kPairBlock / (h * w));  // planes per step
  float half[kPairBlock / 2];
  uint8_t right[kPairBlock / 2];
  for (int64_t p0 = 0; p0 < planes; p0 += block) {
    const int64_t count = std::min(block, planes - p0);
    const float* xb = x + p0 * h * w;
    const int64_t pairs = count * h * ow;
    for (int64_t i = 0; i < pairs; ++i) {
      const float a = xb[2 * i], b = xb[2 * i + 1];
      const bool take = b > a || b != b;
      half[i] = take ? b : a;
      right[i] = take;
    }
    for (int64_t q = 0; q < count * oh_n; ++q) {
      const float* top = half + 2 * q * ow;
      const uint8_t* rt = right + 2 * q * ow;
      float* yq = y + (p0 * oh_n + q) * ow;
      int32_t* aq = argmax ? argmax + (p0 * oh_n + q) * ow : nullptr;
      const int64_t row = 2 * (q % oh_n);
      for (int64_t j = 0; j < ow; ++j) {
        const float t = top[j], b = top[ow + j];
        const bool take = b > t || b != b;
        yq[j] = take ? b : t;
        if (aq)
          aq[j] = static_cast<int32_t>((row + take) * w + 2 * j + (take ? rt[ow + j] : rt[j]));
      }
    }
  }
}

// 2×2 windows with stride 2 that tile every plane exactly (even height and
// width, no padding): output row q of the whole batch comes from input rows
// 2q and 2q + 1, whatever the plane.
bool tiles_2x2(const WindowGeometry& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.kernel[1] == 2 && g.kernel[2] == 2 &&
         g.stride[1] == 2 && g.stride[2] == 2 && g.before[1] == 0 && g.before[2] == 0 &&
         g.in[1] == 2 * g.out[1] && g.in[2] == 2 * g.out[2];
}

bool exact_2x2(const WindowGeometry& g) {
  return tiles_2x2(g) && g.in_size() <= kPairBlock &&
         g.out[2] < 16;  // longer rows vectorize well in max_plane_2d
}

// Mean or Total pooling of output rows [q0, q1) of tiles_2x2 windows:
// (a + b) + (c + d), summed row by row as the general case does.
void sum_pool_2x2(const float* x, int64_t q0, int64_t q1, int64_t ow, float scale, float* y) {
  const int64_t w = 2 * ow;
  for (int64_t q = q0; q < q1; ++q) {
    const float* top = x + 2 * q * w;
    const float* bottom = top + w;
    float* yq = y + q * ow;
    for (int64_t j = 0; j < ow; ++j)
      yq[j] = ((top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1])) * scale;
  }
}

// Its gradient: each input receives its window's output gradient × scale.
void sum_pool_2x2_grad(const float* dy, int64_t q0, int64_t q1, int64_t ow, float scale,
                       float* dx) {
  const int64_t w = 2 * ow;
  for (int64_t q = q0; q < q1; ++q) {
    const float* gq = dy + q * ow;
    float* top = dx + 2 * q * w;
    float* bottom = top + w;
    for (int64_t j = 0; j < ow; ++j) {
      const float v = gq[j] * scale;
      top[2 * j] = top[2 * j + 1] = bottom[2 * j] = bottom[2 * j + 1] = v;
    }
  }
}

// Output rows handed to a thread at a time: about this many output elements.
constexpr int64_t kRowBlock = 2048;

}  // namespace

std::string to_string(PoolingFunction f) {
  switch (f) {
    case PoolingFunction::Max:
      return "Max";
    case PoolingFunction::Mean:
      return "Mean";
    case PoolingFunction::Total:
      return "Total";
  }
  return "?";
}

// ---- Options

PoolingLayer::PoolingLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

PoolingLayer::PoolingLayer(SpatialSizes kernel_size) : PoolingLayer() {
  this->kernel_size(std::move(kernel_size));
}

namespace {

const Choice<PoolingFunction> kFunctions{
    {PoolingFunction::Max, PoolingFunction::Mean, PoolingFunction::Total},
    {"Max", "Mean", "Total"},
    "\"Max\", \"Mean\" or \"Total\""};

}  // namespace

const OptionTable& PoolingLayer::option_table() const {
  using L = PoolingLayer;
  static const OptionTable table =
      OptionsOf<L>()
          .add("KernelSize", &L::kernel_size_, Required{Spatial{1}})
          .add("Stride", &L::stride_, Spatial{1})
          .add("PaddingSize", &L::padding_, Padding{})
          .add("Function", &L::function_, kFunctions, Affects::Nothing);
  return table;
}

PoolingLayer& PoolingLayer::kernel_size(SpatialSizes value) {
  return assign_option(*this, "KernelSize", std::optional<SpatialSizes>(std::move(value)));
}

PoolingLayer& PoolingLayer::stride(SpatialSizes value) {
  return assign_option(*this, "Stride", std::move(value));
}

PoolingLayer& PoolingLayer::padding_size(PaddingSize value) {
  return assign_option(*this, "PaddingSize", std::move(value));
}

PoolingLayer& PoolingLayer::function(PoolingFunction value) {
  return assign_option(*this, "Function", value);
}

PoolingLayer& PoolingLayer::function(const std::string& value) {
  return function(kFunctions.parse(value, "Function"));
}

LayerTraits PoolingLayer::traits() const {
  LayerTraits t;
  t.transparent_to_activation = true;
  return t;
}

std::unique_ptr<Layer> PoolingLayer::clone() const {
  return std::make_unique<PoolingLayer>(*this);
}

// ---- Shape inference

std::optional<size_t> PoolingLayer::spatial_rank() const {
  return options_spatial_rank({{"KernelSize", kernel_size_ ? kernel_size_->rank() : std::nullopt},
                               {"Stride", stride_.rank()},
                               {"PaddingSize", padding_.rank()}});
}

void PoolingLayer::infer() {
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
  std::optional<size_t> rank = spatial_rank();
  if (!rank && inputs_[0].shape.rank_known()) rank = inputs_[0].shape.rank() - 1;
  if (!rank && outputs_[0].shape.rank_known()) rank = outputs_[0].shape.rank() - 1;
  if (!rank) return;
  const size_t r = *rank;
  for (size_t d = 0; d < r; ++d)
    if (padding_.before(d) >= (*kernel_size_)[d] || padding_.after(d) >= (*kernel_size_)[d])
      throw Error("PaddingSize: expected less than KernelSize " + kernel_size_->to_json().dump() +
                  " on each side (else a window can lie entirely in the padding), got " +
                  padding_.to_json().dump());
  const std::string spatial_why =
      "channels and " + std::to_string(r) + " spatial dimension" + (r == 1 ? "" : "s");
  constrain_input(0, Shape::of_rank(r + 1), spatial_why);
  constrain_output(0, Shape::of_rank(r + 1), spatial_why);

  const Shape& in = inputs_[0].shape;
  const Shape& have_out = outputs_[0].shape;
  Shape out = channels_and_spatial(in[0], r);
  Shape back = channels_and_spatial(have_out[0], r);
  for (size_t d = 0; d < r; ++d) {
    const int64_t k = (*kernel_size_)[d], s = stride_[d];
    const int64_t b = padding_.before(d), a = padding_.after(d);
    if (in.dim_known(d + 1)) {
      out[d + 1] = window_count(in[d + 1], k, s, 1, b, a);
      if (out[d + 1] < 1) throw Error(too_small_message(d, in[d + 1], k, 1, b, a));
    } else if (s == 1 && have_out.dim_known(d + 1)) {
      // Padding < kernel makes this at least 1.
      back[d + 1] = have_out[d + 1] + k - 1 - b - a;
    }
  }
  constrain_output(0, out, "from Input and the options");
  constrain_input(0, back, "from Output and the options");
}

// ---- Execution

std::unique_ptr<Workspace> PoolingLayer::make_workspace() const {
  return std::make_unique<PoolingWorkspace>();
}

WindowGeometry PoolingLayer::geometry_for(const Tensor& x) const {
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  if (x.rank() < 3 || x.rank() > 5)
    throw Error(
        "Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial dimensions), "
        "got " +
        to_string(x.shape()));
  const size_t r = x.rank() - 2;
  if (const auto rank = spatial_rank(); rank && *rank != r)
    throw Error("Input: expected a batch with " + std::to_string(*rank) +
                " spatial dimensions (as KernelSize etc.), got " + to_string(x.shape()));
  for (size_t d = 0; d < r; ++d)
    if (padding_.before(d) >= (*kernel_size_)[d] || padding_.after(d) >= (*kernel_size_)[d])
      throw Error("PaddingSize: expected less than KernelSize on each side, got " +
                  padding_.to_json().dump());
  WindowGeometry g = window_geometry(std::span<const int64_t>(x.shape()).subspan(2), *kernel_size_,
                                     stride_, kUnitSizes, padding_);
  if (g.in_size() > std::numeric_limits<int32_t>::max())
    throw Error("Input: spatial size " + std::to_string(g.in_size()) +
                " is too large for pooling (at most 2^31 − 1 positions per channel)");
  return g;
}

void PoolingLayer::forward(Inputs in, Outputs out, Workspace* ws, const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  const WindowGeometry g = geometry_for(x);
  std::array<int64_t, 5> out_dims{x.dim(0), x.dim(1)};
  size_t rank = 2;
  for (size_t i = kMaxSpatialRank - (x.rank() - 2); i < kMaxSpatialRank; ++i)
    out_dims[rank++] = g.out[i];
  Tensor& y = *out[0];
  y.resize(std::span<const int64_t>(out_dims.data(), rank));

  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const int64_t in_hw = g.in[1] * g.in[2];
  const float* xd = x.data();
  float* yd = y.data();

  if (function_ == PoolingFunction::Max) {
    auto* work = static_cast<PoolingWorkspace*>(ws);
    int32_t* argmax = nullptr;
    if (work) {
      work->argmax.resize(static_cast<size_t>(planes * out_size));
      work->input_shape = x.shape();
      argmax = work->argmax.data();
    }
    if (exact_2x2(g)) {
      // Small planes, a block of them at a time.
      const int64_t block = std::max<int64_t>(1, kPairBlock / in_size);
      parallel_for((planes + block - 1) / block, [&](int64_t k) {
        const int64_t p0 = k * block, count = std::min(block, planes - p0);
        max_pool_2x2(xd + p0 * in_size, count, g.in[1], g.in[2], yd + p0 * out_size,
                     argmax ? argmax + p0 * out_size : nullptr);
      });
      return;
    }
    if (plain_2d(g)) {
      const bool two_by_two = g.kernel[1] == 2 && g.kernel[2] == 2;
      parallel_for(planes, [&](int64_t plane) {
        const float* xp = xd + plane * in_size;
        float* yp = yd + plane * out_size;
        int32_t* ap = argmax ? argmax + plane * out_size : nullptr;
        if (two_by_two)
          max_plane_2d<2, 2>(g, xp, yp, ap);
        else
          max_plane_2d<0, 0>(g, xp, yp, ap);
      });
      return;
    }
    parallel_for(planes, [&](int64_t plane) {
      const float* xp = xd + plane * in_size;
      float* yp = yd + plane * out_size;
      int32_t* ap = argmax ? argmax + plane * out_size : nullptr;
      for_each_window(g, [&](int64_t o, const Span& sd, const Span& sh, const Span& sw) {
        // Scanned in window order; `>` keeps the first of equal maxima and a
        // NaN wins, as in PyTorch.
        int64_t best = (sd.first * g.in[1] + sh.first) * g.in[2] + sw.first;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t id = sd.first; id < sd.last; ++id)
          for (int64_t ih = sh.first; ih < sh.last; ++ih) {
            const int64_t row = id * in_hw + ih * g.in[2];
            for (int64_t iw = sw.first; iw < sw.last; ++iw) {
              const float v = xp[row + iw];
              if (v > m || std::isnan(v)) {
                m = v;
                best = row + iw;
              }
            }
          }
        yp[o] = m;
        if (ap) ap[o] = static_cast<int32_t>(best);
      });
    });
    return;
  }

  const float scale =
      function_ == PoolingFunction::Mean ? 1.0f / static_cast<float>(g.kernel_size()) : 1.0f;
  if (tiles_2x2(g)) {
    const int64_t rows = planes * g.out[1], ow = g.out[2];
    const int64_t block = std::max<int64_t>(1, kRowBlock / ow);
    parallel_for((rows + block - 1) / block, [&](int64_t k) {
      sum_pool_2x2(xd, k * block, std::min(rows, (k + 1) * block), ow, scale, yd);
    });
    return;
  }
  parallel_for(planes, [&](int64_t plane) {
    const float* xp = xd + plane * in_size;
    float* yp = yd + plane * out_size;
    for_each_window(g, [&](int64_t o, const Span& sd, const Span& sh, const Span& sw) {
      // Each row of the window summed on its own, then the rows in order, so
      // that the sum does not depend on the path (see sum_pool_2x2).
      float s = 0;
      bool first = true;
      for (int64_t id = sd.first; id < sd.last; ++id)
        for (int64_t ih = sh.first; ih < sh.last; ++ih) {
          const float* row = xp + id * in_hw + ih * g.in[2];
          float r = row[sw.first];
          for (int64_t iw = sw.first + 1; iw < sw.last; ++iw)
            r += row[iw];
          s = first ? r : s + r;
          first = false;
        }
      yp[o] = s * scale;
    });
  });
}

void PoolingLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  const WindowGeometry g = geometry_for(x);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const int64_t in_hw = g.in[1] * g.in[2];
  if (dy.size() != planes * out_size)
    throw Error("Output gradient: expected " + std::to_string(planes * out_size) +
                " elements, got " + to_string(dy.shape()));
  dx->resize(x.shape());
  const float* dyd = dy.data();
  float* dxd = dx->data();

  if (function_ == PoolingFunction::Max) {
    auto* work = static_cast<PoolingWorkspace*>(ws);
    if (!work || work->input_shape != x.shape() ||
        work->argmax.size() != static_cast<size_t>(planes * out_size))
      throw Error("backward called without a matching forward");
    const int32_t* argmax = work->argmax.data();
    parallel_for(planes, [&](int64_t plane) {
      const float* gp = dyd + plane * out_size;
      const int32_t* ap = argmax + plane * out_size;
      float* dxp = dxd + plane * in_size;
      std::fill_n(dxp, in_size, 0.0f);  // here, not before the loop: in parallel
      for (int64_t o = 0; o < out_size; ++o)
        dxp[ap[o]] += gp[o];
    });
    return;
  }

  const float scale =
      function_ == PoolingFunction::Mean ? 1.0f / static_cast<float>(g.kernel_size()) : 1.0f;
  if (tiles_2x2(g)) {
    const int64_t rows = planes * g.out[1], ow = g.out[2];
    const int64_t block = std::max<int64_t>(1, kRowBlock / ow);
    parallel_for((rows + block - 1) / block, [&](int64_t k) {
      sum_pool_2x2_grad(dyd, k * block, std::min(rows, (k + 1) * block), ow, scale, dxd);
    });
    return;
  }
  parallel_for(planes, [&](int64_t plane) {
    const float* gp = dyd + plane * out_size;
    float* dxp = dxd + plane * in_size;
    std::fill_n(dxp, in_size, 0.0f);
    for_each_window(g, [&](int64_t o, const Span& sd, const Span& sh, const Span& sw) {
      const float v = gp[o] * scale;
      for (int64_t id = sd.first; id < sd.last; ++id)
        for (int64_t ih = sh.first; ih < sh.last; ++ih) {
          float* row = dxp + id * in_hw + ih * g.in[2];
          for (int64_t iw = sw.first; iw < sw.last; ++iw)
            row[iw] += v;
        }
    });
  });
}

}  // namespace strata
