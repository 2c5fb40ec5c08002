#include "layers/spatial.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/layer.hpp"

namespace strata {

namespace {

std::string list_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

void check_list_length(size_t n, const std::string& key, const std::string& got) {
  if (n < 1 || n > kMaxSpatialRank)
    throw Error(
        key + ": expected one integer or a list of 1 to 3 (one per spatial dimension), got " + got);
}

}  // namespace

// ---- SpatialSizes

std::optional<size_t> SpatialSizes::rank() const {
  if (uniform_) return std::nullopt;
  return values_.size();
}

void SpatialSizes::validate(const std::string& key, int64_t min) const {
  check_list_length(values_.size(), key,
                    uniform_ ? std::to_string(values_[0]) : list_string(values_));
  for (int64_t v : values_)
    if (v < min || v > kMaxSpatialSize)
      throw Error(
          key + ": expected integers of at " +
          (v < min ? "least " + std::to_string(min) : "most " + std::to_string(kMaxSpatialSize)) +
          ", got " + (uniform_ ? std::to_string(v) : list_string(values_)));
}

nlohmann::json SpatialSizes::to_json() const {
  if (uniform_) return values_[0];
  return values_;
}

SpatialSizes SpatialSizes::from_json(const nlohmann::json& value, const std::string& key,
                                     int64_t min) {
  if (value.is_number()) return SpatialSizes(option_integer(value, key, min));
  if (!value.is_array())
    throw Error(key + ": expected an integer or a list of integers, got " + value.dump());
  check_list_length(value.size(), key, value.dump());
  std::vector<int64_t> v;
  for (const auto& x : value)
    v.push_back(option_integer(x, key, min));
  return SpatialSizes(std::move(v));
}

// ---- PaddingSize

PaddingSize::PaddingSize(std::initializer_list<int64_t> per_dim)
    : PaddingSize(std::vector<int64_t>(per_dim)) {}

PaddingSize::PaddingSize(std::initializer_list<std::pair<int64_t, int64_t>> before_after)
    : PaddingSize(std::vector<std::pair<int64_t, int64_t>>(before_after)) {}

PaddingSize::PaddingSize(std::vector<int64_t> per_dim)
    : before_(per_dim), after_(std::move(per_dim)), form_(Form::PerDim) {}

PaddingSize::PaddingSize(const std::vector<std::pair<int64_t, int64_t>>& before_after)
    : form_(Form::Pairs) {
  for (const auto& [b, a] : before_after) {
    before_.push_back(b);
    after_.push_back(a);
  }
}

std::optional<size_t> PaddingSize::rank() const {
  if (form_ == Form::Uniform) return std::nullopt;
  return before_.size();
}

void PaddingSize::validate(const std::string& key) const {
  if (form_ != Form::Uniform) check_list_length(before_.size(), key, to_json().dump());
  for (size_t d = 0; d < before_.size(); ++d)
    if (before_[d] < 0 || after_[d] < 0)
      throw Error(key + ": expected integers of at least 0, got " + to_json().dump());
    else if (before_[d] > kMaxSpatialSize || after_[d] > kMaxSpatialSize)
      throw Error(key + ": expected integers of at most " + std::to_string(kMaxSpatialSize) +
                  ", got " + to_json().dump());
}

nlohmann::json PaddingSize::to_json() const {
  switch (form_) {
    case Form::Uniform:
      return before_[0];
    case Form::PerDim:
      return before_;
    case Form::Pairs:
      break;
  }
  nlohmann::json pairs = nlohmann::json::array();
  for (size_t d = 0; d < before_.size(); ++d)
    pairs.push_back({before_[d], after_[d]});
  return pairs;
}

PaddingSize PaddingSize::from_json(const nlohmann::json& value, const std::string& key) {
  if (value.is_number()) return PaddingSize(option_integer(value, key, 0));
  const char* expected =
      ": expected an integer, a list of integers or a list of [before, after] pairs, got ";
  if (!value.is_array() || value.empty()) throw Error(key + expected + value.dump());
  check_list_length(value.size(), key, value.dump());
  if (value[0].is_array()) {
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (const auto& p : value) {
      if (!p.is_array() || p.size() != 2) throw Error(key + expected + value.dump());
      pairs.emplace_back(option_integer(p[0], key, 0), option_integer(p[1], key, 0));
    }
    return PaddingSize(pairs);
  }
  std::vector<int64_t> v;
  for (const auto& x : value) {
    if (x.is_array()) throw Error(key + expected + value.dump());
    v.push_back(option_integer(x, key, 0));
  }
  return PaddingSize(std::move(v));
}

// ---- Geometry

std::optional<size_t> options_spatial_rank(std::initializer_list<OptionRank> options) {
  const char* first = nullptr;
  std::optional<size_t> rank;
  for (const auto& [key, r] : options) {
    if (!r) continue;
    if (rank && *rank != *r)
      throw Error(std::string(key) + ": expected " + std::to_string(*rank) +
                  " values (one per spatial dimension, as " + first + "), got " +
                  std::to_string(*r));
    if (!rank) {
      rank = r;
      first = key;
    }
  }
  return rank;
}

Shape channels_and_spatial(int64_t channels, size_t spatial_rank) {
  Shape s = Shape::of_rank(spatial_rank + 1);
  s[0] = channels;
  return s;
}

int64_t window_count(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t before,
                     int64_t after) {
  const int64_t span = in + before + after - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

std::string too_small_message(size_t d, int64_t in, int64_t kernel, int64_t dilation,
                              int64_t before, int64_t after) {
  std::string msg =
      "Input: size " + std::to_string(in) + " in spatial dimension " + std::to_string(d + 1);
  if (before + after > 0) msg += " (" + std::to_string(in + before + after) + " with padding)";
  msg += " is smaller than the kernel, which spans " + std::to_string(dilation * (kernel - 1) + 1);
  if (dilation > 1) msg += " with dilation " + std::to_string(dilation);
  return msg;
}

WindowGeometry window_geometry(std::span<const int64_t> spatial, const SpatialSizes& kernel,
                               const SpatialSizes& stride, const SpatialSizes& dilation,
                               const PaddingSize& padding) {
  const size_t rank = spatial.size();
  if (rank < 1 || rank > kMaxSpatialRank)
    throw Error("Input: expected 1 to 3 spatial dimensions, got " + std::to_string(rank));
  WindowGeometry g;
  const size_t shift = kMaxSpatialRank - rank;  // leading size-1 dimensions
  for (size_t d = 0; d < rank; ++d) {
    const size_t e = d + shift;
    g.in[e] = spatial[d];
    g.kernel[e] = kernel[d];
    g.stride[e] = stride[d];
    g.dilation[e] = dilation[d];
    g.before[e] = padding.before(d);
    g.after[e] = padding.after(d);
    g.out[e] = window_count(spatial[d], kernel[d], stride[d], dilation[d], padding.before(d),
                            padding.after(d));
    if (g.out[e] < 1)
      throw Error(too_small_message(d, spatial[d], kernel[d], dilation[d], padding.before(d),
                                    padding.after(d)));
  }
  return g;
}

}  // namespace strata
