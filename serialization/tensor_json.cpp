#include "serialization/tensor_json.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/json_document.hpp"
#include "serialization/npy.hpp"

namespace strata {

namespace {

std::string join(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return std::string(where) + "." + std::string(key);
}

std::string indexed(const std::string& where, size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

// A JSON value for a message: its type and, if short, the value itself.
std::string describe(const nlohmann::json& j) {
  std::string text = j.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(j.type_name()) + " " + text;
}

std::string format_double(double v) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof(text), v).ptr;
  return std::string(text, end);
}

// The suffix, lower case: ".npy".
std::string suffix_of(const std::filesystem::path& path) {
  std::string s = path.extension().string();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

[[noreturn]] void unknown_suffix(const std::filesystem::path& path) {
  const std::string suffix = path.extension().string();
  throw Error("unknown tensor file type " +
              (suffix.empty() ? std::string("(no suffix)") : "\"" + suffix + "\"") +
              "; expected .npy or .json")
      .add_context(path.string());
}

Error non_finite_error(float v, std::string_view where, int64_t i) {
  const char* what = std::isnan(v) ? "NaN" : v > 0 ? "infinity" : "-infinity";
  return Error(indexed(join(where, "data"), static_cast<size_t>(i)) + ": " + what +
               " cannot be written as JSON");
}

// Writes the shortest decimal of `value` in `format` to `out` and returns
// its end; *as_double gets the double a JSON reader makes of that text. When
// that double, rounded to float, is not `value` (rounding twice, decimal to
// double to float, can in rare cases differ from rounding once), the exact
// value is written instead.
char* shortest_decimal(float value, char* out, char* out_end, std::chars_format format,
                       double* as_double) {
  char* end = std::to_chars(out, out_end, value, format).ptr;
  double parsed = 0;
  std::from_chars(out, end, parsed);
  if (std::bit_cast<uint32_t>(static_cast<float>(parsed)) != std::bit_cast<uint32_t>(value)) {
    parsed = static_cast<double>(value);
    end = std::to_chars(out, out_end, parsed).ptr;
  }
  if (as_double) *as_double = parsed;
  return end;
}

}  // namespace

double json_number(float value) {
  // Scientific gives the fewest significant digits: 1727290368.0f becomes
  // 1.7272904e+09, as NumPy prints it, not the exact 10-digit integer.
  char text[64];
  double result = 0;
  shortest_decimal(value, text, text + sizeof(text), std::chars_format::scientific, &result);
  return result;
}

nlohmann::json tensor_to_json(const Tensor& tensor, std::string_view where) {
  check_allocation(json_bytes_for(static_cast<uint64_t>(tensor.size())),
                   (where.empty() ? std::string() : std::string(where) + ": ") +
                       "writing a tensor of shape " + to_string(tensor.shape()) + " as JSON");
  nlohmann::json data = nlohmann::json::array();
  data.get_ref<nlohmann::json::array_t&>().reserve(static_cast<size_t>(tensor.size()));
  for (int64_t i = 0; i < tensor.size(); ++i) {
    const float v = tensor[i];
    if (!std::isfinite(v)) throw non_finite_error(v, where, i);
    data.push_back(json_number(v));
  }
  return {{"shape", tensor.shape()}, {"data", std::move(data)}};
}

void append_json_numbers(std::string& out, std::span<const float> values, std::string_view where,
                         int64_t first_index) {
  char text[64];
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) throw non_finite_error(v, where, first_index + static_cast<int64_t>(i));
    if (i) out += ',';
    // "-0" would be read as the integer 0, losing the sign.
    if (v == 0 && std::signbit(v)) {
      out += "-0.0";
      continue;
    }
    out.append(text,
               shortest_decimal(v, text, text + sizeof(text), std::chars_format::general, nullptr));
  }
}

std::string json_tensor_prefix(const Dims& shape) {
  std::string out = "{\"shape\": [";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "], \"data\": [";
}

std::string tensor_to_json_text(const Tensor& tensor, std::string_view where) {
  std::string out = json_tensor_prefix(tensor.shape());
  append_json_numbers(out, tensor.values(), where, 0);
  return out + "]}";
}

Tensor tensor_from_json(const nlohmann::json& json, std::string_view where) {
  const std::string here(where);
  auto fail = [](const std::string& at, const std::string& what) -> Error {
    return at.empty() ? Error(what) : std::move(Error(what).add_context(at));
  };
  if (!json.is_object())
    throw fail(here,
               "expected a tensor {\"shape\": [...], \"data\": [...]}, got " + describe(json));
  for (const auto& [key, value] : json.items())
    if (key != "shape" && key != "data")
      throw fail(here, "unknown key \"" + key + "\" (a tensor has \"shape\" and \"data\")");
  for (const char* key : {"shape", "data"})
    if (!json.contains(key)) throw fail(here, std::string("missing key \"") + key + "\"");

  const std::string shape_at = join(where, "shape");
  const nlohmann::json& shape_json = json["shape"];
  if (!shape_json.is_array())
    throw fail(shape_at, "expected a list of dimensions, got " + describe(shape_json));
  Dims shape;
  for (size_t i = 0; i < shape_json.size(); ++i) {
    const nlohmann::json& d = shape_json[i];
    const bool ok = (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() >= 0) ||
                    (d.is_number_unsigned() &&
                     d.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()));
    if (!ok)
      throw fail(indexed(shape_at, i), "expected a non-negative integer, got " + describe(d));
    shape.push_back(d.get<int64_t>());
  }
  int64_t count = 0;
  try {
    count = checked_num_elements(shape);
  } catch (Error& e) {
    throw fail(shape_at, e.message());
  }

  const std::string data_at = join(where, "data");
  const nlohmann::json& data_json = json["data"];
  if (!data_json.is_array())
    throw fail(data_at, "expected a flat list of numbers, got " + describe(data_json));
  if (data_json.size() != static_cast<size_t>(count))
    throw fail(data_at, "has " + std::to_string(data_json.size()) +
                            (data_json.size() == 1 ? " number" : " numbers") + ", but shape " +
                            to_string(shape) + " needs " + std::to_string(count));

  Tensor tensor(shape);
  float* out = tensor.data();
  for (size_t i = 0; i < data_json.size(); ++i) {
    const nlohmann::json& v = data_json[i];
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (!std::isfinite(d))
        throw fail(indexed(data_at, i),
                   (std::isnan(d) ? std::string("NaN") : "infinity") + " is not allowed");
      out[i] = static_cast<float>(d);
      if (std::isinf(out[i]))
        throw fail(indexed(data_at, i), format_double(d) + " is outside float32's range");
    } else if (v.is_number_unsigned()) {
      out[i] = static_cast<float>(v.get<uint64_t>());
    } else if (v.is_number_integer()) {
      out[i] = static_cast<float>(v.get<int64_t>());
    } else {
      throw fail(indexed(data_at, i),
                 "expected a number, got " + describe(v) +
                     (v.is_array() ? " (data is one flat list, in row-major order)" : ""));
    }
  }
  return tensor;
}

Tensor read_tensor_file(const std::filesystem::path& path) {
  const std::string suffix = suffix_of(path);
  if (suffix == ".npy") return read_npy(path);
  if (suffix != ".json") unknown_suffix(path);
  const std::string text = read_file(path);
  try {
    return tensor_from_json(parse_json_document(text), "");
  } catch (Error& e) {
    e.add_context(path.string());
    throw;
  }
}

void write_tensor_file(const std::filesystem::path& path, const Tensor& tensor) {
  const std::string suffix = suffix_of(path);
  if (suffix == ".npy") return write_npy(path, tensor);
  if (suffix != ".json") unknown_suffix(path);
  std::string text;
  try {
    text = tensor_to_json_text(tensor);
  } catch (Error& e) {
    e.add_context(path.string());
    throw;
  }
  write_file_atomically(path, text + "\n");
}

}  // namespace strata
