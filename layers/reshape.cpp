#include "layers/reshape.hpp"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

// Dimensions as the user wrote them, −1 included: "[4, -1]".
std::string dims_text(const Dims& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// A list of positive integers, one of which may be −1 (inferred).
struct DimensionList {
  Dims read(const nlohmann::json& value, const std::string& key) const {
    if (!value.is_array())
      throw Error(key + ": expected a list of positive integers, got " + value.dump());
    Dims dims;
    for (const auto& v : value)
      dims.push_back(v == -1 ? -1 : option_integer(v, key, 1));
    check(dims, key);
    return dims;
  }
  void check(const Dims& value, const std::string& key) const {
    if (value.empty()) throw Error(key + ": expected a non-empty list of positive integers");
    int inferred = 0;
    for (int64_t d : value) {
      if (d == -1) {
        ++inferred;
      } else if (d < 1) {
        throw Error(key + ": expected positive integers (or one -1, inferred), got " +
                    dims_text(value));
      }
    }
    if (inferred > 1)
      throw Error(key + ": at most one dimension may be -1 (inferred), got " + dims_text(value));
    // Refuses products too large to be a tensor, before any arithmetic on them.
    Dims known;
    std::copy_if(value.begin(), value.end(), std::back_inserter(known),
                 [](int64_t d) { return d > 0; });
    try {
      checked_num_elements(known);
    } catch (const Error& e) {
      throw Error(key + ": " + e.message());
    }
  }
  nlohmann::json write(const Dims& value) const { return value; }
};

}  // namespace

ReshapeLayer::ReshapeLayer() : Layer({{"Input", Shape()}}, {{"Output", Shape()}}) {}

ReshapeLayer::ReshapeLayer(Dims dimensions) : ReshapeLayer() {
  this->dimensions(std::move(dimensions));
}

const OptionTable& ReshapeLayer::option_table() const {
  static const OptionTable table = OptionsOf<ReshapeLayer>().add(
      "Dimensions", &ReshapeLayer::dimensions_, Required{DimensionList{}});
  return table;
}

ReshapeLayer& ReshapeLayer::dimensions(Dims value) {
  return assign_option(*this, "Dimensions", std::optional<Dims>(std::move(value)));
}

std::unique_ptr<Layer> ReshapeLayer::clone() const {
  return std::make_unique<ReshapeLayer>(*this);
}

void ReshapeLayer::infer() {
  if (!dimensions_) throw Error("Dimensions: required option is missing");
  // kUnknownDim is −1, so Dimensions reads directly as a shape with its −1 unknown.
  constrain_output(0, Shape(*dimensions_), "Dimensions " + dims_text(*dimensions_));
  const Shape& in = inputs_[0].shape;
  const Shape& out = outputs_[0].shape;
  if (!in.rank_known()) return;
  const DimCount ci = count_dims(in), co = count_dims(out);
  if (ci.unknown == 0 && co.unknown == 0) {
    if (ci.known != co.known)
      throw Error("Input: " + in.to_string() + " has " + std::to_string(ci.known) +
                  " elements, but Dimensions " + dims_text(*dimensions_) + " has " +
                  std::to_string(co.known));
  } else if (ci.unknown == 0 && co.unknown == 1) {
    if (co.known == 0 || ci.known % co.known != 0)
      throw Error("Input: " + in.to_string() + " has " + std::to_string(ci.known) +
                  " elements, which Dimensions " + dims_text(*dimensions_) + " cannot hold");
    Shape want = out;
    want[co.unknown_at] = ci.known / co.known;
    constrain_output(0, want, "the elements of Input " + in.to_string());
  } else if (co.unknown == 0 && ci.unknown == 1) {
    if (ci.known == 0 || co.known % ci.known != 0)
      throw Error("Input: " + in.to_string() + " cannot hold the " + std::to_string(co.known) +
                  " elements of Dimensions " + dims_text(*dimensions_));
    Shape want = in;
    want[ci.unknown_at] = co.known / ci.known;
    constrain_input(0, want, "elements fixed by Dimensions");
  }
}

void ReshapeLayer::forward(Inputs in, Outputs out, Workspace* /*ws*/,
                           const RunContext& /*ctx*/) const {
  if (!dimensions_) throw Error("Dimensions: required option is missing");
  const Tensor& x = *in[0];
  if (x.rank() < 1) throw Error("Input: expected a batch, got a rank 0 tensor");
  const int64_t elements = checked_num_elements(Dims(x.shape().begin() + 1, x.shape().end()));
  Dims shape{x.dim(0)};
  int64_t known = 1;
  for (int64_t d : *dimensions_)
    if (d != -1) known *= d;
  for (int64_t d : *dimensions_)
    shape.push_back(d != -1 ? d : (known == 0 ? 0 : elements / known));
  if (checked_num_elements(shape) != x.size())
    throw Error("Input: an example of shape " +
                to_string(Dims(x.shape().begin() + 1, x.shape().end())) + " has " +
                std::to_string(elements) + " elements, which Dimensions " +
                dims_text(*dimensions_) + " cannot hold");
  Tensor& y = *out[0];
  y.resize(shape);
  std::copy(x.values().begin(), x.values().end(), y.values().begin());
}

void ReshapeLayer::backward(Inputs in, Inputs /*out*/, Inputs out_grad, Workspace* /*ws*/,
                            Outputs in_grad, Outputs /*array_grad*/) const {
  reshape_backward(in, out_grad, in_grad);
}

void reshape_backward(Inputs in, Inputs out_grad, Outputs in_grad) {
  Tensor* dx = in_grad.empty() ? nullptr : in_grad[0];
  if (!dx) return;
  const Tensor& x = *in[0];
  const Tensor& dy = *out_grad[0];
  if (dy.size() != x.size())
    throw Error("Output gradient: expected " + std::to_string(x.size()) + " elements, got " +
                to_string(dy.shape()));
  dx->resize(x.shape());
  std::copy(dy.values().begin(), dy.values().end(), dx->values().begin());
}

}  // namespace strata
