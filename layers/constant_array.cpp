#include "layers/constant_array.hpp"

#include <array>
#include <string>

#include "core/error.hpp"
#include "kernels/binary_functions.hpp"
#include "kernels/broadcast.hpp"

namespace strata {

namespace {

struct ConstantArrayWorkspace : Workspace {
  BroadcastLoop loop;
  Tensor scratch;
};

// The array's shape against the Input's: throws an Error naming both when the
// array does not broadcast to it without enlarging it. Returns the Input's
// shape with the dimensions the array fixes.
Shape fit_to_input(const std::string& name, const Shape& array, const Shape& input) {
  if (!array.rank_known() || !input.rank_known()) return input;
  const std::string both =
      name + ": " + array.to_string() + " does not broadcast to the Input's " + input.to_string();
  if (array.rank() > input.rank()) throw Error(both + ": it has more dimensions");
  Shape fixed = input;
  for (size_t r = 0; r < array.rank(); ++r) {
    const size_t a = array.rank() - 1 - r, x = input.rank() - 1 - r;
    const int64_t d = array[a];
    if (d == kUnknownDim || d == 1) continue;
    if (input[x] == kUnknownDim) {
      fixed[x] = d;
    } else if (input[x] != d) {
      throw Error(both + ": dimension " + std::to_string(a) + " is " + std::to_string(d) +
                  " and dimension " + std::to_string(x) + " is " + std::to_string(input[x]));
    }
  }
  return fixed;
}

}  // namespace

ConstantArrayLayer::ConstantArrayLayer(Combine combine, std::string array, Initializer init)
    : Layer({{"Input", Shape()}}, {{"Output", Shape()}},
            {ArraySlot::parameter(std::move(array), Shape(), init)}),
      combine_(combine) {}

void ConstantArrayLayer::infer() {
  constrain_output(0, inputs_[0].shape, "same as Input");
  constrain_input(0, outputs_[0].shape, "same as Output");
  ArraySlot& a = arrays_[0];
  if (!a.value) {
    // Automatic: the example's shape. Set rather than merged, so that a value
    // of another shape, once cleared, leaves no trace.
    a.shape = inputs_[0].shape;
    return;
  }
  const std::string why = "where " + a.name + " is not 1";
  constrain_input(0, fit_to_input(a.name, a.shape, inputs_[0].shape), why);
}

void ConstantArrayLayer::check_array_dims(size_t i, const Dims& dims) const {
  fit_to_input(arrays_.at(i).name, Shape(dims), inputs_[0].shape);
}

std::unique_ptr<Workspace> ConstantArrayLayer::make_workspace() const {
  return std::make_unique<ConstantArrayWorkspace>();
}

void ConstantArrayLayer::forward(Inputs in, Outputs out, Workspace* ws,
                                 const RunContext& /*ctx*/) const {
  const Tensor& x = *in[0];
  const Tensor& a = array_value(0);
  ConstantArrayWorkspace local;
  auto& w = ws ? static_cast<ConstantArrayWorkspace&>(*ws) : local;
  const std::array<BroadcastOperand, 2> operands{{{x.shape(), true}, {a.shape(), false}}};
  w.loop.plan(x.shape(), operands);  // throws if the array would enlarge the example
  Tensor& y = *out[0];
  y.resize(x.shape());
  const std::array<const float*, 2> xs{x.data(), a.data()};
  binary::apply(combine_ == Combine::Times ? binary::Function::Times : binary::Function::Plus,
                w.loop, xs, y.data());
}

void ConstantArrayLayer::backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws,
                                  Outputs in_grad, Outputs array_grad) const {
  const Tensor& x = *in[0];
  const Tensor& a = array_value(0);
  const Tensor& y = *out[0];
  const Tensor& dy = *out_grad[0];
  if (dy.shape() != x.shape())
    throw Error("Output gradient: expected shape " + to_string(x.shape()) + ", got " +
                to_string(dy.shape()));
  ConstantArrayWorkspace local;
  auto& w = ws ? static_cast<ConstantArrayWorkspace&>(*ws) : local;
  const std::array<BroadcastOperand, 2> operands{{{x.shape(), true}, {a.shape(), false}}};
  w.loop.plan(x.shape(), operands);
  const std::array<const float*, 2> xs{x.data(), a.data()};
  const auto f = combine_ == Combine::Times ? binary::Function::Times : binary::Function::Plus;
  if (Tensor* dx = in_grad.empty() ? nullptr : in_grad[0]) {
    dx->resize(x.shape());
    binary::partial(f, 0, w.loop, xs, y.data(), dy.data(), dx->data());
  }
  if (Tensor* da = array_grad.empty() ? nullptr : array_grad[0]) {
    // Summed over the batch and the repeated dimensions, in a fixed order.
    if (combine_ == Combine::Plus) {
      w.loop.sum_to_operand(1, dy, *da);
    } else {
      w.scratch.resize(x.shape());
      binary::partial(f, 1, w.loop, xs, y.data(), dy.data(), w.scratch.data());
      w.loop.sum_to_operand(1, w.scratch, *da);
    }
  }
}

}  // namespace strata
