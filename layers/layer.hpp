// The Layer interface: named ports with shapes, options, named arrays, shape
// inference, forward and backward. Everything else (initialization, files,
// training) lives outside the layers and talks to them through this.
//
// Port shapes are per example, without the batch dimension; the tensors given
// to forward/backward carry the batch as their leading dimension.
#pragma once

#include <any>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rng.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"

namespace strata {

enum class Mode { Inference, Training };

struct Port {
  std::string name;
  Shape shape;
};

// How NetInitialize creates an array left Automatic. The layer says it, so
// that nothing outside layers/ needs to know array names.
struct Initializer {
  enum class Kind { Weights, Constant };
  // Where the fans of a weight array are: [out, in, k…] (convolution, linear)
  // or [in, out, k…] (transposed convolution).
  enum class Fans { OutIn, InOut };
  Kind kind = Kind::Constant;
  double value = 0;  // Constant: every element
  Fans fans = Fans::OutIn;

  // Random weights, Kaiming or Xavier scaled by fan-in and fan-out.
  static Initializer weights(Fans fans = Fans::OutIn) { return {Kind::Weights, 0, fans}; }
  static Initializer constant(double v) { return {Kind::Constant, v, Fans::OutIn}; }
  static Initializer zeros() { return constant(0); }
  static Initializer ones() { return constant(1); }
  // The fans of an array of these dimensions (fan_in, fan_out): the two
  // leading dimensions times the kernel's size.
  std::pair<double, double> fan_in_out(const Dims& dims) const;
};

struct ArraySlot {
  std::string name;
  Shape shape;                  // what inference knows of the array's shape
  std::optional<Tensor> value;  // absent: "Automatic", created by NetInitialize
  bool trainable = true;        // false for state such as MovingMean
  Initializer init;             // how NetInitialize creates it

  // A trainable array and how it starts.
  static ArraySlot parameter(std::string name, Shape shape, Initializer init) {
    return {std::move(name), std::move(shape), std::nullopt, true, init};
  }
  // State that training updates but no gradient reaches (MovingMean).
  static ArraySlot state(std::string name, Shape shape, Initializer init) {
    return {std::move(name), std::move(shape), std::nullopt, false, init};
  }
};

// What a layer type is, for the code around it (initialization, training)
// that must not name concrete types.
struct LayerTraits {
  // A rectifier (Ramp, LeakyRamp): Weights feeding it get Kaiming
  // initialization under the Automatic method.
  bool rectifier = false;
  // Normalization, pooling, dropout: shape-preserving in spirit, so
  // NetInitialize looks through it for the activation that follows.
  bool transparent_to_activation = false;
  // Its output is a probability distribution (SoftmaxLayer): CrossEntropy is
  // the default loss of a net ending in it.
  bool outputs_probabilities = false;
};

class OptionTable;

// Scratch that a layer keeps from forward to backward (saved statistics,
// masks, indices). One per application in flight; reused across steps.
struct Workspace {
  virtual ~Workspace() = default;
};

class Communicator;  // core/communicator.hpp

struct RunContext {
  Mode mode = Mode::Inference;
  Rng* rng = nullptr;  // the source of randomness while training (DropoutLayer)
  // Data-parallel training: the batch is a shard of a global batch, this
  // one's first example at `first_example` of it. DropoutLayer draws each
  // example's mask from its index in the global batch; BatchNormalizationLayer
  // takes its batch statistics over all shards (synchronized) when
  // `communicator` spans more than one process.
  Communicator* communicator = nullptr;
  int64_t first_example = 0;
};

class Layer;

// An array anywhere inside a layer or net: its path ("conv1/Weights"), the
// layer that holds it and its index in that layer's arrays().
struct ArrayRef {
  std::string path;
  Layer* layer;
  size_t index;
};

using Inputs = std::span<const Tensor* const>;
using Outputs = std::span<Tensor* const>;

class Layer {
 public:
  virtual ~Layer() = default;

  // The net-file type name, e.g. "InstanceNormalizationLayer".
  virtual std::string type() const = 0;
  virtual std::unique_ptr<Layer> clone() const = 0;

  // ---- Ports
  const std::vector<Port>& inputs() const { return inputs_; }
  const std::vector<Port>& outputs() const { return outputs_; }
  // Index of a port by name; throws an Error listing the ports there are.
  size_t input_index(std::string_view name) const;
  size_t output_index(std::string_view name) const;
  // Merge what is known of a port's shape with `shape`; throws an Error naming
  // the port on a conflict. Returns whether anything became known.
  bool constrain_input(size_t i, const Shape& shape, std::string_view why = {});
  bool constrain_output(size_t i, const Shape& shape, std::string_view why = {});
  // Fixes the shape of the (single) Input port of one example and infers the
  // other shapes at once, as Wolfram's "Input" -> {…}: a shape that does not
  // fit the layer (a wrong rank, a channel count that disagrees with an
  // array) is an Error here, not later.
  //   LinearLayer fc(3);
  //   fc.input({4});  // Weights [3, 4] from here on
  Layer& input(const Shape& shape);
  // Layers that take any number of inputs (TotalLayer, CatenateLayer).
  virtual bool variadic_inputs() const { return false; }
  virtual void set_input_count(size_t n);

  // ---- Arrays
  const std::vector<ArraySlot>& arrays() const { return arrays_; }
  // Index of an array by name; throws an Error listing the arrays there are.
  size_t array_index(std::string_view name) const;
  // The array's value, or nullptr while it is Automatic.
  const Tensor* array(std::string_view name) const;
  // Sets an array; its shape must fit what inference knows. Re-runs inference.
  void set_array(std::string_view name, Tensor value);
  // Makes an array Automatic again.
  void clear_array(std::string_view name);
  // The paths of arrays still Automatic, including those of nested layers.
  std::vector<std::string> missing_arrays() const;
  // Every array of this layer and of the layers nested in it, depth first, by
  // path. For a plain layer these are its arrays(); `array_grad` in backward
  // follows this order.
  virtual std::vector<ArrayRef> all_arrays();
  std::vector<ArrayRef> all_arrays() const { return const_cast<Layer*>(this)->all_arrays(); }
  // In-place access for optimizers and initializers: the values may change,
  // the shape must not. nullptr while the array is Automatic.
  Tensor* mutable_array(size_t i) { return arrays_.at(i).value ? &*arrays_[i].value : nullptr; }

  // ---- Options, as JSON values keyed by their net-file names, from the
  // table the layer type declares (layers/option.hpp).
  virtual const OptionTable& option_table() const;
  nlohmann::json options() const;
  // Throws an Error naming the key for an unknown option or a bad value. An
  // option that affects shapes forgets the output and array shapes inferred
  // so far (not the arrays' values).
  void set_option(const std::string& key, const nlohmann::json& value);
  // The declared keys, in declaration order.
  std::vector<std::string> option_keys() const;
  // For C++ setters (assign_option): checks and stores a value of the
  // option's C++ type as its declaration says.
  void assign_declared(std::string_view key, std::any value);

  // ---- Traits
  virtual LayerTraits traits() const { return {}; }

  // ---- Shape inference
  // Applies this layer's shape rules until nothing more can be inferred.
  // Throws an Error naming the port or array on a conflict. Returns whether
  // anything became known.
  bool infer_shapes();
  // Every port and array shape fully known.
  bool shapes_known() const;

  // ---- Execution (batch-first tensors)
  virtual std::unique_ptr<Workspace> make_workspace() const { return nullptr; }
  // Computes the outputs from the inputs; `out` tensors are resized as needed.
  virtual void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const = 0;
  // Given the gradients of a scalar with respect to the outputs, computes them
  // with respect to the inputs and the arrays (overwriting). A null entry in
  // `in_grad` or `array_grad` is not wanted; `array_grad` follows all_arrays()
  // (for a plain layer, arrays()).
  virtual void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                        Outputs array_grad) const = 0;
  // After a forward in training mode: commits state such as moving statistics.
  virtual void update_state(Workspace* /*ws*/) {}

  // ---- Nesting (NetChain and NetGraph hold layers)
  virtual std::vector<std::pair<std::string, Layer*>> children() { return {}; }
  std::vector<std::pair<std::string, const Layer*>> children() const;

  // ---- Applying one layer directly, in inference mode
  // `x` is one example (rank of the Input port) or a batch (one more).
  Tensor operator()(const Tensor& x) const;
  // A list of examples, as Wolfram's layer[{x1, x2}].
  std::vector<Tensor> operator()(const std::vector<Tensor>& examples) const;

  // "conv1 (ConvolutionLayer)" style context for errors; a bare layer says
  // just its type.
  std::string describe(std::string_view name = {}) const;

 protected:
  Layer(std::vector<Port> inputs, std::vector<Port> outputs, std::vector<ArraySlot> arrays = {});
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;

  // The layer's own shape rules, using the constrain_* helpers.
  virtual void infer() = 0;
  // After an option that affects shapes changed: output shapes go back to
  // what the constructor declared, and so do the shapes of arrays without a
  // value (an array with a value keeps its shape). Input shapes stay: they
  // come from outside.
  virtual void forget_inferred_shapes();
  bool constrain_array(size_t i, const Shape& shape, std::string_view why = {});
  // Checks the dims of a value for array i before set_array stores it, and
  // throws an Error naming the array if it may not have them. By default they
  // must fit what inference knows of its shape; a layer whose array may take
  // any of several shapes (ConstantTimesLayer's Scaling) checks its own rule.
  virtual void check_array_dims(size_t i, const Dims& dims) const;
  // Checks the values of array i (finite already) before set_array stores
  // them, and throws an Error naming the array if it may not hold them: a
  // layer whose array has a range of its own (BatchNormalizationLayer's
  // MovingVariance) checks it. By default any finite value will do.
  virtual void check_array_values(size_t /*i*/, const Tensor& /*value*/) const {}
  // A present array (forward/backward only run when all are present).
  const Tensor& array_value(size_t i) const { return *arrays_[i].value; }

  std::vector<Port> inputs_;
  std::vector<Port> outputs_;
  std::vector<ArraySlot> arrays_;

 private:
  // The constructor's output and array shapes, for forget_inferred_shapes.
  std::vector<Shape> declared_outputs_;
  std::vector<std::pair<std::string, Shape>> declared_arrays_;
};

// Helpers for layers' option parsing: read a JSON value as the given type, or
// throw an Error naming `key` and what was expected.
double option_number(const nlohmann::json& value, const std::string& key);
int64_t option_integer(const nlohmann::json& value, const std::string& key, int64_t min);
bool option_bool(const nlohmann::json& value, const std::string& key);
std::string option_string(const nlohmann::json& value, const std::string& key);
[[noreturn]] void throw_unknown_option(const Layer& layer, const std::string& key,
                                       const std::vector<std::string>& known);

}  // namespace strata
