// What the op converters (onnx_io/ops/) share: the values flowing through an
// ONNX graph at import, and the Context a converter maps one node with.
//
// A value is either a Constant (an initializer, a Constant node, or anything
// computed from constants and static shapes: folded at import) or Computed
// (the output of a strata layer, or a graph input). Shapes of Computed values
// are per example, as strata's ports: ONNX's dimension 0 is the batch.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "layers/layer.hpp"

namespace strata::onnx_io {

// A tensor known at import. Integers and floats are both held as doubles
// (shapes and indices are far below 2^53). An element may stand for a number
// that is not known at import: the batch size (what Shape gives for
// dimension 0), or anything computed from such a number.
struct Constant {
  enum class Type { Float, Int, Bool };
  enum Tag : uint8_t { Known = 0, Batch = 1, Unknown = 2 };
  Type type = Type::Float;
  Dims dims;
  std::vector<double> values;
  std::vector<uint8_t> tags;  // one per element; empty when all are Known

  int64_t size() const { return static_cast<int64_t>(values.size()); }
  Tag tag(size_t i) const { return tags.empty() ? Known : static_cast<Tag>(tags[i]); }
  bool all_known() const;
  // The values as float32, in a tensor of dims (every element Known).
  Tensor to_tensor() const;
  static Constant scalar(double v, Type type = Type::Float);
  static Constant of(Dims dims, std::vector<double> values, Type type);
};

// A value computed at run time: output `port` of layer `layer` (an index into
// the layers the import adds), or the graph input named `port` when layer is
// kGraphInput.
struct Computed {
  static constexpr size_t kGraphInput = static_cast<size_t>(-1);
  // A Slice of a computed tensor (Context::slice_of), which no layer reads:
  // only a Concat that makes periodic padding of it does.
  static constexpr size_t kSlice = static_cast<size_t>(-2);
  size_t layer = kGraphInput;
  std::string port;
  Shape shape;  // per example
};

using Value = std::variant<Constant, Computed>;

// The elements [begin, end) along ONNX axis `axis` (after the batch) of x.
struct SliceOf {
  Computed x;
  int64_t axis = 1, begin = 0, end = 0;
};

// The layers an import adds, with their sources, in order.
struct ImportedLayer {
  std::string name;
  std::unique_ptr<Layer> layer;
  std::vector<Computed> sources;
};

class Importer;

// One node being converted. Converters read inputs and attributes through it
// and set its outputs; every attribute the converter did not read is refused
// afterwards (so an attribute nobody handles never changes the net silently).
class Context {
 public:
  Context(Importer& importer, const onnx::NodeProto& node, int opset);

  const onnx::NodeProto& node() const { return node_; }
  int opset() const { return opset_; }
  const std::string& op() const { return node_.op_type(); }

  // ---- Inputs. A missing optional input is an empty name (or absent).
  size_t input_count() const { return static_cast<size_t>(node_.input_size()); }
  bool has_input(size_t i) const;
  const Value& input(size_t i) const;
  bool is_constant(size_t i) const;
  // The input as a constant; refuses (naming the input and `role`) otherwise.
  const Constant& constant(size_t i, std::string_view role) const;
  // The input as a computed value; a Constant input is refused.
  const Computed& computed(size_t i) const;

  // ---- Attributes (each marked as read)
  bool has_attr(std::string_view name) const;
  int64_t attr_int(std::string_view name, int64_t fallback) const;
  double attr_float(std::string_view name, double fallback) const;
  std::string attr_string(std::string_view name, std::string fallback) const;
  std::optional<std::vector<int64_t>> attr_ints(std::string_view name) const;
  std::optional<std::vector<double>> attr_floats(std::string_view name) const;
  const onnx::AttributeProto* attr(std::string_view name) const;
  // Marks attributes as read without using them (such as Dropout's seed).
  void ignore_attr(std::string_view name) const;
  // Attributes present but never read.
  std::vector<std::string> unread_attributes() const;

  // ---- Outputs
  size_t output_count() const { return static_cast<size_t>(node_.output_size()); }
  // Whether output i is used by a later node or the graph's outputs.
  bool output_used(size_t i) const;
  void set_output(size_t i, Value value);

  // Adds a layer reading `sources` (in port order); infers its shapes from
  // theirs and returns its Output. Its name is the node's (with a suffix for a
  // second layer of the same node).
  Computed add(std::unique_ptr<Layer> layer, std::vector<Computed> sources);
  template <class L>
  Computed add(const L& layer, std::vector<Computed> sources) {
    return add(layer.clone(), std::move(sources));
  }
  // The layer a Computed value comes out of, or nullptr for a graph input.
  Layer* producer(const Computed& value) const;
  // A Slice of a computed tensor, as a value (Computed::kSlice) that only
  // slice_of() reads; a layer given it as a source refuses.
  Computed add_slice(SliceOf slice, Shape shape);
  const SliceOf* slice_of(const Computed& value) const;
  // The values that layer reads, or nullptr for a graph input.
  const std::vector<Computed>* producer_sources(const Computed& value) const;
  // How many nodes (and graph outputs) read the value of input i.
  int input_uses(size_t i) const;

  // The batch size the model's inputs declare, when it is static (PyTorch
  // folds it into Reshape's shape when the export fixed it).
  std::optional<int64_t> static_batch() const;

  // Converts the nodes of a subgraph (an If's branch) in this scope, and
  // looks up the values it defines.
  void convert_subgraph(const onnx::GraphProto& g);
  const Value* value(const std::string& name) const;

  // "node 'Conv_0' (Conv, opset 13): <what>".
  [[noreturn]] void fail(const std::string& what) const;
  std::string where() const;

 private:
  Importer& importer_;
  const onnx::NodeProto& node_;
  int opset_;
  mutable std::set<std::string, std::less<>> read_;
};

// Converts one node: sets every output that is used.
using Converter = std::function<void(Context&)>;

// The op table (onnx_io/ops/table.cpp): op type -> converter.
const std::map<std::string, Converter, std::less<>>& op_table();

// The table rows of each op family, in its own file.
void add_activation_ops(std::map<std::string, Converter, std::less<>>& table);
void add_arith_ops(std::map<std::string, Converter, std::less<>>& table);
void add_conv_ops(std::map<std::string, Converter, std::less<>>& table);
void add_linear_ops(std::map<std::string, Converter, std::less<>>& table);
void add_norm_ops(std::map<std::string, Converter, std::less<>>& table);
void add_pool_ops(std::map<std::string, Converter, std::less<>>& table);
void add_reduce_ops(std::map<std::string, Converter, std::less<>>& table);
void add_resize_ops(std::map<std::string, Converter, std::less<>>& table);
void add_shape_ops(std::map<std::string, Converter, std::less<>>& table);

// ---- Helpers for converters
// Normalizes an ONNX axis (negative counts from the end) for a tensor of
// `rank` dimensions; refuses one out of range.
int64_t normalize_axis(const Context& ctx, int64_t axis, int64_t rank, std::string_view what);
// The rank of a value as ONNX sees it (with the batch for a Computed one).
int64_t onnx_rank(const Value& v);
// Integers from a constant (refusing non-integers and unknown elements).
std::vector<int64_t> to_ints(const Context& ctx, const Constant& c, std::string_view what);
// Per-example spatial dims as known, or refuses naming the input.
Dims known_dims(const Context& ctx, const Computed& v, std::string_view what);
// A constant operand as the array of a ConstantTimesLayer/ConstantPlusLayer
// applied to x (ONNX's dims right-aligned with x's, the batch's dropped).
Tensor operand_array(const Context& ctx, const Constant& c, const Computed& x);

}  // namespace strata::onnx_io
