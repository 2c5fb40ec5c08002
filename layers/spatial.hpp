// What ConvolutionLayer and PoolingLayer share: the per-dimension integer
// options (KernelSize, Stride, Dilation, PaddingSize) and the geometry of a
// sliding window over 1 to 3 spatial dimensions.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/shape.hpp"

namespace strata {

// Spatial dimensions a window layer supports.
inline constexpr size_t kMaxSpatialRank = 3;
// The largest kernel size, stride, dilation or padding: far beyond any real
// net, and small enough that window arithmetic cannot overflow.
inline constexpr int64_t kMaxSpatialSize = int64_t{1} << 31;

// An integer option given per spatial dimension (KernelSize, Stride,
// Dilation): one number for every dimension, or a list of 1 to 3 numbers, one
// per dimension, which fixes the spatial rank.
class SpatialSizes {
 public:
  SpatialSizes(int64_t all) : values_{all}, uniform_(true) {}  // NOLINT: implicit on purpose
  SpatialSizes(std::initializer_list<int64_t> per_dim) : values_(per_dim) {}
  explicit SpatialSizes(std::vector<int64_t> per_dim) : values_(std::move(per_dim)) {}

  bool uniform() const { return uniform_; }
  // The spatial rank a list fixes; nullopt for one number.
  std::optional<size_t> rank() const;
  // The value in spatial dimension d.
  int64_t operator[](size_t d) const { return uniform_ ? values_[0] : values_.at(d); }
  const std::vector<int64_t>& values() const { return values_; }

  bool operator==(const SpatialSizes&) const = default;

  // Throws an Error naming `key` unless every value is at least `min` and a
  // list has 1 to 3 values.
  void validate(const std::string& key, int64_t min) const;
  // A number or a list, as set_option accepts it.
  nlohmann::json to_json() const;
  static SpatialSizes from_json(const nlohmann::json& value, const std::string& key, int64_t min);

 private:
  std::vector<int64_t> values_;
  bool uniform_ = false;
};

// PaddingSize: one number (the same before and after, in every dimension), a
// list with one number per dimension, or a list of {before, after} pairs.
class PaddingSize {
 public:
  PaddingSize(int64_t all) : before_{all}, after_{all}, form_(Form::Uniform) {}  // NOLINT
  PaddingSize(std::initializer_list<int64_t> per_dim);
  PaddingSize(std::initializer_list<std::pair<int64_t, int64_t>> before_after);
  explicit PaddingSize(std::vector<int64_t> per_dim);
  explicit PaddingSize(const std::vector<std::pair<int64_t, int64_t>>& before_after);

  std::optional<size_t> rank() const;
  int64_t before(size_t d) const { return form_ == Form::Uniform ? before_[0] : before_.at(d); }
  int64_t after(size_t d) const { return form_ == Form::Uniform ? after_[0] : after_.at(d); }

  bool operator==(const PaddingSize&) const = default;

  void validate(const std::string& key) const;
  // A number, a list or a list of pairs, as set_option accepts it.
  nlohmann::json to_json() const;
  static PaddingSize from_json(const nlohmann::json& value, const std::string& key);

 private:
  enum class Form { Uniform, PerDim, Pairs };
  std::vector<int64_t> before_, after_;
  Form form_ = Form::PerDim;
};

// The spatial rank that the options' lists fix, or nullopt when all are single
// numbers. Throws an Error naming the option whose list disagrees with the
// others. `options` pairs each option's key with the rank it fixes. Allocates
// nothing unless it throws (layers call it on every forward).
struct OptionRank {
  const char* key;
  std::optional<size_t> rank;
};
std::optional<size_t> options_spatial_rank(std::initializer_list<OptionRank> options);

// "[?, ?, ?]" with the first dimension `channels` (which may be unknown).
Shape channels_and_spatial(int64_t channels, size_t spatial_rank);

// The number of window positions along one dimension:
// floor((in + before + after − dilation·(kernel − 1) − 1) / stride) + 1, or 0
// when the padded input is shorter than the dilated kernel.
int64_t window_count(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t before,
                     int64_t after);

// A sliding window over 1 to 3 spatial dimensions, written as 3 dimensions
// (depth, height, width) with size-1 leading dimensions for 1-D and 2-D, so
// that one kernel serves every rank.
struct WindowGeometry {
  std::array<int64_t, 3> in{1, 1, 1};   // input size
  std::array<int64_t, 3> out{1, 1, 1};  // output size
  std::array<int64_t, 3> kernel{1, 1, 1};
  std::array<int64_t, 3> stride{1, 1, 1};
  std::array<int64_t, 3> dilation{1, 1, 1};
  std::array<int64_t, 3> before{0, 0, 0};  // padding before
  std::array<int64_t, 3> after{0, 0, 0};   // padding after (Mean pooling's divisor)

  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
};

// The geometry for an input of the given spatial dimensions. Throws an Error
// naming Input when it is smaller than the (dilated) kernel in a dimension.
WindowGeometry window_geometry(std::span<const int64_t> spatial, const SpatialSizes& kernel,
                               const SpatialSizes& stride, const SpatialSizes& dilation,
                               const PaddingSize& padding);

// The message for an input too small for the kernel in spatial dimension d.
std::string too_small_message(size_t d, int64_t in, int64_t kernel, int64_t dilation,
                              int64_t before, int64_t after);

}  // namespace strata
