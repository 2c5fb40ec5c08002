#include "serialization/json_document.hpp"

#include <string>
#include <vector>

#include "core/error.hpp"

namespace strata {

namespace {

using nlohmann::json;

std::string at_position(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "at line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Throws when arrays and objects nest deeper than kMaxJsonDepth. Brackets
// inside strings do not count; malformed text is left for the parser. Stops
// at a NUL byte, and returns its offset (npos for none): valid JSON holds
// none, and nlohmann's lexer takes one for the end of the input, so that what
// follows would pass unread.
size_t check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') return i;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw Error("malformed JSON: lists and objects nested more than " +
                    std::to_string(kMaxJsonDepth) + " deep " + at_position(text, i));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string without_tag(const std::string& what) {
  const auto end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

// Builds the document from the parser's events, as nlohmann's own builder
// does, and also refuses duplicate keys (which nlohmann would resolve by
// silently keeping the last: a typo must not pass unnoticed).
class DocumentBuilder final : public nlohmann::json_sax<json> {
 public:
  explicit DocumentBuilder(std::string_view text) : text_(text) {}

  json& document() { return document_; }
  // Where the parser failed (the number of bytes read), or npos.
  size_t error_position() const { return error_position_; }

  bool null() override { return add(nullptr); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override { return add(value); }
  bool number_unsigned(number_unsigned_t value) override { return add(value); }
  bool number_float(number_float_t value, const string_t&) override { return add(value); }
  bool string(string_t& value) override { return add(std::move(value)); }
  bool binary(binary_t& value) override { return add(json::binary(std::move(value))); }

  bool start_object(std::size_t) override {
    open(json::object());
    return true;
  }
  bool key(string_t& key) override {
    Frame& frame = open_.back();
    if (frame.value->contains(key)) {
      const std::string where = path();
      throw Error((where.empty() ? "" : where + ": ") + "duplicate key \"" + key + "\"");
    }
    frame.key = std::move(key);
    return true;
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    open(json::array());
    return true;
  }
  bool end_array() override {
    open_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string& token,
                   const json::exception& e) override {
    error_position_ = position;
    if (dynamic_cast<const json::parse_error*>(&e))  // says "at line L, column C" itself
      throw Error("malformed JSON: " + without_tag(e.what()));
    // A number beyond double's range ("1e400"), whose token may be long.
    const std::string shown = token.size() > 40 ? token.substr(0, 37) + "..." : token;
    throw Error("malformed JSON: number " + shown + " " +
                at_position(text_, position > token.size() ? position - token.size() : 0) +
                " is beyond the range of a double");
  }

 private:
  struct Frame {
    json* value;      // an open object or array
    std::string key;  // an object's key whose value comes next
  };

  // Where the next value goes: "layers[2].Weights".
  std::string path() const {
    std::string p;
    for (size_t i = 0; i + 1 < open_.size(); ++i) {
      const json& parent = *open_[i].value;
      // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about
      // "[" + std::to_string(...).
      if (parent.is_object()) {
        if (!p.empty()) p += '.';
        p += open_[i].key;
      } else {
        p += '[';
        p += std::to_string(parent.size() - 1);
        p += ']';
      }
    }
    return p;
  }

  json* place(json&& value) {
    if (open_.empty()) {
      document_ = std::move(value);
      return &document_;
    }
    json& parent = *open_.back().value;
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    return &(parent[open_.back().key] = std::move(value));
  }
  bool add(json&& value) {
    place(std::move(value));
    return true;
  }
  // The container stays open (and is the last element of its parent) until
  // it ends, so the pointer stays valid.
  void open(json&& container) { open_.push_back({place(std::move(container)), {}}); }

  std::string_view text_;
  size_t error_position_ = std::string_view::npos;
  json document_;
  std::vector<Frame> open_;
};

}  // namespace

nlohmann::json parse_json_document(std::string_view text) {
  const size_t nul = check_depth(text);
  // The text before a NUL byte is parsed (as nlohmann would anyway): an error
  // in it is reported as such, and one at its end (a document cut short by
  // the NUL) or none is the NUL's.
  const std::string_view before = text.substr(0, nul);
  const auto nul_error = [&] {
    return Error("malformed JSON: a NUL byte " + at_position(text, nul));
  };
  DocumentBuilder builder(before);
  try {
    json::sax_parse(before.begin(), before.end(), &builder);
  } catch (const json::exception& e) {
    if (nul != std::string_view::npos) throw nul_error();
    throw Error("malformed JSON: " + without_tag(e.what()));
  } catch (const Error&) {
    if (nul != std::string_view::npos && builder.error_position() != std::string_view::npos &&
        builder.error_position() > nul)
      throw nul_error();
    throw;
  }
  if (nul != std::string_view::npos) throw nul_error();
  return std::move(builder.document());
}

}  // namespace strata
