// GCC 12 reports -W(maybe-)uninitialized false positives inside Eigen 3.4's
// AVX-512 GEMM packing (Eigen's own code, instantiated here); the warnings are
// silenced for Eigen's headers only, which this include brings in first.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop

#include "layers/convolution.hpp"

#include <omp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace strata {

namespace {

using StridedMap = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using ConstStridedMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

// Weight gradients are summed per chunk of examples, then over chunks in
// order. The chunking depends only on the batch size, never on the thread
// count, so every thread count gives bit-identical results.
constexpr int64_t kMaxReduceChunks = 16;
// About this many floats of im2col columns per work item (a few hundred KB:
// the tile stays in cache between im2col and the GEMM).
constexpr int64_t kColumnBudget = int64_t{1} << 16;

struct ConvWorkspace : Workspace {
  std::vector<std::vector<float>> col;   // per thread: im2col tile
  std::vector<std::vector<float>> dcol;  // per thread: column gradients
  std::vector<float> dw_partial;         // per chunk of examples: a Weights gradient
};

// The sizes one application works with.
struct ConvPlan {
  WindowGeometry geo;
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  int64_t rows = 0;       // im2col rows: in_per_group · kernel positions
  int64_t positions = 0;  // output positions
  int64_t tile = 0;       // output positions per work item
  int64_t tiles = 0;
  bool direct = false;  // a 1×1 kernel, stride 1, no padding: the input is its own im2col
};

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// The output positions ow in [0, out) whose input ow·stride + offset is
// inside [0, size): the half-open range [lo, hi).
void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t out, int64_t& lo,
                 int64_t& hi) {
  lo = offset >= 0 ? 0 : ceil_div(-offset, stride);
  hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// Walks the im2col matrix of one example and group, restricted to the output
// positions [p0, p1): row (c, kd, kh, kw), column p holds x[c, od·sd + kd·dd −
// bd, oh·…, ow·…] (zero in the padding). Runs along the last dimension are
// split into padding / inside / padding parts so the inside part is a plain
// loop. `Accumulate` false copies x into col (im2col); true adds col back
// into x (col2im).
template <bool Accumulate, typename Ptr>
void walk_columns(Ptr x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
                  std::conditional_t<Accumulate, const float*, float*> col) {
  const int64_t width = p1 - p0;
  const int64_t ohw = g.out[1] * g.out[2];
  const int64_t in_hw = g.in[1] * g.in[2];
  const int64_t sw = g.stride[2];
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c) {
    Ptr xc = x + c * g.in_size();
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t offd = kd * g.dilation[0] - g.before[0];
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t offh = kh * g.dilation[1] - g.before[1];
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
          const int64_t offw = kw * g.dilation[2] - g.before[2];
          int64_t lo, hi;
          valid_range(offw, sw, g.in[2], g.out[2], lo, hi);
          auto* dst = col + row * width;
          int64_t p = p0;
          while (p < p1) {
            const int64_t od = p / ohw, oh = (p % ohw) / g.out[2], ow0 = p % g.out[2];
            const int64_t n = std::min(g.out[2] - ow0, p1 - p);
            const int64_t id = od * g.stride[0] + offd, ih = oh * g.stride[1] + offh;
            const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
            const int64_t a = inside ? std::clamp(lo, ow0, ow0 + n) : ow0 + n;
            const int64_t b = inside ? std::clamp(hi, a, ow0 + n) : ow0 + n;
            if constexpr (!Accumulate) {
              for (int64_t ow = ow0; ow < a; ++ow)
                dst[ow - ow0] = 0.0f;
            }
            if (a < b) {
              // Input element of output w: xr[w·sw], and its column: d[w].
              Ptr xr = xc + id * in_hw + ih * g.in[2] + (a * sw + offw);
              auto* d = dst + (a - ow0);
              const int64_t m = b - a;
              if (sw == 1) {
                for (int64_t j = 0; j < m; ++j) {
                  if constexpr (Accumulate)
                    xr[j] += d[j];
                  else
                    d[j] = xr[j];
                }
              } else {
                for (int64_t j = 0; j < m; ++j) {
                  if constexpr (Accumulate)
                    xr[j * sw] += d[j];
                  else
                    d[j] = xr[j * sw];
                }
              }
            }
            if constexpr (!Accumulate) {
              for (int64_t ow = b; ow < ow0 + n; ++ow)
                dst[ow - ow0] = 0.0f;
            }
            dst += n;
            p += n;
          }
        }
      }
    }
  }
}

// col [rows, p1 − p0] = the im2col columns p0..p1 of x (one example, one group).
void im2col(const float* x, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
            float* col) {
  walk_columns<false, const float*>(x, channels, g, p0, p1, col);
}

// x += the columns p0..p1 of col scattered back to where im2col took them.
void col2im_add(const float* col, int64_t channels, const WindowGeometry& g, int64_t p0, int64_t p1,
                float* x) {
  walk_columns<true, float*>(x, channels, g, p0, p1, col);
}

void resize_per_thread(std::vector<std::vector<float>>& buffers, int64_t size) {
  buffers.resize(static_cast<size_t>(omp_get_max_threads()));
  for (auto& b : buffers)
    if (b.size() < static_cast<size_t>(size)) b.resize(static_cast<size_t>(size));
}

}  // namespace

// ---- Options

ConvolutionLayer::ConvolutionLayer()
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {{"Weights", Shape(), std::nullopt, true},
             {"Biases", Shape::of_rank(1), std::nullopt, true}}) {}

ConvolutionLayer::ConvolutionLayer(int64_t output_channels, SpatialSizes kernel_size)
    : ConvolutionLayer() {
  this->output_channels(output_channels);
  this->kernel_size(std::move(kernel_size));
}

void ConvolutionLayer::forget_inferred_shapes() {
  outputs_[0].shape = Shape();
  for (auto& a : arrays_)
    a.shape =
        a.value ? Shape(a.value->shape()) : (a.name == "Biases" ? Shape::of_rank(1) : Shape());
}

ConvolutionLayer& ConvolutionLayer::output_channels(int64_t value) {
  if (value < 1)
    throw Error("OutputChannels: expected an integer of at least 1, got " + std::to_string(value));
  output_channels_ = value;
  forget_inferred_shapes();
  return *this;
}

ConvolutionLayer& ConvolutionLayer::kernel_size(SpatialSizes value) {
  value.validate("KernelSize", 1);
  kernel_size_ = std::move(value);
  forget_inferred_shapes();
  return *this;
}

ConvolutionLayer& ConvolutionLayer::stride(SpatialSizes value) {
  value.validate("Stride", 1);
  stride_ = std::move(value);
  forget_inferred_shapes();
  return *this;
}

ConvolutionLayer& ConvolutionLayer::padding_size(PaddingSize value) {
  value.validate("PaddingSize");
  padding_ = std::move(value);
  forget_inferred_shapes();
  return *this;
}

ConvolutionLayer& ConvolutionLayer::dilation(SpatialSizes value) {
  value.validate("Dilation", 1);
  dilation_ = std::move(value);
  forget_inferred_shapes();
  return *this;
}

ConvolutionLayer& ConvolutionLayer::channel_groups(int64_t value) {
  if (value < 1)
    throw Error("ChannelGroups: expected an integer of at least 1, got " + std::to_string(value));
  if (value > kMaxSpatialSize)
    throw Error("ChannelGroups: expected an integer of at most " + std::to_string(kMaxSpatialSize) +
                ", got " + std::to_string(value));
  groups_ = value;
  forget_inferred_shapes();
  return *this;
}

ConvolutionLayer& ConvolutionLayer::biases(bool value) {
  if (!value) {
    arrays_.resize(kBiases);
  } else if (arrays_.size() == kBiases) {
    arrays_.push_back({"Biases", Shape::of_rank(1), std::nullopt, true});
  }
  forget_inferred_shapes();
  return *this;
}

std::unique_ptr<Layer> ConvolutionLayer::clone() const {
  return std::make_unique<ConvolutionLayer>(*this);
}

nlohmann::json ConvolutionLayer::options() const {
  return {{"OutputChannels", output_channels_ ? nlohmann::json(*output_channels_) : nullptr},
          {"KernelSize", kernel_size_ ? kernel_size_->to_json() : nullptr},
          {"Stride", stride_.to_json()},
          {"PaddingSize", padding_.to_json()},
          {"Dilation", dilation_.to_json()},
          {"ChannelGroups", groups_},
          {"Biases", biases()}};
}

void ConvolutionLayer::set_option(const std::string& key, const nlohmann::json& value) {
  if (key == "OutputChannels") {
    if (value.is_null()) {
      output_channels_.reset();
      forget_inferred_shapes();
    } else {
      output_channels(option_integer(value, key, 1));
    }
  } else if (key == "KernelSize") {
    if (value.is_null()) {
      kernel_size_.reset();
      forget_inferred_shapes();
    } else {
      kernel_size(SpatialSizes::from_json(value, key, 1));
    }
  } else if (key == "Stride") {
    stride(SpatialSizes::from_json(value, key, 1));
  } else if (key == "PaddingSize") {
    padding_size(PaddingSize::from_json(value, key));
  } else if (key == "Dilation") {
    dilation(SpatialSizes::from_json(value, key, 1));
  } else if (key == "ChannelGroups") {
    channel_groups(option_integer(value, key, 1));
  } else if (key == "Biases") {
    biases(option_bool(value, key));
  } else {
    throw_unknown_option(*this, key,
                         {"OutputChannels", "KernelSize", "Stride", "PaddingSize", "Dilation",
                          "ChannelGroups", "Biases"});
  }
}

// ---- Shape inference

std::optional<size_t> ConvolutionLayer::spatial_rank() const {
  return options_spatial_rank({{"KernelSize", kernel_size_ ? kernel_size_->rank() : std::nullopt},
                               {"Stride", stride_.rank()},
                               {"PaddingSize", padding_.rank()},
                               {"Dilation", dilation_.rank()}});
}

void ConvolutionLayer::infer() {
  if (!output_channels_) throw Error("OutputChannels: required option is missing");
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  const int64_t out_channels = *output_channels_;
  const std::string groups_text = "ChannelGroups (" + std::to_string(groups_) + ")";
  if (out_channels % groups_ != 0)
    throw Error("OutputChannels: expected a multiple of " + groups_text + ", got " +
                std::to_string(out_channels));

  for (const Port* p : {&inputs_[0], &outputs_[0]})
    if (p->shape.rank_known() && (p->shape.rank() < 2 || p->shape.rank() > 4))
      throw Error(p->name +
                  ": expected rank 2 to 4 (channels, then 1 to 3 spatial dimensions), got " +
                  p->shape.to_string());
  const Shape& weights = arrays_[kWeights].shape;
  if (weights.rank_known() && (weights.rank() < 3 || weights.rank() > 5))
    throw Error("Weights: expected rank 3 to 5 ([out, in / groups, kernel…]), got " +
                weights.to_string());

  // The spatial rank: from the options' lists, else from a port or Weights.
  std::optional<size_t> rank = spatial_rank();
  if (!rank && inputs_[0].shape.rank_known()) rank = inputs_[0].shape.rank() - 1;
  if (!rank && outputs_[0].shape.rank_known()) rank = outputs_[0].shape.rank() - 1;
  if (!rank && weights.rank_known()) rank = weights.rank() - 2;
  if (!rank) return;
  const size_t r = *rank;
  const std::string spatial_why =
      "channels and " + std::to_string(r) + " spatial dimension" + (r == 1 ? "" : "s");
  constrain_input(0, Shape::of_rank(r + 1), spatial_why);
  constrain_output(0, Shape::of_rank(r + 1), spatial_why);

  // Input channels: divisible by the groups; Weights hold in / groups.
  const Shape& in = inputs_[0].shape;
  if (in.dim_known(0) && in[0] % groups_ != 0)
    throw Error("Input: expected a channel count divisible by " + groups_text + ", got " +
                std::to_string(in[0]));
  Shape w = Shape::of_rank(r + 2);
  w[0] = out_channels;
  w[1] = in.dim_known(0) ? in[0] / groups_ : kUnknownDim;
  for (size_t d = 0; d < r; ++d)
    w[2 + d] = (*kernel_size_)[d];
  constrain_array(kWeights, w, "[OutputChannels, input channels / ChannelGroups, KernelSize…]");
  if (arrays_[kWeights].shape.dim_known(1)) {
    const int64_t per_group = arrays_[kWeights].shape[1];
    if (per_group > kMaxElements / groups_)
      throw Error("Weights: " + std::to_string(per_group) + " input channels per group times " +
                  groups_text + " is too many channels");
    constrain_input(0, channels_and_spatial(per_group * groups_, r),
                    "channels fixed by Weights and ChannelGroups");
  }
  if (biases()) constrain_array(kBiases, Shape{out_channels}, "one per output channel");

  // Output sizes from the input; input sizes from the output where stride 1
  // makes the map invertible.
  Shape out = channels_and_spatial(out_channels, r);
  Shape back = Shape::of_rank(r + 1);
  const Shape& have_out = outputs_[0].shape;
  for (size_t d = 0; d < r; ++d) {
    const int64_t k = (*kernel_size_)[d], s = stride_[d], dil = dilation_[d];
    const int64_t b = padding_.before(d), a = padding_.after(d);
    if (in.dim_known(d + 1)) {
      out[d + 1] = window_count(in[d + 1], k, s, dil, b, a);
      if (out[d + 1] < 1) throw Error(too_small_message(d, in[d + 1], k, dil, b, a));
    } else if (s == 1 && have_out.dim_known(d + 1)) {
      back[d + 1] = have_out[d + 1] + dil * (k - 1) - b - a;
      if (back[d + 1] < 1)
        throw Error("Output: size " + std::to_string(have_out[d + 1]) + " in spatial dimension " +
                    std::to_string(d + 1) + " cannot come from any input (the padding alone " +
                    "gives more)");
    }
  }
  constrain_output(0, out, "from Input and the options");
  constrain_input(0, back, "from Output and the options");
}

// ---- Execution

std::unique_ptr<Workspace> ConvolutionLayer::make_workspace() const {
  return std::make_unique<ConvWorkspace>();
}

namespace {

ConvPlan make_plan(const Tensor& x, const Tensor& weights, const SpatialSizes& kernel,
                   const SpatialSizes& stride, const SpatialSizes& dilation,
                   const PaddingSize& padding, int64_t groups) {
  if (x.rank() < 3 || x.rank() > 5)
    throw Error("Input: expected a batch of rank 3 to 5 (batch, channels, 1 to 3 spatial " +
                std::string("dimensions), got ") + to_string(x.shape()));
  ConvPlan p;
  const size_t r = x.rank() - 2;
  p.batch = x.dim(0);
  p.in_channels = x.dim(1);
  p.groups = groups;
  p.out_channels = weights.dim(0);
  p.out_per_group = p.out_channels / groups;
  p.in_per_group = weights.rank() > 1 ? weights.dim(1) : 0;
  Dims want{p.out_channels, p.in_channels / groups};
  for (size_t d = 0; d < r; ++d)
    want.push_back(kernel[d]);
  if (p.in_channels % groups != 0 || weights.shape() != want)
    throw Error("Input: " + to_string(x.shape()) + " does not fit Weights " +
                to_string(weights.shape()) + " with ChannelGroups " + std::to_string(groups));
  p.geo = window_geometry(Dims(x.shape().begin() + 2, x.shape().end()), kernel, stride, dilation,
                          padding);
  p.rows = p.in_per_group * p.geo.kernel_size();
  p.positions = p.geo.out_size();
  p.direct = p.geo.kernel_size() == 1 && p.geo.stride == std::array<int64_t, 3>{1, 1, 1} &&
             p.geo.before == std::array<int64_t, 3>{0, 0, 0} && p.geo.in == p.geo.out;
  const int64_t budget =
      std::max<int64_t>(64, kColumnBudget / std::max<int64_t>(1, p.rows) / 8 * 8);
  p.tile = std::max<int64_t>(1, std::min(p.positions, budget));
  p.tiles = ceil_div(p.positions, p.tile);
  return p;
}

Dims output_dims(const ConvPlan& p, size_t spatial_rank) {
  Dims d{p.batch, p.out_channels};
  for (size_t i = kMaxSpatialRank - spatial_rank; i < kMaxSpatialRank; ++i)
    d.push_back(p.geo.out[i]);
  return d;
}

}  // namespace

void ConvolutionLayer::check_runnable(const Tensor& x) const {
  if (!output_channels_) throw Error("OutputChannels: required option is missing");
  if (!kernel_size_) throw Error("KernelSize: required option is missing");
  const auto rank = spatial_rank();
  if (rank && x.rank() != *rank + 2)
    throw Error("Input: expected a batch with " + std::to_string(*rank) +
                " spatial dimensions (as KernelSize etc.), got " + to_string(x.shape()));
  if (!arrays_[kWeights].value || (biases() && !arrays_[kBiases].value))
    throw Error("arrays not initialized (call NetInitialize first)");
}

void ConvolutionLayer::forward(Inputs in, Outputs out, Workspace* ws,
                               const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& weights = array_value(kWeights);
  const ConvPlan p = make_plan(x, weights, *kernel_size_, stride_, dilation_, padding_, groups_);
  Tensor& y = *out[0];
  y.resize(output_dims(p, x.rank() - 2));

  ConvWorkspace local;
  auto* work = ws ? static_cast<ConvWorkspace*>(ws) : &local;
  if (!p.direct) resize_per_thread(work->col, p.rows * p.tile);

  const float* xd = x.data();
  const float* wd = weights.data();
  const float* bd = biases() ? array_value(kBiases).data() : nullptr;
  float* yd = y.data();
  const int64_t items = p.batch * p.groups * p.tiles;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t n = item / (p.groups * p.tiles);
    const int64_t g = (item / p.tiles) % p.groups;
    const int64_t p0 = (item % p.tiles) * p.tile;
    const int64_t cols = std::min(p.positions, p0 + p.tile) - p0;
    const float* xg = xd + (n * p.in_channels + g * p.in_per_group) * p.geo.in_size();
    const float* colp = xg + p0;
    int64_t col_stride = p.positions;
    if (!p.direct) {
      float* col = work->col[static_cast<size_t>(omp_get_thread_num())].data();
      im2col(xg, p.in_per_group, p.geo, p0, p0 + cols, col);
      colp = col;
      col_stride = cols;
    }
    ConstStridedMap b(colp, p.rows, cols, Eigen::OuterStride<>(col_stride));
    ConstMatrixMap wg(wd + g * p.out_per_group * p.rows, p.out_per_group, p.rows);
    StridedMap yt(yd + (n * p.out_channels + g * p.out_per_group) * p.positions + p0,
                  p.out_per_group, cols, Eigen::OuterStride<>(p.positions));
    yt.noalias() = wg * b;
    if (bd)
      for (int64_t o = 0; o < p.out_per_group; ++o)
        yt.row(o).array() += bd[g * p.out_per_group + o];
  }
}

void ConvolutionLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* ws,
                                Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  check_runnable(x);
  const Tensor& dy = *out_grad[0];
  const Tensor& weights = array_value(kWeights);
  const ConvPlan p = make_plan(x, weights, *kernel_size_, stride_, dilation_, padding_, groups_);
  if (dy.shape() != output_dims(p, x.rank() - 2))
    throw Error("Output gradient: expected " + to_string(output_dims(p, x.rank() - 2)) + ", got " +
                to_string(dy.shape()));
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  Tensor* dw = array_grad.size() > kWeights ? array_grad[kWeights] : nullptr;
  Tensor* db = biases() && array_grad.size() > kBiases ? array_grad[kBiases] : nullptr;

  ConvWorkspace local;
  auto* work = ws ? static_cast<ConvWorkspace*>(ws) : &local;
  const int64_t chunks = std::min(p.batch, kMaxReduceChunks);
  const int64_t wsize = weights.size();
  if (dx) dx->resize(x.shape());
  if (dw) {
    dw->resize(weights.shape());
    work->dw_partial.resize(static_cast<size_t>(std::max<int64_t>(chunks, 1) * wsize));
    if (p.batch == 0) dw->fill(0.0f);
  }
  if (!p.direct) {
    if (dw) resize_per_thread(work->col, p.rows * p.tile);
    if (dx) resize_per_thread(work->dcol, p.rows * p.tile);
  }

  const float* xd = x.data();
  const float* wd = weights.data();
  const float* dyd = dy.data();
  float* dxd = dx ? dx->data() : nullptr;
  float* partial = dw ? work->dw_partial.data() : nullptr;
  if (dx || dw) {
    const int64_t items = chunks * p.groups;
#pragma omp parallel for schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t chunk = item / p.groups, g = item % p.groups;
      const size_t thread = static_cast<size_t>(omp_get_thread_num());
      ConstMatrixMap wg(wd + g * p.out_per_group * p.rows, p.out_per_group, p.rows);
      MatrixMap dwg(partial ? partial + chunk * wsize + g * p.out_per_group * p.rows : nullptr,
                    p.out_per_group, partial ? p.rows : 0);
      if (partial) dwg.setZero();
      for (int64_t n = chunk * p.batch / chunks; n < (chunk + 1) * p.batch / chunks; ++n) {
        const int64_t xoff = (n * p.in_channels + g * p.in_per_group) * p.geo.in_size();
        const float* xg = xd + xoff;
        float* dxg = dxd ? dxd + xoff : nullptr;
        if (dxg && !p.direct) std::fill(dxg, dxg + p.in_per_group * p.geo.in_size(), 0.0f);
        for (int64_t t = 0; t < p.tiles; ++t) {
          const int64_t p0 = t * p.tile;
          const int64_t cols = std::min(p.positions, p0 + p.tile) - p0;
          ConstStridedMap dyt(dyd + (n * p.out_channels + g * p.out_per_group) * p.positions + p0,
                              p.out_per_group, cols, Eigen::OuterStride<>(p.positions));
          if (partial) {
            const float* colp = xg + p0;
            int64_t col_stride = p.positions;
            if (!p.direct) {
              float* col = work->col[thread].data();
              im2col(xg, p.in_per_group, p.geo, p0, p0 + cols, col);
              colp = col;
              col_stride = cols;
            }
            ConstStridedMap b(colp, p.rows, cols, Eigen::OuterStride<>(col_stride));
            dwg.noalias() += dyt * b.transpose();
          }
          if (dxg) {
            if (p.direct) {
              StridedMap dxt(dxg + p0, p.rows, cols, Eigen::OuterStride<>(p.positions));
              dxt.noalias() = wg.transpose() * dyt;
            } else {
              MatrixMap dcol(work->dcol[thread].data(), p.rows, cols);
              dcol.noalias() = wg.transpose() * dyt;
              col2im_add(dcol.data(), p.in_per_group, p.geo, p0, p0 + cols, dxg);
            }
          }
        }
      }
    }
  }
  if (dw && p.batch > 0) {
    float* dwd = dw->data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < wsize; ++i) {
      float s = partial[i];
      for (int64_t c = 1; c < chunks; ++c)
        s += partial[c * wsize + i];
      dwd[i] = s;
    }
  }
  if (db) {
    db->resize({p.out_channels});
    float* dbd = db->data();
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < p.out_channels; ++o) {
      double s = 0;
      for (int64_t n = 0; n < p.batch; ++n) {
        const float* row = dyd + (n * p.out_channels + o) * p.positions;
        for (int64_t i = 0; i < p.positions; ++i)
          s += row[i];
      }
      dbd[o] = static_cast<float>(s);
    }
  }
}

}  // namespace strata
