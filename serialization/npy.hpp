// NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
//
// Reading accepts format versions 1.0, 2.0 and 3.0, C order, and the dtypes
// float32 and float64 (values rounded to float32; a finite float64 outside
// float32's range is an error), int8/16/32/64, uint8/16/32/64 and bool
// (converted to float, e.g. class indices), all little endian. Anything else
// is refused with a message that says what was found: a bad magic string, an
// unsupported version, a malformed header, a dtype such as '<c16' or a
// big-endian one, fortran_order True (for more than one dimension; for one
// the layouts coincide), truncated data (bytes expected vs. present),
// trailing bytes, or a shape too large. Sizes are checked against the bytes
// present before anything is allocated.
//
// Writing produces float32, version 1.0 (2.0 only if the header needs it),
// byte for byte as numpy.save writes the same array.
//
// The in-memory functions throw Error without a file name; the path-based
// ones add the path as context ("x.npy: unsupported dtype '<c16' ...").
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/tensor.hpp"

namespace strata {

// What a .npy header says.
struct NpyHeader {
  int major_version = 1;
  int minor_version = 0;
  std::string descr;  // the dtype as written, e.g. "<f4"
  bool fortran_order = false;
  Dims shape;
  size_t data_offset = 0;  // where the array data starts
};

// Parses the magic string, version and header dictionary at the start of
// `bytes`, which must hold at least the whole header (the data may follow).
// Validates the header's form and keys but not the dtype or the data size.
NpyHeader parse_npy_header(std::string_view bytes);

// A whole .npy file in memory as a float32 tensor.
Tensor parse_npy(std::string_view bytes);
// A tensor as the bytes of a float32 .npy file.
std::string to_npy(const Tensor& tensor);
// The first bytes of to_npy for a tensor of this shape, which its float32
// values (little endian, C order) then follow: for writers that produce the
// values in pieces.
std::string npy_header(const Dims& shape);

// Reads a .npy file, straight into the tensor (no copy of the whole file).
Tensor read_npy(const std::filesystem::path& path);
// Writes a float32 .npy file, atomically.
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace strata
