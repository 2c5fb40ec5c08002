// The op table: each op family adds its rows from its own file.
#include "onnx_io/converter.hpp"

namespace strata::onnx_io {

const std::map<std::string, Converter, std::less<>>& op_table() {
  static const auto table = [] {
    std::map<std::string, Converter, std::less<>> t;
    add_activation_ops(t);
    add_arith_ops(t);
    add_conv_ops(t);
    add_linear_ops(t);
    add_norm_ops(t);
    add_pool_ops(t);
    add_reduce_ops(t);
    add_resize_ops(t);
    add_shape_ops(t);
    return t;
  }();
  return table;
}

}  // namespace strata::onnx_io
