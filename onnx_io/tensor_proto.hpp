// Reading ONNX's TensorProto into a Constant: the element types strata can
// use, data inline or in an external file beside the model. Sizes are checked
// before anything is allocated.
#pragma once

#include <filesystem>
#include <string>

#include "onnx_io/converter.hpp"

namespace strata::onnx_io {

// The most elements one constant may have (1 Gi: 4 GiB of floats).
inline constexpr int64_t kMaxConstantElements = int64_t{1} << 30;

// `what` names the tensor in errors ("initializer 'fc.weight'"). External
// data is read from `model_dir` (empty: refused); a location that leaves the
// folder, a length that disagrees with the dims, or a file over
// `max_file_bytes` is refused.
Constant decode_tensor(const onnx::TensorProto& t, const std::filesystem::path& model_dir,
                       int64_t max_file_bytes, const std::string& what);

}  // namespace strata::onnx_io
