#include "core/error.hpp"

#include <utility>

namespace strata {

namespace {

// Control characters (from a key or name in a hostile file, say) shown
// escaped, so that a message stays on one line.
std::string one_line(std::string text) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) >= 0x20 && text[i] != 0x7f)
    ++i;
  if (i == text.size()) return text;  // the usual case: nothing to escape
  std::string out = text.substr(0, i);
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

Error::Error(std::string message) : message_(one_line(std::move(message))), full_(message_) {}

Error& Error::add_context(const std::string& context) {
  if (context.empty()) return *this;
  const std::string outer = one_line(context);
  // "layers[0].Gamma" around "Gamma: expected …" names Gamma once.
  const size_t colon = full_.find(": ");
  if (colon != std::string::npos && colon > 0 && colon <= outer.size()) {
    const size_t before = outer.size() - colon;
    if (outer.compare(before, colon, full_, 0, colon) == 0 &&
        (before == 0 || outer[before - 1] == '.' || outer[before - 1] == '/')) {
      full_ = outer + full_.substr(colon);
      return *this;
    }
  }
  full_ = outer + ": " + full_;
  return *this;
}

}  // namespace strata
