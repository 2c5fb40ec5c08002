// strata's one exception type. Its message carries the context of what went
// wrong (file, layer, port, key), outermost first: "net.json: conv1
// (ConvolutionLayer): Input expects 3 channels, got 4". A message is one
// line: control characters in it (from a key or name in a hostile file) are
// shown escaped, as \n or \x01.
#pragma once

#include <exception>
#include <string>

namespace strata {

class Error : public std::exception {
 public:
  explicit Error(std::string message);

  const char* what() const noexcept override { return full_.c_str(); }

  // The innermost message, without the context added on the way out.
  const std::string& message() const { return message_; }

  // Adds an outer context ("conv1 (ConvolutionLayer)", "net.json"); returns
  // *this so that a catch block can `throw e.add_context(...)`. A context
  // that ends with the name the message starts with says it once:
  // "layers[0].Gamma" around "Gamma: expected [2]" is "layers[0].Gamma:
  // expected [2]" (also after '/', and when they are equal).
  Error& add_context(const std::string& context);

 private:
  std::string message_;
  std::string full_;
};

}  // namespace strata
