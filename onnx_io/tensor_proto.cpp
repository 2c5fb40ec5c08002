#include "onnx_io/tensor_proto.hpp"

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>

#include "core/error.hpp"

namespace strata::onnx_io {
namespace {

using onnx::TensorProto;

struct ElementType {
  Constant::Type type;
  int bytes;
};

std::optional<ElementType> element_type(int data_type) {
  switch (data_type) {
    case TensorProto::FLOAT:
      return ElementType{Constant::Type::Float, 4};
    case TensorProto::DOUBLE:
      return ElementType{Constant::Type::Float, 8};
    case TensorProto::INT64:
      return ElementType{Constant::Type::Int, 8};
    case TensorProto::INT32:
      return ElementType{Constant::Type::Int, 4};
    case TensorProto::INT16:
      return ElementType{Constant::Type::Int, 2};
    case TensorProto::INT8:
      return ElementType{Constant::Type::Int, 1};
    case TensorProto::UINT8:
      return ElementType{Constant::Type::Int, 1};
    case TensorProto::BOOL:
      return ElementType{Constant::Type::Bool, 1};
    default:
      return std::nullopt;
  }
}

// One little-endian element of raw data.
double raw_element(const char* p, int data_type) {
  static_assert(std::endian::native == std::endian::little, "raw_data is little-endian");
  switch (data_type) {
    case TensorProto::FLOAT: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case TensorProto::DOUBLE: {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case TensorProto::INT64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case TensorProto::INT32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case TensorProto::INT16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case TensorProto::INT8:
      return static_cast<int8_t>(*p);
    case TensorProto::UINT8:
      return static_cast<uint8_t>(*p);
    case TensorProto::BOOL:
      return *p != 0 ? 1 : 0;
    default:
      return 0;
  }
}

// The external file's bytes [offset, offset + length), checked to lie inside
// model_dir and inside the file.
std::string read_external(const TensorProto& t, const std::filesystem::path& model_dir,
                          int64_t max_file_bytes, int64_t expected, const std::string& what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    try {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::stoll(kv.value());
      else if (kv.key() == "length")
        length = std::stoll(kv.value());
    } catch (const std::exception&) {
      throw Error(what + ": external data " + kv.key() + " \"" + kv.value() + "\" is not a number");
    }
  }
  if (location.empty()) throw Error(what + ": external data without a location");
  if (model_dir.empty())
    throw Error(what + ": external data \"" + location + "\" needs the model's folder");
  const std::filesystem::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    throw Error(what + ": external data location \"" + location + "\" leaves the model's folder");
  for (const auto& part : rel)
    if (part == "..")
      throw Error(what + ": external data location \"" + location + "\" leaves the model's folder");
  std::error_code ec;
  const auto dir = std::filesystem::weakly_canonical(model_dir, ec);
  const auto file = std::filesystem::weakly_canonical(model_dir / rel, ec);
  const auto [d, f] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  if (ec || d != dir.end())
    throw Error(what + ": external data location \"" + location + "\" leaves the model's folder");
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(what + ": external data file " + file.string() + " is missing or not a file");
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(file, ec));
  if (ec) throw Error(what + ": cannot read external data file " + file.string());
  if (file_size > max_file_bytes)
    throw Error(what + ": external data file " + file.string() + " is over the size limit");
  if (length < 0) length = expected;
  if (offset < 0 || length != expected || offset > file_size || length > file_size - offset)
    throw Error(what + ": external data (offset " + std::to_string(offset) + ", length " +
                std::to_string(length) + ") disagrees with its dims (" + std::to_string(expected) +
                " bytes) or with " + file.string() + " (" + std::to_string(file_size) + " bytes)");
  std::ifstream in(file, std::ios::binary);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  if (!in.read(bytes.data(), length))
    throw Error(what + ": cannot read external data file " + file.string());
  return bytes;
}

}  // namespace

Constant decode_tensor(const TensorProto& t, const std::filesystem::path& model_dir,
                       int64_t max_file_bytes, const std::string& what) {
  const auto et = element_type(t.data_type());
  if (!et)
    throw Error(what + ": element type " +
                TensorProto::DataType_Name(static_cast<TensorProto::DataType>(t.data_type())) +
                " is not supported (supported: float, double, int64, int32, int16, int8, uint8, "
                "bool)");
  if (t.has_segment()) throw Error(what + ": segmented tensors are not supported");
  Constant c;
  c.type = et->type;
  for (int64_t d : t.dims())
    c.dims.push_back(d);
  int64_t n = 0;
  try {
    n = checked_num_elements(c.dims, kMaxConstantElements);
  } catch (const Error& e) {
    throw Error(what + ": dims " + to_string(c.dims) + ": " + e.message());
  }
  const int64_t bytes = n * et->bytes;
  c.values.resize(static_cast<size_t>(0));

  const bool external = t.data_location() == TensorProto::EXTERNAL;
  if (external || t.has_raw_data()) {
    const std::string raw =
        external ? read_external(t, model_dir, max_file_bytes, bytes, what) : std::string();
    const std::string& data = external ? raw : t.raw_data();
    if (static_cast<int64_t>(data.size()) != bytes)
      throw Error(what + ": " + std::to_string(data.size()) + " bytes of data for dims " +
                  to_string(c.dims) + " (" + std::to_string(bytes) + " bytes)");
    c.values.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      c.values[static_cast<size_t>(i)] = raw_element(data.data() + i * et->bytes, t.data_type());
    return c;
  }
  auto take = [&](const auto& field) {
    if (static_cast<int64_t>(field.size()) != n)
      throw Error(what + ": " + std::to_string(field.size()) + " values for dims " +
                  to_string(c.dims) + " (" + std::to_string(n) + " elements)");
    c.values.assign(field.begin(), field.end());
  };
  switch (t.data_type()) {
    case TensorProto::FLOAT:
      take(t.float_data());
      break;
    case TensorProto::DOUBLE:
      take(t.double_data());
      break;
    case TensorProto::INT64:
      take(t.int64_data());
      break;
    default:
      take(t.int32_data());
      break;  // int32, int16, int8, uint8, bool
  }
  if (t.data_type() == TensorProto::BOOL)
    for (double& v : c.values)
      v = v != 0 ? 1 : 0;
  return c;
}

}  // namespace strata::onnx_io
