#include "serialization/npy.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"

namespace strata {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlignment = 64;  // numpy pads the header to this

// ---------------------------------------------------------------------------
// Text helpers for messages.

// Bytes as a readable string literal: "PK\x03\x04".
std::string escaped(std::string_view bytes, size_t limit = 80) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

// The header text without the spaces and newline that pad it.
std::string_view without_padding(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

// Python's repr of a shape tuple: "()", "(3,)", "(2, 3)".
std::string python_shape(const Dims& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

// ---------------------------------------------------------------------------
// The header is a Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// parsed here by a small recursive-descent parser for the literals numpy
// writes (never eval'd). Nesting is bounded so hostile input cannot overflow
// the stack.

struct PyEntry;

struct PyValue {
  enum class Kind { String, Integer, Bool, None, Tuple, List, Dict };
  Kind kind = Kind::None;
  std::string text;
  int64_t integer = 0;
  bool boolean = false;
  std::vector<PyValue> items;    // Tuple, List
  std::vector<PyEntry> entries;  // Dict
};

// A dict entry. A struct defined after PyValue rather than a std::pair: with
// clang, std::pair of the then incomplete PyValue does not compile.
struct PyEntry {
  std::string key;
  PyValue value;
};

const char* kind_name(PyValue::Kind kind) {
  switch (kind) {
    case PyValue::Kind::String:
      return "a string";
    case PyValue::Kind::Integer:
      return "an integer";
    case PyValue::Kind::Bool:
      return "a bool";
    case PyValue::Kind::None:
      return "None";
    case PyValue::Kind::Tuple:
      return "a tuple";
    case PyValue::Kind::List:
      return "a list";
    case PyValue::Kind::Dict:
      return "a dict";
  }
  return "a value";
}

class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  PyValue parse() {
    skip_space();
    PyValue value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the dictionary");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 32;

  // Positions in messages count from 1, like an editor's columns.
  [[noreturn]] void fail(const std::string& what) const { fail_at(what, pos_); }
  [[noreturn]] void fail_at(const std::string& what, size_t pos) const {
    throw Error("malformed .npy header (" + what + " at character " + std::to_string(pos + 1) +
                "): " + escaped(without_padding(text_), 200));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  PyValue parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    skip_space();
    const char c = peek();
    if (c == '\'' || c == '"') {
      PyValue v;
      v.kind = PyValue::Kind::String;
      v.text = parse_string();
      return v;
    }
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_integer();
    if (c == '{') return parse_dict(depth);
    if (c == '(') return parse_sequence(depth, ')');
    if (c == '[') return parse_sequence(depth, ']');
    for (auto [word, kind, boolean] :
         {std::tuple{std::string_view("True"), PyValue::Kind::Bool, true},
          std::tuple{std::string_view("False"), PyValue::Kind::Bool, false},
          std::tuple{std::string_view("None"), PyValue::Kind::None, false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        PyValue v;
        v.kind = kind;
        v.boolean = boolean;
        return v;
      }
    }
    if (at_end()) fail("unexpected end");
    fail("unexpected character '" + escaped(text_.substr(pos_, 1)) + "'");
  }

  std::string parse_string() {
    const char quote = peek();
    ++pos_;
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      char c = text_[pos_++];
      if (c == quote) return out;
      if (c == '\\') {
        if (at_end()) fail("unterminated string");
        c = text_[pos_++];
      }
      out += c;
    }
  }

  PyValue parse_integer() {
    const size_t start = pos_;
    if (peek() == '+' || peek() == '-') ++pos_;
    const size_t digits = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9')
      ++pos_;
    if (pos_ == digits) fail("expected digits");
    if (peek() == '.' || peek() == 'e' || peek() == 'E') fail_at("expected an integer", start);
    std::string_view number = text_.substr(start, pos_ - start);
    if (number.front() == '+') number.remove_prefix(1);
    PyValue v;
    v.kind = PyValue::Kind::Integer;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v.integer);
    if (ec != std::errc() || end != number.data() + number.size())
      fail_at("integer " + std::string(number) + " out of range", start);
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long, in old files
    return v;
  }

  PyValue parse_dict(int depth) {
    ++pos_;  // '{'
    PyValue v;
    v.kind = PyValue::Kind::Dict;
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      if (peek() != '\'' && peek() != '"') fail("expected a string key");
      const size_t key_start = pos_;
      std::string key = parse_string();
      for (const auto& entry : v.entries)
        if (entry.key == key) fail_at("duplicate key '" + key + "'", key_start);
      expect(':');
      v.entries.push_back({std::move(key), parse_value(depth + 1)});
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        fail("expected ',' or '}'");
      }
    }
    ++pos_;  // '}'
    return v;
  }

  // A tuple "(a, b)", "(a,)", "()", or a list; "(a)" is just a in parentheses,
  // as in Python.
  PyValue parse_sequence(int depth, char close) {
    ++pos_;  // '(' or '['
    PyValue v;
    v.kind = close == ')' ? PyValue::Kind::Tuple : PyValue::Kind::List;
    bool trailing_comma = false;
    for (;;) {
      skip_space();
      if (peek() == close) break;
      v.items.push_back(parse_value(depth + 1));
      skip_space();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
      } else if (peek() != close) {
        fail(std::string("expected ',' or '") + close + "'");
      }
    }
    ++pos_;
    if (close == ')' && v.items.size() == 1 && !trailing_comma) return std::move(v.items[0]);
    return v;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Dtypes.

enum class DType { F4, F8, I1, I2, I4, I8, U1, U2, U4, U8, B1 };

size_t item_size(DType t) {
  switch (t) {
    case DType::I1:
    case DType::U1:
    case DType::B1:
      return 1;
    case DType::I2:
    case DType::U2:
      return 2;
    case DType::F4:
    case DType::I4:
    case DType::U4:
      return 4;
    case DType::F8:
    case DType::I8:
    case DType::U8:
      return 8;
  }
  return 0;
}

DType parse_dtype(const std::string& descr) {
  // descr is <byte order><kind><item size>: "<f4", "|u1", ">i8", "<c16"...
  std::string_view rest = descr;
  char order = '=';
  if (!rest.empty() && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  const std::string code(rest);
  static constexpr struct {
    const char* code;
    DType type;
  } kSupported[] = {{"f4", DType::F4}, {"f8", DType::F8}, {"i1", DType::I1}, {"i2", DType::I2},
                    {"i4", DType::I4}, {"i8", DType::I8}, {"u1", DType::U1}, {"u2", DType::U2},
                    {"u4", DType::U4}, {"u8", DType::U8}, {"b1", DType::B1}};
  const char* kSupportedList =
      "strata reads float32, float64, int8/16/32/64, uint8/16/32/64 and bool, little endian";
  for (const auto& s : kSupported) {
    if (code != s.code) continue;
    const bool big_endian =
        order == '>' || (order == '=' && std::endian::native == std::endian::big);
    if (big_endian && item_size(s.type) > 1)
      throw Error("unsupported dtype '" + descr + "': big-endian data is not supported (" +
                  kSupportedList + "; convert with a.astype('<" + code + "'))");
    return s.type;
  }
  std::string what;
  switch (code.empty() ? '\0' : code[0]) {
    case 'f':
      what = code == "f2" ? " (float16)" : " (extended precision float)";
      break;
    case 'c':
      what = " (complex)";
      break;
    case 'U':
    case 'S':
    case 'a':
      what = " (strings)";
      break;
    case 'O':
      what = " (Python objects)";
      break;
    case 'M':
    case 'm':
      what = " (dates or times)";
      break;
    case 'V':
      what = " (raw or structured records)";
      break;
  }
  throw Error("unsupported dtype '" + descr + "'" + what + "; " + kSupportedList);
}

template <typename U>
U load_le(const char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i)
    v |= static_cast<U>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Converts `count` items of `type` at `src` to float; `first` is the flat
// index of the first item, for messages.
void decode(DType type, const char* src, size_t count, float* dst, size_t first) {
  switch (type) {
    case DType::F4:
      if constexpr (std::endian::native == std::endian::little) {
        if (count > 0) std::memcpy(dst, src, count * sizeof(float));
      } else {
        for (size_t i = 0; i < count; ++i)
          dst[i] = std::bit_cast<float>(load_le<uint32_t>(src + 4 * i));
      }
      return;
    case DType::F8:
      for (size_t i = 0; i < count; ++i) {
        const double v = std::bit_cast<double>(load_le<uint64_t>(src + 8 * i));
        dst[i] = static_cast<float>(v);
        // Rounding to float32 is the point; turning a number into infinity
        // is not.
        if (std::isinf(dst[i]) && std::isfinite(v)) {
          char text[32];
          const auto end = std::to_chars(text, text + sizeof(text), v).ptr;
          throw Error("value " + std::string(text, end) + " at flat index " +
                      std::to_string(first + i) + " is outside float32's range");
        }
      }
      return;
    case DType::I1:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(static_cast<int8_t>(src[i]));
      return;
    case DType::U1:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(static_cast<unsigned char>(src[i]));
      return;
    case DType::B1:
      for (size_t i = 0; i < count; ++i)
        dst[i] = src[i] != 0 ? 1.0f : 0.0f;
      return;
    case DType::I2:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(std::bit_cast<int16_t>(load_le<uint16_t>(src + 2 * i)));
      return;
    case DType::U2:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(load_le<uint16_t>(src + 2 * i));
      return;
    case DType::I4:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(std::bit_cast<int32_t>(load_le<uint32_t>(src + 4 * i)));
      return;
    case DType::U4:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(load_le<uint32_t>(src + 4 * i));
      return;
    case DType::I8:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(std::bit_cast<int64_t>(load_le<uint64_t>(src + 8 * i)));
      return;
    case DType::U8:
      for (size_t i = 0; i < count; ++i)
        dst[i] = static_cast<float>(load_le<uint64_t>(src + 8 * i));
      return;
  }
}

// ---------------------------------------------------------------------------
// Layout.

struct Preamble {
  int major = 0, minor = 0;
  size_t prefix_size = 0;    // magic, version and header length
  size_t header_length = 0;  // the dict text and its padding
};

// Reads the fixed-size start of a file: magic, version, header length.
Preamble parse_preamble(std::string_view bytes) {
  const std::string_view start = bytes.substr(0, kMagic.size());
  if (start != kMagic.substr(0, start.size())) {
    std::string hint;
    if (bytes.substr(0, 4) == "PK\x03\x04")
      hint = " (a zip archive, such as a .npz file: extract the .npy files from it)";
    throw Error("not a .npy file: it starts with \"" + escaped(bytes.substr(0, 8)) +
                "\" instead of \"\\x93NUMPY\"" + hint);
  }
  if (bytes.empty()) throw Error("empty file, not a .npy file");
  if (bytes.size() < 10)
    throw Error("truncated .npy file: " + std::to_string(bytes.size()) +
                " bytes, too short for the header");
  Preamble p;
  p.major = static_cast<unsigned char>(bytes[6]);
  p.minor = static_cast<unsigned char>(bytes[7]);
  if (p.minor != 0 || p.major < 1 || p.major > 3)
    throw Error("unsupported .npy format version " + std::to_string(p.major) + "." +
                std::to_string(p.minor) + " (strata reads versions 1.0, 2.0 and 3.0)");
  if (p.major == 1) {
    p.prefix_size = 10;
    p.header_length = load_le<uint16_t>(bytes.data() + 8);
  } else {
    if (bytes.size() < 12)
      throw Error("truncated .npy file: " + std::to_string(bytes.size()) +
                  " bytes, too short for the header");
    p.prefix_size = 12;
    p.header_length = load_le<uint32_t>(bytes.data() + 8);
  }
  return p;
}

void check_header_present(const Preamble& p, uint64_t file_size) {
  if (file_size < p.prefix_size || file_size - p.prefix_size < p.header_length)
    throw Error("truncated .npy file: the header should be " + std::to_string(p.header_length) +
                " bytes, but only " + std::to_string(file_size - p.prefix_size) +
                " bytes follow the header length");
}

struct Layout {
  DType type;
  size_t count;    // elements
  uint64_t bytes;  // of data
};

// Checks what the header says against the `present` bytes of data, before
// anything is allocated.
// The dtype, order and size the header says, without looking at the data.
Layout layout_of(const NpyHeader& h) {
  Layout layout{};
  layout.type = parse_dtype(h.descr);
  if (h.fortran_order && h.shape.size() > 1)
    throw Error(
        "fortran_order is True (column-major data); strata reads C order only: save "
        "np.ascontiguousarray(a) instead");
  int64_t count = 0;
  try {
    count = checked_num_elements(h.shape);
  } catch (const Error& e) {
    throw Error("array too large: " + e.message());
  }
  layout.count = static_cast<size_t>(count);
  layout.bytes = static_cast<uint64_t>(count) * item_size(layout.type);
  return layout;
}

// Throws unless exactly the bytes the layout needs are `present`.
void check_present(const NpyHeader& h, const Layout& layout, uint64_t present) {
  const std::string needs = "shape " + python_shape(h.shape) + " of '" + h.descr + "' needs " +
                            std::to_string(layout.bytes) + " bytes of data";
  if (present < layout.bytes)
    throw Error("truncated .npy file: " + needs + ", but " + std::to_string(present) +
                " are present");
  if (present > layout.bytes)
    throw Error("unexpected data after the array: " + needs + ", but " + std::to_string(present) +
                " are present");
}

Layout check_layout(const NpyHeader& h, uint64_t present) {
  const Layout layout = layout_of(h);
  check_present(h, layout, present);
  return layout;
}

// Adds `where` to errors thrown by f.
template <typename F>
auto in_context(const std::string& where, F&& f) {
  try {
    return f();
  } catch (Error& e) {
    e.add_context(where);
    throw;
  }
}

}  // namespace

NpyHeader parse_npy_header(std::string_view bytes) {
  const Preamble p = parse_preamble(bytes);
  check_header_present(p, bytes.size());
  const std::string_view text = bytes.substr(p.prefix_size, p.header_length);
  const PyValue dict = HeaderParser(text).parse();
  if (dict.kind != PyValue::Kind::Dict)
    throw Error("malformed .npy header: expected a dict, got " + std::string(kind_name(dict.kind)) +
                ": " + escaped(without_padding(text), 200));

  NpyHeader h;
  h.major_version = p.major;
  h.minor_version = p.minor;
  h.data_offset = p.prefix_size + p.header_length;
  bool seen_descr = false, seen_order = false, seen_shape = false;
  for (const auto& [key, value] : dict.entries) {
    auto wrong = [&, &key = key, &value = value](const std::string& expected) {
      return Error("malformed .npy header: '" + key + "' should be " + expected + ", got " +
                   kind_name(value.kind));
    };
    if (key == "descr") {
      if (value.kind == PyValue::Kind::List)
        throw Error(
            "unsupported dtype: structured arrays (records with named fields) are not "
            "supported");
      if (value.kind != PyValue::Kind::String) throw wrong("a dtype string");
      h.descr = value.text;
      seen_descr = true;
    } else if (key == "fortran_order") {
      if (value.kind != PyValue::Kind::Bool) throw wrong("True or False");
      h.fortran_order = value.boolean;
      seen_order = true;
    } else if (key == "shape") {
      if (value.kind != PyValue::Kind::Tuple) throw wrong("a tuple of integers");
      for (const auto& d : value.items) {
        if (d.kind != PyValue::Kind::Integer) throw wrong("a tuple of integers");
        if (d.integer < 0)
          throw Error("malformed .npy header: negative dimension in shape (" +
                      std::to_string(d.integer) + ")");
        h.shape.push_back(d.integer);
      }
      seen_shape = true;
    } else {
      throw Error("malformed .npy header: unexpected key '" + key +
                  "' (expected 'descr', 'fortran_order' and 'shape')");
    }
  }
  for (auto [seen, key] : {std::pair{seen_descr, "descr"}, std::pair{seen_order, "fortran_order"},
                           std::pair{seen_shape, "shape"}})
    if (!seen) throw Error(std::string("malformed .npy header: missing key '") + key + "'");
  return h;
}

Tensor parse_npy(std::string_view bytes) {
  const NpyHeader h = parse_npy_header(bytes);
  const Layout layout = check_layout(h, bytes.size() - h.data_offset);
  Tensor t(h.shape);
  decode(layout.type, bytes.data() + h.data_offset, layout.count, t.data(), 0);
  return t;
}

std::string npy_header(const Dims& shape) {
  // As numpy.lib.format writes it: sorted keys, room for the first
  // dimension to grow to 21 digits, spaces up to a multiple of 64 bytes
  // with the newline last.
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + python_shape(shape) + ", }";
  if (!shape.empty()) dict.append(21 - std::to_string(shape[0]).size(), ' ');
  int major = 1;
  size_t prefix = 10;
  auto padding = [&] { return kAlignment - (prefix + dict.size() + 1) % kAlignment; };
  if (dict.size() + 1 + padding() > 0xffff) {  // too long for version 1.0's 16-bit length
    major = 2;
    prefix = 12;
  }
  dict.append(padding(), ' ');
  dict += '\n';

  std::string out(kMagic);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  out += dict;
  return out;
}

std::string to_npy(const Tensor& tensor) {
  std::string out = npy_header(tensor.shape());
  const size_t start = out.size();
  out.resize(start + static_cast<size_t>(tensor.size()) * sizeof(float));
  char* dst = out.data() + start;
  if constexpr (std::endian::native == std::endian::little) {
    if (tensor.size() > 0)
      std::memcpy(dst, tensor.data(), static_cast<size_t>(tensor.size()) * sizeof(float));
  } else {
    for (int64_t i = 0; i < tensor.size(); ++i) {
      const uint32_t bits = std::bit_cast<uint32_t>(tensor[i]);
      for (int b = 0; b < 4; ++b)
        *dst++ = static_cast<char>((bits >> (8 * b)) & 0xff);
    }
  }
  return out;
}

Tensor read_npy(const std::filesystem::path& path) {
  FileReader file(path, max_file_bytes(kMaxBinaryFileBytes));
  const std::string where = path.string();
  // A pipe (a shell's <(...)) has no size up front: it is read as far as
  // its header says, so that an endless one ends at the first byte too many.
  const bool regular = file.is_regular();
  const auto changed = [&] {
    return Error("the file changed while it was read").add_context(where);
  };

  // The header first, then the data straight into the tensor.
  std::string head(12, '\0');
  head.resize(file.read(head.data(), head.size()));
  const Preamble p = in_context(where, [&] {
    Preamble pre = parse_preamble(head);
    if (regular) check_header_present(pre, file.size());
    return pre;
  });
  const size_t header_end = p.prefix_size + p.header_length;
  // In pieces: the length a hostile pipe claims is not allocated up front.
  while (head.size() < header_end) {
    const size_t have = head.size();
    const size_t n = std::min<size_t>(header_end - have, size_t{1} << 16);
    head.resize(have + n);
    const size_t got = file.read(head.data() + have, n);
    head.resize(have + got);
    if (got < n) break;
  }
  if (head.size() < header_end) {
    if (regular) throw changed();
    in_context(where, [&] { check_header_present(p, head.size()); });
  }
  head.resize(header_end);
  const NpyHeader h = in_context(where, [&] { return parse_npy_header(head); });
  const Layout layout = in_context(where, [&] {
    if (regular) return check_layout(h, file.size() - h.data_offset);
    return layout_of(h);
  });
  if (!regular) file.require_room(layout.bytes);

  Tensor t = in_context(where, [&] { return Tensor(h.shape); });
  // Bytes that were not there: a regular file changed, a pipe was short.
  const auto short_read = [&](uint64_t got) {
    if (regular) throw changed();
    in_context(where, [&] { check_present(h, layout, got); });
  };
  const size_t item = item_size(layout.type);
  if (layout.type == DType::F4 && std::endian::native == std::endian::little) {
    if (const size_t got = file.read(t.data(), layout.bytes); got != layout.bytes) short_read(got);
  } else {
    std::vector<char> chunk(std::min<size_t>(layout.bytes, size_t{1} << 20));
    const size_t per_chunk = chunk.size() / std::max<size_t>(item, 1);
    for (size_t done = 0; done < layout.count;) {
      const size_t n = std::min(per_chunk, layout.count - done);
      if (const size_t got = file.read(chunk.data(), n * item); got != n * item)
        short_read(done * item + got);
      in_context(where, [&] { decode(layout.type, chunk.data(), n, t.data() + done, done); });
      done += n;
    }
  }
  if (!regular) {
    // What follows the array is counted for the message, up to a point: a
    // pipe may never end.
    constexpr uint64_t kCounted = uint64_t{1} << 20;
    uint64_t extra = 0;
    char buffer[1 << 12];
    while (extra <= kCounted)
      if (const size_t n = file.read(buffer, sizeof buffer)) {
        extra += n;
      } else {
        break;
      }
    if (extra > kCounted)
      throw Error("unexpected data after the array: shape " + python_shape(h.shape) + " of '" +
                  h.descr + "' needs " + std::to_string(layout.bytes) +
                  " bytes of data, but more than " + std::to_string(layout.bytes + kCounted) +
                  " came from the pipe")
          .add_context(where);
    if (extra) in_context(where, [&] { check_present(h, layout, layout.bytes + extra); });
  }
  return t;
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  write_file_atomically(path, to_npy(tensor));
}

}  // namespace strata
