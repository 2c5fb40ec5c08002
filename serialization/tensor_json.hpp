// Tensors as JSON, {"shape": [2, 3], "data": [flat, row-major numbers]}, and
// tensor files (.npy or .json, chosen by the file's suffix).
//
// Numbers are written as the shortest decimal that reads back as the same
// float32 (0.1f is written 0.1, not 0.10000000149011612), so a tensor
// survives a round trip through JSON text bit for bit. JSON has no NaN or
// infinity: writing one is an error, and so is reading a number outside
// float32's range.
//
// Errors name the place in the document that the caller passes as `where`
// ("layers[3].Weights"), extended to the key or element at fault:
// "layers[3].Weights.data: has 5 numbers, but shape [2, 3] needs 6".
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/tensor.hpp"

namespace strata {

// The memory writing `values` numbers as JSON takes: a json value each, and
// the text of the dump (a net file is built as a document, then dumped).
inline uint64_t json_bytes_for(uint64_t values) {
  return values * (sizeof(nlohmann::json) + 24);
}

// Refuses (an Error naming the shape and the bytes, before allocating) a
// tensor whose JSON would not fit in the memory this process can have.
nlohmann::json tensor_to_json(const Tensor& tensor, std::string_view where = {});

// Checks the object's keys, the shape (non-negative integers) and that the
// data has as many numbers as the shape needs, before allocating.
Tensor tensor_from_json(const nlohmann::json& json, std::string_view where);

// The same tensor as JSON text, {"shape": [2, 3], "data": [...]}, with
// "shape" first and each number in its shortest exact form. Faster than
// building the json value; tensor files are written this way.
std::string tensor_to_json_text(const Tensor& tensor, std::string_view where = {});
// The pieces of tensor_to_json_text, for writers that produce the values in
// pieces: the text up to the first number, then the numbers (comma-separated;
// a piece after the first needs a ',' before it), then "]}". A non-finite
// value is an Error naming `where` and its flat index (from `first_index`).
std::string json_tensor_prefix(const Dims& shape);
void append_json_numbers(std::string& out, std::span<const float> values, std::string_view where,
                         int64_t first_index);

// The double to store in a JSON document for `value`: the one nearest its
// shortest decimal form, when that reads back as `value`, so that the
// document stays short and round-trips exactly. `value` must be finite.
double json_number(float value);

// Reads a tensor from a .npy file or a .json file holding one tensor object;
// any other suffix is an error naming the file.
Tensor read_tensor_file(const std::filesystem::path& path);
// Writes a tensor as .npy (float32) or .json, by the suffix, atomically.
void write_tensor_file(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace strata
