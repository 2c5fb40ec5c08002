#include "layers/threading.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "kernels/binary_functions.hpp"
#include "kernels/broadcast.hpp"
#include "layers/option.hpp"

namespace strata {

namespace {

using F = ThreadingFunction;

constexpr std::array<std::pair<F, const char*>, 7> kNames = {{
    {F::Plus, "Plus"},
    {F::Subtract, "Subtract"},
    {F::Times, "Times"},
    {F::Divide, "Divide"},
    {F::Max, "Max"},
    {F::Min, "Min"},
    {F::Power, "Power"},
}};
static_assert(kNames.size() == static_cast<size_t>(F::Power) + 1, "every function has a name");

Choice<F> function_kind() {
  Choice<F> c;
  for (const auto& [f, name] : kNames) {
    c.values.push_back(f);
    c.names.push_back(name);
    c.expected += std::string(c.expected.empty() ? ""
                              : f == F::Power    ? " or "
                                                 : ", ") +
                  "\"" + name + "\"";
  }
  return c;
}

binary::Function kernel_function(F f) {
  switch (f) {
    case F::Plus:
      return binary::Function::Plus;
    case F::Subtract:
      return binary::Function::Subtract;
    case F::Times:
      return binary::Function::Times;
    case F::Divide:
      return binary::Function::Divide;
    case F::Max:
      return binary::Function::Max;
    case F::Min:
      return binary::Function::Min;
    case F::Power:
      return binary::Function::Power;
  }
  throw Error("Function: unknown enum value " + std::to_string(static_cast<int>(f)));
}

void check_count(F f, size_t n) {
  if (binary::exactly_two(kernel_function(f)) && n != 2)
    throw Error("Function: " + to_string(f) + " takes exactly 2 inputs, got " + std::to_string(n));
}

// Kept from forward to backward, so that neither allocates once warm.
struct ThreadingWorkspace : Workspace {
  std::vector<BroadcastOperand> operands;
  std::vector<const float*> x;
  Dims dims;
  BroadcastLoop loop;
  Tensor scratch;
};

}  // namespace

std::string to_string(ThreadingFunction f) {
  for (const auto& [fn, name] : kNames)
    if (fn == f) return name;
  throw Error("Function: unknown enum value " + std::to_string(static_cast<int>(f)));
}

ThreadingLayer::ThreadingLayer() : Layer({}, {{"Output", Shape()}}) {
  set_input_count(2);
}

ThreadingLayer::ThreadingLayer(ThreadingFunction f, size_t inputs) : ThreadingLayer() {
  set_input_count(inputs);
  function(f);
}

ThreadingLayer::ThreadingLayer(std::string_view name, size_t inputs) : ThreadingLayer() {
  set_input_count(inputs);
  function(name);
}

const OptionTable& ThreadingLayer::option_table() const {
  using L = ThreadingLayer;
  static const OptionTable table = OptionsOf<L>().add(
      "Function", [](const L& l) { return l.function_; },
      [](L& l, std::optional<F> f) {
        if (f) check_count(*f, l.inputs_.size());
        l.function_ = f;
      },
      Required{function_kind()}, Affects::Nothing);
  return table;
}

ThreadingLayer& ThreadingLayer::function(ThreadingFunction f) {
  return assign_option(*this, "Function", std::optional<F>(f));
}

ThreadingLayer& ThreadingLayer::function(std::string_view name) {
  return function(function_kind().parse(std::string(name), "Function"));
}

std::unique_ptr<Layer> ThreadingLayer::clone() const {
  return std::make_unique<ThreadingLayer>(*this);
}

void ThreadingLayer::set_input_count(size_t n) {
  if (n < 2) throw Error("ThreadingLayer needs at least 2 inputs, got " + std::to_string(n));
  if (function_) check_count(*function_, n);
  inputs_.resize(n);
  for (size_t i = 0; i < n; ++i)
    inputs_[i].name = "Input" + std::to_string(i + 1);
}

void ThreadingLayer::infer() {
  if (!function_) throw Error("Function: required option is missing");
  check_count(*function_, inputs_.size());
  // Conflicts between two ports, named, before inferring from all of them.
  for (size_t i = 0; i < inputs_.size(); ++i) {
    for (size_t j = i + 1; j < inputs_.size(); ++j) {
      try {
        broadcast(inputs_[i].shape, inputs_[j].shape);
      } catch (const Error& e) {
        throw Error(inputs_[i].name + " and " + inputs_[j].name + ": " + e.message());
      }
    }
    // Beside an input that could be anything, only what this one says
    // against Output can conflict.
    std::array<Shape, 2> one{inputs_[i].shape, Shape()};
    Shape out = outputs_[0].shape;
    try {
      infer_broadcast(one, out);
    } catch (const Error& e) {
      throw Error(inputs_[i].name + " and Output: " + e.message());
    }
  }
  std::vector<Shape> in;
  for (const auto& p : inputs_)
    in.push_back(p.shape);
  Shape out = outputs_[0].shape;
  try {
    infer_broadcast(in, out);
  } catch (const Error& e) {
    throw Error("Output: " + e.message());
  }
  for (size_t i = 0; i < inputs_.size(); ++i)
    constrain_input(i, in[i], "the inputs broadcast to Output");
  constrain_output(0, out, "the inputs broadcast");
}

std::unique_ptr<Workspace> ThreadingLayer::make_workspace() const {
  return std::make_unique<ThreadingWorkspace>();
}

namespace {

// Plans the loop over the broadcast of the inputs into w.dims.
void plan(ThreadingWorkspace& w, Inputs in) {
  w.operands.clear();
  w.x.clear();
  for (const Tensor* t : in) {
    w.operands.push_back({t->shape(), true});
    w.x.push_back(t->data());
  }
  broadcast_dims(w.operands, w.dims);
  w.loop.plan(w.dims, w.operands);
}

}  // namespace

void ThreadingLayer::forward(Inputs in, Outputs out, Workspace* ws,
                             const RunContext& /*ctx*/) const {
  if (!function_) throw Error("Function: required option is missing");
  if (in.size() != inputs_.size())
    throw Error("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                std::to_string(in.size()));
  ThreadingWorkspace local;
  auto& w = ws ? static_cast<ThreadingWorkspace&>(*ws) : local;
  plan(w, in);
  Tensor& y = *out[0];
  y.resize(w.dims);
  binary::apply(kernel_function(*function_), w.loop, w.x, y.data());
}

void ThreadingLayer::backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws,
                              Outputs in_grad, Outputs /*array_grad*/) const {
  if (!function_) throw Error("Function: required option is missing");
  ThreadingWorkspace local;
  auto& w = ws ? static_cast<ThreadingWorkspace&>(*ws) : local;
  plan(w, in);
  const Tensor& y = *out[0];
  const Tensor& dy = *out_grad[0];
  if (y.shape() != w.dims || dy.shape() != w.dims)
    throw Error("Output gradient: expected shape " + to_string(w.dims) + ", got " +
                to_string(dy.shape()));
  const binary::Function f = kernel_function(*function_);
  for (size_t k = 0; k < in_grad.size() && k < in.size(); ++k) {
    if (!in_grad[k]) continue;
    Tensor& dx = *in_grad[k];
    if (in[k]->shape() == w.dims) {
      dx.resize(w.dims);
      binary::partial(f, k, w.loop, w.x, y.data(), dy.data(), dx.data());
    } else {
      // Summed over the dimensions the input was repeated along, in a fixed order.
      w.scratch.resize(w.dims);
      binary::partial(f, k, w.loop, w.x, y.data(), dy.data(), w.scratch.data());
      w.loop.sum_to_operand(k, w.scratch, dx);
    }
  }
}

}  // namespace strata
