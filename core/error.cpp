#include "core/error.hpp"

#include <utility>

namespace strata {

Error::Error(std::string message) : message_(std::move(message)), full_(message_) {}

Error& Error::add_context(const std::string& context) {
  if (!context.empty()) full_ = context + ": " + full_;
  return *this;
}

}  // namespace strata
